"""Lagrangian branch-and-bound over the sites for facility location (splittable demand).

The tree behind ``facility_location(method="lagrangian")`` once the root bound, the
incumbent and the root fixing of ``flp_lagrangian`` are done; after Beasley (1988) and
Görtz & Klose (2012). Every node has some sites forced open and some closed and is
bounded by the same relaxation as the root:

* relax ``sum_j x_ij = 1`` with ``lambda_i``; each site left is a continuous knapsack
  ``v_j = f_j + min { sum_i (c_ij - lambda_i) x_ij : sum_i d_i x_ij <= s_j, 0 <= x <= 1 }``
  over the clients with ``c_ij < lambda_i`` only (near the best ``lambda`` a few per
  client, so the knapsacks are solved on that sparse set, not the whole matrix);
* the sites solve ``min sum_j v_j y_j`` with the forced ones open, the closed ones shut
  and at least ``K`` open, ``K`` the fewest sites left whose largest capacities hold the
  total demand (the aggregate capacity cut ``sum_j s_j y_j >= D`` in cardinality form;
  with equal capacities, as in capa-capc, the two are the same);
* ``L = sum_i lambda_i + sum_j v_j y_j``; subgradient (Polyak) steps from the parent's
  best ``lambda``.

A node whose ``L`` reaches the incumbent ``UB`` (less the gap asked for) is pruned;
otherwise the fixing test of the root runs again (a site whose opening, or closing,
lifts ``L`` to ``UB`` is shut, or forced open) and the node branches on the free site
whose averaged Lagrangian ``y`` is most fractional (the subgradient average approximates
the LP's ``y``, as in the volume algorithm), depth first. A node whose sites are all
decided is priced exactly (the transportation LP). New site sets met in the tree are
priced too, and a cheaper one becomes the incumbent.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Subgradient steps per node (an iteration limit, not seconds); the root's own ascent
#: runs before the tree.
NODE_STEPS = 25
#: Nodes explored at most (an iteration limit); the time limit usually comes first.
MAX_NODES = 200_000


@dataclasses.dataclass(frozen=True)
class Knapsacks:
    """One evaluation of the relaxation: bound, site values, sites chosen, shares.

    ``rows``, ``cols``, ``share``: the knapsack shares ``x_ij > 0`` (clients, sites).
    """

    value: float
    v: FloatArray
    y: BoolArray
    rows: IntArray
    cols: IntArray
    share: FloatArray


class SparseRelaxation:
    """The per-site continuous knapsacks on the entries ``c_ij < lambda_i`` only.

    Parameters
    ----------
    c, d, f, s
        ``c_ij`` (clients x sites), ``d_i``, ``f_j``, ``s_j`` (uncapacitated: every
        ``s_j`` at least the total demand).
    """

    def __init__(self, c: FloatArray, d: FloatArray, f: FloatArray, s: FloatArray) -> None:
        self.c, self.d, self.f, self.s = c, d, f, s
        self.total = float(d.sum())
        self.safe_d = np.where(d > 0, d, 1.0)
        self._key = b""
        self._cols = np.zeros(0, dtype=np.int64)
        self._c = c[:, :0]

    def need(self, closed: BoolArray) -> int:
        """Fewest sites not ``closed`` whose capacities hold the demand (at least 1).

        All of them when they cannot: the caller tests that with :meth:`can_serve`.
        """
        caps = np.sort(self.s[~closed])[::-1]
        k = int(np.searchsorted(np.cumsum(caps), self.total - 1e-9) + 1)
        return max(1, min(k, caps.size)) if self.d.size else 0

    def can_serve(self, closed: BoolArray) -> bool:
        """Whether the sites not ``closed`` hold the total demand."""
        return bool(self.s[~closed].sum() >= self.total - 1e-9)

    def _columns(self, closed: BoolArray) -> tuple[IntArray, FloatArray]:
        """The sites not ``closed`` and their cost columns (kept while ``closed`` is)."""
        key = closed.tobytes()
        if key != self._key:
            self._key = key
            self._cols = np.flatnonzero(~closed).astype(np.int64)
            self._c = np.ascontiguousarray(self.c[:, self._cols])
        return self._cols, self._c

    def evaluate(self, lam: FloatArray, opened: BoolArray, closed: BoolArray,
                 need: int) -> Knapsacks:
        """``L(lambda)`` with the ``opened`` sites forced, the ``closed`` ones left out."""
        m = self.c.shape[1]
        cols, c = self._columns(closed)
        r = c - lam[:, None]
        i, jj = np.nonzero(r < 0)  # near the best lambda about 1 entry in 8
        rij = r[i, jj]
        di = self.d[i]
        # best first per site: most negative cost per unit of demand (zero demand first).
        # One sort on site + a rank in [0, 0.5): t = 1 / (1 - ratio) grows with the ratio
        # (< 0), zero demand gets 0; far cheaper than sorting whole columns.
        rank = np.where(di > 0, 1.0 / (1.0 - rij / self.safe_d[i]), 0.0)
        order = np.argsort(jj + 0.5 * rank)
        i, jj, rij, di = i[order], jj[order], rij[order], di[order]
        cum = np.cumsum(di)
        first = np.searchsorted(jj, np.arange(cols.size))  # each site's first entry
        base = np.concatenate([[0.0], cum])[first]  # demand before the site's entries
        before = cum - di - base[jj]  # demand the site took before this client
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(di > 0, (self.s[cols][jj] - before) / di, 1.0)
        share = np.clip(share, 0.0, 1.0)
        v = np.full(m, np.inf)
        v[cols] = self.f[cols] + np.bincount(jj, weights=rij * share, minlength=cols.size)
        keep = share > 0
        i, xs, j = i[keep], share[keep], cols[jj[keep]]
        y = opened.copy()
        free = np.flatnonzero(~opened & ~closed)
        y[free[v[free] < 0]] = True
        short = need - int(y.sum())
        if short > 0:
            rest = free[~y[free]]
            y[rest[np.argsort(v[rest], kind="stable")[:short]]] = True
        return Knapsacks(float(lam.sum() + v[y].sum()), v, y, i.astype(np.int64), j, xs)

    def subgradient(self, k: Knapsacks) -> FloatArray:
        """``g_i = 1 - sum_{j open} x_ij``: the relaxed rows' slack."""
        on = k.y[k.cols]
        got = np.bincount(k.rows[on], weights=k.share[on], minlength=self.c.shape[0])
        return np.asarray(1.0 - got, dtype=np.float64)


def fix_sites(v: FloatArray, y: BoolArray, opened: BoolArray, closed: BoolArray, need: int,
              value: float, prune_at: float) -> tuple[BoolArray, BoolArray]:
    """Sites the bound closes (opens) in every plan cheaper than ``prune_at``.

    With ``u`` the free sites' ``v`` sorted and ``K'`` the free sites still needed, a plan
    that opens an unchosen free site costs at least ``value + v_j - max(0, u_(K'))``, one
    that closes a chosen free site at least ``value - v_j + max(0, u_(K'+1))``.
    """
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


@dataclasses.dataclass
class _Node:
    opened: BoolArray
    closed: BoolArray
    lam: FloatArray
    bound: float


@dataclasses.dataclass(frozen=True)
class TreeResult:
    """What the tree proved: ``bound`` (``inf`` when the tree emptied), nodes explored."""

    bound: float
    nodes: int
    complete: bool


def branch_and_bound(
    relax: SparseRelaxation, lam: FloatArray, opened: BoolArray, closed: BoolArray,
    root_bound: float, incumbent: Callable[[], float],
    price: Callable[[BoolArray, FloatArray, float | None], None], prune: Callable[[float], float],
    deadline: float, *, node_steps: int = NODE_STEPS, max_nodes: int = MAX_NODES,
) -> TreeResult:
    """Depth-first Lagrangian branch-and-bound over the free sites.

    Parameters
    ----------
    relax
        The knapsack relaxation.
    lam
        The root's best multipliers (each child starts from its parent's best).
    opened, closed
        Sites the root forced open and closed.
    root_bound
        The root's ``L``.
    incumbent
        Returns the incumbent's value ``UB`` (it may improve during the search).
    price
        ``price(y, v, floor)`` prices the open sites ``y`` (the transportation LP; topped
        up in the order of ``v`` when they cannot hold the demand) and updates the
        incumbent. With ``floor = sum_i lambda_i`` for the ``lambda`` that gave ``v``,
        ``floor + sum_{j in y} v_j`` bounds that plan's cost from below, so a set whose
        bound reaches the incumbent need not be priced.
    prune
        Maps ``UB`` to the value at which a node is pruned (``UB`` less the gap asked).
    deadline
        ``time.perf_counter()`` at which the search stops.
    node_steps, max_nodes
        Iteration limits: subgradient steps per node, nodes in all.

    Returns
    -------
    TreeResult
        ``complete`` when every node was pruned: then ``UB`` is optimal (within the gap);
        otherwise ``bound`` is the smallest bound of the nodes still open.
    """
    stack = [_Node(opened, closed, lam, root_bound)]
    nodes = 0
    while stack:
        if nodes >= max_nodes or time.perf_counter() >= deadline:
            return TreeResult(min(nd.bound for nd in stack), nodes, False)
        node = stack.pop()
        nodes += 1
        if node.bound >= prune(incumbent()):
            continue
        children = _solve_node(relax, node, incumbent, price, prune, node_steps)
        stack.extend(children)
    return TreeResult(math.inf, nodes, True)


def _solve_node(relax: SparseRelaxation, node: _Node, incumbent: Callable[[], float],
                price: Callable[[BoolArray, FloatArray, float | None], None],
                prune: Callable[[float], float], steps: int) -> list[_Node]:
    """Bound, fix and branch one node; the children to explore (none when pruned)."""
    opened, closed = node.opened, node.closed
    if not relax.can_serve(closed):
        return []
    need = relax.need(closed)
    if int(opened.sum()) >= need and not (~opened & ~closed).any():
        price(opened.copy(), relax.f, None)  # every site decided: one plan
        return []
    lam = node.lam
    best = relax.evaluate(lam, opened, closed, need)
    best_lam, lb = lam, best.value
    ybar = best.y.astype(np.float64)
    mu, stale = 1.0, 0
    for step in range(steps):
        cut = prune(incumbent())
        if lb >= cut:
            return []
        k = relax.evaluate(lam, opened, closed, need) if step else best
        if k.value > lb:
            best, best_lam, lb, stale = k, lam, k.value, 0
        else:
            stale += 1
            if stale >= 5:
                mu, stale = mu / 2.0, 0
        ybar = 0.7 * ybar + 0.3 * k.y
        g = relax.subgradient(k)
        norm = float(g @ g)
        if norm < 1e-18:  # the knapsacks serve every client once: a plan at this bound
            price(k.y.copy(), k.v, float(lam.sum()))
            break
        lam = lam + mu * (incumbent() - k.value) / norm * g
    cut = prune(incumbent())
    if lb >= cut:
        return []
    # the averaged y rounded: near the LP's y, a better plan than a single step's y
    price(opened | (ybar >= 0.5) & ~closed, best.v, float(best_lam.sum()))
    cut = prune(incumbent())
    if lb >= cut:
        return []
    # fixing, repeated while it decides sites (a forced site can lift the bound)
    while True:
        o2, c2 = fix_sites(best.v, best.y, opened, closed, need, lb, cut)
        if (o2 == opened).all() and (c2 == closed).all():
            break
        opened, closed = o2, c2
        if not relax.can_serve(closed):
            return []
        need = relax.need(closed)
        best = relax.evaluate(best_lam, opened, closed, need)
        lb = max(lb, best.value)
        if lb >= cut:
            return []
    free = np.flatnonzero(~opened & ~closed)
    if free.size == 0:
        price(opened.copy(), best.v, float(best_lam.sum()))
        return []
    frac = np.abs(ybar[free] - 0.5)
    j = int(free[np.argmin(frac)])
    up = _Node(opened.copy(), closed.copy(), best_lam, lb)
    up.opened[j] = True
    down = _Node(opened.copy(), closed.copy(), best_lam, lb)
    down.closed[j] = True
    # the child the averaged y leans to is explored first (it is pushed last)
    return [down, up] if ybar[j] >= 0.5 else [up, down]
