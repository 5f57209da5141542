"""Placement with and without fleet limits, side by side in one run (issue 13's number).

For each bundled instance: the plan's objective and solve time with ``fleet_limits`` off
(the model before fleets) and on, and their time ratio (target: at most 2x). Rawls-Turnquist
has no fleet, so its optimum must not move; the others must not move either while their
fleets do not bind. Run: ``python bench/placement_fleet.py [--gap 1e-4] [NAME ...]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reserve_opt.io import load_instance  # noqa: E402
from reserve_opt.models.placement import PlacementOptions, solve_placement  # noqa: E402
from reserve_opt.solvers import SolverOptions  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("names", nargs="*", default=["toy", "liaoning", "georgia",
                                                  "rawls-turnquist"])
    ap.add_argument("--gap", type=float, default=1e-3,
                    help="relative MIP gap for both runs (Rawls-Turnquist at 1e-4 takes "
                    "minutes)")
    args = ap.parse_args()
    sopts = SolverOptions(mip_gap=args.gap, time_limit_s=900.0)
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
