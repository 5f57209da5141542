"""p-median proven optimal by a Lagrangian bound, bound-based fixing and branch-and-bound.

The ``formulation="lagrangian"`` path of :func:`~reserve_opt.models.siting.pmedian.p_median`
(Christofides & Beasley 1982; Beasley 1993), in numpy with no LP solver:

1. **Incumbent** ``UB``: greedy addition and fast vertex exchange
   (:func:`~reserve_opt.models.siting.pmedian_lp.interchange`), later re-run from the
   Lagrangian solutions (a local search seeded by the bound).
2. **Bound.** Relaxing ``sum_j x_ij = 1`` with multipliers ``lambda_i`` leaves
   ``L(lambda) = sum_i lambda_i + sum_{j open} rho_j``,
   ``rho_j = sum_i min(0, w_i d_ij - lambda_i)``, the open sites being the fixed ones and
   the ``p - |fixed|`` free sites of smallest ``rho``. Every ``lambda`` gives a valid lower
   bound (its best equals the LP bound of the textbook and radius models). The volume
   algorithm (Barahona & Anbil 2000) moves towards the best: steps
   ``mu (UB - L) / |v|^2`` along ``v``, an average of the subgradients, from the best
   multipliers so far; the same average of the relaxed site choices, ``ybar``, estimates
   the LP's fractional ``y``. Only pairs with ``w_i d_ij < lambda_i`` count, so ``rho`` is
   read from each client's sorted costs up to the deepest such pair.
3. **Fixing.** With ``rho_(k)`` the largest chosen free ``rho`` and ``rho_(k+1)`` the
   smallest unchosen one, opening an unchosen site j costs at least ``L + rho_j - rho_(k)``
   and closing a chosen one ``L - rho_j + rho_(k+1)``; where that reaches ``UB`` the site
   is closed (or opened) in every better plan. Done at the root (closed sites leave the
   matrix) and at every node. At the root, serving client i from site j costs at least
   ``L + max(0, w_i d_ij - lambda_i)`` (plus ``rho_j - rho_(k)`` if j is unchosen); pairs
   where that reaches ``UB`` leave the relaxation too.
4. **Branch-and-bound**, depth first, on the free site ``ybar`` leaves most fractional
   (pmed36: 603 nodes, against 3205 branching on the chosen site dearest to close), each
   child starting from its parent's multipliers, the "open" child first. A node whose
   bound reaches ``UB`` (``UB - 1`` plus rounding when every ``w_i d_ij`` is a whole
   number) is pruned. An empty tree proves ``UB`` optimal; a node limit (not seconds) or
   the time limit stops it with the smallest bound left open.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from reserve_opt.models.siting.pmedian_lp import interchange
from reserve_opt.models.siting.result import SitingResult, siting_result
from reserve_opt.solvers import SolveResult, SolverOptions, SolveStatus

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Name the result gives as its solver (no LP/MIP solver is called).
SOLVER_NAME = "lagrangian-bb"
#: Subgradient steps without a better bound before the step halves, at a node.
NODE_PATIENCE = 10
#: Largest weight of the newest subgradient in the volume algorithm's average.
VOLUME_ALPHA = 0.1


@dataclass
class _Node:
    """A subproblem: sites forced open and closed, and the multipliers to start from."""

    opened: BoolArray
    closed: BoolArray
    lam: FloatArray
    bound: float
    depth: int = 0


@dataclass
class _Bound:
    """The best Lagrangian bound found at a node and what it chose."""

    value: float
    lam: FloatArray
    rho: FloatArray
    chosen: BoolArray  # free sites picked by the bound (forced-open ones not included)
    ybar: FloatArray  # average of the relaxed site choices: the LP's y, roughly


class _Lagrangian:
    """The relaxation on a fixed matrix ``cost[i, j] = w_i d_ij`` (columns: sites kept).

    Only pairs with ``cost[i, j] < lam_i`` count in ``rho``; with each client's costs
    sorted (rank-major, so the first ranks are one contiguous block) a step reads the
    ranks up to the deepest such pair, not the whole matrix (pmed36: 4% of it).
    """

    def __init__(self, cost: FloatArray, p: int) -> None:
        self.cost = cost
        self.p = p
        order = np.argsort(cost, axis=1, kind="stable")
        self.site = np.ascontiguousarray(order.T.astype(np.intp))  # [rank, client]
        self.sorted = np.ascontiguousarray(np.take_along_axis(cost, order, axis=1).T)
        self.buf = np.empty_like(self.sorted)

    def reach(self, lam: FloatArray) -> int:
        """The fewest leading ranks that hold every pair with ``cost[i, j] < lam_i``.

        Each client's costs grow with the rank, so "no pair below ``lam`` at rank r" holds
        from some r on: a binary search over ranks, one row read per probe.
        """
        lo, hi = 0, self.sorted.shape[0]
        while lo < hi:
            mid = (lo + hi) // 2
            if bool((self.sorted[mid] < lam).any()):
                lo = mid + 1
            else:
                hi = mid
        return max(lo, 1)

    def evaluate(self, lam: FloatArray, opened: BoolArray,
                 closed: BoolArray) -> tuple[float, FloatArray, BoolArray, FloatArray]:
        """``L(lam)``, the ``rho`` per site, the free sites chosen and the subgradient."""
        r = self.reach(lam)
        buf = self.buf[:r]
        np.subtract(self.sorted[:r], lam, out=buf)
        np.minimum(buf, 0.0, out=buf)
        m = self.sorted.shape[0]
        rho: FloatArray = np.bincount(self.site[:r].ravel(), weights=buf.ravel(),
                                      minlength=m).astype(np.float64, copy=False)
        k = self.p - int(opened.sum())
        free = np.flatnonzero(~opened & ~closed)
        chosen = np.zeros(m, dtype=bool)
        if k > 0:
            pick = free[np.argpartition(rho[free], k - 1)[:k]] if k < free.size else free
            chosen[pick] = True
        value = float(lam.sum() + rho[opened].sum() + rho[chosen].sum())
        # g_i = 1 - (open sites serving client i in the relaxed plan)
        open_all = opened | chosen
        if int(open_all.sum()) < r:
            served = (self.cost[:, open_all] < lam[:, None]).sum(axis=1)
        else:
            served = (open_all[self.site[:r]] & (buf < 0.0)).sum(axis=0)
        return value, rho, chosen, 1.0 - served.astype(np.float64)

    def ascend(self, lam: FloatArray, opened: BoolArray, closed: BoolArray, ub: float,
               prune_at: float, iterations: int, mu: float, patience: int,
               deadline: float = math.inf) -> _Bound:
        """Volume algorithm (Barahona & Anbil 2000) from ``lam``, stopping at ``prune_at``.

        Steps move from the best multipliers along the average of the subgradients
        (``mu (UB - L) / |v|^2``); the same average of the relaxed site choices is ``ybar``,
        an estimate of the LP's fractional ``y`` that branching uses. ``mu`` grows after an
        improving step that agrees with the new subgradient and shrinks by a third after
        ``patience`` steps without one. It also stops at ``deadline`` (a
        ``time.perf_counter()`` value: the time limit).
        """
        value, rho, chosen, g = self.evaluate(lam, opened, closed)
        best = _Bound(value, lam.copy(), rho, chosen, (opened | chosen).astype(np.float64))
        v = g
        ybar = best.ybar.copy()
        red = 0
        scale = 1e-9 * max(1.0, abs(ub))
        for _ in range(iterations):
            norm = float(v @ v)
            if best.value >= prune_at or mu < 1e-4 or norm == 0.0 \
                    or time.perf_counter() >= deadline:
                break
            step = mu * max(ub - best.value, scale) / norm
            lam = np.maximum(best.lam + step * v, 0.0)
            value, rho, chosen, g = self.evaluate(lam, opened, closed)
            open_all = opened | chosen
            gg = float(g @ g)
            if gg == 0.0:  # the relaxed plan serves every client once: L is its cost
                ybar = open_all.astype(np.float64)
                if value > best.value:
                    best = _Bound(value, lam, rho, chosen, ybar)
                break
            # the mix of the new subgradient and the average closest to zero, in [a/10, a]
            dv = v - g
            den = float(dv @ dv)
            alpha = float(v @ dv) / den if den > 0.0 else VOLUME_ALPHA
            alpha = min(VOLUME_ALPHA, max(VOLUME_ALPHA / 10.0, alpha))
            ybar = alpha * open_all + (1.0 - alpha) * ybar
            if value > best.value + 1e-12 * max(1.0, abs(value)):
                if float(g @ v) >= 0.0:  # green step: the direction still climbs
                    mu = min(2.0, mu * 1.1)
                best = _Bound(value, lam, rho, chosen, ybar)
                red = 0
            else:
                red += 1
                if red >= patience:
                    mu *= 0.66
                    red = 0
            v = alpha * g + (1.0 - alpha) * v
        best.ybar = ybar
        return best


def _far_pairs(bound: _Bound, sub: FloatArray, cols: IntArray, opened: BoolArray,
               prune_at: float) -> BoolArray:
    """Client-site pairs that no plan better than the incumbent uses (``x_ij = 0``)."""
    chosen = bound.chosen[cols]
    rho = bound.rho[cols]
    over = np.maximum(sub - bound.lam[:, None], 0.0)
    worst_in = rho[chosen].max() if chosen.any() else 0.0
    extra = np.where(chosen | opened[cols], 0.0, rho - worst_in)
    return bound.value + extra[None, :] + over >= prune_at


def _fix(bound: _Bound, opened: BoolArray, closed: BoolArray, k: int,
         prune_at: float) -> tuple[BoolArray, BoolArray]:
    """Sites the bound closes or opens in every plan better than the incumbent."""
    free = ~opened & ~closed
    chosen = bound.chosen
    rho = bound.rho
    new_closed = np.zeros_like(closed)
    new_open = np.zeros_like(opened)
    if k > 0 and chosen.any():
        worst_in = rho[chosen].max()
        unchosen = free & ~chosen
        new_closed = unchosen & (bound.value + rho - worst_in >= prune_at)
        best_out = rho[unchosen].min() if unchosen.any() else math.inf
        new_open = chosen & (bound.value - rho + best_out >= prune_at)
    elif k == 0:
        new_closed = free
    return opened | new_open, closed | new_closed


def p_median_lagrangian(d: FloatArray, p: int, w: FloatArray, fixed: BoolArray, *,
                        options: SolverOptions, t0: float, max_nodes: int = 200_000,
                        root_iterations: int = 3000,
                        node_iterations: int = 80) -> SitingResult:
    """Steps 1-4 of the module; inputs already validated by ``p_median``.

    Parameters
    ----------
    d, p, w, fixed
        Distances ``(n, m)``, medians, client weights and the mask of sites open already.
    options
        Its time limit and ``mip_gap`` are honoured.
    t0
        ``time.perf_counter()`` at the start of the call, for the time limit.
    max_nodes
        Most branch-and-bound nodes (an iteration limit: results do not hang on speed).
    root_iterations, node_iterations
        Most subgradient steps at the root and at each node.

    Returns
    -------
    SitingResult
        ``optimal`` when the tree was emptied (bound = objective), else ``feasible`` with the
        smallest bound left open.
    """
    m = d.shape[1]
    keep = np.flatnonzero(w > 0)  # zero-weight clients cost nothing wherever they go
    plan = interchange(d, w, p, fixed)
    ub = _cost(d, w, plan)
    cost = w[keep, None] * d[keep]
    whole = bool(np.all(cost == np.round(cost))) and float(cost.max(initial=0.0)) < 2.0**52
    nodes = 0

    def prune_level(upper: float) -> float:
        if whole:  # plans cost whole numbers: a bound above UB - 1 leaves none better
            return upper - 1.0 + 1e-6
        return upper - max(options.mip_gap * abs(upper), 1e-9 * max(1.0, abs(upper)))

    if keep.size == 0 or p == m or p == int(fixed.sum()):
        return _result(d, w, plan, ub, ub, SolveStatus.OPTIMAL, nodes, t0)
    if whole and options.mip_gap > 0:
        whole = False  # the gap rule is then the one asked for
    relax = _Lagrangian(cost, p)
    lam0 = cost[np.arange(keep.size), _nearest(d[keep], plan)].astype(np.float64)
    no = np.zeros(m, dtype=bool)
    limit = options.time_limit_s
    deadline = math.inf if limit is None else t0 + limit
    root = relax.ascend(lam0, fixed, no, ub, prune_level(ub), root_iterations, 2.0, 30,
                        deadline)
    seeded = interchange(d, w, p, fixed, start=fixed | root.chosen)
    if (c := _cost(d, w, seeded)) < ub:
        plan, ub = seeded, c
    def proven(upper: float) -> float:
        """The bound once no node is left: every pruned node's bound reached the level."""
        return upper if whole else max(root.value, min(upper, prune_level(upper)))

    if root.value >= prune_level(ub):
        return _result(d, w, plan, ub, proven(ub), SolveStatus.OPTIMAL, nodes, t0)
    opened, closed = _fix(root, fixed.copy(), no, p - int(fixed.sum()), prune_level(ub))
    # closed sites leave the matrix: every later step works on the rest
    cols = np.flatnonzero(~closed)
    sub = np.ascontiguousarray(cost[:, cols])
    sub[_far_pairs(root, sub, cols, opened, prune_level(ub))] = np.inf
    relax = _Lagrangian(sub, p)
    stack = [_Node(opened[cols], closed[cols], root.lam, root.value)]
    while stack:
        if nodes >= max_nodes or (limit is not None and time.perf_counter() - t0 >= limit):
            lb = min(node.bound for node in stack)
            return _result(d, w, plan, ub, min(lb, ub), SolveStatus.FEASIBLE, nodes, t0)
        node = stack.pop()
        nodes += 1
        level = prune_level(ub)
        if node.bound >= level or node.opened.sum() > p:
            continue
        k = p - int(node.opened.sum())
        free = ~node.opened & ~node.closed
        if free.sum() < k:
            continue
        if k == 0 or free.sum() == k:  # the node is a single plan
            sites = cols[node.opened | (free if k else np.zeros_like(free))]
            if (c := _cost(d, w, sites)) < ub:
                plan, ub = sites, c
            continue
        b = relax.ascend(node.lam, node.opened, node.closed, ub, level, node_iterations,
                         0.5 if node.depth else 2.0, NODE_PATIENCE)
        sites = cols[node.opened | b.chosen]
        if (c := _cost(d, w, sites)) < ub:
            better = interchange(d, w, p, fixed, start=_mask(m, sites))
            cb = _cost(d, w, better)
            plan, ub = (better, cb) if cb < c else (sites, c)
            level = prune_level(ub)
        if b.value >= level:
            continue
        opened, closed = _fix(b, node.opened, node.closed, k, level)
        k = p - int(opened.sum())
        chosen = b.chosen & ~opened & ~closed
        if k <= 0 or not chosen.any():
            stack.append(_Node(opened, closed, b.lam, b.value, node.depth + 1))
            continue
        j = _branch_site(b, opened, closed)
        shut = closed.copy()
        shut[j] = True
        keep_open = opened.copy()
        keep_open[j] = True
        # depth first: the child that follows the bound (site open) is explored first
        stack.append(_Node(opened, shut, b.lam, b.value, node.depth + 1))
        stack.append(_Node(keep_open, closed, b.lam, b.value, node.depth + 1))
    return _result(d, w, plan, ub, proven(ub), SolveStatus.OPTIMAL, nodes, t0)


def _branch_site(b: _Bound, opened: BoolArray, closed: BoolArray) -> int:
    """The free site the LP (``ybar``) leaves most fractional: the one to branch on."""
    free = np.flatnonzero(~opened & ~closed)
    y = b.ybar[free]
    return int(free[np.argmax(np.minimum(y, 1.0 - y))])


def _mask(m: int, sites: IntArray) -> BoolArray:
    mask = np.zeros(m, dtype=bool)
    mask[sites] = True
    return mask


def _nearest(d: FloatArray, sites: IntArray) -> IntArray:
    return np.asarray(sites[np.argmin(d[:, sites], axis=1)], dtype=np.int64)


def _cost(d: FloatArray, w: FloatArray, sites: IntArray) -> float:
    return float(w @ d[:, sites].min(axis=1)) if d.shape[0] else 0.0


def _result(d: FloatArray, w: FloatArray, plan: IntArray, ub: float, bound: float,
            status: SolveStatus, nodes: int, t0: float) -> SitingResult:
    from reserve_opt.models.siting.pmedian import nearest_assignment

    plan = np.sort(np.asarray(plan, dtype=np.int64))
    assignment, objective = nearest_assignment(d, w, plan)
    seconds = time.perf_counter() - t0
    res = SolveResult(status=status, objective=objective, bound=bound, gap=None,
                      solve_seconds=seconds, solver=SOLVER_NAME,
                      message=f"{nodes} branch-and-bound nodes")
    return siting_result("p-median", res, objective=objective, open_sites=plan,
                         assignment=assignment, seconds=seconds, status=status,
                         bound=min(bound, objective))
