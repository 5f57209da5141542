"""Rawls & Turnquist (2010) model P1 on instances/rawls-turnquist, pooled: HiGHS and CBC side
by side in one run.

Run from the repository root: ``.venv/bin/python bench/rawls_turnquist.py [--time-limit S]``.
Prints, per solver, the objective against the paper's $89.5M (target within 2%), the proven
gap (target <= 0.1%), solve seconds (target < 30 s) and stock totals against 9,001 / 3,609 /
19,631. Columns:

* ``highs``: HiGHS (OR-Tools MathOpt) with the placement primal start (LP diving + size local
  search, ``models/placement/heuristic.py``); this is what ``solver="highs"`` and ``"auto"``
  run;
* ``pulp-cbc``: CBC through PuLP, the reference the time ratios are taken against;
* ``highs-nostart``: HiGHS alone (``PlacementOptions(primal_heuristic=False)``), to show what
  the start buys (skip with ``--no-baseline``).

Timings on a shared machine are contended: compare the ratios within one run.
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
TARGET_REL = 0.02
TARGET_GAP = 1e-3
TARGET_SECONDS = 30.0
ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--time-limit", type=float, default=300.0)
    ap.add_argument("--gap", type=float, default=TARGET_GAP)
    ap.add_argument("--solvers", default="highs,pulp-cbc",
                    help="comma-separated; 'highs-nostart' is HiGHS without the primal start")
    ap.add_argument("--no-baseline", action="store_true",
                    help="leave out highs-nostart (HiGHS without the primal start)")
    args = ap.parse_args()
    inst = load_instance(ROOT / "instances" / "rawls-turnquist")
    labels = args.solvers.split(",")
    if not args.no_baseline and "highs-nostart" not in labels:
        labels.append("highs-nostart")
    rows = []
    for label in labels:
        nostart = label.endswith("-nostart")
        solver = label.removesuffix("-nostart")
        opts = PlacementOptions(sharing="pooled", budget=None, primal_heuristic=not nostart)
        t0 = time.perf_counter()
        res = solve_placement(inst, opts, solver=solver, solver_options=SolverOptions(
            time_limit_s=args.time_limit, mip_gap=args.gap))
        wall = time.perf_counter() - t0
        rep = check_placement(inst, res)
        rows.append((label, res, wall, rep))
    ref = next((r.solve_seconds for s, r, _, _ in rows if s == "pulp-cbc"), None)
    print(f"Rawls-Turnquist P1, 51 scenarios, pooled, requested gap {args.gap:g}")
    print(f"{'':30s}{'paper':>14s}" + "".join(f"{s:>16s}" for s, *_ in rows))

    def line(label: str, paper: str, vals: list[str]) -> None:
        print(f"{label:30s}{paper:>14s}" + "".join(f"{v:>16s}" for v in vals))

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
    line("time / CBC time (same run)", "", [f"{r.solve_seconds / ref:.2f}" if ref else "-"
                                            for _, r, _, _ in rows])
    line("wall seconds (all)", "", [f"{w:.2f}" for _, _, w, _ in rows])
    for k, q in PAPER_STOCK.items():
        line(f"stock {k} (vs paper)", f"{q:,.0f}", [
            f"{t:,.0f} ({100 * (t / q - 1):+.1f}%)"
            for t in (r.stock_totals().get(k, 0.0) for _, r, _, _ in rows)])
    line("facilities opened", "15", [str(len(r.opened)) for _, r, _, _ in rows])
    line("checker", "", ["ok" if rep.ok else f"{len(rep.violations)} violations"
                         for *_, rep in rows])
    line("targets met", "", [
        "yes" if (r.objective is not None and r.gap is not None
                  and abs(r.objective / PAPER_OBJECTIVE - 1) <= TARGET_REL
                  and r.gap <= TARGET_GAP + 1e-12 and r.solve_seconds < TARGET_SECONDS
                  and rep.ok) else "no"
        for _, r, _, rep in rows])
    print(f"(targets: within {TARGET_REL:.0%} of the paper, proven gap <= {TARGET_GAP:.1%}, "
          f"under {TARGET_SECONDS:.0f} s, checker ok)")
    for s, r, _, rep in rows:
        if r.message:
            print(f"  {s}: {r.message}")
        for msg in rep.violations[:5]:
            print(f"  {s}: {msg}")


if __name__ == "__main__":
    main()
