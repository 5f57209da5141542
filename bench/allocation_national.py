"""National-scale allocation: build and solve time and peak memory, with a reference run.

The issue's target: 2,554 regions (China's small and medium-sized cities), 1,000
facilities, 5 commodities, 3 periods, sparse arcs, built and solved to optimality in under
60 s and 8 GiB on a 2-core machine. The instance comes from ``reserve_opt.synthetic``
(illustrative numbers, seeded). A 1/8-size reference instance is run first in the same
process, and every figure is also printed as a ratio to it.

Usage::

    .venv/bin/python bench/allocation_national.py [--regions 2554] [--facilities 1000]
        [--commodities 5] [--periods 3] [--seed 0] [--max-arc-h 24]
"""

from __future__ import annotations

import argparse
import resource
import time
from typing import Any

from reserve_opt.models.allocation import (
    AllocationOptions,
    check_allocation,
    event_instance,
    prepare,
    solve_allocation,
)
from reserve_opt.models.allocation.model import build
from reserve_opt.synthetic import synthetic_instance


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run(regions: int, facilities: int, commodities: int, periods: int, seed: int,
        max_arc_h: float | None) -> dict[str, Any]:
    inst = synthetic_instance(regions, facilities, commodities, seed=seed)
    opts = AllocationOptions(periods=periods, max_arc_time_h=max_arc_h, explain=False)
    t0 = time.perf_counter()
    one, ev = event_instance(inst, "event")
    data = prepare(one, ev, opts)
    model, _ = build(data)
    mm = model.compile()
    build_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    res = solve_allocation(inst, "event", opts)  # prepares again: timed as a whole
    total_s = time.perf_counter() - t1
    report = check_allocation(inst, "event", res)
    return {"regions": regions, "facilities": facilities, "arcs": len(data.arcs.scenarios[0]),
            "variables": mm.num_variables, "rows": mm.num_constraints, "nonzeros": mm.A.nnz,
            "build_s": build_s, "total_s": total_s, "status": res.status.value,
            "levels": len(res.levels), "fill_rate": res.fill_rate, "checker": report.ok,
            "peak_rss_mib": peak_rss_mib()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--regions", type=int, default=2554)
    ap.add_argument("--facilities", type=int, default=1000)
    ap.add_argument("--commodities", type=int, default=5)
    ap.add_argument("--periods", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-arc-h", type=float, default=24.0,
                    help="drop arcs slower than this (sparse arcs), h")
    a = ap.parse_args()
    ref = run(max(a.regions // 8, 16), max(a.facilities // 8, 8), a.commodities, a.periods,
              a.seed, a.max_arc_h)
    big = run(a.regions, a.facilities, a.commodities, a.periods, a.seed, a.max_arc_h)
    keys = ["regions", "facilities", "arcs", "variables", "rows", "nonzeros", "build_s",
            "total_s", "peak_rss_mib"]
    print(f"{'':14}{'reference':>14}{'national':>14}{'ratio':>10}")
    for k in keys:
        r, b = float(ref[k]), float(big[k])
        print(f"{k:14}{r:14,.2f}{b:14,.2f}{b / r if r else float('nan'):10.2f}")
    print(f"national: status {big['status']}, {big['levels']} levels, fill rate "
          f"{big['fill_rate']:.4f}, checker {'ok' if big['checker'] else 'FAILED'}; "
          f"build + solve (all levels) {big['total_s']:.1f} s vs target 60 s; peak RSS "
          f"{big['peak_rss_mib'] / 1024:.2f} GiB vs target 8 GiB")


if __name__ == "__main__":
    main()
