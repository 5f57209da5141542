"""Agreements: a lender's total over all the agreement's borrowers (``total_cap_share``,
``total_cap_quantity``) in allocation and placement, and response times that follow the
agreement carrying the units. Every case is small enough to compute by hand."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from reserve_opt.domain import (
    Agreement,
    Commodity,
    Facility,
    FacilityKind,
    Instance,
    Region,
    Scenario,
    Settings,
    Tier,
)
from reserve_opt.models.allocation import check_allocation, solve_allocation
from reserve_opt.models.placement import PlacementOptions, check_placement, solve_placement
from reserve_opt.solvers import SolveStatus

GW = FacilityKind.GOVERNMENT_WAREHOUSE
BORROWERS = ("B1", "B2", "B3")


def _alliance(**terms: float) -> Instance:
    """L holds 100 water and needs none; B1-B3 each need 40 and hold none; one alliance.

    The warehouse is full (100 units x 0.01 m3 in 1 m3), so a plan cannot add stock.
    """
    return Instance(
        name="alliance", currency="CNY",
        regions=(Region("L", "L", 1000, 120.0, 40.0, alliance="north"),
                 *(Region(b, b, 1000, 120.0 + 0.05 * (i + 1), 40.0, alliance="north")
                   for i, b in enumerate(BORROWERS))),
        commodities=(Commodity("w", "water", "unit", 1.0, 0.01, 1.0, 100.0,
                               holding_cost=0.0, transport_cost_per_km=0.001),),
        facilities=(Facility("WL", "WL", GW, "L", 120.0, 40.0, capacity_m3=1.0,
                             stock={"w": 100.0}),),
        scenarios=(Scenario("s", "s", 1.0, demand={(b, "w"): 40.0 for b in BORROWERS}),),
        agreements=(Agreement("north", Tier.ALLIANCE, alliance="north", cap_share=0.3,
                              **terms),),
        settings=Settings(),
    )


def _allocated(inst: Instance) -> dict[str, float]:
    """Units each borrower receives in the allocation (checked)."""
    res = solve_allocation(inst, "s")
    assert res.status is SolveStatus.OPTIMAL, res.message
    report = check_allocation(inst, "s", res)
    assert report.ok, report.violations
    got = res.flows.groupby("region")["quantity"].sum()
    return {b: float(got.get(b, 0.0)) for b in BORROWERS}


def _planned(inst: Instance, **opts: object) -> float:
    """Units the plan delivers to the borrowers in all (checked)."""
    res = solve_placement(inst, PlacementOptions(sharing="agreements", **opts))  # type: ignore[arg-type]
    assert res.status is SolveStatus.OPTIMAL
    report = check_placement(inst, res)
    assert report.ok, report.violations
    return sum(f.quantity for f in res.flows if f.region in BORROWERS)


def test_per_borrower_share_gives_each_member_its_share() -> None:
    # 0.3 x 100 = 30 to each of three members: 90 of L's 100 in all
    assert _allocated(_alliance()) == pytest.approx({b: 30.0 for b in BORROWERS})
    assert _planned(_alliance()) == pytest.approx(90.0)


def test_total_share_caps_what_the_lender_gives_in_all() -> None:
    # 0.5 x 100 = 50 in all, each member still at most 30
    inst = _alliance(total_cap_share=0.5)
    got = _allocated(inst)
    assert sum(got.values()) == pytest.approx(50.0)
    assert max(got.values()) <= 30.0 + 1e-9
    assert _planned(inst) == pytest.approx(50.0)
    # a quantity total works the same way, and the tighter of the two applies
    assert sum(_allocated(_alliance(total_cap_quantity=45.0)).values()) == pytest.approx(45.0)
    both = _alliance(total_cap_share=0.5, total_cap_quantity=70.0)
    assert sum(_allocated(both).values()) == pytest.approx(50.0)
    assert _planned(_alliance(total_cap_quantity=45.0)) == pytest.approx(45.0)


def test_the_total_share_counts_stock_left_after_damage() -> None:
    # half of WL's stock is destroyed: 50 left, 0.5 of it = 25 in all (0.3 x 50 = 15 each)
    inst = _alliance(total_cap_share=0.5)
    ev = dataclasses.replace(inst.scenarios[0], damage={"WL": 0.5})
    inst = dataclasses.replace(inst, scenarios=(ev,))
    assert sum(_allocated(inst).values()) == pytest.approx(25.0)
    assert _planned(inst) == pytest.approx(25.0)


def test_checkers_refuse_a_lender_over_its_total() -> None:
    # the 90 units given without a total, checked against the agreement with one
    loose, tight = _alliance(), _alliance(total_cap_share=0.5)
    res = solve_allocation(loose, "s")
    assert check_allocation(loose, "s", res).ok
    assert ("agreement north: L gives 90 w to its borrowers in all, over 0.5 of its 100."
            in check_allocation(tight, "s", res).violations)
    plan = solve_placement(loose, PlacementOptions(sharing="agreements"))
    assert ("L lends 90.000 w in s to B1, B2, B3, but no booking of these units to its "
            "agreements keeps their caps, lender totals, protect_own surplus."
            in check_placement(tight, plan).violations)
