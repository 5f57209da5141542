"""Facility location by a Lagrangian bound, bound-based fixing and a branch-and-bound.

The ``method="lagrangian"`` path of
:func:`~reserve_opt.models.siting.facility_location.facility_location` (splittable demand,
strong linking; Geoffrion & McBride 1978, Beasley 1988, Görtz & Klose 2012):

1. **Bound.** Relax ``sum_j x_ij = 1`` with multipliers ``lambda_i``. What is left splits
   by site: ``v_j = f_j + min { sum_i (c_ij - lambda_i) x_ij : sum_i d_i x_ij <= s_j,
   0 <= x_ij <= 1 }``, a continuous knapsack (clients by ``(c_ij - lambda_i) / d_i``,
   best first, until the capacity is full; ``flp_bb.SparseRelaxation``). The sites then
   solve ``min sum_j v_j y_j`` s.t. ``sum_j y_j >= K``, ``K`` the fewest sites whose
   largest capacities hold the total demand (a valid cut; 1 when uncapacitated): every
   site with ``v_j < 0`` and the cheapest others up to ``K``.
   ``L = sum_i lambda_i + sum_j v_j y_j`` is a lower bound for every ``lambda`` (at least
   the strong LP bound at its best); subgradient steps (Polyak) improve it, until they
   stall (``ROOT_STALL``) or 3000 steps.
2. **Incumbent** ``UB``: the sites the bound opens and the steps' averaged ``y`` rounded
   (topped up by ``v`` until they hold the demand), each with its cheapest
   transportation plan (an LP, HiGHS); then the branch-and-bound of step 4 restricted to
   the sites that averaged ``y`` uses, for ``KERNEL_NODES`` nodes.
3. **Fixing.** With ``u`` the free sites' ``v`` sorted and ``K'`` the free sites still
   needed, opening an unopened site costs at least ``L + v_j - max(0, u_(K'))`` and closing
   an opened one ``L - v_j + max(0, u_(K'+1))``: where that reaches ``UB`` the site is
   closed (opened) in every better plan.
4. **Tree** (``flp_bb.branch_and_bound``): the same bound at every node with the sites
   decided there, fixing again at every node, branching on a site, until every node is
   pruned (``UB`` proven optimal) or the time limit (``feasible``, bound = the smallest
   open node's). ``finish="mip"`` keeps the method before: a MIP on a kernel of sites for
   the incumbent and one MIP (the strong model of ``facility_location_model``) on the
   sites fixing leaves.
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Literal

import numpy as np
import numpy.typing as npt
import scipy.optimize
import scipy.sparse as sp

from reserve_opt.models.siting.flp_bb import SparseRelaxation, branch_and_bound, fix_sites
from reserve_opt.models.siting.result import SitingResult, siting_result
from reserve_opt.solvers import SolveResult, SolverOptions, SolveStatus, solve

#: With ``finish="tree"`` the root ascent stops once this many steps lifted the bound by
#: less than 1e-6 of its value (on capa-14000 it crawled for 2,800 steps within 17 of
#: the optimum; three nodes then prove it).
ROOT_STALL = 100
#: Nodes of the tree on the kernel (the sites the root's averaged y uses) that looks for
#: the incumbent before the tree on every site proves it.
KERNEL_NODES = 200

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def _transport(c: FloatArray, d: FloatArray, s: FloatArray | None,
               sites: IntArray) -> tuple[float, FloatArray] | None:
    """Cheapest shares for the open ``sites`` (an LP); ``None`` when they cannot serve all."""
    n = c.shape[0]
    k = sites.size
    cs = c[:, sites]
    if s is None:  # uncapacitated: each client to its cheapest open site
        x = np.zeros((n, k))
        x[np.arange(n), np.argmin(cs, axis=1)] = 1.0
        return float((cs * x).sum()), x
    if s[sites].sum() < d.sum() - 1e-9:
        return None
    rows = np.repeat(np.arange(n), k)
    a_eq = sp.csr_matrix((np.ones(n * k), (rows, np.arange(n * k))), shape=(n, n * k))
    a_ub = sp.csr_matrix((np.repeat(d, k), (np.tile(np.arange(k), n), np.arange(n * k))),
                         shape=(k, n * k))
    out = scipy.optimize.linprog(cs.ravel(), A_ub=a_ub, b_ub=s[sites], A_eq=a_eq,
                                 b_eq=np.ones(n), bounds=(0.0, 1.0), method="highs")
    if out.status != 0:
        return None
    return float(out.fun), np.asarray(out.x).reshape(n, k)


def facility_location_lagrangian(
    demand: FloatArray, fixed_cost: FloatArray, cost: FloatArray,
    capacity: FloatArray | None, fixed: BoolArray, *, solver: str, options: SolverOptions,
    t0: float, iterations: int = 3000, finish: Literal["tree", "mip"] = "tree",
) -> SitingResult:
    """Steps 1-4 of the module; inputs already validated by ``facility_location``.

    Parameters
    ----------
    demand, fixed_cost, cost, capacity
        ``d_i``, ``f_j``, ``c_ij`` (clients x sites) and ``s_j`` (``None``: uncapacitated).
    fixed
        Mask of sites open already.
    solver, options
        ``solver`` for the MIPs of ``finish="mip"`` only; ``options``: the time limit
        (counted from ``t0``) and the gap asked for.
    t0
        ``time.perf_counter()`` at the start of the call.
    iterations
        Most subgradient steps at the root (an iteration limit, not seconds).
    finish
        ``"tree"`` (default): the Lagrangian branch-and-bound of ``flp_bb`` on the sites
        left; ``"mip"``: one MIP on them (the method before, kept for comparison).

    Returns
    -------
    SitingResult
        The plan, its objective recomputed from the shares, and the combined bound.
    """
    n, m = cost.shape
    total = float(demand.sum())
    s = np.full(m, max(total, 1.0)) if capacity is None else capacity
    relax = SparseRelaxation(cost, demand, fixed_cost, s)
    none = np.zeros(m, dtype=bool)
    need = max(relax.need(none), int(fixed.sum())) if n > 0 else int(fixed.sum())
    tol = max(options.mip_gap, 1e-9)

    best_plan: tuple[float, IntArray, FloatArray] | None = None
    tried: set[bytes] = set()

    def consider(y: BoolArray, v: FloatArray, floor: float | None = None) -> None:
        nonlocal best_plan
        y = y | fixed
        if not y.any():  # some site must serve the clients
            y[int(np.argmin(v))] = True
        if capacity is not None and s[y].sum() < total:  # top up by v until it fits
            for j in np.argsort(v, kind="stable"):
                if s[y].sum() >= total:
                    break
                y[j] = True
        key = y.tobytes()
        if key in tried:
            return
        tried.add(key)
        # L(lambda) with these sites open bounds their plan: skip the LP when it cannot win
        if floor is not None and best_plan is not None \
                and floor + float(v[y].sum()) >= prune(best_plan[0]):
            return
        sites = np.flatnonzero(y).astype(np.int64)
        got = _transport(cost, demand, capacity, sites)
        if got is None:
            return
        value = float(fixed_cost[sites].sum()) + got[0]
        if best_plan is None or value < best_plan[0]:
            best_plan = (value, sites, got[1])

    def upper() -> float:
        assert best_plan is not None
        return best_plan[0]

    def prune(ub: float) -> float:
        return ub - tol * abs(ub)

    # start: lambda_i = the client's cheapest cost (every site then has v_j = f_j >= 0)
    lam = cost.min(axis=1).astype(np.float64)
    consider(np.ones(m, dtype=bool), fixed_cost)
    lb, lb_lam = -np.inf, lam
    mu, stale = 2.0, 0
    deadline = math.inf if options.time_limit_s is None else t0 + options.time_limit_s
    history: list[float] = []
    ybar = np.zeros(m)  # the steps' y averaged: close to the LP's y
    for it in range(iterations):
        k = relax.evaluate(lam, fixed, none, need)
        ybar = 0.9 * ybar + 0.1 * k.y
        if k.value > lb + 1e-12 * max(1.0, abs(k.value)):
            lb, lb_lam, stale = k.value, lam.copy(), 0
        else:
            stale += 1
            if stale >= 20:
                mu, stale = mu / 2.0, 0
        if it % 50 == 0 or it == iterations - 1:
            consider(k.y.copy(), k.v, float(lam.sum()))
        ub = upper()
        if lb >= prune(ub) or mu < 1e-3 or time.perf_counter() >= deadline:
            break
        history.append(lb)
        if finish == "tree" and it >= ROOT_STALL \
                and lb - history[it - ROOT_STALL] <= 1e-6 * abs(lb):
            break  # the bound has stalled: the tree's nodes and fixing do better
        g = relax.subgradient(k)
        norm = float(g @ g)
        if norm < 1e-18:
            break
        lam = lam + mu * (ub - k.value) / norm * g
    root = relax.evaluate(lb_lam, fixed, none, need)
    v, y = root.v, root.y
    consider(y.copy(), v, float(lb_lam.sum()))
    for level in (0.5, 0.3, 0.7):  # the averaged y rounded
        consider(ybar >= level, v, float(lb_lam.sum()))
    assert best_plan is not None
    ub, plan, shares = best_plan
    if lb >= prune(ub):  # within the gap asked for (1e-9 when none)
        return _result(cost, fixed_cost, plan, shares, m, SolveStatus.OPTIMAL, lb, t0, None)
    if finish == "tree":
        # incumbent first: the same tree on the kernel of sites the averaged y uses (a
        # few more by v when they are too few), with a node limit
        kernel = (ybar > 0.01) | y | fixed
        extra = np.argsort(np.where(kernel, np.inf, v), kind="stable")
        kernel[extra[:max(0, need + 5 - int(kernel.sum()))]] = True
        if not kernel.all():
            branch_and_bound(relax, lb_lam, fixed, ~kernel, lb, upper, consider, prune,
                             deadline, max_nodes=KERNEL_NODES)
        ub = upper()
        opened, closed = fix_sites(v, y, fixed, none, need, lb, prune(ub))
        tree = branch_and_bound(relax, lb_lam, opened, closed, lb, upper, consider, prune,
                                deadline)
        ub, plan, shares = best_plan
        if tree.complete:  # no node left below prune(ub): the incumbent is proven
            return _result(cost, fixed_cost, plan, shares, m, SolveStatus.OPTIMAL,
                           max(lb, prune(ub)), t0, None, tree.nodes)
        return _result(cost, fixed_cost, plan, shares, m, SolveStatus.FEASIBLE,
                       max(lb, min(ub, tree.bound)), t0, None, tree.nodes)
    # finish="mip" (the method before): a kernel of the sites the bound likes best, whose
    # MIP gives a strong incumbent, then one MIP on the sites fixing leaves
    size = min(m, max(2 * need, need + 10))
    kernel = np.zeros(m, dtype=bool)
    kernel[np.argsort(v, kind="stable")[:size]] = True
    kernel |= y | fixed
    kres = _mip(demand, fixed_cost, cost, capacity, np.flatnonzero(kernel), fixed, plan,
                solver, options, t0)
    if kres is not None and kres[0] < ub:
        ub, plan, shares = kres[0], kres[1], kres[2]
    kernel_done = kres is not None and kres[3].status is SolveStatus.OPTIMAL
    opened, closed = fix_sites(v, y, fixed, none, need, lb, prune(ub))
    left = np.flatnonzero(~closed)
    if lb >= prune(ub) or (capacity is not None and s[left].sum() < total) \
            or (kernel_done and kernel[left].all()):
        # every plan cheaper than prune(ub) was in the kernel's MIP, or there is none
        return _result(cost, fixed_cost, plan, shares, m, SolveStatus.OPTIMAL,
                       max(lb, prune(ub)), t0, None if kres is None else kres[3])
    got = _mip(demand, fixed_cost, cost, capacity, left, opened, plan, solver, options, t0)
    if got is None:
        return _result(cost, fixed_cost, plan, shares, m, SolveStatus.FEASIBLE, lb, t0, None)
    mine, sites, xs, res = got
    status = res.status
    if mine < ub:
        return _result(cost, fixed_cost, sites, xs, m, status, _bound(lb, ub, res), t0, res)
    if res.status is SolveStatus.INFEASIBLE:  # nothing beats the incumbent
        return _result(cost, fixed_cost, plan, shares, m, SolveStatus.OPTIMAL,
                       max(lb, prune(ub)), t0, res)
    return _result(cost, fixed_cost, plan, shares, m, status, _bound(lb, ub, res), t0, res)


def _mip(demand: FloatArray, fixed_cost: FloatArray, cost: FloatArray,
         capacity: FloatArray | None, left: IntArray, opened: BoolArray, hint_plan: IntArray,
         solver: str, options: SolverOptions, t0: float,
         ) -> tuple[float, IntArray, FloatArray, SolveResult] | None:
    """The strong MIP on the sites ``left`` (``opened`` forced open), the plan as a hint.

    Returns ``(objective, open sites, their shares, solve)``, or ``None`` without a plan
    (or when ``left`` cannot hold the demand).
    """
    from reserve_opt.models.siting import inputs
    from reserve_opt.models.siting.facility_location import facility_location_model

    if capacity is not None and capacity[left].sum() < demand.sum():
        return None
    model = facility_location_model(
        demand, fixed_cost[left], cost[:, left],
        None if capacity is None else capacity[left], capacitated=capacity is not None,
        fixed=np.flatnonzero(opened[left]))
    compiled = model.compile()
    hint = np.full(compiled.num_variables, np.nan)
    yb = compiled.var_blocks["open"]
    hint[yb.start:yb.stop] = np.isin(left, hint_plan).astype(np.float64)
    compiled = dataclasses.replace(compiled, start=hint)
    res = solve(compiled, solver, inputs.rest_of_budget(options, t0))
    if not res.has_solution:
        return None
    xs = np.clip(res.value("assign"), 0.0, 1.0)
    xs[xs < 1e-12] = 0.0
    on = np.flatnonzero(res.value("open") > 0.5)
    sites = left[on].astype(np.int64)
    return float(fixed_cost[sites].sum() + (cost[:, sites] * xs[:, on]).sum()), sites, \
        xs[:, on], res


def _bound(lb: float, ub: float, res: SolveResult) -> float:
    if res.bound is None:
        return lb
    return max(lb, min(ub, res.bound))


def _result(cost: FloatArray, fixed_cost: FloatArray, sites: IntArray, shares: FloatArray,
            m: int, status: SolveStatus, bound: float, t0: float,
            res: SolveResult | None, nodes: int | None = None) -> SitingResult:
    """The plan on all ``m`` sites, its objective recomputed from the shares.

    ``nodes``: the tree's nodes when the branch-and-bound ran (the solver is then named
    ``lagrangian-bb``).
    """
    n = cost.shape[0]
    x = np.zeros((n, m))
    x[:, sites] = np.clip(shares, 0.0, 1.0)
    x[x < 1e-12] = 0.0
    objective = float(fixed_cost[sites].sum() + (cost * x).sum())
    seconds = time.perf_counter() - t0
    # the solver named is what proved it: the bound (and its tree), and a MIP solver
    name = "lagrangian" if nodes is None else "lagrangian-bb"
    base = SolveResult(status=status, objective=objective, bound=bound, gap=None,
                       solve_seconds=seconds,
                       solver=name if res is None else f"{name} + {res.solver}")
    return siting_result("facility-location", base, objective=objective,
                         open_sites=np.asarray(sites, dtype=np.int64), assignment=x,
                         seconds=seconds, status=status,
                         bound=min(bound, objective) if status is SolveStatus.OPTIMAL
                         else bound)
