"""Capacitated (and uncapacitated) facility location with splittable demand.

Sets: clients i, sites j. Data: demand ``d_i``, capacity ``s_j``, fixed cost ``f_j``,
``c_ij`` = cost of serving *all* of client i's demand from site j (the OR-Library
convention; a per-unit cost times ``d_i``). Variables: ``y_j`` binary (open),
``x_ij`` in [0, 1] (share of client i's demand served by j).

* min ``sum_j f_j y_j + sum_ij c_ij x_ij``
* ``sum_j x_ij = 1``                    every client fully served
* ``sum_i d_i x_ij <= s_j y_j``         capacity (dropped when ``capacitated=False``)
* ``x_ij <= y_j``                       strong linking (tightens the LP bound)
* ``sum_j s_j y_j >= sum_i d_i``        total capacity (a valid cut)

Uncapacitated: capacity and total-capacity rows are left out.
"""

from __future__ import annotations

import time
from typing import Literal

import numpy as np
import numpy.typing as npt

from reserve_opt.errors import InputError
from reserve_opt.models.siting import inputs
from reserve_opt.models.siting.result import SitingResult, allocation_result
from reserve_opt.solvers import Model, SolverOptions, solve

#: Up to this many client-site pairs ``method="lagrangian"`` solves the one MIP: there the
#: bound costs more than it saves (cap41-74, 50 x 16-50: 0.02-0.18 s as one MIP against
#: 0.04-0.59 s through the bound).
SMALL_PAIRS = 5_000


def facility_location_model(
    demand: npt.ArrayLike,
    fixed_cost: npt.ArrayLike,
    cost: npt.ArrayLike,
    capacity: npt.ArrayLike | None = None,
    *,
    capacitated: bool = True,
    fixed: npt.ArrayLike | None = None,
) -> Model:
    """Build the facility location model (blocks ``"open"``, ``"assign"``).

    Raises
    ------
    InputError
        On bad shapes or values, or total capacity below total demand.
    """
    c = inputs.matrix(cost, "assignment cost matrix")
    n, m = c.shape
    d = inputs.vector(demand, n, "client demand", default=0.0)
    f = inputs.vector(fixed_cost, m, "site fixed costs", default=0.0)
    model = Model("facility-location")
    y = inputs.add_open(model, m, inputs.fixed_sites(fixed, m), obj=f)
    x = add_assignment(model, y, c)
    if capacitated:
        if capacity is None:
            raise InputError("A capacitated model needs site capacities; pass capacity=...")
        s = inputs.vector(capacity, m, "site capacities")
        if s.sum() < d.sum():
            raise InputError(
                f"Total site capacity {s.sum():g} is below total demand {d.sum():g}; "
                f"add capacity or use capacitated=False."
            )
        add_capacity(model, x, y, d, s)
    return model


def add_assignment(model: Model, y: npt.NDArray[np.int64], cost: npt.NDArray[np.float64],
                   *, integer: bool = False) -> npt.NDArray[np.int64]:
    """Add the assignment shares and their serve and link rows.

    ``x_ij`` in [0, 1] (block ``"assign"``, objective ``cost``), each client fully served
    (``"serve"``) and only by open sites (``"link"``: ``x_ij <= y_j``).
    """
    n, m = cost.shape
    x = model.add_variables("assign", (n, m), lb=0.0, ub=1.0, integer=integer, obj=cost)
    model.add_constraints("serve", (np.repeat(np.arange(n), m), x.ravel(), 1.0), lb=1, ub=1)
    k = np.arange(n * m)
    model.add_constraints(
        "link",
        (np.concatenate([k, k]), np.concatenate([x.ravel(), np.tile(y, n)]),
         np.repeat([1.0, -1.0], n * m)),
        ub=0.0,
    )  # fmt: skip
    return x


def add_capacity(model: Model, x: npt.NDArray[np.int64], y: npt.NDArray[np.int64],
                 demand: npt.NDArray[np.float64], capacity: npt.NDArray[np.float64]) -> None:
    """Add the capacity rows.

    ``sum_i q_i x_ij <= s_j y_j`` (``"capacity"``) and ``sum_j s_j y_j >= sum_i q_i``
    (``"total_capacity"``, a valid cut).
    """
    n, m = x.shape
    rows = np.concatenate([np.tile(np.arange(m), n), np.arange(m)])
    cols = np.concatenate([x.ravel(), y])
    vals = np.concatenate([np.repeat(demand, m), -capacity])
    model.add_constraints("capacity", (rows, cols, vals), ub=0.0, n_rows=m)
    model.add_constraints("total_capacity", (np.zeros(m, dtype=np.int64), y, capacity),
                          lb=float(demand.sum()), n_rows=1)


def facility_location(
    demand: npt.ArrayLike,
    fixed_cost: npt.ArrayLike,
    cost: npt.ArrayLike,
    capacity: npt.ArrayLike | None = None,
    *,
    capacitated: bool = True,
    solver: str = "auto",
    options: SolverOptions | None = None,
    fixed: npt.ArrayLike | None = None,
    method: Literal["lagrangian", "mip"] = "lagrangian",
) -> SitingResult:
    """Solve capacitated (or uncapacitated) facility location with splittable demand.

    Parameters
    ----------
    demand
        Client demand ``d_i`` >= 0.
    fixed_cost
        Site opening costs ``f_j`` >= 0.
    cost
        ``(n_clients, n_sites)``: cost of serving all of client i's demand from site j.
    capacity
        Site capacities ``s_j``, in demand units; required when ``capacitated``.
    capacitated
        ``False`` ignores capacities (uncapacitated facility location).
    solver, options
        Solver registry name and options.
    fixed
        Indices of sites open already; they are open and their fixed costs count.
    method
        ``"lagrangian"`` (default): Lagrangian bound, incumbent and fixing, then a
        Lagrangian branch-and-bound over the sites left (``flp_lagrangian``, ``flp_bb``;
        ``solver`` is not used), or the one MIP up to ``SMALL_PAIRS`` client-site pairs;
        ``"mip"``: the whole model in one solve.

    Returns
    -------
    SitingResult
        ``open_sites``, ``assignment`` (shares) and the objective recomputed from them.
    """
    t0 = time.perf_counter()
    c = inputs.matrix(cost, "assignment cost matrix")
    f = inputs.vector(fixed_cost, c.shape[1], "site fixed costs", default=0.0)
    model = facility_location_model(demand, f, c, capacity, capacitated=capacitated,
                                    fixed=fixed)  # validates every input
    if method == "lagrangian" and c.size > SMALL_PAIRS:
        from reserve_opt.models.siting.flp_lagrangian import facility_location_lagrangian

        d = inputs.vector(demand, c.shape[0], "client demand", default=0.0)
        s = inputs.vector(capacity, c.shape[1], "site capacities") if capacitated else None
        return facility_location_lagrangian(
            d, f, c, s, inputs.fixed_sites(fixed, c.shape[1]), solver=solver,
            options=options or SolverOptions(), t0=t0)
    if method not in ("mip", "lagrangian"):
        raise InputError(f"Unknown facility-location method {method!r}; use 'lagrangian' or "
                         "'mip'.")
    res = solve(model, solver, options)
    return allocation_result("facility-location", res, t0,
                             lambda open_sites, x: float(f[open_sites].sum() + (c * x).sum()))
