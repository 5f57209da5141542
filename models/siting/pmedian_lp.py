"""p-median by LP bound, reduced-cost fixing and a MIP on what is left.

The ``formulation="lp-fix"`` path of :func:`~reserve_opt.models.siting.pmedian.p_median`,
after García, Labbé & Marín (2011):

1. **Incumbent.** Greedy addition, then best-improvement vertex exchange (Teitz & Bart
   1968) evaluated for every (in, out) pair at once as in Whitaker's fast interchange:
   with ``d1_i``, ``d2_i`` the distances to client i's nearest and second-nearest open
   sites and ``c1_i`` the nearest, swapping site j in for r costs
   ``G_j + L_rj``, ``G_j = sum_i w_i min(d_ij - d1_i, 0)`` and
   ``L_rj = sum_{i: c1_i = r} w_i (min(d2_i, d_ij) - min(d1_i, d_ij))``; L is one sparse
   product. Gives ``UB``.
2. **LP bound.** The radius model's LP relaxation, radii grown until every client is
   fully served within its kept radii in the LP (then the truncated LP equals the full
   one). Gives ``LB`` and reduced costs ``rc = c - A^T pi`` of the ``y_j``.
3. **Reduced-cost fixing.** Any plan that opens a site with ``rc_j > UB - LB`` costs more
   than ``UB``: such sites are dropped; a site with ``rc_j < -(UB - LB)`` is open in every
   plan better than ``UB`` and is fixed open. Likewise a ``z_il`` ("client i lies beyond
   ``D_il``") with reduced cost above ``UB - LB`` is 0 in every better plan: client i
   keeps radii only up to ``D_il`` and a row requires it served within (the radius
   variables shrink with the gap). ``UB - LB`` within 1e-9 proves ``UB`` optimal at once.
4. **MIP on what is left.** The radius MIP (:func:`~reserve_opt.models.siting.pmedian.
   radius_mip`) on the remaining sites; the answer is the better of its plan and the
   incumbent, with bound ``max(LB, min(UB, MIP bound))``.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from reserve_opt.models.siting.pmedian import (
    _Sorted,
    initial_cut_rank,
    nearest_assignment,
    radius_mip,
    radius_model,
)
from reserve_opt.models.siting.result import SitingResult, siting_result
from reserve_opt.solvers import SolveResult, SolverOptions, SolveStatus, solve

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: The LP is solved with HiGHS, whose MathOpt backend returns row duals.
LP_SOLVER = "highs"


def interchange(d: FloatArray, w: FloatArray, p: int, fixed: BoolArray,
                max_swaps: int = 100_000, start: BoolArray | None = None) -> IntArray:
    """A p-median plan by greedy addition and best-improvement exchange (fixed sites kept).

    Parameters
    ----------
    d
        ``(n, m)`` distances.
    w
        Client weights.
    p
        Sites to open, fixed ones included.
    fixed
        Mask of sites that stay open.
    max_swaps
        Most exchanges (an iteration limit, so results do not depend on machine speed).
    start
        Mask of sites to start from (fixed ones are added; greedy fills it up to p);
        default: greedy addition from the fixed sites alone.

    Returns
    -------
    numpy.ndarray
        Sorted indices of the p open sites; no single exchange improves the plan unless
        ``max_swaps`` stopped it.
    """
    n, m = d.shape
    is_open = fixed.copy() if start is None else fixed | start
    near = d[:, is_open].min(axis=1) if is_open.any() else np.full(n, np.inf)
    while is_open.sum() < p:
        cost = w @ np.minimum(near[:, None], d)
        cost[is_open] = np.inf
        j = int(np.argmin(cost))
        is_open[j] = True
        near = np.minimum(near, d[:, j])
    scale = max(1.0, float(w @ near))
    for _ in range(max_swaps):
        sites = np.flatnonzero(is_open)
        k = sites.size
        if k == m or n == 0:
            break
        dk = d[:, sites]
        order = np.argsort(dk, axis=1, kind="stable")
        c1 = order[:, 0]
        d1 = dk[np.arange(n), c1]
        d2 = dk[np.arange(n), order[:, 1]] if k > 1 else np.full(n, np.inf)
        gain = w @ np.minimum(d - d1[:, None], 0.0)
        loss_rows = w[:, None] * (np.minimum(d2[:, None], d) - np.minimum(d1[:, None], d))
        owner = sp.csr_matrix((np.ones(n), (c1, np.arange(n))), shape=(k, n))
        delta = np.asarray(owner @ loss_rows) + gain[None, :]
        delta[:, is_open] = np.inf
        delta[fixed[sites], :] = np.inf
        r, j = (int(v) for v in np.unravel_index(int(np.argmin(delta)), delta.shape))
        if not delta[r, j] < -1e-12 * scale:
            break
        is_open[sites[r]] = False
        is_open[j] = True
    return np.flatnonzero(is_open).astype(np.int64)


def lp_bound(d: FloatArray, p: int, w: FloatArray, fixed: BoolArray, options: SolverOptions,
             max_rounds: int = 20) -> tuple[float, FloatArray, FloatArray, FloatArray] | None:
    """The radius model's LP bound with the reduced costs of its variables.

    Radii grow (twice as many) for clients the LP does not fully serve within their
    kept radii, until none is left.

    Returns
    -------
    tuple or None
        ``(LB, rc_y, rc_z, radius_z)``: the bound, the sites' reduced costs, and per
        client (all clients, zero weights included, ``inf`` for those left out) nothing
        else: ``rc_z`` and ``radius_z`` list each ``z_il`` with its radius ``D_il`` and
        the client's index as ``radius_z[1]``; ``None`` when the LP does not solve to
        optimality (out of time) or gives no duals.
    """
    keep = np.flatnonzero(w > 0)
    n, m = d.shape
    srt = _Sorted(d[keep])
    full = m - p
    cut = np.full(keep.size, initial_cut_rank(n, m, p), dtype=np.int64)
    rows = np.arange(keep.size)
    for _ in range(max_rounds):
        compiled = radius_model(srt, p, w[keep], cut, fixed, relax=True).compile()
        res: SolveResult = solve(compiled, LP_SOLVER, options)
        if res.status is not SolveStatus.OPTIMAL or res.duals is None or res.objective is None:
            return None
        y = res.value("open")
        reach = srt.s[rows, cut]
        served = (d[keep] <= reach[:, None]) @ y
        short = (served < 1 - 1e-7) & (cut < full)
        if not short.any():
            rc = compiled.c - compiled.A.T @ res.duals
            yb, zb = compiled.var_blocks["open"], compiled.var_blocks["beyond"]
            # each z_il (client-major, l = 0..last_i - 1) with its client and radius D_il
            last = srt.level[rows, cut]
            dist_lvl = srt.s[srt.new & (srt.level <= last[:, None])]
            lvl_start = np.concatenate([[0], np.cumsum(last + 1)])
            client = np.repeat(rows, last)
            z_start = np.concatenate([[0], np.cumsum(last)])
            level = np.arange(client.size) - z_start[client]
            radius = dist_lvl[lvl_start[client] + level]
            return (float(res.objective), np.asarray(rc[yb.start:yb.stop]),
                    np.asarray(rc[zb.start:zb.stop]), np.stack([radius, keep[client]]))
        cut[short] = np.minimum(full, 2 * cut[short] + 1)
    return None


def reach_bound(n: int, rc_z: FloatArray, radius_z: FloatArray, slack: float) -> FloatArray:
    """Per client the smallest ``D_il`` whose ``z_il`` has reduced cost above ``slack``.

    Such a ``z_il`` is 0 in every plan better than the incumbent: the client is served
    within ``D_il``. ``inf`` where no ``z`` qualifies.
    """
    reach = np.full(n, np.inf)
    hit = rc_z > slack
    np.minimum.at(reach, radius_z[1, hit].astype(np.int64), radius_z[0, hit])
    return reach


def p_median_lp_fix(d: FloatArray, p: int, w: FloatArray, fixed: BoolArray, *, solver: str,
                    options: SolverOptions, t0: float, max_rounds: int = 20) -> SitingResult:
    """Steps 1-4 of the module; inputs already validated by ``p_median``."""
    m = d.shape[1]
    incumbent = interchange(d, w, p, fixed)
    _, ub = nearest_assignment(d, w, incumbent)
    tol = 1e-9 * max(1.0, abs(ub))
    lp_opts = options
    if options.time_limit_s is not None:
        lp_opts = replace(options, time_limit_s=max(options.time_limit_s
                                                    - (time.perf_counter() - t0), 0.01))
    bound = lp_bound(d, p, w, fixed, lp_opts)
    if bound is None:  # no usable LP: the radius MIP on every site, the incumbent kept
        return _answer(d, w, incumbent, ub, radius_mip(d, p, w, fixed, solver, options, t0,
                                                       max_rounds), np.arange(m), None, t0)
    lb, rc, rc_z, radius_z = bound
    slack = ub - lb
    if slack <= tol:
        return _done(d, w, incumbent, lb, t0)
    closed = ~fixed & (rc > slack + tol)
    forced = ~fixed & (rc < -(slack + tol))
    reach = reach_bound(d.shape[0], rc_z, radius_z, slack + tol)
    left = np.flatnonzero(~closed)
    if left.size <= p or (fixed | forced).sum() > p:  # nothing beats the incumbent
        return _done(d, w, incumbent, ub, t0)
    hint = np.zeros(m, dtype=bool)
    hint[incumbent] = True
    sub = radius_mip(d[:, left], p, w, (fixed | forced)[left], solver, options, t0,
                     max_rounds, start=hint[left], reach=reach)
    return _answer(d, w, incumbent, ub, sub, left, lb, t0)


def _done(d: FloatArray, w: FloatArray, plan: IntArray, bound: float,
          t0: float) -> SitingResult:
    """The incumbent, proven optimal without a MIP."""
    assignment, objective = nearest_assignment(d, w, plan)
    res = SolveResult(status=SolveStatus.OPTIMAL, objective=objective, bound=bound,
                      gap=None, solve_seconds=0.0, solver=LP_SOLVER)
    return siting_result("p-median", res, objective=objective, open_sites=plan,
                         assignment=assignment, seconds=time.perf_counter() - t0,
                         bound=min(bound, objective))


def _answer(d: FloatArray, w: FloatArray, incumbent: IntArray, ub: float,
            sub: tuple[SolveResult, SolveStatus, float | None], left: IntArray,
            lb: float | None, t0: float) -> SitingResult:
    """The better of the incumbent and the MIP's plan, with the combined bound."""
    res, status, mip_bound = sub
    plan, objective = incumbent, ub
    if res.has_solution:
        mine = left[np.flatnonzero(res.value("open") > 0.5)].astype(np.int64)
        _, cost = nearest_assignment(d, w, mine)
        if cost < ub:
            plan, objective = mine, cost
    bound = min(ub, mip_bound) if mip_bound is not None else None
    if lb is not None:
        bound = lb if bound is None else max(lb, bound)
    if res.status is SolveStatus.INFEASIBLE:  # no plan beats the incumbent
        status, bound = SolveStatus.OPTIMAL, ub
    elif not res.has_solution:
        status = SolveStatus.FEASIBLE
    assignment, objective = nearest_assignment(d, w, plan)
    return siting_result("p-median", res, objective=objective, open_sites=plan,
                         assignment=assignment, seconds=time.perf_counter() - t0,
                         status=status, bound=bound)
