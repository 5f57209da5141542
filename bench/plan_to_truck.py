"""From plan to truck: does every day of an allocation fit the trucks that must carry it?

For every bundled instance (``instances/*``) and every scenario, in one run:

1. allocate the event once (``models/allocation``, default options) and route each day of
   it on the instance's fleet (``models/routing/from_allocation.py``, as ``route --plan``
   does for one day, with an iteration limit, not seconds): per day the units promised,
   routed and unmet, the unmet share, and the part of it from sources with no truck of
   their own or in their region (the allocation does not limit those; routing has none);
2. run the closed loop (``allocate_and_route``, as ``allocate --route``): its rounds,
   whether it agrees, and its time as a multiple of the single allocate + route.

The summary table puts them side by side per instance and scenario: the single
allocation's worst day (all unmet, and unmet for new reasons: from sources with trucks),
the loop's rounds and the time ratio (targets: 2%, at most 5 rounds, at most 3x).

Run: ``.venv/bin/python bench/plan_to_truck.py [--iterations N] [--rounds N] [INSTANCE ...]``
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from reserve_opt.fleet import home_fleets
from reserve_opt.io import load_instance
from reserve_opt.models.allocation import AllocationOptions, solve_allocation
from reserve_opt.models.allocation.loop import allocate_and_route, route_days

ROOT = Path(__file__).resolve().parent.parent / "instances"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("instances", nargs="*", help="instance folder names (default: all)")
    ap.add_argument("--iterations", type=int, default=200, help="routing iterations per day")
    ap.add_argument("--rounds", type=int, default=5, help="most allocations of the loop")
    args = ap.parse_args()
    names = args.instances or sorted(p.name for p in ROOT.iterdir() if p.is_dir())
    print(f"# load average at start: {os.getloadavg()[0]:.2f} (1 min), 2-core machine")
    print("instance,scenario,day,promised_units,routed_units,unmet_units,unmet_pct,"
          "unmet_no_truck_units,unmet_new_pct,route_s")
    summary: list[str] = []
    for name in names:
        inst = load_instance(ROOT / name)
        if not inst.fleet:
            print(f"# {name}: no fleet; nothing is routed")
            continue
        for sc in inst.scenarios:
            t0 = time.perf_counter()
            alloc = solve_allocation(inst, sc.id, AllocationOptions())
            days = route_days(inst, alloc, max_iterations=args.iterations)
            single = time.perf_counter() - t0
            worst = worst_new = 0.0
            for d in days:
                home = home_fleets(inst, set(d.report["source"].astype(str)))
                no_truck = d.report["source"].map(lambda s, h=home: h[str(s)] is None)
                no_truck_units = float(d.report.loc[no_truck, "unmet"].sum())
                new = max(0.0, d.unmet_units - no_truck_units)
                new_share = new / d.promised_units if d.promised_units > 0 else 0.0
                worst, worst_new = max(worst, d.unmet_share), max(worst_new, new_share)
                print(f"{name},{sc.id},{d.period},{d.promised_units:.0f},"
                      f"{d.routed_units:.0f},{d.unmet_units:.0f},{100 * d.unmet_share:.2f},"
                      f"{no_truck_units:.0f},{100 * new_share:.2f},{d.seconds:.2f}")
            t1 = time.perf_counter()
            res = allocate_and_route(inst, sc.id, rounds=args.rounds,
                                     max_iterations=args.iterations)
            loop_s = time.perf_counter() - t1
            loop_worst = max((d.unmet_share for d in res.days), default=0.0)
            summary.append(
                f"{name},{sc.id},{100 * worst:.2f},{100 * worst_new:.2f},{res.rounds},"
                f"{'yes' if res.agree else 'no'},{100 * loop_worst:.2f},{single:.2f},"
                f"{loop_s:.2f},{loop_s / max(single, 1e-9):.2f}")
    print()
    print("# side by side: the single allocation's worst day routed, and the loop")
    print("instance,scenario,single_worst_unmet_pct,single_worst_unmet_new_pct,loop_rounds,"
          "loop_agrees,loop_worst_unmet_pct,single_s,loop_s,loop_over_single")
    for line in summary:
        print(line)
    print(f"# load average at end: {os.getloadavg()[0]:.2f} (1 min)")


if __name__ == "__main__":
    main()
