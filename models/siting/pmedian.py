"""p-median: open p sites, minimise the demand-weighted distance to the nearest open site.

Two formulations, both built without a Python loop over client-site pairs.

``"radius"`` (default)
    The sorted-distance ("radius") formulation of Elloumi (2010) and García, Labbé &
    Marín (2011), in sparse difference form, solved with their idea of keeping only
    the first radii of each client and adding more where needed. For client i let
    ``D_i0 < D_i1 < ... < D_iK`` be its smallest distinct site distances (K = K_i
    kept) and ``z_il`` (continuous) "i's distance exceeds ``D_il``":

    * min ``sum_i w_i (D_i0 + sum_{l<K_i} (D_i,l+1 - D_il) z_il)``
    * ``z_i0 + sum_{j: d_ij = D_i0} y_j >= 1``
    * ``z_il - z_i,l-1 + sum_{j: d_ij = D_il} y_j >= 0``  for 1 <= l < K_i
    * ``sum_j y_j = p``, ``y`` binary, ``0 <= z <= 1``.

    The model charges client i ``min(d_i, D_iK)``, so with fewer radii it is a
    relaxation: its optimum is a lower bound, and its ``y`` is a p-median plan whose
    true cost is an upper bound. When no client's nearest open site lies beyond its
    last kept radius the two meet and the plan is optimal; otherwise the offending
    clients get more radii (at least up to their current site; twice as many) and the
    model is solved again. Radii are never kept beyond the client's (m-p+1)-th nearest
    site, one of which is always open (and, as ``y <= 1`` and ``sum y = p``, the rows
    dropped there hold in the LP too), so the full model is the exact Elloumi model.

``"classic"``
    The textbook (ReVelle & Swain) model: ``x_ij`` in [0, 1], ``sum_j x_ij = 1``,
    ``x_ij <= y_j``, ``sum_j y_j = p``; one solve, kept as an independent cross-check.
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Literal

import numpy as np
import numpy.typing as npt

from reserve_opt.errors import InputError
from reserve_opt.models.siting import inputs
from reserve_opt.models.siting.result import SitingResult, no_plan, opened, siting_result
from reserve_opt.solvers import Model, SolveResult, SolverOptions, SolveStatus, solve

Formulation = Literal["lagrangian", "lp-fix", "radius", "classic"]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


class _Sorted:
    """Each client's sites sorted by distance, with distinct-distance levels."""

    def __init__(self, d: FloatArray) -> None:
        n, m = d.shape
        self.d = d
        self.order = np.argsort(d, axis=1, kind="stable")
        self.s = np.take_along_axis(d, self.order, axis=1)
        new = np.ones((n, m), dtype=bool)
        new[:, 1:] = self.s[:, 1:] != self.s[:, :-1]
        self.new = new
        self.level = np.cumsum(new, axis=1) - 1  # level of each rank
        self.rank_of_site = np.empty_like(self.order)
        np.put_along_axis(self.rank_of_site, self.order, np.arange(m)[None, :], axis=1)


def radius_model(
    srt: _Sorted, p: int, w: FloatArray, cut_rank: IntArray, fixed: BoolArray | None = None,
    *, relax: bool = False, reach: FloatArray | None = None,
) -> Model:
    """Radius model keeping, for client i, the levels up to that of rank ``cut_rank[i]``.

    Parameters
    ----------
    srt
        Sorted distances.
    p
        Sites to open.
    w
        Client weights (> 0; drop zero-weight clients before).
    cut_rank
        Per client, the 0-based rank of the farthest site whose distance is kept.
    fixed
        Mask of the sites that must be open (counted in ``p``).
    relax
        Continuous ``y`` (the LP relaxation).
    reach
        Per client, a radius within which it must be served (``inf``: none): a row
        ``sum_{j: d_ij <= reach_i} y_j >= 1`` each (block ``"must_reach"``).

    Returns
    -------
    Model
        Variable blocks ``"open"`` (binary per site) and ``"beyond"`` (the z's).
    """
    n, m = srt.s.shape
    model = Model("p-median-radius")
    y = inputs.add_open(model, m, np.zeros(m, dtype=bool) if fixed is None else fixed,
                        integer=not relax)
    inputs.add_count(model, y, p)
    if n == 0:
        return model
    level, s = srt.level, srt.s
    last = level[np.arange(n), cut_rank]  # last kept level per client
    needed = level <= last[:, None]
    dist_lvl = s[srt.new & needed]  # D_il for l = 0..last_i, row-major
    lvl_start = np.concatenate([[0], np.cumsum(last + 1)])
    z_start = np.concatenate([[0], np.cumsum(last)])  # z_il for l = 0..last_i - 1
    total_z = int(z_start[-1])
    client_of_z = np.repeat(np.arange(n), last)
    l_of_z = np.arange(total_z) - z_start[client_of_z]
    at = lvl_start[client_of_z] + l_of_z
    z = model.add_variables(
        "beyond", total_z, lb=0.0, ub=1.0, obj=w[client_of_z] * (dist_lvl[at + 1] - dist_lvl[at])
    )
    model.objective_constant = float(w @ s[:, 0])
    # Row z_start[i] + l: +z_il, -z_i,l-1 (l >= 1), +y_j for sites j at level l < last_i.
    rows_z = np.arange(total_z)
    rows_prev = rows_z[l_of_z >= 1]
    ci, rk = np.nonzero(level < last[:, None])
    rows = np.concatenate([rows_z, rows_prev, z_start[ci] + level[ci, rk]])
    cols = np.concatenate([z, z[rows_prev - 1], y[srt.order[ci, rk]]])
    vals = np.concatenate([np.ones(total_z), -np.ones(rows_prev.size), np.ones(ci.size)])
    model.add_constraints(
        "reach", (rows, cols, vals), lb=np.where(l_of_z == 0, 1.0, 0.0), n_rows=total_z
    )
    if reach is not None:
        must = np.flatnonzero(np.isfinite(reach))
        ci, rk = np.nonzero(s[must] <= reach[must, None])
        model.add_constraints("must_reach", (ci, y[srt.order[must[ci], rk]], 1.0), lb=1.0,
                              n_rows=must.size)
    return model


def classic_model(d: FloatArray, p: int, w: FloatArray, fixed: BoolArray | None = None) -> Model:
    """The textbook p-median model with ``x_ij <= y_j`` for every pair (vectorised)."""
    n, m = d.shape
    model = Model("p-median-classic")
    y = inputs.add_open(model, m, np.zeros(m, dtype=bool) if fixed is None else fixed)
    x = model.add_variables("assign", (n, m), lb=0.0, ub=1.0, obj=w[:, None] * d)
    inputs.add_count(model, y, p)
    model.add_constraints("one_site", (np.repeat(np.arange(n), m), x.ravel(), 1.0), lb=1, ub=1)
    k = np.arange(n * m)
    link = (np.concatenate([k, k]), np.concatenate([x.ravel(), np.tile(y, n)]), [1.0, -1.0])
    model.add_constraints(
        "link", (link[0], link[1], np.repeat(link[2], n * m)), ub=0.0
    )  # x_ij <= y_j
    return model


def initial_cut_rank(n: int, m: int, p: int) -> int:
    """Rank kept at first: about twice the sites per median, at least 4, at most m - p."""
    return int(min(m - p, max(4, 2 * math.ceil(m / p))))


def p_median(
    distance: npt.ArrayLike,
    p: int,
    weights: npt.ArrayLike | None = None,
    *,
    formulation: Formulation = "lagrangian",
    solver: str = "auto",
    options: SolverOptions | None = None,
    max_rounds: int = 20,
    fixed: npt.ArrayLike | None = None,
) -> SitingResult:
    """Solve the p-median problem.

    Parameters
    ----------
    distance
        ``(n_clients, n_sites)`` distances (or per-unit costs), finite and >= 0.
    p
        Number of sites to open, 1 <= p <= n_sites.
    weights
        Client demand weights, >= 0 (default 1).
    formulation
        ``"lagrangian"`` (default: Lagrangian bound, fixing and branch-and-bound in
        numpy, ``pmedian_bb``; ``solver`` is not used), ``"radius"`` (sparse MIP, grows
        radii as needed), ``"lp-fix"`` (LP bound, reduced-cost fixing, MIP) or
        ``"classic"``.
    solver
        Solver registry name, or ``"auto"`` (the MIP formulations).
    options
        Solver options; a time limit covers all rounds together; ``mip_gap`` is honoured.
    max_rounds
        Most radius rounds before the full model is solved.
    fixed
        Indices of sites that are open already (existing facilities); they count in ``p``.

    Returns
    -------
    SitingResult
        ``open_sites``; ``assignment`` sends each client wholly to its nearest open site
        (lowest site index on ties); ``objective = sum_i w_i d_i,site(i)`` recomputed
        from that plan. ``bound`` is the solver's bound on the (last) model.
    """
    t0 = time.perf_counter()
    d, p, w, fix = inputs.distance_problem(distance, p, weights, fixed)
    opts = options or SolverOptions()
    if formulation == "classic":
        res = solve(classic_model(d, p, w, fix), solver, opts)
        return _finish(d, w, res, res.status, res.bound, t0)
    if formulation not in ("radius", "lp-fix", "lagrangian"):
        raise InputError(
            f"Unknown p-median formulation {formulation!r}; use 'lagrangian', 'lp-fix', "
            "'radius' or 'classic'."
        )
    if formulation == "lagrangian":
        from reserve_opt.models.siting.pmedian_bb import p_median_lagrangian

        return p_median_lagrangian(d, p, w, fix, options=opts, t0=t0)

    if formulation == "lp-fix":
        from reserve_opt.models.siting.pmedian_lp import p_median_lp_fix

        return p_median_lp_fix(d, p, w, fix, solver=solver, options=opts, t0=t0,
                               max_rounds=max_rounds)
    res, status, bound = radius_mip(d, p, w, fix, solver, opts, t0, max_rounds)
    return _finish(d, w, res, status, bound, t0)


def radius_mip(
    d: FloatArray,
    p: int,
    w: FloatArray,
    fix: BoolArray,
    solver: str,
    opts: SolverOptions,
    t0: float,
    max_rounds: int = 20,
    start: BoolArray | None = None,
    reach: FloatArray | None = None,
) -> tuple[SolveResult, SolveStatus, float | None]:
    """The radius MIP, radii grown until no client lies beyond its last one.

    ``start`` (a mask of sites, a known plan) is handed to the solver as a hint for the
    ``y`` (HiGHS and SCIP take it; the others ignore it). ``reach`` (per client, ``inf``
    for none) keeps a client's radii up to that distance and requires it served within.

    Returns
    -------
    tuple
        The last solve (its ``"open"`` block is the plan), the status to report
        (``feasible`` when radii were still short as time ran out) and the bound.
    """
    n, m = d.shape
    keep = np.flatnonzero(w > 0)  # zero-weight clients cost nothing wherever they go
    srt = _Sorted(d[keep])
    wk = w[keep]
    full = m - p
    cut = np.full(keep.size, initial_cut_rank(n, m, p), dtype=np.int64)
    must = None
    if reach is not None:
        must = reach[keep]
        bounded = np.isfinite(must)
        within = (srt.s[bounded] <= must[bounded, None]).sum(axis=1) - 1
        cut[bounded] = np.clip(within, 0, full)
    rounds = 0
    while True:
        rounds += 1
        if rounds >= max_rounds:
            cut[:] = full
        run_opts = inputs.rest_of_budget(opts, t0)
        compiled = radius_model(srt, p, wk, cut, fix, reach=must).compile()
        if start is not None:
            hint = np.full(compiled.num_variables, np.nan)
            block = compiled.var_blocks["open"]
            hint[block.start:block.stop] = start
            compiled = dataclasses.replace(compiled, start=hint)
        res = solve(compiled, solver, run_opts)
        if not res.has_solution:
            return res, res.status, res.bound
        open_sites = np.flatnonzero(res.value("open") > 0.5)
        if open_sites.size == 0:  # every client had weight zero
            return res, res.status, res.bound
        near_rank = srt.rank_of_site[:, open_sites].min(axis=1)
        cut_dist = srt.s[np.arange(keep.size), cut]
        near_dist = srt.s[np.arange(keep.size), near_rank]
        short = near_dist > cut_dist
        if must is not None:
            short &= ~np.isfinite(must)  # served within their reach by a row
        if not short.any():
            return res, res.status, res.bound
        out_of_time = (
            opts.time_limit_s is not None and time.perf_counter() - t0 >= opts.time_limit_s
        )
        if res.status is not SolveStatus.OPTIMAL or out_of_time:
            # the relaxed model's bound stays valid; the plan is feasible for the p-median
            return res, SolveStatus.FEASIBLE, res.bound
        cut[short] = np.minimum(full, np.maximum(near_rank[short], 2 * cut[short] + 1))


def _finish(
    d: FloatArray,
    w: FloatArray,
    res: SolveResult,
    status: SolveStatus,
    bound: float | None,
    t0: float,
) -> SitingResult:
    if not res.has_solution:
        return no_plan("p-median", res, t0)
    open_sites = opened(res)
    assignment, objective = nearest_assignment(d, w, open_sites)
    return siting_result(
        "p-median",
        res,
        objective=objective,
        open_sites=open_sites,
        assignment=assignment,
        seconds=time.perf_counter() - t0,
        status=status,
        bound=bound,
    )


def nearest_assignment(
    d: FloatArray, w: FloatArray, open_sites: IntArray
) -> tuple[FloatArray, float]:
    """Send each client to its nearest open site; return the 0/1 assignment and its cost."""
    n, m = d.shape
    assignment = np.zeros((n, m))
    if open_sites.size == 0 or n == 0:
        return assignment, 0.0
    near = open_sites[np.argmin(d[:, open_sites], axis=1)]
    assignment[np.arange(n), near] = 1.0
    return assignment, float(w @ d[np.arange(n), near])
