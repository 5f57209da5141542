"""Placement respects the fleet: a plan never promises more than the trucks can move.

One warehouse at A with plenty of stock, demand 300 units at B, 100 km of road at 50 km/h
(2 h each way), 1 h of handling: a round trip costs 5 h. Each unit weighs 100 kg. One
10 t truck working 10 h a day over a 1-day event gives 100,000 kg x h: 100 x 5 x q <=
100,000, so q <= 200; its loads (3 trips x 10 t = 30,000 kg) would allow 300. So 200 units
arrive and 100 are short, where without fleet limits all 300 do.
"""

from __future__ import annotations

import dataclasses

import pytest

from reserve_opt.domain import (
    Commodity,
    Facility,
    FacilityKind,
    Instance,
    Link,
    Region,
    Scenario,
    Settings,
    VehicleType,
)
from reserve_opt.models.placement import PlacementOptions, check_placement, solve_placement


def _instance(days: float = 1.0) -> Instance:
    return Instance(
        name="fleet", currency="CNY",
        regions=(Region("A", "A", 1000, 120.0, 40.0), Region("B", "B", 1000, 121.0, 40.0)),
        commodities=(Commodity("w", "water", "unit", 100.0, 0.1, 1.0, 1000.0,
                               holding_cost=0.0, transport_cost_per_km=0.0),),
        facilities=(Facility("WA", "WA", FacilityKind.GOVERNMENT_WAREHOUSE, "A", 120.0, 40.0,
                             stock={"w": 1000.0}),),
        scenarios=(Scenario("s", "s", 1.0, days=days, demand={("B", "w"): 300.0}),),
        links=(Link("A", "B", 100.0),),
        fleet=(VehicleType("T", "WA", 1, 10_000.0, 100.0, max_hours=10.0),),
        settings=Settings(speed_kmh=50.0, budget=None),
    )


def test_the_fleet_caps_what_a_plan_promises() -> None:
    inst = _instance()
    free = solve_placement(inst, PlacementOptions(fleet_limits=False))
    assert free.costs is not None and free.costs.shortage == pytest.approx(0.0, abs=1e-6)
    capped = solve_placement(inst)
    assert capped.costs is not None
    shipped = sum(f.quantity for f in capped.flows)
    assert shipped == pytest.approx(200.0)
    assert capped.costs.shortage == pytest.approx(100 * 1000.0)
    assert check_placement(inst, capped).ok
    # the plan says why: the truck's hours bind, each worth the penalty of the units one
    # more kg x h would carry: 1,000 CNY / (100 kg x 5 h) = 2 CNY per kg x h
    [why] = capped.reasons
    assert (why.region, why.commodity, why.reason, why.detail, why.worth_unit) == (
        "B", "w", "binding", "the fleet at WA is fully used (kg x h)", "CNY per kg x h")
    assert why.worth == pytest.approx(2.0)
    # the checker catches a plan that ignores the fleet, held to the fleet's rules
    report = check_placement(inst, dataclasses.replace(free, options=PlacementOptions()))
    assert report.violations == (
        "Fleet at WA in s: 150,000.0 kg x h of round trips, more than its vehicles' "
        "100,000.0 over 1 days.",)


def test_a_longer_event_gives_the_trucks_more_days() -> None:
    # 2 days: 200,000 kg x h -> up to 400 units, so all 300 arrive
    plan = solve_placement(_instance(days=2.0))
    assert plan.costs is not None and plan.costs.shortage == pytest.approx(0.0, abs=1e-6)


def test_fleet_options_are_checked() -> None:
    from reserve_opt.errors import InputError

    with pytest.raises(InputError, match=r"max_trips=0 must be a whole number >= 1\."):
        PlacementOptions(max_trips=0)
    with pytest.raises(InputError, match=r"handling_h=-1 must be >= 0 hours\."):
        PlacementOptions(handling_h=-1)
