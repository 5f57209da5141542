"""A primal start for the placement MILP: LP diving, then a size local search.

Why: the placement LP relaxation is tight (on Rawls-Turnquist it is within 0.07% of the
optimum), so a MIP solver that is handed a near-optimal plan can prove a 0.1% gap at the
root. HiGHS's own root heuristics spend most of its time finding such a plan on RT (its
first good one comes from a sub-MIP after about 20 s). This module finds one with a few
LP solves and hands it over as a hint (``MatrixModel.start``).

1. **Dive.** Solve the LP relaxation; fix the fractional first-stage integer variable
   (a size or a contract) with the largest value to 1 (for a warehouse size, its other
   sizes to 0); repeat until they are integral in the LP optimum. The LP is re-solved at
   most once per integer variable. Second-stage binaries (``protect_on``) are then
   rounded to the nearest, or all set to 0 (no protected lending) if that LP is
   infeasible.
2. **Size local search.** For each opened candidate warehouse try closing it and every
   other size, each evaluated by the LP with all integer variables fixed (small after
   presolve); take the first improvement and start over, until none improves.

The start only guides the solver: its bound, the final plan and the proven gap are the
solver's own. If the relaxation is infeasible, or the time budget runs out before an
integral plan is found, no start is returned.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import numpy.typing as npt

from reserve_opt.solvers import SolverOptions, solve
from reserve_opt.solvers.model import MatrixModel

from .model import PlacementData

FloatArray = npt.NDArray[np.float64]


def _lp(model: MatrixModel, lb: FloatArray, ub: FloatArray, solver: str,
        seconds_left: float) -> tuple[float, FloatArray] | None:
    """Objective and primal values of the LP with these bounds, or ``None``."""
    if seconds_left <= 0:
        return None
    relaxed = dataclasses.replace(model, col_lb=lb, col_ub=ub,
                                  integer=np.zeros_like(model.integer), start=None)
    res = solve(relaxed, solver, SolverOptions(time_limit_s=seconds_left))
    if res.status.value != "optimal" or res.x is None or res.objective is None:
        return None
    return float(res.objective), np.asarray(res.x, dtype=np.float64)


def primal_start(model: MatrixModel, data: PlacementData, *, solver: str = "highs",
                 time_budget_s: float = 30.0) -> tuple[FloatArray | None, float | None]:
    """A feasible plan for the placement MILP to hand to a solver as a hint.

    Parameters
    ----------
    model
        The compiled placement model (blocks ``open`` and ``sign`` are its integers).
    data
        The prepared data (which size belongs to which candidate).
    solver
        LP solver for the dive (a backend that solves LPs, HiGHS by default).
    time_budget_s
        Stop and give up after this many seconds.

    Returns
    -------
    tuple
        ``(start, objective)``: one value per variable (``NaN`` for continuous ones) and
        the plan's objective, or ``(None, None)`` when no plan was found in time.
    """
    t0 = time.perf_counter()
    n = model.num_variables
    ints = np.flatnonzero(model.integer)
    if ints.size == 0:
        return None, None
    y_blk = model.var_blocks["open"]
    size_gov = data.size_gov
    sibling_var = {int(y_blk.start + i): y_blk.start + np.flatnonzero(size_gov == size_gov[i])
                   for i in range(y_blk.size)}

    def left() -> float:
        return time_budget_s - (time.perf_counter() - t0)

    # the dive fixes first-stage integers; second-stage ones (protect_on) are rounded at the
    # end: 0 (no protected lending in that scenario) is always feasible
    first = np.isin(ints, np.concatenate([np.arange(model.var_blocks[b].start,
                                                    model.var_blocks[b].stop)
                                          for b in ("open", "sign", "hire")
                                          if b in model.var_blocks]))
    lb, ub = model.col_lb.copy(), model.col_ub.copy()
    found: tuple[float, FloatArray] | None = None
    for _ in range(ints.size + 1):
        found = _lp(model, lb, ub, solver, left())
        if found is None:
            return None, None
        vals = found[1][ints]
        frac = np.flatnonzero((np.abs(vals - np.round(vals)) > 1e-6) & first)
        if frac.size == 0:
            break
        pick = int(ints[frac[np.argmax(vals[frac])]])
        if pick in sibling_var:
            ub[sibling_var[pick]] = 0.0
        lb[pick] = ub[pick] = 1.0
    else:
        return None, None
    assert found is not None
    best_obj = found[0]
    best = np.round(found[1][ints])

    def evaluate(fixed: FloatArray) -> float | None:
        lo, hi = model.col_lb.copy(), model.col_ub.copy()
        lo[ints] = hi[ints] = fixed
        got = _lp(model, lo, hi, solver, left())
        return None if got is None else got[0]

    if not first.all():
        got = evaluate(best)
        if got is None:
            best[~first] = 0.0
            got = evaluate(best)
        if got is None:
            return None, None
        best_obj = got
    pos = {int(v): k for k, v in enumerate(ints)}
    improved = True
    while improved and left() > 0:
        improved = False
        for y in np.flatnonzero(best[[pos[y_blk.start + i] for i in range(y_blk.size)]] > 0.5):
            group = [pos[int(v)] for v in sibling_var[int(y_blk.start + y)]]
            here = pos[int(y_blk.start + y)]
            for alt in [None, *[g for g in group if g != here]]:
                trial = best.copy()
                trial[here] = 0.0
                if alt is not None:
                    trial[alt] = 1.0
                obj = evaluate(trial)
                if obj is not None and obj < best_obj - 1e-9 * max(1.0, abs(best_obj)):
                    best, best_obj, improved = trial, obj, True
                    break
            if improved:
                break
    start = np.full(n, np.nan)
    start[ints] = best
    return start, best_obj
