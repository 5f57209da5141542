"""p-center, backup coverage, capacitated p-median and fixed sites: brute force, spopt's
San Francisco case, and the independent checker catching tampered plans."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reserve_opt.errors import InputError
from reserve_opt.models.siting import (
    backup_cover,
    capacitated_p_median,
    check,
    coverage_from_distance,
    facility_location,
    max_coverage,
    p_center,
    p_median,
    set_cover,
)
from reserve_opt.solvers import SolverOptions, SolveStatus

SF = Path(__file__).resolve().parent / "data" / "spopt_sf_205x16.csv"


def points(seed: int, n: int, m: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a, b = rng.random((n, 2)), rng.random((m, 2))
    return np.linalg.norm(a[:, None] - b[None], axis=2) * 100


def sf() -> tuple[np.ndarray, np.ndarray]:
    table = pd.read_csv(SF, index_col=0, dtype={"tract": str})
    return table.drop(columns="demand").to_numpy(), table["demand"].to_numpy(dtype=float)


def test_p_center_reaches_spopts_san_francisco_optimum() -> None:
    d, _ = sf()
    res = p_center(d, 4, solver="highs")
    assert res.status is SolveStatus.OPTIMAL and check(res, distance=d, p=4).ok
    assert res.objective == pytest.approx(7403.06, abs=0.005)
    assert res.bound == res.objective


def test_p_median_reaches_spopts_san_francisco_optimum() -> None:
    d, w = sf()
    res = p_median(d, 4, w, solver="highs")
    assert res.status is SolveStatus.OPTIMAL and check(res, distance=d, weights=w, p=4).ok
    assert res.objective == pytest.approx(2848268129.7145, rel=1e-9)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("solver", ["highs", "pulp-cbc"])
def test_p_center_matches_brute_force(seed: int, solver: str) -> None:
    d = np.round(points(seed, 30, 10))  # rounded: ties
    w = None if seed % 2 else np.random.default_rng(seed).integers(0, 4, 30)
    wv = np.ones(30) if w is None else w
    p = 2 + seed % 3
    best = min(max(wv[i] * d[i, list(c)].min() for i in range(30))
               for c in itertools.combinations(range(10), p))
    res = p_center(d, p, w, solver=solver)
    rep = check(res, distance=d, weights=w, p=p)
    assert res.status is SolveStatus.OPTIMAL and rep.ok, rep.problems
    assert res.objective == pytest.approx(best) and res.bound == pytest.approx(best)


def test_p_center_with_fixed_sites_matches_brute_force() -> None:
    d = points(7, 25, 9)
    best = min(d[:, [0, 5, *c]].min(axis=1).max()
               for c in itertools.combinations([1, 2, 3, 4, 6, 7, 8], 2))
    res = p_center(d, 4, fixed=[0, 5], solver="highs")
    assert check(res, distance=d, p=4, fixed=[0, 5]).ok
    assert {0, 5} <= set(res.open_sites.tolist())
    assert res.objective == pytest.approx(best)


def test_p_center_out_of_time_keeps_a_plan_and_a_valid_bound() -> None:
    d = points(3, 60, 30)
    exact = p_center(d, 5, solver="highs")
    res = p_center(d, 5, solver="highs", options=SolverOptions(time_limit_s=1e-9))
    assert res.status is SolveStatus.FEASIBLE and check(res, distance=d, p=5).ok
    assert res.bound is not None and res.objective is not None
    assert res.bound <= exact.objective <= res.objective  # type: ignore[operator]


@pytest.mark.parametrize("seed", range(3))
def test_backup_cover_matches_brute_force(seed: int) -> None:
    d = points(seed + 10, 30, 10)
    a = coverage_from_distance(d, 40.0).toarray() > 0
    a[:, 0] |= ~a.any(axis=1)  # everyone coverable
    w = np.random.default_rng(seed).integers(1, 5, 30)
    fewest = next(k for k in range(1, 11) if any(
        a[:, list(c)].any(axis=1).all() for c in itertools.combinations(range(10), k)))
    best = max(w[a[:, list(c)].sum(axis=1) >= 2].sum()
               for c in itertools.combinations(range(10), fewest)
               if a[:, list(c)].any(axis=1).all())
    res = backup_cover(a, w, solver="highs")
    rep = check(res, coverage=a, weights=w, p=fewest)
    assert res.status is SolveStatus.OPTIMAL and rep.ok, rep.problems
    assert res.objective == best
    assert res.covered is not None and bool(res.covered.all())


def _cpm_brute_force(d: np.ndarray, q: np.ndarray, s: np.ndarray, p: int) -> float:
    n, m = d.shape
    best = np.inf
    for sites in itertools.combinations(range(m), p):
        for to in itertools.product(sites, repeat=n):
            load = np.bincount(np.array(to), weights=q, minlength=m)
            if (load <= s + 1e-9).all():
                best = min(best, float(sum(q[i] * d[i, j] for i, j in enumerate(to))))
    return best


@pytest.mark.parametrize("seed", range(3))
def test_capacitated_p_median_matches_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    d = np.round(points(seed, 7, 5))
    q = rng.integers(1, 6, 7).astype(float)
    s = np.full(5, np.ceil(q.sum() / 2) + 1)
    best = _cpm_brute_force(d, q, s, 2)
    res = capacitated_p_median(d, 2, q, s, solver="highs")
    rep = check(res, distance=d, demand=q, capacity=s, p=2)
    assert res.status is SolveStatus.OPTIMAL and rep.ok, rep.problems
    assert res.objective == pytest.approx(best)
    unlimited = p_median(d, 2, q, solver="highs")
    assert unlimited.objective is not None and unlimited.objective <= best + 1e-9


def test_capacitated_p_median_split_demand_is_never_dearer() -> None:
    d = points(4, 12, 6)
    q = np.arange(1, 13, dtype=float)
    s = np.full(6, 30.0)
    single = capacitated_p_median(d, 3, q, s, solver="highs")
    split = capacitated_p_median(d, 3, q, s, single_source=False, solver="highs")
    assert check(split, distance=d, demand=q, capacity=s, p=3, single_source=False).ok
    assert split.objective <= single.objective + 1e-6  # type: ignore[operator]


def test_capacitated_p_median_without_room_is_refused() -> None:
    with pytest.raises(InputError) as err:
        capacitated_p_median(points(1, 4, 3), 2, [5, 5, 5, 5], [9, 9, 9])
    assert err.value.problems[0] == (
        "The 2 sites with the most capacity (fixed sites included) hold 18, below the total "
        "demand 20; raise p or the capacities.")


def test_fixed_sites_stay_open_in_every_model() -> None:
    d = points(2, 20, 8)
    a = coverage_from_distance(d, 45.0)
    pm = p_median(d, 3, fixed=[7])
    best = min(d[:, [7, *c]].min(axis=1).sum() for c in itertools.combinations(range(7), 2))
    assert 7 in pm.open_sites and pm.objective == pytest.approx(best)
    assert check(pm, distance=d, p=3, fixed=[7]).ok
    classic = p_median(d, 3, fixed=[7], formulation="classic")
    assert classic.objective == pytest.approx(best)
    assert 7 in max_coverage(a, 3, fixed=[7]).open_sites
    assert 7 in set_cover((a.toarray() > 0) | (np.arange(8) == 0), fixed=[7]).open_sites
    fl = facility_location(np.ones(20), np.full(8, 1e6), d, capacitated=False, fixed=[7, 2])
    assert {2, 7} <= set(fl.open_sites.tolist())
    assert check(fl, cost=d, demand=np.ones(20), fixed_cost=np.full(8, 1e6), fixed=[2, 7]).ok


@pytest.mark.parametrize(("fixed", "message"), [
    ([9], "Fixed sites [9] are not site indices 0 to 7; name existing sites only."),
    ([1, 1], "A fixed site is listed twice; list each existing site once."),
    ([0, 1, 2, 3], "4 sites are fixed open but only p = 3 may be open; raise p or fix fewer "
     "sites."),
    ([0.5], "Fixed sites must be whole site indices, got [0.5]."),
])
def test_bad_fixed_sites_are_one_sentence(fixed: list[float], message: str) -> None:
    with pytest.raises(InputError) as err:
        p_median(points(0, 5, 8), 3, fixed=fixed)
    assert err.value.problems == (message,)


def test_checker_rejects_tampered_plans() -> None:
    d = points(5, 15, 6)
    q = np.ones(15)
    pc = p_center(d, 2, solver="highs")
    assert not check(dataclasses.replace(pc, objective=pc.objective * 0.9),  # type: ignore[operator]
                     distance=d, p=2).ok
    assert not check(pc, distance=d, p=2, fixed=[next(j for j in range(6)
                                                      if j not in pc.open_sites)]).ok
    cp = capacitated_p_median(d, 2, q, np.full(6, 9.0), solver="highs")
    assert cp.assignment is not None
    half = cp.assignment * 0.5 + np.roll(cp.assignment, 1, axis=1) * 0.5
    rep = check(dataclasses.replace(cp, assignment=half), distance=d, demand=q,
                capacity=np.full(6, 9.0), p=2)
    assert not rep.ok and any("split" in s for s in rep.problems)
    rep = check(cp, distance=d, demand=q, capacity=np.full(6, 7.0), p=2)
    assert any("more than their capacity" in s for s in rep.problems)
    a = coverage_from_distance(d, 60.0).toarray() > 0
    a[:, 0] = True
    bc = backup_cover(a, solver="highs")
    assert bc.backup is not None
    wrong = dataclasses.replace(bc, backup=~bc.backup)
    assert "The reported backup coverage differs from that of the open sites." in check(
        wrong, coverage=a).problems


@pytest.mark.parametrize("seed", range(8))
def test_p_median_lp_fix_matches_brute_force(seed: int) -> None:
    # weighted, rounded distances: seed 5 fixes radius variables by reduced cost too
    rng = np.random.default_rng(seed)
    a, b = rng.random((30, 2)), rng.random((10, 2))
    d = np.round(np.linalg.norm(a[:, None] - b[None], axis=2) * 100)
    w = rng.integers(1, 50, 30).astype(float)
    best = min(w @ d[:, list(c)].min(axis=1) for c in itertools.combinations(range(10), 3))
    res = p_median(d, 3, w, formulation="lp-fix", solver="highs")
    rep = check(res, distance=d, weights=w, p=3)
    assert res.status is SolveStatus.OPTIMAL and rep.ok, rep.problems
    assert res.objective == pytest.approx(best) and res.bound == pytest.approx(best)


def test_p_median_lp_fix_keeps_fixed_sites_and_agrees_with_radius() -> None:
    d = np.round(points(11, 60, 25))
    for fixed in (None, [3, 17]):
        fast = p_median(d, 5, formulation="lp-fix", solver="highs", fixed=fixed)
        slow = p_median(d, 5, formulation="radius", solver="highs", fixed=fixed)
        assert check(fast, distance=d, p=5, fixed=fixed).ok
        assert fast.status is SolveStatus.OPTIMAL
        assert fast.objective == pytest.approx(slow.objective)


def test_interchange_leaves_no_improving_swap() -> None:
    from reserve_opt.models.siting.pmedian_lp import interchange

    d = points(12, 40, 15)
    w = np.random.default_rng(12).integers(1, 9, 40).astype(float)
    fixed = np.zeros(15, dtype=bool)
    fixed[4] = True
    plan = interchange(d, w, 4, fixed).tolist()
    assert len(plan) == 4 and 4 in plan

    def cost(sites: list[int]) -> float:
        return sum(w[i] * min(d[i][j] for j in sites) for i in range(40))

    here = cost(plan)
    for out in plan:
        if out == 4:
            continue
        for into in range(15):
            if into not in plan:
                swapped = [into if j == out else j for j in plan]
                assert cost(swapped) >= here - 1e-9


def test_backup_cover_agrees_with_spopts_san_francisco_percentage() -> None:
    # spopt's test_lscpb publishes 81.46341463414633 % at 5000 m; its backup rows leave u_i
    # free for clients that only one site can cover, so it also counts those 22 as backed up
    d, _ = sf()
    a = coverage_from_distance(d, 5000.0)
    res = backup_cover(a, solver="highs")
    assert res.status is SolveStatus.OPTIMAL and check(res, coverage=a).ok
    assert res.open_sites.size == 8 and res.objective == 145
    single = int((np.asarray(a.sum(axis=1)).ravel() == 1).sum())
    assert single == 22
    assert (res.objective + single) / 205 * 100 == pytest.approx(81.46341463414633)
