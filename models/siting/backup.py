"""Backup coverage (LSCP-B): the fewest sites covering everyone, then the most covered twice.

Hogan & ReVelle (1986); Church & Murray (2018), as spopt's ``LSCPB``. Two stages on a
boolean coverage matrix ``a`` (clients x sites), fixed sites forced open in both:

1. Set covering: ``p* = min sum_j y_j`` s.t. ``sum_j a_ij y_j >= 1`` for every client.
2. Backup: max ``sum_i w_i u_i`` s.t. ``sum_j a_ij y_j >= 1 + u_i`` for every client,
   ``sum_j y_j = p*``, ``y``, ``u`` binary (``u_i = 1``: client i is covered twice).

The plan is optimal when both stages are; when stage 1 stops early, p* is the size of
its best cover and the plan is ``feasible`` (stage 2's bound holds for that p*).
"""

from __future__ import annotations

import time

import numpy as np
import numpy.typing as npt

from reserve_opt.models.siting import inputs
from reserve_opt.models.siting.coverage import Coverage, counted_cover_model, set_cover
from reserve_opt.models.siting.result import SitingResult, opened, siting_result
from reserve_opt.solvers import Model, SolverOptions, SolveStatus, solve


def backup_cover_model(
    coverage: Coverage, p: int, weights: npt.ArrayLike | None = None,
    fixed: npt.ArrayLike | None = None,
) -> Model:
    """Stage 2 of LSCP-B with p sites (blocks ``"open"``, ``"backup"``)."""
    model: Model  # the sibling modules' types reach mypy as Any
    model, a, y, u = counted_cover_model("backup-cover", "backup", coverage, p, weights, fixed)
    n = a.shape[0]
    rows_a = np.repeat(np.arange(n), np.diff(a.indptr))
    rows = np.concatenate([rows_a, np.arange(n)])
    cols = np.concatenate([y[a.indices], u])
    vals = np.concatenate([np.ones(a.nnz), -np.ones(n)])
    model.add_constraints("cover", (rows, cols, vals), lb=1.0, n_rows=n)  # sum a y - u >= 1
    return model


def backup_cover(
    coverage: Coverage,
    weights: npt.ArrayLike | None = None,
    *,
    solver: str = "auto",
    options: SolverOptions | None = None,
    fixed: npt.ArrayLike | None = None,
) -> SitingResult:
    """Cover every client with the fewest sites, and among those plans cover the most twice.

    Parameters
    ----------
    coverage
        ``(n_clients, n_sites)`` boolean matrix.
    weights
        Client weights for the backup objective (default 1: count clients).
    solver, options
        Solver registry name and options; the time limit covers both stages.
    fixed
        Indices of sites open already; they are open and counted among the sites.

    Returns
    -------
    SitingResult
        ``model = "backup-cover"``; ``covered`` (every client), ``backup`` (clients
        covered by two open sites or more), ``objective`` = backed-up weight,
        ``open_sites`` (the fewest that cover everyone).

    Raises
    ------
    InputError
        Naming the clients no site covers.
    """
    t0 = time.perf_counter()
    a = inputs.coverage_matrix(coverage, "coverage matrix")
    w = inputs.vector(weights, a.shape[0], "client weights")
    opts = options or SolverOptions()
    first = set_cover(a, solver=solver, options=opts, fixed=fixed)
    if not first.has_solution:
        return first
    p = int(first.open_sites.size)
    run_opts = inputs.rest_of_budget(opts, t0)
    res = solve(backup_cover_model(a, p, w, fixed), solver, run_opts)
    if not res.has_solution:  # stage 1's cover is still a plan; its backup is what it is
        sites = first.open_sites
        status = SolveStatus.FEASIBLE
    else:
        sites = opened(res)
        status = res.status
        if first.status is not SolveStatus.OPTIMAL and status is SolveStatus.OPTIMAL:
            status = SolveStatus.FEASIBLE
    times = np.asarray(a[:, sites].sum(axis=1)).ravel()
    backup = times >= 2
    return siting_result(
        "backup-cover",
        res,
        objective=float(w[backup].sum()),
        open_sites=sites,
        covered=times >= 1,
        backup=backup,
        seconds=time.perf_counter() - t0,
        status=status,
    )
