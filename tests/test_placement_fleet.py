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
                             capacity_m3=10_000.0, stock={"w": 1000.0}),),
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
    # more kg x h would carry: 1,000 CNY / (100 kg x 5 h) = 2 CNY per kg x h (water's
    # load weight is its weight: 0.1 m3 x 100 kg per m3 = 10 kg < 100 kg)
    [why] = capped.reasons
    assert (why.region, why.commodity, why.reason, why.detail, why.worth_unit) == (
        "B", "w", "binding", "the fleet at WA is fully used (load-weight kg x h)",
        "CNY per load-weight kg x h")
    assert why.worth == pytest.approx(2.0)
    # the checker catches a plan that ignores the fleet, held to the fleet's rules
    report = check_placement(inst, dataclasses.replace(free, options=PlacementOptions()))
    assert report.violations == (
        "Fleet at WA in s: 150,000.0 load-weight kg x h of round trips, more than its vehicles' "
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


def _with_offer(retainer: float, delay_h: float = 0.0) -> Instance:
    # the own truck as above, plus a logistics firm's offer of one more at WA
    inst = _instance()
    offer = VehicleType("T_hire", "WA", 1, 10_000.0, 100.0, max_hours=10.0,
                        provider="Liaoyang Freight", delay_h=delay_h, retainer=retainer,
                        signed=False)
    return dataclasses.replace(inst, fleet=(*inst.fleet, offer))


def test_a_logistics_contract_is_signed_when_its_trucks_pay_for_themselves() -> None:
    # the second truck carries the last 100 units (saving 100 x 1,000 = 100,000 CNY of
    # penalty): worth its 20,000 retainer, not a 150,000 one
    cheap = solve_placement(_with_offer(20_000.0))
    assert cheap.costs is not None
    hired = {d.vehicle: d.signed for d in cheap.vehicles}
    assert hired == {"T": True, "T_hire": True}
    assert cheap.costs.shortage == pytest.approx(0.0, abs=1e-6)
    assert cheap.costs.retainer == pytest.approx(20_000.0)
    assert cheap.objective == pytest.approx(20_000.0)
    assert check_placement(_with_offer(20_000.0), cheap).ok
    dear = solve_placement(_with_offer(150_000.0))
    assert {d.vehicle: d.signed for d in dear.vehicles} == {"T": True, "T_hire": False}
    assert dear.objective == pytest.approx(100_000.0)


def test_trucks_arriving_late_work_only_the_rest_of_the_day() -> None:
    # arriving 12 h into a 1-day event, the hired truck works half its hours: 50,000 kg x h
    # more carries 100 units, so both trucks move all 300 (the loads, 3 x 10 t each, also
    # halve to 15,000 kg: 150 units, enough)
    plan = solve_placement(_with_offer(20_000.0, delay_h=12.0))
    assert plan.costs is not None and plan.costs.shortage == pytest.approx(0.0, abs=1e-6)
    late = solve_placement(_with_offer(20_000.0, delay_h=18.0))  # a quarter: 50 units more
    assert late.costs is not None
    assert late.costs.shortage == pytest.approx(50 * 1000.0)


def test_a_plan_s_signed_logistics_contract_moves_goods_in_allocation(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from reserve_opt.io import save_instance
    from tests.cli_runner import run_cli

    folder = tmp_path / "inst"
    save_instance(_with_offer(20_000.0), folder)
    plan = tmp_path / "plan"
    r = run_cli("plan", str(folder), "--out", str(plan))
    assert r.exit_code == 0, r.output
    assert "Logistics contracts (trucks)" in r.stdout
    assert (plan / "vehicles.csv").is_file()
    alone = run_cli("allocate", str(folder), "-s", "s", "--periods", "1", "--format", "json")
    with_plan = run_cli("allocate", str(folder), "-s", "s", "--periods", "1", "--plan",
                        str(plan), "--format", "json")
    import json

    short = json.loads(alone.stdout)["total_shortage"]["w"]
    assert short > 0  # the own truck alone cannot move all 300 in a day
    assert json.loads(with_plan.stdout)["total_shortage"]["w"] < short


def _quilts() -> Instance:
    # quilts of 2 kg and 0.05 m3 and water of 10 kg and 0.01 m3 at WA, 1,000 of each
    # needed at B, on one truck of 10 t / 40 m3 (250 kg per m3) working 10 h of a 1-day
    # event, a round trip of 5 h: a quilt's load weight is max(2, 0.05 x 250) = 12.5 kg,
    # water's max(10, 0.01 x 250) = 10 kg
    inst = _instance()
    return dataclasses.replace(
        inst,
        commodities=(Commodity("q", "quilt", "unit", 2.0, 0.05, 1.0, 1000.0,
                               holding_cost=0.0, transport_cost_per_km=0.0),
                     Commodity("w", "water", "unit", 10.0, 0.01, 1.0, 1000.0,
                               holding_cost=0.0, transport_cost_per_km=0.0)),
        facilities=(dataclasses.replace(inst.facilities[0], stock={"q": 1000.0, "w": 1000.0}),),
        scenarios=(Scenario("s", "s", 1.0, days=1.0,
                            demand={("B", "q"): 1000.0, ("B", "w"): 1000.0}),),
        fleet=(VehicleType("T", "WA", 1, 10_000.0, 40.0, max_hours=10.0),))


def test_bulky_goods_count_their_load_weight_as_allocation_does() -> None:
    # 100,000 kg x h >= 5 x (12.5 q + 10 w): water first (less truck per unit of the same
    # penalty), 1,000 x 50 = 50,000, leaves 50,000 / 62.5 = 800 quilts: 1,800 units; by
    # plain weight (5 x (2 q + 10 w) = 60,000 and 250 of 400 m3 x h) all 2,000 would fit
    from reserve_opt.models.allocation import AllocationOptions, solve_allocation
    from reserve_opt.models.allocation.from_plan import plan_inputs

    inst = _quilts()
    plan = solve_placement(inst)
    moved = {k: sum(f.quantity for f in plan.flows if f.commodity == k) for k in "qw"}
    assert moved == pytest.approx({"q": 800.0, "w": 1000.0})
    assert check_placement(inst, plan).ok
    signed, stock = plan_inputs(plan, inst)
    alloc = solve_allocation(signed, "s", AllocationOptions(periods=1), stock=stock)
    delivered = alloc.final().groupby("commodity")["delivered"].sum()
    assert {k: float(delivered[k]) for k in "qw"} == pytest.approx(moved)
    # a plan that moves all 2,000 counts quilts by weight: the checker refuses it
    free = solve_placement(inst, PlacementOptions(fleet_limits=False))
    report = check_placement(inst, dataclasses.replace(free, options=PlacementOptions()))
    assert report.violations == (
        "Fleet at WA in s: 112,500.0 load-weight kg x h of round trips, more than its "
        "vehicles' 100,000.0 over 1 days.",)


def test_the_decomposition_counts_load_weight_too() -> None:
    from reserve_opt.models.placement.decomposition import solve_decomposition
    from reserve_opt.solvers import SolverOptions
    from reserve_opt.variants.sweep import dask_client

    inst = _quilts()
    opts = PlacementOptions(explain_shortages=False)
    ext = solve_placement(inst, opts, solver_options=SolverOptions(mip_gap=1e-6))
    with dask_client(1, None) as client:
        dec = solve_decomposition(inst, opts, SolverOptions(mip_gap=1e-6), client=client)
    assert ext.objective == pytest.approx(200 * 1000.0)
    assert dec.objective == pytest.approx(ext.objective, rel=1e-6)
    assert check_placement(inst, dec).ok
