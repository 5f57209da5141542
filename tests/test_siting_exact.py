"""Exact p-median and facility location by Lagrangian bounds, fixing and branching.

Published optima on the bundled OR-Library files; the fixing rules checked against every
plan of small random instances (no plan cheaper than the incumbent is ever cut off); the
answers compared with the plain MIP on seeded random instances; limits in nodes, not
seconds.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from reserve_opt.models.siting import (
    check,
    facility_location,
    p_median,
    read_optima,
    read_orlib_cap,
    read_orlib_pmed,
)
from reserve_opt.models.siting import flp_lagrangian as flp
from reserve_opt.models.siting import pmedian_bb as bb
from reserve_opt.models.siting.result import SitingResult
from reserve_opt.solvers import SolverOptions, SolveStatus
from tests.cli_runner import run_cli

DATA = Path(__file__).resolve().parent / "data"
PMED_OPT = read_optima(DATA / "orlib-pmed" / "pmedopt.txt")
CAP_OPT = read_optima(DATA / "orlib-cap" / "capopt.txt")
UNCAP_OPT = read_optima(DATA / "orlib-cap" / "uncapopt.txt")


def points(seed: int, n: int, m: int, *, whole: bool = False) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a, b = rng.random((n, 2)), rng.random((m, 2))
    d = np.linalg.norm(a[:, None] - b[None], axis=2) * 100
    return np.round(d) if whole else d


def lagrangian_flp(dem: np.ndarray, f: np.ndarray, c: np.ndarray,
                   cap: np.ndarray | None) -> SitingResult:
    # the Lagrangian path itself: facility_location sends models this small to one MIP
    return flp.facility_location_lagrangian(
        np.asarray(dem, dtype=float), np.asarray(f, dtype=float), np.asarray(c, dtype=float),
        None if cap is None else np.asarray(cap, dtype=float),
        np.zeros(c.shape[1], dtype=bool), solver="highs", options=SolverOptions(), t0=0.0)


def plan_cost(d: np.ndarray, w: np.ndarray, sites: tuple[int, ...]) -> float:
    return float(w @ d[:, list(sites)].min(axis=1))


@pytest.mark.parametrize("name", ["pmed1", "pmed2", "pmed4", "pmed5", "pmed6", "pmed7"])
def test_lagrangian_proves_the_published_pmed_optima(name: str) -> None:
    inst = read_orlib_pmed(DATA / "orlib-pmed" / f"{name}.txt")
    res = p_median(inst.distance, inst.p, formulation="lagrangian")
    assert res.status is SolveStatus.OPTIMAL
    assert res.objective == PMED_OPT[name]
    assert res.bound == PMED_OPT[name]
    rep = check(res, distance=inst.distance, p=inst.p)
    assert rep.ok, rep.problems


@pytest.mark.parametrize("name", ["cap41", "cap64", "cap74"])
def test_cflp_lagrangian_proves_the_published_cap_optima(name: str) -> None:
    inst = read_orlib_cap(DATA / "orlib-cap" / f"{name}.txt")
    res = lagrangian_flp(inst.demand, inst.fixed_cost, inst.cost, inst.capacity)
    assert res.status is SolveStatus.OPTIMAL
    assert res.objective == pytest.approx(CAP_OPT[name], rel=1e-9)
    rep = check(res, cost=inst.cost, demand=inst.demand, capacity=inst.capacity,
                fixed_cost=inst.fixed_cost)
    assert rep.ok, rep.problems


def test_uflp_lagrangian_proves_the_published_optimum() -> None:
    inst = read_orlib_cap(DATA / "orlib-cap" / "cap72.txt")
    res = lagrangian_flp(inst.demand, inst.fixed_cost, inst.cost, None)
    assert res.status is SolveStatus.OPTIMAL
    assert res.objective == pytest.approx(UNCAP_OPT["cap72"], rel=1e-9)
    assert check(res, cost=inst.cost, demand=inst.demand, fixed_cost=inst.fixed_cost).ok


@pytest.mark.parametrize("seed", range(6))
def test_pmedian_fixing_never_cuts_off_a_cheaper_plan(seed: int) -> None:
    # every plan cheaper than the incumbent must survive the bound's closing and opening
    n, m, p = 14, 9, 3
    rng = np.random.default_rng(seed)
    d = points(seed, n, m)
    w = rng.integers(1, 6, n).astype(float)
    costs = {s: plan_cost(d, w, s) for s in itertools.combinations(range(m), p)}
    ranked = sorted(costs.values())
    ub = ranked[len(ranked) // 20]  # an incumbent a few plans above the optimum
    relax = bb._Lagrangian(w[:, None] * d, p)
    none = np.zeros(m, dtype=bool)
    lam0 = (w[:, None] * d).min(axis=1)
    bound = relax.ascend(lam0, none, none, ub, ub, 500, 2.0, 20)
    assert bound.value <= ranked[0] + 1e-9  # a lower bound
    opened, closed = bb._fix(bound, none, none, p, ub)
    better = [s for s, c in costs.items() if c < ub - 1e-9]
    assert better
    for s in better:
        assert not closed[list(s)].any(), (s, np.flatnonzero(closed))
        assert set(np.flatnonzero(opened)) <= set(s)


@pytest.mark.parametrize("seed", range(4))
def test_pmedian_lagrangian_equals_the_plain_mip(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    d = points(100 + seed, 60, 30, whole=seed % 2 == 0)
    w = rng.integers(1, 9, 60).astype(float)
    fast = p_median(d, 4, w, formulation="lagrangian")
    plain = p_median(d, 4, w, formulation="classic", solver="highs")
    assert fast.status is SolveStatus.OPTIMAL and plain.status is SolveStatus.OPTIMAL
    assert fast.objective == pytest.approx(plain.objective, rel=1e-9)
    assert check(fast, distance=d, p=4, weights=w).ok


def test_pmedian_lagrangian_keeps_fixed_sites_and_agrees_with_the_mip() -> None:
    d = points(7, 40, 20)
    fast = p_median(d, 5, formulation="lagrangian", fixed=[3, 11])
    plain = p_median(d, 5, formulation="classic", solver="highs", fixed=[3, 11])
    assert {3, 11} <= set(fast.open_sites.tolist())
    assert fast.objective == pytest.approx(plain.objective, rel=1e-9)
    assert check(fast, distance=d, p=5, fixed=[3, 11]).ok


@pytest.mark.parametrize("seed", range(3))
def test_cflp_lagrangian_equals_the_plain_mip(seed: int) -> None:
    rng = np.random.default_rng(200 + seed)
    n, m = 40, 12
    c = points(200 + seed, n, m) * rng.integers(1, 5, n)[:, None]
    dem = rng.integers(1, 5, n).astype(float)
    f = rng.integers(50, 150, m).astype(float)
    s = rng.integers(15, 30, m).astype(float)
    for cap in (s, None):
        kw = dict(capacitated=cap is not None, solver="highs")
        fast = lagrangian_flp(dem, f, c, cap)
        plain = facility_location(dem, f, c, cap, method="mip", **kw)  # type: ignore[arg-type]
        assert fast.status is SolveStatus.OPTIMAL and plain.status is SolveStatus.OPTIMAL
        assert fast.objective == pytest.approx(plain.objective, rel=1e-7)
        assert check(fast, cost=c, demand=dem, capacity=cap, fixed_cost=f).ok


def test_a_node_limit_returns_a_checked_plan_with_an_honest_bound() -> None:
    inst = read_orlib_pmed(DATA / "orlib-pmed" / "pmed6.txt")  # needs branching
    d, p = inst.distance, inst.p
    m = d.shape[1]
    res = bb.p_median_lagrangian(d, p, np.ones(d.shape[0]), np.zeros(m, dtype=bool),
                                 options=SolverOptions(), t0=0.0, max_nodes=1)
    assert res.status is SolveStatus.FEASIBLE
    assert res.bound is not None and res.objective is not None
    assert res.bound < PMED_OPT["pmed6"] <= res.objective
    assert check(res, distance=d, p=p).ok


def test_site_method_flag_picks_the_lagrangian_or_the_mip() -> None:
    pmed = str(DATA / "orlib-pmed" / "pmed2.txt")
    fast = run_cli("site", "p-median", pmed)
    assert fast.exit_code == 0, fast.output
    assert "optimal in" in fast.stdout and "with lagrangian-bb" in fast.stdout
    assert "known optimum 4,093 (pmedopt.txt): matches" in fast.stdout
    mip = run_cli("site", "p-median", pmed, "--method", "mip")
    assert mip.exit_code == 0, mip.output
    assert "with highs" in mip.stdout and "matches" in mip.stdout
    cap = run_cli("site", "uflp", str(DATA / "orlib-cap" / "cap71.txt"), "--method", "mip")
    assert cap.exit_code == 0 and "with highs" in cap.stdout


def test_site_method_flag_is_refused_where_it_does_not_apply() -> None:
    pmed = str(DATA / "orlib-pmed" / "pmed1.txt")
    res = run_cli("site", "p-center", pmed, "--method", "mip")
    assert res.exit_code == 1
    assert res.stderr.strip() == "error: --method: not used by p-center; leave it out."
    res = run_cli("site", "p-median", pmed, "--method", "exact")
    assert res.exit_code == 1
    assert res.stderr.strip() == ("error: --method 'exact': unknown; choose one of "
                                  "lagrangian, mip.")


def test_a_gap_asked_for_is_reported_not_hidden() -> None:
    d = points(11, 80, 40)
    exact = p_median(d, 4, formulation="classic", solver="highs")
    assert exact.objective is not None
    loose = p_median(d, 4, formulation="lagrangian", options=SolverOptions(mip_gap=0.05))
    assert loose.status is SolveStatus.OPTIMAL
    assert loose.objective is not None and loose.bound is not None
    assert loose.bound <= exact.objective + 1e-9 <= loose.objective + 1e-9
    assert loose.objective <= exact.objective * 1.05 + 1e-9
    assert loose.gap is not None and loose.gap <= 0.05 + 1e-12
