"""Benchmark: a national travel table (Parquet) against today's geodesic arc build.

The instance is :func:`reserve_opt.synthetic.synthetic_instance` (2,554 regions, 1,000
facilities). The travel table gives every facility -> region pair (2,554,000 rows) as a
planner's OD matrix would: road km = geodesic x a seeded factor in [1.1, 1.5], time at
55 km/h. Measured, in one run:

* ``geodesic``: the allocation's arc build today, ``build_arcs(instance, sources,
  max_time_h)`` without a table (dense under 4M pairs), and ``sparse_arcs`` (the KD-tree
  sparse build) with the same time limit;
* ``table``: reading and validating ``travel.parquet`` as part of ``load_instance`` (the
  load without it subtracted) plus ``build_arcs`` with the table.

Each is timed ``--repeat`` times without tracemalloc (the fastest run counts: on a shared
machine the others only add other processes' time) and measured once with it (peak MiB);
both ratios, against ``build_arcs`` and against ``sparse_arcs``, are printed in wall time
and in CPU time (all threads of the process), with the load average. Run from the repository root::

    .venv/bin/python bench/travel_table.py
    .venv/bin/python bench/travel_table.py --regions 500 --facilities 200   # quick
"""

from __future__ import annotations

import argparse
import gc
import os
import tempfile
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import tomli_w
from measure import maxrss_mib, measure

from reserve_opt import load_instance
from reserve_opt.geo import VehicleClass, geodesic_arcs_km, sparse_arcs
from reserve_opt.io.folder import write_folder
from reserve_opt.synthetic import synthetic_instance
from reserve_opt.transport import build_arcs, default_sources

T = TypeVar("T")


CPU: dict[str, float] = {}
"""Fastest CPU seconds of each step (all of this process's threads): less moved by the
other processes of a shared machine than wall time."""


def best(label: str, fn: Callable[[], T], repeat: int) -> tuple[T, float, float]:
    """:func:`measure`, with the fastest of ``repeat`` timed runs (CPU time into ``CPU``)."""
    res, secs, peak = measure(fn)
    cpu = float("inf")
    for _ in range(max(repeat, 1)):
        gc.collect()
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        secs = min(secs, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
    CPU[label] = cpu
    return res, secs, peak


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--regions", type=int, default=2554)
    ap.add_argument("--facilities", type=int, default=1000)
    ap.add_argument("--max-time-h", type=float, default=24.0,
                    help="arc time limit of both builds (the allocation's horizon)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=3,
                    help="timed runs of each step; the fastest counts")
    args = ap.parse_args()

    inst = synthetic_instance(args.regions, args.facilities, seed=args.seed)
    src = default_sources(inst)
    fac = list(inst.facilities)
    reg = list(inst.regions)
    rng = np.random.default_rng(args.seed)
    o = np.repeat(np.arange(len(fac)), len(reg))
    d = np.tile(np.arange(len(reg)), len(fac))
    km = geodesic_arcs_km(np.array([f.lon for f in fac])[o], np.array([f.lat for f in fac])[o],
                          np.array([r.lon for r in reg])[d], np.array([r.lat for r in reg])[d])
    km = km * rng.uniform(1.1, 1.5, km.size)
    table = pa.table({
        "from": pa.array(np.array([f.id for f in fac], dtype=object)[o], pa.string()),
        "to": pa.array(np.array([r.id for r in reg], dtype=object)[d], pa.string()),
        "distance_km": km, "time_h": km / 55.0,
    })
    with tempfile.TemporaryDirectory() as tmp:
        plain = write_folder(inst, Path(tmp) / "plain", table_format="parquet")
        with_table = write_folder(inst, Path(tmp) / "table", table_format="parquet")
        pq.write_table(table, with_table / "travel.parquet")
        manifest = tomllib.loads((with_table / "instance.toml").read_text())
        manifest["tables"]["travel"] = "travel.parquet"
        (with_table / "instance.toml").write_text(tomli_w.dumps(manifest))
        size_mib = (with_table / "travel.parquet").stat().st_size / 2**20
        print(f"instance: {len(reg)} regions, {len(fac)} facilities ({len(src)} sources); "
              f"travel.parquet {table.num_rows:,} rows, {size_mib:.1f} MiB")

        base, t_plain, m_plain = best("plain", lambda: load_instance(plain), args.repeat)
        loaded, t_load, m_load = best("load", lambda: load_instance(with_table),
                                       args.repeat)
    lim = args.max_time_h
    arcs_g, t_geo, m_geo = best("geo", lambda: build_arcs(base, sources=src, max_time_h=lim),
                                args.repeat)
    st = base.settings
    s_fac = [base.facility(f) for f in src]
    _, t_sp, m_sp = best("sparse", lambda: sparse_arcs(
        np.array([f.lon for f in s_fac]), np.array([f.lat for f in s_fac]),
        np.array([r.lon for r in reg]), np.array([r.lat for r in reg]),
        VehicleClass("planning", st.speed_kmh), max_time_h=lim,
        detour_factor=st.detour_factor), args.repeat)
    arcs_t, t_tab, m_tab = best("tab", lambda: build_arcs(loaded, sources=src, max_time_h=lim),
                                args.repeat)
    n_geo, n_tab = len(arcs_g.scenarios[0]), len(arcs_t.scenarios[0])
    from_table = int((arcs_t.scenarios[0].time_source == 0).sum())
    print(f"load_instance without the table: {t_plain:8.2f} s  peak {m_plain:7.0f} MiB")
    print(f"load_instance with the table:    {t_load:8.2f} s  peak {m_load:7.0f} MiB")
    print(f"geodesic build_arcs (today):     {t_geo:8.2f} s  peak {m_geo:7.0f} MiB  "
          f"{n_geo:,} arcs")
    print(f"geodesic sparse_arcs:            {t_sp:8.2f} s  peak {m_sp:7.0f} MiB")
    print(f"table build_arcs:                {t_tab:8.2f} s  peak {m_tab:7.0f} MiB  "
          f"{n_tab:,} arcs ({from_table:,} from the table)")
    extra = t_load - t_plain + t_tab
    print(f"table part: read and check {t_load - t_plain:.2f} s, arcs {t_tab:.2f} s")
    print(f"table load + arcs = {extra:.2f} s: {extra / t_geo:.1f}x today's build_arcs, "
          f"{extra / t_sp:.1f}x sparse_arcs (goal: at most 2x)")
    cpu = CPU["load"] - CPU["plain"] + CPU["tab"]
    print(f"CPU time: table load + arcs {cpu:.2f} s, build_arcs {CPU['geo']:.2f} s, "
          f"sparse_arcs {CPU['sparse']:.2f} s: {cpu / CPU['geo']:.1f}x and "
          f"{cpu / CPU['sparse']:.1f}x")
    print(f"process peak RSS {maxrss_mib():.0f} MiB (goal: under 2048)")
    print("load average (1, 5, 15 min): " + ", ".join(f"{x:.2f}" for x in os.getloadavg())
          + f" on {os.cpu_count()} CPUs (other work slows every figure above)")


if __name__ == "__main__":
    main()
