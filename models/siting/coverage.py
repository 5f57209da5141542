"""Coverage models: maximal coverage (MCLP) and set covering (LSCP).

Coverage is a boolean ``(n_clients, n_sites)`` sparse matrix ``a``: ``a_ij = 1`` when
site j covers client i (see :func:`~reserve_opt.models.siting.inputs.coverage_from_distance`).
Both models are built straight from its CSR arrays.

Maximal coverage (Church & ReVelle 1974)
    max ``sum_i w_i z_i``  s.t.  ``z_i <= sum_j a_ij y_j``,  ``sum_j y_j = p``,
    ``y``, ``z`` binary (z would be integral at an optimum anyway; binary lets CP-SAT
    take the model).

Set covering (Toregas et al. 1971)
    min ``sum_j f_j y_j``  s.t.  ``sum_j a_ij y_j >= 1`` for every client,  ``y`` binary.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeAlias

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from reserve_opt.errors import InputError
from reserve_opt.models.siting import inputs
from reserve_opt.models.siting.result import (
    BoolArray,
    IntArray,
    SitingResult,
    no_plan,
    opened,
    siting_result,
)
from reserve_opt.solvers import Model, SolveResult, SolverOptions, solve

Coverage: TypeAlias = npt.ArrayLike | sp.spmatrix | sp.sparray


def counted_cover_model(
    name: str,
    block: str,
    coverage: Coverage,
    p: int,
    weights: npt.ArrayLike | None,
    fixed: npt.ArrayLike | None,
) -> tuple[Model, sp.csr_matrix, npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """A maximising model with p open sites and a weighted binary per client.

    Returns the model, the checked coverage matrix ``a``, the ``"open"`` variables and
    the per-client variables (block ``block``, objective the client weights); the caller
    adds the rows tying them to ``a``.
    """
    a = inputs.coverage_matrix(coverage, "coverage matrix")
    n, m = a.shape
    p = inputs.count(p, m)
    w = inputs.vector(weights, n, "client weights")
    model = Model(name, sense="max")
    y = inputs.add_open(model, m, inputs.fixed_sites(fixed, m, p))
    z = model.add_binaries(block, n, obj=w)
    inputs.add_count(model, y, p)
    return model, a, y, z


def max_coverage_model(
    coverage: Coverage,
    p: int,
    weights: npt.ArrayLike | None = None,
    fixed: npt.ArrayLike | None = None,
) -> Model:
    """Build the maximal covering model (blocks ``"open"``, ``"covered"``)."""
    model, a, y, z = counted_cover_model("max-coverage", "covered", coverage, p, weights, fixed)
    n = a.shape[0]
    rows_a = np.repeat(np.arange(n), np.diff(a.indptr))
    rows = np.concatenate([np.arange(n), rows_a])
    cols = np.concatenate([z, y[a.indices]])
    vals = np.concatenate([np.ones(n), -np.ones(a.nnz)])
    model.add_constraints("cover", (rows, cols, vals), ub=0.0, n_rows=n)  # z_i <= sum a_ij y_j
    return model


def max_coverage(
    coverage: Coverage,
    p: int,
    weights: npt.ArrayLike | None = None,
    *,
    solver: str = "auto",
    options: SolverOptions | None = None,
    fixed: npt.ArrayLike | None = None,
) -> SitingResult:
    """Open p sites to cover the most client weight.

    Parameters
    ----------
    coverage
        ``(n_clients, n_sites)`` boolean matrix (dense or scipy sparse).
    p
        Sites to open.
    weights
        Client weights (default 1), >= 0.
    solver, options
        Solver registry name and options.
    fixed
        Indices of sites open already (existing facilities); they count in ``p``.

    Returns
    -------
    SitingResult
        ``open_sites``, ``covered`` (recomputed from the open sites) and
        ``objective = sum of covered weight``.
    """
    t0 = time.perf_counter()
    a = inputs.coverage_matrix(coverage, "coverage matrix")
    w = inputs.vector(weights, a.shape[0], "client weights")
    res = solve(max_coverage_model(a, p, w, fixed), solver, options)
    return _coverage_result("max-coverage", res, a, t0,
                            lambda _, covered: float(w[covered].sum()))


def set_cover_model(
    coverage: Coverage, costs: npt.ArrayLike | None = None, fixed: npt.ArrayLike | None = None
) -> Model:
    """Build the set covering model (block ``"open"``).

    Raises
    ------
    InputError
        Naming the clients no site covers.
    """
    a = inputs.coverage_matrix(coverage, "coverage matrix")
    n, m = a.shape
    f = inputs.vector(costs, m, "site costs")
    lonely = np.diff(a.indptr) == 0
    if lonely.any():
        ids = np.flatnonzero(lonely)
        raise InputError(
            f"No site covers clients {ids[:10].tolist()}"
            f"{' and more' if ids.size > 10 else ''}; add sites or widen the radius."
        )
    model = Model("set-cover")
    y = inputs.add_open(model, m, inputs.fixed_sites(fixed, m), obj=f)
    rows = np.repeat(np.arange(n), np.diff(a.indptr))
    model.add_constraints("cover", (rows, y[a.indices], 1.0), lb=1.0, n_rows=n)
    return model


def set_cover(
    coverage: Coverage,
    costs: npt.ArrayLike | None = None,
    *,
    solver: str = "auto",
    options: SolverOptions | None = None,
    fixed: npt.ArrayLike | None = None,
) -> SitingResult:
    """Cover every client at least once at the least total site cost.

    Parameters
    ----------
    coverage
        ``(n_clients, n_sites)`` boolean matrix.
    costs
        Site costs (default 1: minimise the number of sites).
    solver, options
        Solver registry name and options.
    fixed
        Indices of sites open already; they are open and their costs count.

    Returns
    -------
    SitingResult
        ``open_sites``, ``covered`` and ``objective = sum of open site costs``.
    """
    t0 = time.perf_counter()
    a = inputs.coverage_matrix(coverage, "coverage matrix")
    f = inputs.vector(costs, a.shape[1], "site costs")
    res = solve(set_cover_model(a, f, fixed), solver, options)
    return _coverage_result("set-cover", res, a, t0,
                            lambda open_sites, _: float(f[open_sites].sum()))


def _coverage_result(
    model: str,
    res: SolveResult,
    a: sp.csr_matrix,
    t0: float,
    objective: Callable[[IntArray, BoolArray], float],
) -> SitingResult:
    """Open sites, the clients they cover, and ``objective(open_sites, covered)``."""
    if not res.has_solution:
        return no_plan(model, res, t0)
    open_sites = opened(res)
    covered = np.asarray(a[:, open_sites].sum(axis=1)).ravel() > 0
    return siting_result(
        model,
        res,
        objective=objective(open_sites, covered),
        open_sites=open_sites,
        covered=covered,
        seconds=time.perf_counter() - t0,
    )
