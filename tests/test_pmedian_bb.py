"""The Lagrangian p-median branch-and-bound against brute force on small instances.

Every plan of each instance is enumerated: the optimum the search proves must be the
cheapest plan, and the fixing rules (sites and client-site pairs) must never cut off a plan
cheaper than the incumbent. Limits are iterations and nodes, never seconds.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from reserve_opt.models.siting import check
from reserve_opt.models.siting import pmedian_bb as bb
from reserve_opt.solvers import SolverOptions, SolveStatus


def instance(seed: int, n: int, m: int, *, whole: bool) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a, b = rng.random((n, 2)), rng.random((m, 2))
    d = np.linalg.norm(a[:, None] - b[None], axis=2) * 100
    w = rng.integers(1, 6, n).astype(float)
    return (np.round(d) if whole else d), w


def all_plans(d: np.ndarray, w: np.ndarray, p: int,
              fixed: tuple[int, ...] = ()) -> dict[tuple[int, ...], float]:
    return {s: float(w @ d[:, list(s)].min(axis=1))
            for s in itertools.combinations(range(d.shape[1]), p) if set(fixed) <= set(s)}


@pytest.mark.parametrize("seed", range(12))
def test_branch_and_bound_proves_the_brute_force_optimum(seed: int) -> None:
    # few subgradient steps per node: the bound alone rarely suffices, so the tree branches
    n, m, p = 16, 10, 2 + seed % 3
    d, w = instance(seed, n, m, whole=seed % 2 == 0)
    fixed = (seed % m,) if seed % 4 == 3 else ()
    plans = all_plans(d, w, p, fixed)
    best = min(plans.values())
    mask = np.zeros(m, dtype=bool)
    mask[list(fixed)] = True
    res = bb.p_median_lagrangian(d, p, w, mask, options=SolverOptions(), t0=0.0,
                                 root_iterations=3, node_iterations=3)
    assert res.status is SolveStatus.OPTIMAL
    assert res.objective == pytest.approx(best, rel=1e-12)
    assert res.bound is not None and res.bound <= res.objective + 1e-9
    assert set(fixed) <= set(res.open_sites.tolist())
    rep = check(res, distance=d, weights=w, p=p)
    assert rep.ok, rep.problems


def test_a_node_limit_returns_a_checked_plan_and_a_valid_bound() -> None:
    d, w = instance(3, 30, 20, whole=False)
    plans = all_plans(d, w, 4)
    best = min(plans.values())
    res = bb.p_median_lagrangian(d, 4, w, np.zeros(20, dtype=bool), options=SolverOptions(),
                                 t0=0.0, max_nodes=1, root_iterations=2, node_iterations=2)
    assert res.objective is not None and res.objective >= best - 1e-9
    assert res.bound is not None and res.bound <= best + 1e-9
    assert res.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)
    assert check(res, distance=d, weights=w, p=4).ok


@pytest.mark.parametrize("seed", range(16))
def test_pair_fixing_never_cuts_off_a_cheaper_plan(seed: int) -> None:
    # every plan cheaper than the incumbent serves each client from its nearest open site:
    # none of those pairs may be among the ones the root bound drops
    n, m, p = 14, 9, 3
    d, w = instance(100 + seed, n, m, whole=False)
    cost = w[:, None] * d
    plans = all_plans(d, w, p)
    ranked = sorted(plans.values())
    ub = ranked[len(ranked) // 6]  # an incumbent well above the optimum
    none = np.zeros(m, dtype=bool)
    relax = bb._Lagrangian(cost, p)
    bound = relax.ascend(cost.min(axis=1), none, none, ub, ub, 400, 2.0, 20)
    assert bound.value <= ranked[0] + 1e-9
    opened, closed = bb._fix(bound, none, none, p, ub)
    cols = np.flatnonzero(~closed)
    far = bb._far_pairs(bound, np.ascontiguousarray(cost[:, cols]), cols, opened, ub)
    assert far.any()  # the test is not empty: some pairs are dropped
    position = {int(j): k for k, j in enumerate(cols)}
    for sites, c in plans.items():
        if c >= ub - 1e-9:
            continue
        assert not closed[list(sites)].any()
        nearest = np.asarray(sites)[np.argmin(d[:, list(sites)], axis=1)]
        for i, j in enumerate(nearest):
            assert not far[i, position[int(j)]], (sites, i, int(j))


@pytest.mark.parametrize("seed", range(4))
def test_sorted_evaluation_equals_the_dense_formula(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, m, p = 40, 25, 4
    cost, _ = instance(seed, n, m, whole=seed % 2 == 0)
    cost[rng.random((n, m)) < 0.2] = np.inf  # pairs dropped by fixing
    relax = bb._Lagrangian(cost, p)
    opened = np.zeros(m, dtype=bool)
    opened[1] = True
    closed = np.zeros(m, dtype=bool)
    closed[[0, 5]] = True
    for scale in (0.0, 5.0, 30.0, 200.0):
        lam = rng.random(n) * scale
        value, rho, chosen, g = relax.evaluate(lam, opened, closed)
        dense = np.minimum(cost - lam[:, None], 0.0).sum(axis=0)
        np.testing.assert_allclose(rho, dense, rtol=0, atol=1e-9)
        assert chosen.sum() == p - 1 and not (chosen & (opened | closed)).any()
        free = np.flatnonzero(~opened & ~closed)
        assert rho[chosen].max(initial=-np.inf) <= rho[free[~chosen[free]]].min() + 1e-12
        assert value == pytest.approx(lam.sum() + rho[opened | chosen].sum(), abs=1e-9)
        served = (cost[:, opened | chosen] < lam[:, None]).sum(axis=1)
        np.testing.assert_array_equal(g, 1.0 - served)
