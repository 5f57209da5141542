"""From plan to truck: does every day of an allocation fit the trucks that must carry it?

For every bundled instance (``instances/*``) and every scenario, allocate the event
(``models/allocation``, default options), route each day of the allocation on the
instance's fleet (``models/routing/from_allocation.py``, as ``route --plan`` does for one
day, with an iteration limit, not seconds) and print per instance, scenario and day: units
promised, units routed, and units the routes leave unmet as a share of the promised units
(target: at most 2% everywhere). With ``--loop`` the closed loop
(``allocate_and_route``) runs too: its rounds, its days' unmet shares, and its time as a
multiple of one allocate + route.

Run: ``.venv/bin/python bench/plan_to_truck.py [--loop] [--iterations N] [INSTANCE ...]``
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from reserve_opt.io import load_instance
from reserve_opt.models.allocation import AllocationOptions, solve_allocation
from reserve_opt.models.allocation.data import home_fleets
from reserve_opt.models.allocation.loop import allocate_and_route, route_days

ROOT = Path(__file__).resolve().parent.parent / "instances"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("instances", nargs="*", help="instance folder names (default: all)")
    ap.add_argument("--iterations", type=int, default=200, help="routing iterations per day")
    ap.add_argument("--loop", action="store_true", help="also run allocate --route's loop")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    names = args.instances or sorted(p.name for p in ROOT.iterdir() if p.is_dir())
    # unmet_no_fleet_units: unmet units from sources with no fleet of their own or in their
    # region, which the allocation does not limit (routing has no truck for them)
    print("instance,scenario,day,promised_units,routed_units,unmet_units,unmet_pct,"
          "unmet_no_fleet_units,seconds")
    worst = 0.0
    for name in names:
        inst = load_instance(ROOT / name)
        if not inst.fleet:
            print(f"# {name}: no fleet; nothing is routed")
            continue
        for sc in inst.scenarios:
            t0 = time.perf_counter()
            alloc = solve_allocation(inst, sc.id, AllocationOptions())
            t_alloc = time.perf_counter() - t0
            days = route_days(inst, alloc, max_iterations=args.iterations)
            single = time.perf_counter() - t0
            for d in days:
                worst = max(worst, d.unmet_share)
                home = home_fleets(inst, set(d.report["source"].astype(str)))
                fleetless = d.report["source"].map(lambda s, h=home: h[str(s)] is None)
                no_fleet = float(d.report.loc[fleetless, "unmet"].sum())
                print(f"{name},{sc.id},{d.period},{d.promised_units:.0f},"
                      f"{d.routed_units:.0f},{d.unmet_units:.0f},{100 * d.unmet_share:.2f},"
                      f"{no_fleet:.0f},{d.seconds:.1f}")
            print(f"# {name} {sc.id}: allocate {t_alloc:.1f} s, allocate + route {single:.1f} s")
            if args.loop:
                t1 = time.perf_counter()
                res = allocate_and_route(inst, sc.id, rounds=args.rounds,
                                         max_iterations=args.iterations)
                loop_s = time.perf_counter() - t1
                shares = ", ".join(f"day {d.period} {100 * d.unmet_share:.2f}%"
                                   for d in res.days)
                print(f"# {name} {sc.id}: loop {res.rounds} rounds, "
                      f"{'agrees' if res.agree else 'does not agree'}; {shares}; "
                      f"promised {res.promised_units:.0f} units (single allocation "
                      f"{res.first_promised_units:.0f}); {loop_s:.1f} s = "
                      f"{loop_s / max(single, 1e-9):.2f} x allocate + route")
    print(f"# worst day: {100 * worst:.2f}% of promised units unmet by routing")


if __name__ == "__main__":
    main()
