"""Sweep scaling: 200 Liaoning plan variants on a local Dask cluster, 1 worker then 2.

Each run is a Monte Carlo variant of the Liaoning instance drawn by
``instances/liaoning/variants/sweeps/monte_carlo.yaml`` (coastal demand x lognormal, damage
at the Dandong and Panjin depots, the Dalian-Dandong road cut or slowed), applied to
the base, validated and solved by the placement model with HiGHS on one thread: about half
a second of work, so Dask's few milliseconds per task are small. Both clusters are started
and warmed up (every worker imports the models and solves once) before the clock starts,
so the ratio compares the runs themselves; the start-up time is printed apart.

Run it on a quiet machine: ``.venv/bin/python bench/sweep_scaling.py [--runs 200]``.
The target is a ratio of at least 1.7 with 2 workers; on a machine shared with other work
the numbers are provisional.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from pathlib import Path

import yaml

from reserve_opt import load_instance
from reserve_opt.variants.grid import sweep_from_dict
from reserve_opt.variants.sweep import BaseRows, check_runs, dask_client, execute

ROOT = Path(__file__).resolve().parents[1]

SWEEP_FILE = ROOT / "instances" / "liaoning" / "variants" / "sweeps" / "monte_carlo.yaml"


def _warm() -> int:
    """Import the models and solve once in a worker (not timed)."""
    from reserve_opt.models.placement import solve_placement

    inst = load_instance(ROOT / "instances" / "toy")
    solve_placement(inst)
    return os.getpid()


def _cpu_seconds() -> float:
    """CPU seconds used so far by this process (user + system)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def timed(n_workers: int, rows: BaseRows, runs: list, opts, commodities) -> dict:
    """Start and warm a cluster, then time the runs alone; CPU seconds by process."""
    t0 = time.perf_counter()
    with dask_client(n_workers, None) as client:
        client.run(_warm)
        start = time.perf_counter() - t0
        base = client.scatter(rows, broadcast=True)
        before = client.run(_cpu_seconds)
        main0 = _cpu_seconds()
        t1 = time.perf_counter()
        futures = [client.submit(execute, base, r.variant.changes, opts, commodities,
                                 pure=False) for r in runs]
        results = client.gather(futures)
        wall = time.perf_counter() - t1
        main = _cpu_seconds() - main0
        after = client.run(_cpu_seconds)
    workers = sum(after[w] - before[w] for w in after)
    work = sum(r["wall_seconds"] for r in results) / len(results)
    return {"start": start, "wall": wall, "results": results, "main_cpu": main,
            "worker_cpu": workers, "work": work}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    base = load_instance(ROOT / "instances" / "liaoning")
    data = yaml.safe_load(SWEEP_FILE.read_text(encoding="utf-8"))
    data["sample"]["runs"] = args.runs
    spec = sweep_from_dict(data, str(SWEEP_FILE))
    runs = spec.runs()
    check_runs(base, runs)
    rows = BaseRows.of(base)
    commodities = [c.id for c in base.commodities]
    print(f"{len(runs)} Liaoning plan variants (HiGHS, 1 thread each); "
          f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}")
    one = timed(1, rows, runs, spec.options, commodities)
    two = timed(2, rows, runs, spec.options, commodities)
    res1, res2 = one["results"], two["results"]
    status = {s: sum(1 for r in res1 if r["status"] == s) for s in {r["status"] for r in res1}}
    same = all(a.get("objective") == b.get("objective") for a, b in zip(res1, res2,
                                                                        strict=True))
    print(f"statuses: {status}; same objectives with 1 and 2 workers: {same}")
    for label, t in (("1 worker ", one), ("2 workers", two)):
        print(f"{label}: {t['wall']:7.2f} s for {len(runs)} runs; {t['work']:.3f} s per run "
              f"in its worker; CPU s: workers {t['worker_cpu']:.1f}, client+scheduler "
              f"{t['main_cpu']:.1f} (cluster start {t['start']:.1f} s)")
    print(f"speed-up 2 vs 1 workers: {one['wall'] / two['wall']:.2f}x (target >= 1.7x); "
          f"load average now {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
