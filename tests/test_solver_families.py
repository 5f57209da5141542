"""Both solver families give the same optimum on every bundled instance.

OR-Tools (HiGHS, and SCIP where it is quick, through MathOpt) against CBC (through PuLP),
on the placement model for instances/toy, liaoning, georgia and rawls-turnquist, and on
every siting model for Georgia. Two answers agree when each objective lies within the
requested gap of the other and neither is better than the other's proven bound; every plan
passes the independent checker.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest

from reserve_opt import load_instance
from reserve_opt.domain import Instance
from reserve_opt.models.placement import (
    PlacementOptions,
    PlacementResult,
    check_placement,
    solve_placement,
)
from reserve_opt.models.placement.heuristic import primal_start
from reserve_opt.models.placement.model import build_model, prepare
from reserve_opt.models.siting import (
    SitingResult,
    check,
    facility_location,
    max_coverage,
    p_median,
    set_cover,
)
from reserve_opt.models.siting.instance import SitingData, siting_data
from reserve_opt.solvers import SolverOptions, SolveStatus

ROOT = Path(__file__).resolve().parents[1]
EXACT = 1e-6  # requested relative gap where the instance solves quickly to optimality
RT_GAP = 1e-3  # the Rawls-Turnquist target gap


@cache
def instance(name: str) -> Instance:
    return load_instance(ROOT / "instances" / name)


def solve_checked(name: str, opts: PlacementOptions, solver: str, gap: float) -> PlacementResult:
    inst = instance(name)
    res = solve_placement(inst, opts, solver=solver,
                          solver_options=SolverOptions(mip_gap=gap, time_limit_s=600))
    assert res.status is SolveStatus.OPTIMAL, (solver, res.status, res.message)
    report = check_placement(inst, res)
    assert report.ok, (solver, report.violations)
    return res


def assert_same_optimum(a: PlacementResult, b: PlacementResult, gap: float) -> None:
    assert a.objective is not None and b.objective is not None
    assert a.bound is not None and b.bound is not None
    scale = max(abs(a.objective), abs(b.objective), 1.0)
    slack = gap * scale + 1e-6 * scale  # requested gap plus solver tolerances
    assert abs(a.objective - b.objective) <= slack, (a.solver, a.objective, b.solver,
                                                    b.objective)
    # neither plan beats what the other solver proved impossible to beat
    assert a.objective >= b.bound - 1e-6 * scale
    assert b.objective >= a.bound - 1e-6 * scale


def compare(name: str, opts: PlacementOptions, solvers: tuple[str, ...], gap: float) -> None:
    results = [solve_checked(name, opts, s, gap) for s in ("pulp-cbc", *solvers)]
    for other in results[1:]:
        assert_same_optimum(results[0], other, gap)


FAST_CASES = [
    ("toy", PlacementOptions()),
    ("toy", PlacementOptions(sharing="pooled", response_time=True)),
    ("toy", PlacementOptions(sharing="pooled", risk_weight=0.5)),
    ("liaoning", PlacementOptions()),
    ("liaoning", PlacementOptions(sharing="pooled", response_time=True, service_level=0.5)),
]


@pytest.mark.parametrize(("name", "opts"), FAST_CASES,
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(FAST_CASES)])
def test_placement_same_optimum_cbc_highs_scip(name: str, opts: PlacementOptions) -> None:
    compare(name, opts, ("highs", "scip"), EXACT)


@pytest.mark.slow
def test_placement_same_optimum_georgia() -> None:
    compare("georgia", PlacementOptions(), ("highs",), EXACT)


@pytest.mark.slow
def test_placement_same_optimum_rawls_turnquist() -> None:
    opts = PlacementOptions(sharing="pooled", budget=None)
    cbc = solve_checked("rawls-turnquist", opts, "pulp-cbc", RT_GAP)
    highs = solve_checked("rawls-turnquist", opts, "highs", RT_GAP)
    assert_same_optimum(highs, cbc, RT_GAP)
    # HiGHS without the primal start reaches the same optimum too (the start only helps)
    bare = solve_checked("rawls-turnquist", PlacementOptions(sharing="pooled", budget=None,
                                                             primal_heuristic=False),
                         "highs", RT_GAP)
    assert_same_optimum(bare, cbc, RT_GAP)


@pytest.mark.parametrize("name", ["toy", "liaoning"])
def test_primal_start_is_a_plan_and_changes_no_optimum(name: str) -> None:
    inst = instance(name)
    opts = PlacementOptions()
    data = prepare(inst, opts)
    model = build_model(data, opts)[0].compile()
    start, value = primal_start(model, data)
    with_start = solve_checked(name, opts, "highs", EXACT)
    without = solve_checked(name, PlacementOptions(primal_heuristic=False), "highs", EXACT)
    assert with_start.objective == pytest.approx(without.objective, rel=1e-6)
    if start is not None:
        assert value is not None and with_start.objective is not None
        # the start is a plan, so it cannot beat the optimum
        assert value >= with_start.objective - 1e-6 * abs(with_start.objective)
        ints = np.flatnonzero(model.integer)
        assert np.isfinite(start[ints]).all() and np.isnan(np.delete(start, ints)).all()


# ------------------------------------------------------------------ siting on Georgia


@cache
def georgia(max_hours: float | None = None) -> SitingData:
    return siting_data(instance("georgia"), max_hours=max_hours)


def run_siting(model: str, solver: str) -> tuple[SitingResult, bool]:
    opts = SolverOptions(time_limit_s=120)
    if model == "p-median":
        d = georgia()
        r = p_median(d.distance_km, 5, d.weight, solver=solver, options=opts)
        return r, check(r, distance=d.distance_km, weights=d.weight, p=5).ok
    if model == "max-coverage":
        d = georgia(2.0)
        r = max_coverage(d.coverage, 3, d.weight, solver=solver, options=opts)
        return r, check(r, coverage=d.coverage, weights=d.weight, p=3).ok
    if model == "set-cover":
        d = georgia(3.0)
        r = set_cover(d.coverage, solver=solver, options=opts)
        return r, check(r, coverage=d.coverage).ok
    d = georgia()
    cap = d.finite_capacity() if model == "cflp" else None
    r = facility_location(d.demand_m3, d.fixed_cost, d.assign_cost, cap,
                          capacitated=model == "cflp", solver=solver, options=opts)
    return r, check(r, cost=d.assign_cost, demand=d.demand_m3, fixed_cost=d.fixed_cost,
                    capacity=cap).ok


SITING = [("p-median", ("highs", "scip")), ("max-coverage", ("highs", "scip", "cpsat")),
          ("set-cover", ("highs", "scip", "cpsat")), ("cflp", ("highs",)),
          ("uflp", ("highs", "scip"))]


@pytest.mark.parametrize(("model", "solvers"), SITING, ids=[m for m, _ in SITING])
def test_siting_same_optimum_both_families_on_georgia(model: str,
                                                       solvers: tuple[str, ...]) -> None:
    ref, ok = run_siting(model, "pulp-cbc")
    assert ref.status is SolveStatus.OPTIMAL and ok
    assert ref.objective is not None
    for solver in solvers:
        r, ok = run_siting(model, solver)
        assert r.status is SolveStatus.OPTIMAL and ok, (solver, r.status)
        assert r.objective == pytest.approx(ref.objective, rel=1e-6), solver
