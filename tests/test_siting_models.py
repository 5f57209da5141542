"""Siting models on small seeded instances, against brute force and the checker."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from reserve_opt.errors import InputError
from reserve_opt.models.siting import (
    check,
    coverage_from_distance,
    facility_location,
    max_coverage,
    p_median,
    set_cover,
)
from reserve_opt.solvers import SolverOptions, SolveStatus


def points(seed: int, n: int, m: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a, b = rng.random((n, 2)), rng.random((m, 2))
    return np.linalg.norm(a[:, None] - b[None], axis=2) * 100


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("solver", ["highs", "pulp-cbc"])
def test_pmedian_matches_brute_force(seed: int, solver: str) -> None:
    d = np.round(points(seed, 40, 12))  # rounded: many ties between distances
    w = np.random.default_rng(seed).integers(0, 4, 40)  # some zero weights
    p = 3 + seed % 2
    best = min(w @ d[:, list(c)].min(axis=1) for c in itertools.combinations(range(12), p))
    res = p_median(d, p, w, solver=solver)
    rep = check(res, distance=d, weights=w, p=p)
    assert res.status is SolveStatus.OPTIMAL and rep.ok, rep.problems
    assert res.objective == pytest.approx(best)
    assert res.bound == pytest.approx(best, rel=1e-6)


def test_pmedian_with_p_equal_sites_opens_everything() -> None:
    d = points(1, 10, 4)
    res = p_median(d, 4, solver="highs")
    assert res.open_sites.tolist() == [0, 1, 2, 3]
    assert res.objective == pytest.approx(d.min(axis=1).sum())


def test_pmedian_time_limit_returns_a_checked_plan() -> None:
    # HiGHS has a plan from about 0.05 s and proves it optimal at about 0.4 s: either
    # status passes, so the outcome holds on a machine 10 times slower
    d = points(0, 300, 80)
    res = p_median(d, 6, solver="highs", options=SolverOptions(time_limit_s=0.5))
    assert res.status in (SolveStatus.FEASIBLE, SolveStatus.OPTIMAL)
    rep = check(res, distance=d, p=6)
    assert rep.ok, rep.problems
    assert res.bound is not None and res.bound <= res.objective + 1e-6  # type: ignore[operator]


@pytest.mark.parametrize("solver", ["highs", "pulp-cbc", "cpsat"])
def test_max_coverage_matches_brute_force(solver: str) -> None:
    d = points(5, 30, 10)
    a = coverage_from_distance(d, 30.0)
    w = np.random.default_rng(5).integers(1, 10, 30)
    best = max(
        w[np.asarray(a[:, list(c)].sum(axis=1)).ravel() > 0].sum()
        for c in itertools.combinations(range(10), 3)
    )
    res = max_coverage(a, 3, w, solver=solver)
    rep = check(res, coverage=a, weights=w, p=3)
    assert rep.ok, rep.problems
    assert res.objective == best


@pytest.mark.parametrize("solver", ["highs", "scip", "cpsat"])
def test_set_cover_matches_brute_force(solver: str) -> None:
    d = points(6, 30, 10)
    a = coverage_from_distance(d, 45.0)
    f = np.random.default_rng(6).integers(1, 5, 10)
    best = min(
        f[list(c)].sum()
        for k in range(1, 11)
        for c in itertools.combinations(range(10), k)
        if (np.asarray(a[:, list(c)].sum(axis=1)).ravel() > 0).all()
    )
    res = set_cover(a, f, solver=solver)
    rep = check(res, coverage=a, fixed_cost=f)
    assert rep.ok, rep.problems
    assert res.objective == best


def test_set_cover_names_uncoverable_clients() -> None:
    a = sp.csr_matrix(np.array([[1, 0], [0, 0], [0, 1]]))
    with pytest.raises(InputError, match=r"No site covers clients \[1\]"):
        set_cover(a)


def test_facility_location_small_brute_force() -> None:
    rng = np.random.default_rng(3)
    d = points(3, 12, 5)
    dem = rng.integers(1, 10, 12).astype(float)
    cost = d * dem[:, None]
    f = rng.integers(50, 200, 5).astype(float)
    cap = np.full(5, dem.sum() / 2.5)
    res = facility_location(dem, f, cost, cap, solver="highs")
    rep = check(res, cost=cost, demand=dem, capacity=cap, fixed_cost=f)
    assert rep.ok, rep.problems
    unc = facility_location(dem, f, cost, capacitated=False, solver="pulp-cbc")
    best_unc = min(
        f[list(c)].sum() + cost[:, list(c)].min(axis=1).sum()
        for k in range(1, 6)
        for c in itertools.combinations(range(5), k)
    )
    assert unc.objective == pytest.approx(best_unc)
    assert res.objective >= unc.objective - 1e-6  # type: ignore[operator]


def test_facility_location_refuses_too_little_capacity() -> None:
    with pytest.raises(InputError, match="Total site capacity 2 is below total demand 3"):
        facility_location([1, 2], [0, 0], np.ones((2, 2)), [1, 1])


def test_checker_catches_a_tampered_plan() -> None:
    d = points(2, 20, 6)
    res = p_median(d, 2, solver="highs")
    assert check(res, distance=d, p=2).ok
    worse = dataclasses.replace(res, objective=res.objective - 1.0)  # type: ignore[operator]
    assert not check(worse, distance=d, p=2).ok
    x = res.assignment.copy()  # type: ignore[union-attr]
    closed = next(j for j in range(6) if j not in res.open_sites)
    x[0] = 0.0
    x[0, closed] = 1.0
    bad = dataclasses.replace(res, assignment=x)
    problems = check(bad, distance=d, p=2).problems
    assert any("closed site" in s for s in problems)
    assert not check(res, distance=d, p=3).ok


def test_bad_inputs_are_named() -> None:
    with pytest.raises(InputError, match="p must be a whole number from 1 to 3"):
        p_median(np.ones((4, 3)), 5)
    with pytest.raises(InputError, match=r"negative values in client rows \[1\]"):
        p_median(np.array([[1.0, 2.0], [-1.0, 0.0]]), 1)
    with pytest.raises(InputError, match="client weights must have length 2"):
        p_median(np.ones((2, 2)), 1, weights=[1, 2, 3])
