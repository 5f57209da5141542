"""Placement is right and speaks the allocation's rules (issue 13, item 0), by hand.

Each case is small enough to solve on paper; every solve passes the independent checker,
and a tampered or wrong plan for the same case is rejected by it with a named reason.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from reserve_opt import InstanceBuilder
from reserve_opt.domain import Instance
from reserve_opt.models.allocation import read_plan, solve_allocation
from reserve_opt.models.placement import (
    PlacementOptions,
    PlacementResult,
    check_placement,
    solve_placement,
)
from reserve_opt.solvers import SolveStatus

GW = "government_warehouse"


def solve_checked(inst: Instance, opts: PlacementOptions | None = None) -> PlacementResult:
    res = solve_placement(inst, opts or PlacementOptions())
    assert res.status is SolveStatus.OPTIMAL, (res.status, res.message)
    report = check_placement(inst, res)
    assert report.ok, report.violations
    return res


# ---------------------------------------------------------------- 1. the cut and damage


def damaged(candidate: bool) -> Instance:
    """One region, demand 100, a warehouse at its point that keeps half its stock."""
    b = InstanceBuilder("damage", currency="CNY")
    b.add_region("R", population=1000, lon=120.0, lat=40.0)
    b.add_commodity("w", unit="unit", weight_kg=1, volume_m3=0.001, purchase_cost=1,
                    shortage_penalty=10, holding_cost=0, transport_cost_per_km=0)
    if candidate:
        b.add_facility("W", kind=GW, region="R", lon=120.0, lat=40.0, existing=False)
        b.add_size("W", "one", 1000.0, 1.0)
    else:
        b.add_facility("W", kind=GW, region="R", lon=120.0, lat=40.0, capacity_m3=1000.0)
    b.add_scenario("s", probability=1.0)
    b.add_demand("s", "R", "w", 100)
    b.add_damage("s", "W", 0.5)
    return b.build()


def test_damage_cut_keeps_the_true_optimum() -> None:
    # 200 units survive as 100 and cover the demand: 1 fixed + 200 x 1 = 201. Holding 100
    # (as the cut D_k = 100 forced) leaves 50 short: 1 + 100 + 50 x 10 = 601.
    res = solve_checked(damaged(candidate=True))
    assert res.objective == pytest.approx(201.0, rel=1e-9)
    assert res.stock_totals()["w"] == pytest.approx(200.0)
    # an existing warehouse in the same place: no fixed cost, the same stock
    existing = solve_checked(damaged(candidate=False))
    assert existing.objective == pytest.approx(200.0, rel=1e-9)
    assert existing.stock_totals()["w"] == pytest.approx(200.0)


# ---------------------------------------------------------------- 2. protect_own, parents


def lenders(*, a_stock: float = 100.0, a_room: float = 0.1, purchase: float = 1000.0,
            parent: bool = False) -> Instance:
    """A holds a_stock and needs 70; B needs 80 and only A lends to it (protect_own); N holds
    70 and lends to A. With ``parent``, A is B's parent instead of a lender by agreement."""
    b = InstanceBuilder("protect", currency="CNY")
    b.add_region("A", population=1000, lon=120.0, lat=40.0)
    b.add_region("B", population=1000, lon=120.1, lat=40.0, **({"parent": "A"} if parent else {}))
    b.add_region("N", population=1000, lon=120.2, lat=40.0)
    b.add_commodity("w", unit="unit", weight_kg=1, volume_m3=0.001, purchase_cost=purchase,
                    shortage_penalty=10, holding_cost=0, transport_cost_per_km=0.001)
    b.add_facility("WA", kind=GW, region="A", lon=120.0, lat=40.0, capacity_m3=a_room)
    b.add_facility("WN", kind=GW, region="N", lon=120.2, lat=40.0, capacity_m3=0.07)
    b.add_stock("WA", "w", a_stock)
    b.add_stock("WN", "w", 70)
    if not parent:
        b.add_agreement("AB", tier=1, lender="A", borrower="B", protect_own=True)
    b.add_agreement("NA", tier=1, lender="N", borrower="A", protect_own=True)
    b.add_scenario("s", probability=1.0, days=1)
    b.add_demand("s", "A", "w", 70)
    b.add_demand("s", "B", "w", 80)
    return b.build()


def short_of(res: PlacementResult) -> dict[str, float]:
    return {s.region: round(s.shortage, 6) for s in res.shortages}


def allocated_shortage(inst: Instance, res: PlacementResult, tmp_path: Path) -> dict[str, float]:
    """Allocate the plan's stock the way ``allocate --plan`` does (its solution.json)."""
    path = tmp_path / "solution.json"
    path.write_text(json.dumps(res.to_dict()), encoding="utf-8")
    planned, stock = read_plan(path, inst)
    final = solve_allocation(planned, "s", stock=stock).final()
    return {str(r.region): round(float(r.shortage), 6) for r in final.itertuples()}


@pytest.mark.parametrize("parent", [False, True], ids=["agreement", "parent"])
def test_lender_gives_only_its_surplus_in_plan_and_allocation(parent: bool,
                                                               tmp_path: Path) -> None:
    # A's surplus is 100 - 70 = 30 whatever N sends it: B gets 30 and is 50 short
    inst = lenders(parent=parent)
    res = solve_checked(inst)
    assert short_of(res) == {"A": 0.0, "B": 50.0}
    assert sum(f.quantity for f in res.flows if f.region == "B") == pytest.approx(30.0)
    assert allocated_shortage(inst, res, tmp_path) == {"A": 0.0, "B": 50.0}


def test_checker_rejects_lending_beyond_surplus() -> None:
    # the plan placement used to make: A -> B 80, N -> A 50, A keeps 20, nobody short
    inst = lenders()
    res = solve_checked(inst)
    flows = {(f.source, f.region): f for f in res.flows}
    template = flows[("WA", "B")]
    chain = (dataclasses.replace(template, region="A", quantity=20.0),
             dataclasses.replace(template, quantity=80.0),
             dataclasses.replace(template, source="WN", quantity=50.0))
    wrong = dataclasses.replace(res, flows=chain, shortages=tuple(
        dataclasses.replace(s, shortage=0.0, fill_rate=1.0) for s in res.shortages))
    assert ("A lends 80.000 w in s under protect_own terms or as a parent, more than its "
            "surplus 30.000 (holds 100.000, needs 70.000).") in check_placement(
                inst, wrong).violations


def test_lender_buys_to_cover_itself_before_lending() -> None:
    # A holds 60 < its need 70 and has room for 200: buying 90 (90 x 1) lets it keep 70 and
    # lend 80, so nobody is short; without it 10 + 80 units are short (900). Transport:
    # 80 units x 0.001 x km(A->B). Lending while short (buy 10 or less) is not allowed.
    inst = lenders(a_stock=60.0, a_room=0.2, purchase=1.0)
    res = solve_checked(inst)
    assert res.stock_totals()["w"] == pytest.approx(150.0 + 70.0)
    assert short_of(res) == {"A": 0.0, "B": 0.0}
    assert res.costs is not None and res.costs.purchase == pytest.approx(90.0)
