"""Placement with and without fleet limits, side by side in one run (issue 13's number).

For each bundled instance: the plan's objective and solve time with ``fleet_limits`` off
(the model before fleets) and on, and their time ratio (target: at most 2x). Rawls-Turnquist
has no fleet, so its optimum must not move; the others must not move either while their
fleets do not bind. Run: ``python bench/placement_fleet.py [--gap 1e-4] [NAME ...]``.

``--fill`` instead puts the plan beside its allocation (issue 13: answers agree from plan
to truck): per scenario, the plan's fill (``plan``) and the fill ``allocate -s S --plan``
gives on that plan (default options, as the CLI), overall as the CLI prints it (the mean
over commodities of each one's fill), for two variants of placement's fleet rows in one run:
``before``, kg rows counting plain weight (the rule before, emulated by swapping
``load_kg`` for the weight in placement's model module only), and ``after``, each unit's
load weight on its depot's trucks as allocation counts it (``reserve_opt.fleet.load_kg``).
``--fleet-scale F`` multiplies every fleet row's truck count by F (at least one truck), to
see the rows where the fleet binds. Run:
``python bench/placement_fleet.py --fill [--fleet-scale 0.3] [liaoning georgia]``.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import sys
import time
from pathlib import Path
from unittest import mock

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reserve_opt.domain import Instance  # noqa: E402
from reserve_opt.io import load_instance  # noqa: E402
from reserve_opt.models.allocation import AllocationOptions, solve_allocation  # noqa: E402
from reserve_opt.models.allocation.from_plan import plan_inputs  # noqa: E402
from reserve_opt.models.placement import (  # noqa: E402
    PlacementOptions,
    PlacementResult,
    check_placement,
    solve_placement,
)
from reserve_opt.models.placement import check as placement_check  # noqa: E402
from reserve_opt.models.placement import model as placement_model  # noqa: E402
from reserve_opt.solvers import SolverOptions  # noqa: E402


def _weight_only(weight_kg: object, volume_m3: object, kg_per_m3: object) -> np.ndarray:
    """The kg rows' coefficient before issue 13's load weight: the plain weight."""
    w = np.asarray(weight_kg, dtype=np.float64)
    return np.broadcast_to(w, np.broadcast(w, np.asarray(kg_per_m3)).shape).copy()


def _plan_fill(plan: PlacementResult, scenario: str) -> float:
    """The plan's overall fill in one scenario: mean over commodities of 1 - short / demand."""
    rates = []
    lines = [x for x in plan.shortages if x.scenario == scenario]
    for k in dict.fromkeys(x.commodity for x in lines):
        dem = sum(x.demand for x in lines if x.commodity == k)
        short = sum(x.shortage for x in lines if x.commodity == k)
        rates.append(1.0 if dem <= 0 else 1.0 - short / dem)
    return sum(rates) / len(rates) if rates else 1.0


def fill_table(names: list[str], sopts: SolverOptions, scale: float = 1.0) -> None:
    """Plan's fill beside its allocation's, per scenario, before and after (``--fill``)."""
    print(f"# fleet truck counts x {scale:g}")
    print("instance,scenario,before_plan_fill_pct,before_allocate_fill_pct,before_gap_pp,"
          "after_plan_fill_pct,after_allocate_fill_pct,after_gap_pp")
    for name in names:
        inst: Instance = load_instance(ROOT / "instances" / name)
        inst = dataclasses.replace(inst, fleet=tuple(
            dataclasses.replace(v, count=max(1, round(v.count * scale))) for v in inst.fleet))
        rows: dict[str, list[float]] = {sc.id: [] for sc in inst.scenarios}
        secs = []
        for variant in ("before", "after"):
            t0 = time.perf_counter()
            with contextlib.ExitStack() as before:
                if variant == "before":  # the old rule in placement's model and checker
                    for mod in (placement_model, placement_check):
                        before.enter_context(mock.patch.object(mod, "load_kg", _weight_only))
                plan = solve_placement(inst, PlacementOptions(explain_shortages=False),
                                       solver_options=sopts)
                secs.append(time.perf_counter() - t0)
                signed, stock = plan_inputs(plan, inst)
            if variant == "before":  # the old plan held to the load-weight rule
                bad = check_placement(inst, plan).violations
                print(f"# {name}: the plain-weight plan breaks {len(bad)} load-weight fleet "
                      "rows of the checker" + (f", e.g. {bad[0]}" if bad else ""))
            for sc in inst.scenarios:
                alloc = solve_allocation(signed, sc.id, AllocationOptions(), stock=stock)
                pf, af = _plan_fill(plan, sc.id), alloc.fill_rate
                rows[sc.id] += [100 * pf, 100 * af, 100 * abs(pf - af)]
        for sid, r in rows.items():
            print(f"{name},{sid}," + ",".join(f"{x:.2f}" for x in r))
        gb = [r[2] for r in rows.values()]
        ga = [r[5] for r in rows.values()]
        print(f"# {name}: plan-vs-allocate fill gap, mean over scenarios {sum(gb) / len(gb):.2f}"
              f" pp before, {sum(ga) / len(ga):.2f} pp after; worst {max(gb):.2f} / "
              f"{max(ga):.2f} pp; plan solve {secs[0]:.1f} s before, {secs[1]:.1f} s after")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("names", nargs="*", default=["toy", "liaoning", "georgia",
                                                  "rawls-turnquist"])
    ap.add_argument("--gap", type=float, default=1e-3,
                    help="relative MIP gap for both runs (Rawls-Turnquist at 1e-4 takes "
                    "minutes)")
    ap.add_argument("--fleet-scale", type=float, default=1.0,
                    help="with --fill: multiply every fleet row's truck count by this")
    ap.add_argument("--fill", action="store_true",
                    help="plan's fill beside allocate --plan's per scenario, before/after")
    args = ap.parse_args()
    sopts = SolverOptions(mip_gap=args.gap, time_limit_s=900.0)
    if args.fill:
        fill_table(args.names if args.names != ap.get_default("names")
                   else ["liaoning", "georgia"], sopts, args.fleet_scale)
        return
    print(f"{'instance':<16} {'off: obj':>16} {'s':>7} {'on: obj':>16} {'s':>7} "
          f"{'on/off':>7}  status")
    for name in args.names:
        inst = load_instance(ROOT / "instances" / name)
        row = []
        for fleet in (False, True):
            t0 = time.perf_counter()
            plan = solve_placement(inst, PlacementOptions(fleet_limits=fleet,
                                                          explain_shortages=False),
                                   solver_options=sopts)
            row.append((plan.objective or float("nan"), time.perf_counter() - t0,
                        plan.status.value))
        (o0, t0_, s0), (o1, t1, s1) = row
        print(f"{name:<16} {o0:>16,.0f} {t0_:>7.1f} {o1:>16,.0f} {t1:>7.1f} "
              f"{t1 / t0_:>6.2f}x  {s0}/{s1}")


if __name__ == "__main__":
    main()
