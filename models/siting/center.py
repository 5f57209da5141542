"""p-center: open p sites so that the farthest client is as near as possible.

min ``r`` such that every client i with ``w_i > 0`` has an open site j with
``w_i d_ij <= r``, ``sum_j y_j = p`` (fixed sites open and counted in p).

The optimum is one of the values ``w_i d_ij``, so it is found by bisection over those
sorted values (Minieka 1970; Daskin 2013, ch. 5): radius ``r`` is achievable iff the set
covering problem "cover every client within r" needs at most p sites. Each test is a set
covering MIP (:func:`~reserve_opt.models.siting.coverage.set_cover_model`, fixed sites
forced open). A test the solver settles (cover found with <= p sites, or a bound above
p) moves the bracket; one it cannot settle within the time limit ends the search with
the best plan and the proven lower bound (status ``feasible``). A cover with fewer
than p sites is filled up to p with the closed sites of lowest index (opening more
never moves a client farther).
"""

from __future__ import annotations

import math
import time
from dataclasses import replace

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from reserve_opt.models.siting import inputs
from reserve_opt.models.siting.coverage import set_cover_model
from reserve_opt.models.siting.pmedian import nearest_assignment
from reserve_opt.models.siting.result import IntArray, SitingResult, siting_result
from reserve_opt.solvers import SolveResult, SolverOptions, SolveStatus, solve

FloatArray = npt.NDArray[np.float64]


def center_value(d: FloatArray, w: FloatArray, open_sites: IntArray) -> float:
    """The p-center objective of a plan: ``max_i w_i min_{j open} d_ij`` (0 without clients)."""
    if d.shape[0] == 0:
        return 0.0
    return float((w * d[:, open_sites].min(axis=1)).max())


def p_center(
    distance: npt.ArrayLike,
    p: int,
    weights: npt.ArrayLike | None = None,
    *,
    solver: str = "auto",
    options: SolverOptions | None = None,
    fixed: npt.ArrayLike | None = None,
) -> SitingResult:
    """Solve the (vertex, weighted) p-center problem.

    Parameters
    ----------
    distance
        ``(n_clients, n_sites)`` distances, finite and >= 0.
    p
        Sites to open, fixed ones included, 1 <= p <= n_sites.
    weights
        Client weights >= 0 (default 1: the classic unweighted p-center); a client of
        weight 0 does not count.
    solver, options
        Solver registry name and options; the time limit covers the whole search.
    fixed
        Indices of sites open already (existing facilities).

    Returns
    -------
    SitingResult
        ``model = "p-center"``; ``assignment`` sends each client to its nearest open
        site; ``objective`` = the largest weighted distance, recomputed from the plan;
        ``bound`` = the smallest candidate radius not proven out of reach.
    """
    t0 = time.perf_counter()
    d, p, w, fix = inputs.distance_problem(distance, p, weights, fixed)
    m = d.shape[1]
    opts = options or SolverOptions()
    live = w > 0
    wd = w[live, None] * d[live]
    values = np.unique(wd)
    # every client's nearest site is a lower bound; any p sites reach the largest value
    lo = int(np.searchsorted(values, wd.min(axis=1).max())) if values.size else 0
    best = _fill(np.flatnonzero(fix), m, p)
    hi = int(np.searchsorted(values, center_value(wd, np.ones(wd.shape[0]), best))) \
        if values.size else 0
    status = SolveStatus.OPTIMAL
    used = solver
    while lo < hi:
        mid = (lo + hi) // 2
        run_opts = opts
        if opts.time_limit_s is not None:
            left = opts.time_limit_s - (time.perf_counter() - t0)
            if left <= 0:
                status = SolveStatus.FEASIBLE
                break
            run_opts = replace(opts, time_limit_s=left)
        cover = sp.csr_matrix(wd <= values[mid])
        res = solve(set_cover_model(cover, None, np.flatnonzero(fix)), solver, run_opts)
        used = res.solver
        if res.has_solution and res.objective is not None and res.objective <= p + 0.5:
            best = _fill(np.flatnonzero(res.value("open") > 0.5), m, p)
            hi = int(np.searchsorted(values, center_value(wd, np.ones(wd.shape[0]), best)))
        elif res.bound is not None and math.ceil(res.bound - 1e-6) > p:
            lo = mid + 1
        else:  # neither a cover within p nor a proof that none exists
            status = SolveStatus.FEASIBLE
            break
    assignment, _ = nearest_assignment(d, w, best)
    objective = center_value(d, w, best)
    bound = float(values[lo]) if values.size else 0.0
    stand_in = SolveResult(status=status, objective=objective, bound=bound, gap=None,
                           solve_seconds=0.0, solver=used)
    return siting_result("p-center", stand_in, objective=objective, open_sites=best,
                         assignment=assignment, seconds=time.perf_counter() - t0)


def _fill(chosen: npt.NDArray[np.int64], m: int, p: int) -> IntArray:
    """``chosen`` plus the closed sites of lowest index, p sites in all, sorted."""
    mask = np.zeros(m, dtype=bool)
    mask[chosen] = True
    extra = np.flatnonzero(~mask)[: max(p - int(mask.sum()), 0)]
    mask[extra] = True
    return np.flatnonzero(mask).astype(np.int64)
