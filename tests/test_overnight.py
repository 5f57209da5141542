"""Trips longer than a working day (issue 13, item 3): overnight with a night's rest.

Hand-computed case: one truck of 10 t at warehouse W, a 10 h working day, and a region
``far`` 6.5 h away (a 14 h round trip with the allocation's 1 h of handling). By the fleet
rule (:func:`reserve_opt.fleet.fleet_trips`) the truck leaves at 0 h, arrives at 6.5 h,
stops when its working day ends at 10 h, rests 14 h and is back 4 h into day 2 (28 h):
one load costs two vehicle-days. Over a 3-day event it delivers 1,000 units on day 1 and
1,000 on day 3 (day 2 it is still away), where the old rule carried nothing.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from reserve_opt import InstanceBuilder
from reserve_opt.domain import Instance
from reserve_opt.errors import InputError
from reserve_opt.fleet import charged_trip_h, fleet_trips, no_day_reason, trip_loads
from reserve_opt.models.allocation import AllocationOptions, solve_allocation
from reserve_opt.models.allocation.check import check_allocation
from reserve_opt.models.routing import (
    DeliveryOptions,
    check,
    check_deliveries,
    delivery_report,
    from_allocation,
    route_lines,
    solve,
    vehicles_away,
)
from tests.cli_runner import run_cli

ROOT = Path(__file__).resolve().parents[1]
NO_DAY = ("W -> far: a round trip of 14.00 h from W is longer than its vehicles' 10 h "
          "working day and its fleet rows make no overnight trips (overnight false), so no "
          "day of the event can deliver it; set overnight to true in fleet.csv to let "
          "trucks rest the night and go on")


def far_instance(overnight: bool = True, demand: float = 3000.0) -> Instance:
    b = InstanceBuilder("far", currency="CNY")
    b.add_commodity("water", unit="case", weight_kg=10.0, volume_m3=0.01,
                    purchase_cost=1.0, shortage_penalty=100.0)
    b.add_region("home", population=1000, lon=120.0, lat=40.0)
    b.add_region("far", population=1000, lon=124.0, lat=40.0)
    b.add_facility("W", kind="government_warehouse", region="home", lon=120.0, lat=40.0,
                   capacity_m3=1000)
    b.add_stock("W", "water", 5000)
    b.add_travel("W", "far", 390.0, 6.5)
    b.add_travel("far", "W", 390.0, 6.5)
    b.add_vehicle_type("T", depot="W", count=1, capacity_kg=10000.0, capacity_m3=100.0,
                       max_hours=10.0, overnight=overnight)
    b.add_scenario("s", probability=1.0)
    b.add_demand("s", "far", "water", demand)
    return b.build()


OPTS = AllocationOptions(demand_profile="first-day")


def test_the_fleet_rule_by_hand() -> None:
    # 14 h round trip, 10 h working day, 24 h days: two days away, rest 14 h
    t = fleet_trips(np.array([10.0, 10.0, 10.0]), np.array([0.0, 5.0, 0.0]),
                    np.array([6.5, 6.5, 3.5]), 1.0)
    assert t.days.tolist() == [2, 2, 1]
    assert t.charge_h.tolist() == [10.0, 10.0, 10.0 / 1]  # 8 h trip: one fits a 10 h day
    assert t.overnight.tolist() == [True, True, False]
    # leaving at 0 h: arrives 6.5 h, works 14 h in all, back at 14 + 14 h of night = 28 h
    # leaving at 5 h: arrives at 11.5 h of work = 25.5 h on the clock (20.5 h after it left)
    assert t.arrive_h.tolist() == [6.5, 20.5, 3.5]
    assert t.back_h.tolist() == [28.0, 28.0, 8.0]
    # the total vehicle-hours placement charges: two working days
    assert charged_trip_h(np.array(10.0), np.array(0.0), np.array(6.5), 1.0) == 20.0
    # an 8 h trip released at 5 h does not fit the rest of the day: it rides overnight,
    # arriving at 8.5 h and back at 13 h of work + 14 h of night = 27 h (22 h after it left)
    late = fleet_trips(np.array(10.0), np.array(5.0), np.array(3.5), 1.0)
    assert (late.days.tolist(), late.arrive_h.tolist(), late.back_h.tolist()) == (2, 3.5, 22.0)
    # without overnight trips it waits for the next day, which can deliver it (no reason)
    nxt = fleet_trips(np.array(10.0), np.array(5.0), np.array(3.5), 1.0, overnight=False)
    assert nxt.days.tolist() == 0 and np.isinf(nxt.charge_h)
    assert no_day_reason(10.0, 3.5, 1.0, False, "W") == ""
    # an overnight load takes all of its vehicle's trips on each day it is away
    assert trip_loads(np.array([1, 2]), 3).tolist() == [1.0, 3.0]
    # without overnight trips the 14 h round trip is never carried
    off = fleet_trips(np.array(10.0), np.array(0.0), np.array(6.5), 1.0, overnight=False)
    assert off.days.tolist() == 0 and np.isinf(off.charge_h)


def test_allocation_carries_the_long_trip_overnight_and_charges_two_days() -> None:
    inst = far_instance()
    res = solve_allocation(inst, "s", OPTS)
    assert check_allocation(inst, "s", res).ok
    f = res.flows.sort_values("period")
    # day 1: one truckload arrives at 6.5 h; day 2 the truck is away; day 3 the next load
    assert f[["period", "arrival_period", "quantity", "depart_h", "arrive_h"]].values.tolist() \
        == [[1, 1, 1000.0, 0.0, 6.5], [3, 3, 1000.0, 48.0, 54.5]]
    assert res.total_shortage() == {"water": 1000.0}


def test_without_overnight_trips_no_day_can_deliver_with_that_reason() -> None:
    inst = far_instance(overnight=False)
    res = solve_allocation(inst, "s", OPTS)
    assert res.flows.empty and res.total_shortage() == {"water": 3000.0}
    ex = res.explanations
    assert ex[["reason", "detail"]].values.tolist() == [["no_day", NO_DAY]]


def _route(inst: Instance, period: int, table: pd.DataFrame,
           opts: DeliveryOptions | None = None, engine: str = "pyvrp") -> tuple[Any, Any]:
    plan = from_allocation(inst, table, "s", period=period, options=opts)
    result = solve(plan.problem, engine, max_iterations=200, seed=1)
    verdict = check_deliveries(plan, result)
    assert verdict.ok, verdict.violations
    return plan, result


@pytest.mark.parametrize("engine", ["pyvrp", "ortools"])
def test_routing_drives_overnight_and_holds_the_truck_the_next_day(engine: str) -> None:
    inst = far_instance()
    res = solve_allocation(inst, "s", OPTS)
    plan, result = _route(inst, 1, res.deliveries(1), engine=engine)
    report = delivery_report(plan, result)
    assert report["delivered"].sum() == 1000.0 and report["unmet"].sum() == 0.0
    lines = route_lines(plan, result)
    # 0.5 h loading, 6.5 h out, 0.25 h unloading, 6.5 h back: 13.75 h of work, and the
    # 14 h night after the 10 h working day: back at 27.75 h, 3.75 h into day 2
    assert lines[["vehicle_type", "start_h", "end_h"]].values.tolist() == [
        ["T overnight", 0.0, 27.75]]
    away = vehicles_away(plan, result)
    assert away == {2: {"T": [pytest.approx(3.75)]}}
    # on day 2 the truck is back at 3.75 h: a day-2 load leaves then, on the working clock
    # of that day (3.75 h + 13.75 h of work, the night, back at 31.5 h)
    plan2, result2 = _route(inst, 2, res.deliveries(1).assign(ready_h=24.0),
                            DeliveryOptions(away=away[2]), engine)
    assert delivery_report(plan2, result2)["delivered"].sum() == 1000.0
    lines2 = route_lines(plan2, result2)
    assert lines2[["vehicle_type", "start_h", "end_h"]].values.tolist() == [
        ["T overnight back at 3.75 h", pytest.approx(3.75), pytest.approx(31.5)]]
    # out all day 2 (back after its working day): nothing is routed, with the reason
    plan3, result3 = _route(inst, 2, res.deliveries(1).assign(ready_h=24.0),
                            DeliveryOptions(away={"T": [26.0]}), engine)
    rep3 = delivery_report(plan3, result3)
    assert rep3["delivered"].sum() == 0.0
    assert set(rep3["reason"]) == {"no vehicle of W is left for W: W's vehicles go to the "
                                   "sources that ship more"}
    # the checker: an overnight route that starts after its first working day is a later
    # day's route
    late = dataclasses.replace(result.routes[0], start=result.routes[0].start + 10.0)
    bad = check(plan.problem, dataclasses.replace(result, routes=(late,)))
    assert ("route 0: T overnight starts at 10 h of work, after its first working day "
            "(10 h) ends.") in bad.violations


def test_vehicles_away_must_be_hours() -> None:
    with pytest.raises(InputError, match=r"^away: T: give the hour each vehicle is back, a "
                       r"number >= 0 on the day's clock\.$"):
        DeliveryOptions(away={"T": [-1.0]})


def test_routing_without_overnight_trips_states_why() -> None:
    inst = far_instance(overnight=False)
    table = pd.DataFrame([("W", "far", "water", 1000.0)],
                         columns=["source", "region", "commodity", "quantity"])
    plan, result = _route(inst, 1, table)
    report = delivery_report(plan, result)
    assert report["reason"].tolist() == [
        "W -> far: a round trip of 13.75 h from W is longer than its vehicles' 10 h working "
        "day and its fleet rows make no overnight trips (overnight false), so no day of the "
        "event can deliver it; set overnight to true in fleet.csv to let trucks rest the "
        "night and go on"]


def test_liaoning_typhoon_east_dalian_and_dandong_not_short_through_the_cli() -> None:
    # before: 92.8% with Dalian and Dandong short; their long trips were never carried
    r = run_cli("allocate", str(ROOT / "instances" / "liaoning"), "-s", "typhoon_east")
    assert r.exit_code == 0, r.stderr
    assert "overall fill rate 100.0%" in r.stdout
    assert "Overnight trips: 2 flows (44,460 units) have a round trip that does not fit the " \
        "rest of their vehicles' working day: the driver stops when it ends, rests the night " \
        "(24 h - max_hours) and goes on; the vehicle is charged a working day for each day it " \
        "is away (fleet column overnight, default true)." in " ".join(r.stdout.split())
