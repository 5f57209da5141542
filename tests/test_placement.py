"""Placement model: hand-checkable optima, both solver families, sharing, options, checker."""

from __future__ import annotations

from pathlib import Path

import pytest

from reserve_opt import load_instance
from reserve_opt.domain import (
    Agreement,
    Commodity,
    Facility,
    FacilityKind,
    Instance,
    Region,
    Scenario,
    Settings,
    SizeOption,
    Tier,
)
from reserve_opt.models.placement import PlacementOptions, check_placement, solve_placement
from reserve_opt.solvers import SolveStatus

ROOT = Path(__file__).resolve().parents[1]
GW = FacilityKind.GOVERNMENT_WAREHOUSE


def _solve(inst: Instance, opts: PlacementOptions | None = None, solver: str = "highs"):
    res = solve_placement(inst, opts or PlacementOptions(), solver=solver)
    if res.has_plan:
        rep = check_placement(inst, res)
        assert rep.ok, rep.violations
    return res


def _one_region(demands: list[tuple[float, float]], *, purchase: float = 10.0,
                penalty: float = 100.0, budget: float | None = None) -> Instance:
    """One region, a candidate at the region's point (no transport), small/large sizes."""
    return Instance(
        name="tiny", currency="CNY",
        regions=(Region("A", "A", 1000, 120.0, 40.0),),
        commodities=(Commodity("w", "water", "unit", 1.0, 1.0, purchase, penalty,
                               holding_cost=0.0, transport_cost_per_km=0.0),),
        facilities=(Facility("WA", "WA", GW, "A", 120.0, 40.0, existing=False,
                             sizes=(SizeOption("small", 10.0, 100.0),
                                    SizeOption("large", 100.0, 300.0))),),
        scenarios=tuple(Scenario(f"s{i}", f"s{i}", p, demand={("A", "w"): d})
                        for i, (p, d) in enumerate(demands)),
        settings=Settings(budget=budget),
    )


def test_tiny_single_scenario_optimum() -> None:
    # demand 50 m3-units, 1 m3 each. Options: nothing -> 50 x 100 = 5000; small (10 m3):
    # 100 + 10 x 10 + 40 x 100 = 4200; large: 300 + 50 x 10 = 800. Optimum 800, large, 50 units.
    res = _solve(_one_region([(1.0, 50.0)]))
    assert res.status is SolveStatus.OPTIMAL
    assert res.objective == pytest.approx(800.0, rel=1e-9)
    assert [(o.facility, o.size) for o in res.opened] == [("WA", "large")]
    assert res.stock_totals()["w"] == pytest.approx(50.0)
    assert res.costs is not None and res.costs.shortage == pytest.approx(0.0, abs=1e-9)


def test_tiny_small_size_is_enough() -> None:
    # demand 8: small costs 100 + 80 = 180 < large 380 < nothing 800.
    res = _solve(_one_region([(1.0, 8.0)]))
    assert res.objective == pytest.approx(180.0, rel=1e-9)
    assert [o.size for o in res.opened] == ["small"]


def test_service_level_and_cvar_raise_stock() -> None:
    # demand 10 (p 0.9) or 100 (p 0.1), q = 10, p = 50, holding 0. Risk neutral: a unit above
    # 10 saves 0.1 x 50 = 5 < 10, so stock 10, which fits the small size:
    # objective 100 + 10 x 10 + 0.1 x 90 x 50 = 650 (large: 300 + 100 + 450 = 850).
    inst = _one_region([(0.9, 10.0), (0.1, 100.0)], penalty=50.0)
    base = _solve(inst)
    assert base.stock_totals()["w"] == pytest.approx(10.0)
    assert base.objective == pytest.approx(650.0, rel=1e-9)
    # service floor 95%: E[demand] = 19, E[shortage] = 0.1 (100 - s) <= 0.95 -> s >= 90.5
    sl = _solve(inst, PlacementOptions(service_level=0.95))
    assert sl.stock_totals()["w"] == pytest.approx(90.5, rel=1e-6)
    # CVaR_0.9 is the worst scenario's shortage cost; with lambda 0.9 a unit above 10 saves
    # 0.9 x 50 + 0.1 x 5 = 45.5 > 0.1 x 10 = 1: stock 100
    cv = _solve(inst, PlacementOptions(risk_weight=0.9, cvar_level=0.9))
    assert cv.stock_totals()["w"] == pytest.approx(100.0)
    assert cv.costs is not None and base.costs is not None
    assert cv.costs.cvar_shortage < base.costs.cvar_shortage
    assert cv.costs.total > base.costs.total


def _two_regions(agreements: tuple[Agreement, ...] = ()) -> Instance:
    return Instance(
        name="two", currency="CNY",
        regions=(Region("A", "A", 1000, 120.0, 40.0), Region("B", "B", 1000, 120.5, 40.0)),
        commodities=(Commodity("w", "water", "unit", 1.0, 0.01, 1.0, 100.0,
                               holding_cost=0.0, transport_cost_per_km=0.001),),
        facilities=(Facility("WA", "WA", GW, "A", 120.0, 40.0, capacity_m3=1.0,  # full: 100 units x 0.01 m3
                             stock={"w": 100.0}),),
        scenarios=(Scenario("s", "s", 1.0, demand={("B", "w"): 50.0}),),
        agreements=agreements,
    )


def test_agreements_restrict_sharing() -> None:
    inst = _two_regions()
    pooled = _solve(inst, PlacementOptions(sharing="pooled"))
    assert pooled.costs is not None and pooled.costs.shortage == pytest.approx(0.0, abs=1e-9)
    # no agreement: B cannot draw on A's stock, and WA's stock is A's
    closed = _solve(inst, PlacementOptions(sharing="agreements"))
    assert closed.costs is not None
    assert closed.costs.shortage == pytest.approx(50 * 100.0)
    assert not [f for f in closed.flows if f.region == "B"]
    # an agreement A -> B capped at 20 units: 30 short; 20 x 0.5 compensation reported
    ag = Agreement("AB", Tier.NEIGHBOUR, lender="A", borrower="B", cap_quantity=20.0,
                   compensation=0.5)
    capped = _solve(_two_regions((ag,)))
    assert capped.sharing == "agreements"
    assert capped.costs is not None and capped.costs.shortage == pytest.approx(30 * 100.0)
    assert capped.settlement[0].expected_units == pytest.approx(20.0)
    assert capped.costs.expected_compensation == pytest.approx(10.0)
    # cap as a share of the lender's stock: 30% of 100 = 30 -> 20 short
    ag2 = Agreement("AB", Tier.NEIGHBOUR, lender="A", borrower="B", cap_share=0.3)
    assert _solve(_two_regions((ag2,))).costs.shortage == pytest.approx(20 * 100.0)


def test_toy_same_objective_both_solver_families() -> None:
    inst = load_instance(ROOT / "instances" / "toy")
    for opts in (PlacementOptions(sharing="pooled"), PlacementOptions(sharing="agreements"),
                 PlacementOptions(sharing="pooled", response_time=True, service_level=0.5)):
        a = _solve(inst, opts, "highs")
        b = _solve(inst, opts, "pulp-cbc")
        assert a.status is b.status is SolveStatus.OPTIMAL
        assert a.objective == pytest.approx(b.objective, rel=1e-6)


def test_parent_region_serves_its_children() -> None:
    # Hill County has no agreement; its parent Northtown may still serve it (tier 3)
    inst = load_instance(ROOT / "instances" / "toy")
    res = solve_placement(inst, PlacementOptions(sharing="agreements", service_level=0.9))
    assert res.status is SolveStatus.OPTIMAL
    assert check_placement(inst, res).ok
    hill = [f for f in res.flows if f.region == "hill"]
    assert hill and {f.source for f in hill} == {"W_north"}
    parent_lines = [s for s in res.settlement if s.agreement == "(parent region)"]
    assert parent_lines and all(s.expected_compensation == 0.0 for s in parent_lines)


def test_infeasible_service_level_names_regions() -> None:
    inst = load_instance(ROOT / "instances" / "toy")
    res = solve_placement(inst, PlacementOptions(sharing="agreements", service_level=0.9,
                                                 parent_serves=False))
    assert res.status is SolveStatus.INFEASIBLE
    assert res.infeasibility is not None
    regions = {u[0] for u in res.infeasibility.unserved}
    assert "hill" in regions
    assert any("hill" in m for m in res.infeasibility.messages)


def test_infeasible_budget_explained() -> None:
    # full service needs the large size (300) + 50 units (500) = 800 > budget 500
    inst = _one_region([(1.0, 50.0)], budget=500.0)
    res = solve_placement(inst, PlacementOptions(service_level=1.0))
    assert res.status is SolveStatus.INFEASIBLE
    assert res.infeasibility is not None
    assert res.infeasibility.budget_shortfall == pytest.approx(300.0, rel=1e-6)


def test_result_tables_and_dict() -> None:
    inst = load_instance(ROOT / "instances" / "toy")
    res = _solve(inst)
    t = res.tables()
    assert set(t) == {"opened", "stock", "contracts", "vehicles", "flows", "shortages",
                      "settlement", "reasons",
                      "costs"}
    d = res.to_dict()
    assert d["status"] == "optimal" and d["costs"]["currency"] == "CNY"


def test_time_limit_returns_plan_or_no_solution() -> None:
    from reserve_opt.solvers import SolverOptions

    inst = load_instance(ROOT / "instances" / "toy")
    res = solve_placement(inst, PlacementOptions(), solver_options=SolverOptions(time_limit_s=5))
    assert res.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)
    assert res.gap is not None


@pytest.mark.slow
def test_rawls_turnquist_within_2_percent() -> None:
    from reserve_opt.solvers import SolverOptions

    inst = load_instance(ROOT / "instances" / "rawls-turnquist")
    res = solve_placement(inst, PlacementOptions(sharing="pooled", budget=None),
                          solver_options=SolverOptions(mip_gap=1e-3, time_limit_s=600))
    assert check_placement(inst, res).ok
    assert res.objective == pytest.approx(89.5e6, rel=0.02)
    totals = res.stock_totals()
    assert totals["food"] == pytest.approx(3609, rel=0.01)
    assert totals["medical_kits"] == pytest.approx(19631, rel=0.01)
