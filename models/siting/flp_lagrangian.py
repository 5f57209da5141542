"""Facility location by a Lagrangian bound, bound-based fixing and a MIP on what is left.

The ``method="lagrangian"`` path of
:func:`~reserve_opt.models.siting.facility_location.facility_location` (splittable demand,
strong linking; Geoffrion & McBride 1978, Cornuéjols, Sridharan & Thizy 1991):

1. **Bound.** Relax ``sum_j x_ij = 1`` with multipliers ``lambda_i``. What is left splits
   by site: ``v_j = f_j + min { sum_i (c_ij - lambda_i) x_ij : sum_i d_i x_ij <= s_j,
   0 <= x_ij <= 1 }``, a continuous knapsack (clients by ``(c_ij - lambda_i) / d_i``,
   best first, until the capacity is full). The sites then solve
   ``min sum_j v_j y_j`` s.t. ``sum_j y_j >= K``, ``K`` the fewest sites whose largest
   capacities hold the total demand (a valid cut; 0 when uncapacitated): every site with
   ``v_j < 0`` and the cheapest others up to ``K``. ``L = sum_i lambda_i + sum_j v_j y_j``
   is a lower bound for every ``lambda`` (at least the strong LP bound at its best);
   subgradient steps (Polyak) improve it.
2. **Incumbent** ``UB``: the sites the bound opens (topped up by ``v`` until they hold
   the demand), with the cheapest transportation plan for them (an LP, HiGHS).
3. **Fixing.** With ``u`` the free sites' ``v`` sorted and ``K'`` the free sites still
   needed, opening an unopened site costs at least ``L + v_j - max(0, u_(K'))`` and closing
   an opened one ``L - v_j + max(0, u_(K'+1))``: where that reaches ``UB`` the site is
   closed (opened) in every better plan.
4. **MIP** (the strong model of ``facility_location_model``) on the sites left, forced
   ones open; the answer is the better of its plan and the incumbent, with bound
   ``max(L, min(UB, MIP bound))``. ``L >= UB`` proves the incumbent optimal with no MIP.
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np
import numpy.typing as npt
import scipy.optimize
import scipy.sparse as sp

from reserve_opt.models.siting.result import SitingResult, siting_result
from reserve_opt.solvers import SolveResult, SolverOptions, SolveStatus, solve

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


class _Relaxation:
    """The per-site knapsacks for fixed data; ``evaluate`` gives ``L`` and its pieces."""

    def __init__(self, c: FloatArray, d: FloatArray, f: FloatArray, s: FloatArray,
                 need: int) -> None:
        self.c, self.d, self.f, self.s, self.need = c, d, f, s, need
        self.safe_d = np.where(d > 0, d, 1.0)[:, None]

    def evaluate(self, lam: FloatArray, opened: BoolArray,
                 closed: BoolArray) -> tuple[float, FloatArray, BoolArray, FloatArray]:
        """``(L, v, y, x)``: the bound, site values, sites chosen and knapsack shares."""
        r = self.c - lam[:, None]
        neg = r < 0
        # best first: most negative cost per unit of demand (zero demand first of all)
        ratio = np.where(neg, np.where(self.d[:, None] > 0, r / self.safe_d, -np.inf), np.inf)
        order = np.argsort(ratio, axis=0, kind="stable")
        dem = self.d[order]
        before = np.cumsum(dem, axis=0) - dem  # demand taken by better clients
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(dem > 0, (self.s[None, :] - before) / np.where(dem > 0, dem, 1.0),
                             1.0)
        share = np.clip(share, 0.0, 1.0)
        x = np.zeros_like(r)
        np.put_along_axis(x, order, share, axis=0)
        x[~neg] = 0.0
        v = self.f + (r * x).sum(axis=0)
        y = opened.copy()
        free = np.flatnonzero(~opened & ~closed)
        y[free[v[free] < 0]] = True
        short = self.need - int(y.sum())
        if short > 0:
            rest = free[~y[free]]
            y[rest[np.argsort(v[rest], kind="stable")[:short]]] = True
        return float(lam.sum() + v[y].sum()), v, y, x


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


def _fix(v: FloatArray, y: BoolArray, opened: BoolArray, closed: BoolArray, need: int,
         value: float, prune_at: float) -> tuple[BoolArray, BoolArray]:
    """Sites the bound closes (opens) in every plan cheaper than the incumbent."""
    free = np.flatnonzero(~opened & ~closed)
    u = np.sort(v[free])
    k = max(need - int(opened.sum()), 0)
    kth = max(0.0, float(u[k - 1])) if 1 <= k <= u.size else 0.0
    nxt = max(0.0, float(u[k])) if k < u.size else np.inf
    into = np.zeros_like(opened)
    out = np.zeros_like(closed)
    into[free] = y[free] & (value - v[free] + nxt >= prune_at)
    out[free] = ~y[free] & (value + v[free] - kth >= prune_at)
    return opened | into, closed | out


def facility_location_lagrangian(
    demand: FloatArray, fixed_cost: FloatArray, cost: FloatArray,
    capacity: FloatArray | None, fixed: BoolArray, *, solver: str, options: SolverOptions,
    t0: float, iterations: int = 3000,
) -> SitingResult:
    """Steps 1-4 of the module; inputs already validated by ``facility_location``.

    Parameters
    ----------
    demand, fixed_cost, cost, capacity
        ``d_i``, ``f_j``, ``c_ij`` (clients x sites) and ``s_j`` (``None``: uncapacitated).
    fixed
        Mask of sites open already.
    solver, options
        For the MIP on the sites left (its time limit counts from ``t0``).
    t0
        ``time.perf_counter()`` at the start of the call.
    iterations
        Most subgradient steps (an iteration limit, not seconds).

    Returns
    -------
    SitingResult
        The plan, its objective recomputed from the shares, and the combined bound.
    """
    n, m = cost.shape
    total = float(demand.sum())
    if capacity is None:
        s = np.full(m, max(total, 1.0))
        need = int(fixed.sum())
    else:
        s = capacity
        need = int(np.searchsorted(np.cumsum(np.sort(s)[::-1]), total - 1e-9) + 1)
        need = min(max(need, int(fixed.sum())), m)
    if n > 0:  # some site must serve the clients
        need = max(need, 1)
    relax = _Relaxation(cost, demand, fixed_cost, s, need)
    tol = max(options.mip_gap, 1e-9)
    none = np.zeros(m, dtype=bool)

    best_plan: tuple[float, IntArray, FloatArray] | None = None
    tried: set[bytes] = set()

    def consider(y: BoolArray, v: FloatArray) -> None:
        nonlocal best_plan
        y = y | fixed
        if capacity is not None and s[y].sum() < total:  # top up by v until it fits
            for j in np.argsort(v, kind="stable"):
                if s[y].sum() >= total:
                    break
                y[j] = True
        key = y.tobytes()
        if key in tried:
            return
        tried.add(key)
        sites = np.flatnonzero(y).astype(np.int64)
        got = _transport(cost, demand, capacity, sites)
        if got is None:
            return
        value = float(fixed_cost[sites].sum()) + got[0]
        if best_plan is None or value < best_plan[0]:
            best_plan = (value, sites, got[1])

    # start: lambda_i = the client's cheapest cost (every site then has v_j = f_j >= 0)
    lam = cost.min(axis=1).astype(np.float64)
    consider(np.ones(m, dtype=bool), fixed_cost)
    lb, lb_lam = -np.inf, lam
    mu, stale = 2.0, 0
    deadline = math.inf if options.time_limit_s is None else t0 + options.time_limit_s
    for it in range(iterations):
        value, v, y, x = relax.evaluate(lam, fixed, none)
        if value > lb + 1e-12 * max(1.0, abs(value)):
            lb, lb_lam, stale = value, lam.copy(), 0
        else:
            stale += 1
            if stale >= 20:
                mu, stale = mu / 2.0, 0
        if it % 50 == 0 or it == iterations - 1:
            consider(y.copy(), v)
        assert best_plan is not None
        ub = best_plan[0]
        if lb >= ub - tol * abs(ub) or mu < 1e-3 or time.perf_counter() >= deadline:
            break
        g = 1.0 - x[:, y].sum(axis=1)
        norm = float(g @ g)
        if norm < 1e-18:
            break
        lam = lam + mu * (ub - value) / norm * g
    value, v, y, _ = relax.evaluate(lb_lam, fixed, none)
    consider(y.copy(), v)
    assert best_plan is not None
    ub, plan, shares = best_plan
    prune_at = ub - tol * abs(ub)
    if lb >= prune_at:  # within the gap asked for (1e-9 when none)
        return _result(cost, fixed_cost, plan, shares, m, SolveStatus.OPTIMAL, lb, t0, None)
    # kernel: the sites the bound likes best; the MIP there gives a strong incumbent
    size = min(m, max(2 * need, need + 10))
    kernel = np.zeros(m, dtype=bool)
    kernel[np.argsort(v, kind="stable")[:size]] = True
    kernel |= y | fixed
    kres = _mip(demand, fixed_cost, cost, capacity, np.flatnonzero(kernel), fixed, plan,
                solver, options, t0)
    if kres is not None and kres[0] < ub:
        ub, plan, shares = kres[0], kres[1], kres[2]
        prune_at = ub - tol * abs(ub)
    kernel_done = kres is not None and kres[3].status is SolveStatus.OPTIMAL
    opened, closed = _fix(v, y, fixed, none, need, value, prune_at)
    left = np.flatnonzero(~closed)
    if lb >= prune_at or (capacity is not None and s[left].sum() < total) \
            or opened.sum() > left.size or (kernel_done and kernel[left].all()):
        # every plan cheaper than prune_at was in the kernel's MIP, or there is none
        return _result(cost, fixed_cost, plan, shares, m, SolveStatus.OPTIMAL,
                       max(lb, prune_at), t0, None if kres is None else kres[3])
    got = _mip(demand, fixed_cost, cost, capacity, left, opened, plan, solver, options, t0)
    if got is None:
        return _result(cost, fixed_cost, plan, shares, m, SolveStatus.FEASIBLE, lb, t0, None)
    mine, sites, xs, res = got
    status = res.status
    if mine < ub:
        return _result(cost, fixed_cost, sites, xs, m, status, _bound(lb, ub, res), t0, res)
    if res.status is SolveStatus.INFEASIBLE:  # nothing beats the incumbent
        return _result(cost, fixed_cost, plan, shares, m, SolveStatus.OPTIMAL,
                       max(lb, prune_at), t0, res)
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
            res: SolveResult | None) -> SitingResult:
    """The plan on all ``m`` sites, its objective recomputed from the shares."""
    n = cost.shape[0]
    x = np.zeros((n, m))
    x[:, sites] = np.clip(shares, 0.0, 1.0)
    x[x < 1e-12] = 0.0
    objective = float(fixed_cost[sites].sum() + (cost * x).sum())
    seconds = time.perf_counter() - t0
    # the solver named is what proved it: the bound alone, or the bound and a MIP solver
    base = SolveResult(status=status, objective=objective, bound=bound, gap=None,
                       solve_seconds=seconds,
                       solver="lagrangian" if res is None else f"lagrangian + {res.solver}")
    return siting_result("facility-location", base, objective=objective,
                         open_sites=np.asarray(sites, dtype=np.int64), assignment=x,
                         seconds=seconds, status=status,
                         bound=min(bound, objective) if status is SolveStatus.OPTIMAL
                         else bound)
