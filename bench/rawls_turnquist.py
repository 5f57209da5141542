"""Rawls & Turnquist (2010) model P1 on instances/rawls-turnquist, pooled, HiGHS and CBC.

Run from the repository root: ``.venv/bin/python bench/rawls_turnquist.py [--time-limit S]``.
Prints the objective against the paper's $89.5M (target within 2%), the proven gap (target
<= 0.1%), solve seconds (target < 30 s) and stock totals against 9,001 / 3,609 / 19,631.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from reserve_opt import load_instance
from reserve_opt.models.placement import PlacementOptions, check_placement, solve_placement
from reserve_opt.solvers import SolverOptions

PAPER_OBJECTIVE = 89.5e6
PAPER_FIRST_STAGE = 28.9e6
PAPER_STOCK = {"water": 9001.0, "food": 3609.0, "medical_kits": 19631.0}
ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--time-limit", type=float, default=300.0)
    ap.add_argument("--gap", type=float, default=1e-4)
    ap.add_argument("--solvers", default="highs,pulp-cbc")
    args = ap.parse_args()
    inst = load_instance(ROOT / "instances" / "rawls-turnquist")
    opts = PlacementOptions(sharing="pooled", budget=None)
    rows = []
    for solver in args.solvers.split(","):
        t0 = time.perf_counter()
        res = solve_placement(inst, opts, solver=solver, solver_options=SolverOptions(
            time_limit_s=args.time_limit, mip_gap=args.gap))
        wall = time.perf_counter() - t0
        rep = check_placement(inst, res)
        rows.append((solver, res, wall, rep))
    print(f"{'':22s}{'paper':>14s}" + "".join(f"{s:>16s}" for s, *_ in rows))

    def line(label: str, paper: str, vals: list[str]) -> None:
        print(f"{label:22s}{paper:>14s}" + "".join(f"{v:>16s}" for v in vals))

    line("status", "optimal", [r.status.value for _, r, _, _ in rows])
    line("objective (M USD)", f"{PAPER_OBJECTIVE / 1e6:.3f}",
         [f"{(r.objective or 0) / 1e6:.3f}" for _, r, _, _ in rows])
    line("vs paper", "", [f"{100 * ((r.objective or 0) / PAPER_OBJECTIVE - 1):+.2f}%"
                          for _, r, _, _ in rows])
    line("first stage (M USD)", f"{PAPER_FIRST_STAGE / 1e6:.3f}",
         [f"{r.costs.first_stage / 1e6:.3f}" if r.costs else "-" for _, r, _, _ in rows])
    line("proven gap", "", [f"{100 * r.gap:.4f}%" if r.gap is not None else "-"
                            for _, r, _, _ in rows])
    line("solve seconds", "685 (CPLEX)", [f"{r.solve_seconds:.2f}" for _, r, _, _ in rows])
    line("wall seconds (all)", "", [f"{w:.2f}" for _, _, w, _ in rows])
    for k, q in PAPER_STOCK.items():
        line(f"stock {k}", f"{q:,.0f}", [f"{r.stock_totals().get(k, 0.0):,.1f}"
                                         for _, r, _, _ in rows])
    line("facilities opened", "15", [str(len(r.opened)) for _, r, _, _ in rows])
    line("checker", "", ["ok" if rep.ok else f"{len(rep.violations)} violations"
                         for *_, rep in rows])
    for s, _, _, rep in rows:
        for msg in rep.violations[:5]:
            print(f"  {s}: {msg}")


if __name__ == "__main__":
    main()
