"""Capacitated p-median: p sites, each serving at most its capacity in client demand.

Clients i with demand ``q_i`` (also their weight), sites j with capacity ``s_j``,
distances ``d_ij``; ``y_j`` binary (open), ``x_ij`` the share of i served by j, binary
by default (single sourcing, as in Osman & Christofides 1994 and spopt's capacitated
``PMedian``), in [0, 1] with ``single_source=False``:

* min ``sum_ij q_i d_ij x_ij``
* ``sum_j x_ij = 1``                  every client served
* ``sum_i q_i x_ij <= s_j y_j``       capacity
* ``x_ij <= y_j``                     strong linking (tightens the LP bound)
* ``sum_j y_j = p``, fixed sites ``y_j = 1``
* ``sum_j s_j y_j >= sum_i q_i``      total capacity (a valid cut)
"""

from __future__ import annotations

import time

import numpy as np
import numpy.typing as npt

from reserve_opt.errors import InputError
from reserve_opt.models.siting import inputs
from reserve_opt.models.siting.facility_location import add_assignment, add_capacity
from reserve_opt.models.siting.result import SitingResult, allocation_result
from reserve_opt.solvers import Model, SolverOptions, solve


def capacitated_p_median_model(
    distance: npt.ArrayLike,
    p: int,
    demand: npt.ArrayLike,
    capacity: npt.ArrayLike,
    *,
    single_source: bool = True,
    fixed: npt.ArrayLike | None = None,
) -> Model:
    """Build the capacitated p-median model (blocks ``"open"``, ``"assign"``).

    Raises
    ------
    InputError
        On bad shapes or values, or when the p largest capacities (fixed sites' first)
        cannot hold the total demand.
    """
    d = inputs.matrix(distance, "distance matrix")
    n, m = d.shape
    p = inputs.count(p, m)
    q = inputs.vector(demand, n, "client demand")
    s = inputs.vector(capacity, m, "site capacities")
    fix = inputs.fixed_sites(fixed, m, p)
    room = s[fix].sum() + np.sort(s[~fix])[::-1][: p - int(fix.sum())].sum()
    if room < q.sum():
        raise InputError(
            f"The {p} sites with the most capacity (fixed sites included) hold {room:g}, "
            f"below the total demand {q.sum():g}; raise p or the capacities."
        )
    model = Model("capacitated-p-median")
    y = inputs.add_open(model, m, fix)
    inputs.add_count(model, y, p)
    x = add_assignment(model, y, q[:, None] * d, integer=single_source)
    add_capacity(model, x, y, q, s)
    return model


def capacitated_p_median(
    distance: npt.ArrayLike,
    p: int,
    demand: npt.ArrayLike,
    capacity: npt.ArrayLike,
    *,
    single_source: bool = True,
    solver: str = "auto",
    options: SolverOptions | None = None,
    fixed: npt.ArrayLike | None = None,
) -> SitingResult:
    """Solve the capacitated p-median problem.

    Parameters
    ----------
    distance
        ``(n_clients, n_sites)`` distances, finite and >= 0.
    p
        Sites to open, fixed ones included.
    demand
        Client demand ``q_i`` >= 0: the weight of its distance and its load on a site.
    capacity
        Site capacities ``s_j``, in demand units.
    single_source
        Serve each client from one site (default) or let demand split.
    solver, options
        Solver registry name and options.
    fixed
        Indices of sites open already.

    Returns
    -------
    SitingResult
        ``model = "capacitated-p-median"``; ``assignment`` (shares) and the objective
        ``sum_ij q_i d_ij x_ij`` recomputed from it.
    """
    t0 = time.perf_counter()
    d = inputs.matrix(distance, "distance matrix")
    q = inputs.vector(demand, d.shape[0], "client demand")
    model = capacitated_p_median_model(d, p, q, capacity, single_source=single_source,
                                       fixed=fixed)
    res = solve(model, solver, options)
    return allocation_result("capacitated-p-median", res, t0,
                             lambda _, x: float((q[:, None] * d * x).sum()))
