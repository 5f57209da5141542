"""The Lagrangian branch-and-bound for facility location against brute force.

Small CFLP / UFLP instances whose optimum is found by pricing every set of open sites
(a transportation LP each, scipy's HiGHS, written here independently of the model); the
tree must prove the same value. The relaxation must bound every plan a node allows, and
the fixing test must never shut (or force open) a site that a cheaper plan needs, at the
root or at a node. Limits are in steps and nodes, never seconds.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.optimize

from reserve_opt.models.siting import check, flp_bb
from reserve_opt.models.siting import flp_lagrangian as flp
from reserve_opt.solvers import SolverOptions, SolveStatus


def instance(seed: int, n: int, m: int, *, equal: bool) -> tuple[np.ndarray, ...]:
    """Clients and sites in the unit square; costs per unit of demand x distance."""
    rng = np.random.default_rng(seed)
    a, b = rng.random((n, 2)), rng.random((m, 2))
    dem = rng.integers(1, 9, n).astype(float)
    c = np.linalg.norm(a[:, None] - b[None], axis=2) * 100 * dem[:, None]
    f = rng.integers(40, 160, m).astype(float)
    total = dem.sum()
    s = np.full(m, np.ceil(total / 3.2)) if equal else \
        rng.integers(int(total / 5) + 1, int(total / 2) + 2, m).astype(float)
    return c, dem, f, s


def transport(c: np.ndarray, dem: np.ndarray, s: np.ndarray | None,
              sites: tuple[int, ...]) -> float | None:
    """Cheapest splittable service from ``sites`` (dense LP), ``None`` when impossible."""
    n, k = c.shape[0], len(sites)
    cs = c[:, list(sites)]
    if s is None:
        return float(cs.min(axis=1).sum())
    if s[list(sites)].sum() < dem.sum():
        return None
    a_eq = np.kron(np.eye(n), np.ones(k))
    a_ub = np.kron(dem[None, :], np.eye(k))
    out = scipy.optimize.linprog(cs.ravel(), A_ub=a_ub, b_ub=s[list(sites)], A_eq=a_eq,
                                 b_eq=np.ones(n), bounds=(0, 1), method="highs")
    return float(out.fun) if out.status == 0 else None


def every_plan(c: np.ndarray, dem: np.ndarray, f: np.ndarray,
               s: np.ndarray | None) -> dict[tuple[int, ...], float]:
    """Cost of every set of open sites that can serve the demand."""
    m = c.shape[1]
    out = {}
    for k in range(1, m + 1):
        for sites in itertools.combinations(range(m), k):
            got = transport(c, dem, s, sites)
            if got is not None:
                out[sites] = float(f[list(sites)].sum()) + got
    return out


def solve(c: np.ndarray, dem: np.ndarray, f: np.ndarray, s: np.ndarray | None,
          fixed: tuple[int, ...] = (), steps: int = 3):
    # few root steps, so that the tree (not the root bound) has to prove the optimum
    mask = np.zeros(c.shape[1], dtype=bool)
    mask[list(fixed)] = True
    return flp.facility_location_lagrangian(dem, f, c, s, mask, solver="highs",
                                            options=SolverOptions(), t0=0.0,
                                            iterations=steps)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("kind", ["equal", "unequal", "uncapacitated"])
def test_tree_proves_the_brute_force_optimum(seed: int, kind: str) -> None:
    c, dem, f, s = instance(seed, 14, 8, equal=kind == "equal")
    cap = None if kind == "uncapacitated" else s
    plans = every_plan(c, dem, f, cap)
    best = min(plans.values())
    res = solve(c, dem, f, cap)
    assert res.status is SolveStatus.OPTIMAL
    assert res.solver == "lagrangian-bb"
    assert res.objective == pytest.approx(best, rel=1e-9)
    assert res.bound is not None and res.bound <= res.objective + 1e-9
    assert res.bound >= best * (1 - 2e-9)  # the gap asked for: 1e-9
    rep = check(res, cost=c, demand=dem, capacity=cap, fixed_cost=f)
    assert rep.ok, rep.problems


@pytest.mark.parametrize("seed", range(4))
def test_tree_keeps_fixed_sites_and_finds_the_best_plan_with_them(seed: int) -> None:
    c, dem, f, s = instance(50 + seed, 12, 7, equal=False)
    fixed = (seed % 7, (seed + 3) % 7)
    plans = every_plan(c, dem, f, s)
    best = min(v for k, v in plans.items() if set(fixed) <= set(k))
    res = solve(c, dem, f, s, fixed=fixed)
    assert res.status is SolveStatus.OPTIMAL
    assert set(fixed) <= set(res.open_sites.tolist())
    assert res.objective == pytest.approx(best, rel=1e-9)


def test_sparse_knapsacks_equal_a_dense_reference() -> None:
    # each site's continuous knapsack by plain loops, for random multipliers and nodes
    rng = np.random.default_rng(7)
    for _ in range(40):
        n, m = int(rng.integers(3, 15)), int(rng.integers(2, 8))
        c = rng.random((n, m)) * 100
        dem = rng.integers(0, 6, n).astype(float)  # zero demand included
        f = rng.random(m) * 40
        s = rng.random(m) * 20 + 2
        lam = c.min(axis=1) + rng.random(n) * 60
        closed = rng.random(m) < 0.3
        relax = flp_bb.SparseRelaxation(c, dem, f, s)
        k = relax.evaluate(lam, np.zeros(m, dtype=bool), closed, 1)
        for j in np.flatnonzero(~closed):
            left, value = s[j], f[j]
            clients = [i for i in range(n) if c[i, j] < lam[i]]
            clients.sort(key=lambda i: -np.inf if dem[i] == 0 else (c[i, j] - lam[i]) / dem[i])
            for i in clients:
                take = 1.0 if dem[i] == 0 else min(1.0, max(left, 0.0) / dem[i])
                value += take * (c[i, j] - lam[i])
                left -= take * dem[i]
            assert k.v[j] == pytest.approx(value, abs=1e-9)
        assert np.isinf(k.v[closed]).all()


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("where", ["root", "node"])
def test_bound_and_fixing_never_cut_off_a_cheaper_plan(seed: int, where: str) -> None:
    c, dem, f, s = instance(100 + seed, 12, 7, equal=seed % 2 == 0)
    m = c.shape[1]
    plans = every_plan(c, dem, f, s)
    rng = np.random.default_rng(seed)
    opened = np.zeros(m, dtype=bool)
    closed = np.zeros(m, dtype=bool)
    if where == "node":  # one site forced open, another shut
        opened[rng.integers(m)] = True
        closed[(np.flatnonzero(opened)[0] + 1 + rng.integers(m - 1)) % m] = True
    allowed = {k: v for k, v in plans.items()
               if opened[list(k)].sum() == opened.sum() and not closed[list(k)].any()}
    ranked = sorted(allowed.values())
    ub = ranked[len(ranked) // 8]  # an incumbent a few plans above the node's best
    relax = flp_bb.SparseRelaxation(c, dem, f, s)
    need = relax.need(closed)
    lam = c.min(axis=1)
    best = None
    for _ in range(200):  # any multipliers give a valid bound at the node
        k = relax.evaluate(lam, opened, closed, need)
        assert k.value <= ranked[0] + 1e-6
        if best is None or k.value > best.value:
            best = k
        g = relax.subgradient(k)
        if not g.any():
            break
        lam = lam + 0.5 * (ub - k.value) / float(g @ g) * g
    assert best is not None
    into, out = flp_bb.fix_sites(best.v, best.y, opened, closed, need, best.value, ub)
    assert (into >= opened).all() and (out >= closed).all()
    for sites, cost in allowed.items():
        if cost < ub - 1e-9:
            assert not out[list(sites)].any(), (sites, np.flatnonzero(out))
            assert set(np.flatnonzero(into)) <= set(sites)


def test_a_node_limit_leaves_an_honest_bound() -> None:
    c, dem, f, s = instance(3, 14, 8, equal=True)
    best = min(every_plan(c, dem, f, s).values())
    relax = flp_bb.SparseRelaxation(c, dem, f, s)
    none = np.zeros(c.shape[1], dtype=bool)
    # an incumbent far above the optimum: the tree cannot finish in one node
    tree = flp_bb.branch_and_bound(relax, c.min(axis=1), none, none, 0.0,
                                   lambda: 10 * best, lambda y, v, floor: None, lambda ub: ub,
                                   np.inf, max_nodes=1)
    assert not tree.complete and tree.nodes == 1
    assert tree.bound <= best + 1e-9


def test_a_gap_asked_for_bounds_the_plan_honestly() -> None:
    c, dem, f, s = instance(9, 14, 8, equal=False)
    best = min(every_plan(c, dem, f, s).values())
    res = flp.facility_location_lagrangian(dem, f, c, s, np.zeros(8, dtype=bool),
                                           solver="highs",
                                           options=SolverOptions(mip_gap=0.05), t0=0.0,
                                           iterations=3)
    assert res.status is SolveStatus.OPTIMAL  # optimal within the gap asked, as a MIP's
    assert res.objective is not None and res.bound is not None
    assert res.bound <= best + 1e-9 <= res.objective + 1e-9
    assert res.objective <= best * 1.05 + 1e-9
    assert res.gap is not None and res.gap <= 0.05 + 1e-12
