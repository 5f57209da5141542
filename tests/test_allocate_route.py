"""Allocation and routing agree: allocate --route, allocate_and_route, the calibrated fleet."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from reserve_opt.io import load_instance
from reserve_opt.models.allocation import AllocationOptions, check_allocation, solve_allocation
from reserve_opt.models.allocation.loop import allocate_and_route, route_days
from reserve_opt.models.routing import check_deliveries
from tests.cli_runner import run_cli

ROOT = Path(__file__).resolve().parents[1]
GEORGIA = ROOT / "instances" / "georgia"
#: Routing iterations per day: small, so the tests run in seconds on any machine.
ITERATIONS = 100


def test_georgia_savannah_allocation_and_routes_agree_within_two_percent() -> None:
    inst = load_instance(GEORGIA)
    loop = allocate_and_route(inst, "hurricane_savannah", max_iterations=ITERATIONS)
    assert loop.agree
    assert 1 <= loop.rounds <= 5
    assert [d.period for d in loop.days] == [1, 2, 3]
    for day in loop.days:
        # the routed units per day equal what the allocation promises that day, within 2%
        promised = float(loop.allocation.deliveries(day.period)["quantity"].sum())
        assert day.promised_units == pytest.approx(promised)
        assert day.routed_units >= 0.98 * promised
        # the independent routing checker passes on every day's routes
        assert check_deliveries(day.plan, day.result).ok
    # the kept allocation passes its own checker, route caps included
    report = check_allocation(inst, "hurricane_savannah", loop.allocation)
    assert report.ok, report.violations[:3]
    for src, period, kg in loop.caps:
        f = loop.allocation.flows
        sent = f[(f["source"] == src) & (f["period"] == period)]
        weight = {c.id: c.weight_kg for c in inst.commodities}
        kg_sent = sum(float(q) * weight[str(c)]
                      for q, c in zip(sent["quantity"], sent["commodity"], strict=True))
        assert kg_sent <= kg + 1e-3


def test_the_calibrated_fleet_model_alone_routes_savannah_day_one() -> None:
    # whole round trips after the 4 h release: W_richmond's 6 trucks make one trip each on
    # day 1, so what the fleet depots promise is routed (was 49% unmet on day 1); the
    # grocer without trucks in its region is not limited by the LP and is unmet in routing
    # with that reason (allocate --route caps it)
    inst = load_instance(GEORGIA)
    alloc = solve_allocation(inst, "hurricane_savannah", AllocationOptions(explain=False))
    day1 = route_days(inst, alloc, max_iterations=ITERATIONS)[0]
    assert day1.period == 1
    rep = day1.report
    grocer = rep["source"] == "E_gwinnett_grocer"
    fleet = rep[~grocer]
    # within 5% (one 800-unit water load finds no room at 100 iterations); the loop closes it
    assert float(fleet["delivered"].sum()) >= 0.95 * float(fleet["quantity"].sum())
    # (with overnight trips the fleet depots carry day 1 and the grocer may not ship)
    assert set(rep.loc[grocer & (rep["unmet"] > 0), "reason"]) <= {
        "E_gwinnett_grocer has no vehicles and there is no fleet depot in region c13135 to "
        "borrow from; add fleet rows for E_gwinnett_grocer or use fleetless='nearest'"}


def test_a_load_released_too_late_for_a_round_trip_goes_the_next_day() -> None:
    inst = load_instance(GEORGIA)
    no_nights = dataclasses.replace(inst, fleet=tuple(
        dataclasses.replace(v, overnight=False) for v in inst.fleet))
    alloc = solve_allocation(no_nights, "hurricane_savannah", AllocationOptions(explain=False))
    f = alloc.flows[alloc.flows["source"].str.startswith("W_")]  # the depots with trucks
    # without overnight trips every flow on a fleet leaves early enough in its day for a
    # whole round trip (+1 h handling) within the 11 h working day of Georgia's trucks
    offset = f["depart_h"] - (f["period"] - 1) * 24.0
    assert len(f) > 0
    assert (offset + 2 * f["time_h"] + 1.0 <= 11.0 + 1e-9).all()


def test_a_load_released_too_late_for_a_round_trip_rides_overnight() -> None:
    inst = load_instance(GEORGIA)
    alloc = solve_allocation(inst, "hurricane_savannah", AllocationOptions(explain=False))
    f = alloc.flows[alloc.flows["source"].str.startswith("W_")]
    offset = f["depart_h"] - (f["period"] - 1) * 24.0
    late = offset + 2 * f["time_h"] + 1.0 > 11.0 + 1e-9
    assert late.any()
    # such a trip goes on after the 13 h night (24 h - 11 h) when the way out does not
    # fit the working day's rest; the others arrive after their travel time
    night = late & (offset + f["time_h"] > 11.0 + 1e-9)
    expect = f["depart_h"] + f["time_h"] + np.where(night, 13.0, 0.0)
    assert np.allclose(f["arrive_h"], expect)


def test_allocate_route_prints_what_the_trucks_deliver_each_day() -> None:
    res = run_cli("allocate", str(GEORGIA), "--scenario", "hurricane_savannah", "--route",
                  "--route-iterations", str(ITERATIONS))
    assert res.exit_code == 0, res.stderr
    assert "On trucks: allocation and routes agree after " in res.stdout
    assert "What the trucks deliver each day" in res.stdout
    assert "On trucks by day and commodity" in res.stdout


def test_allocate_route_json_has_the_rounds_and_each_day(tmp_path: Path) -> None:
    out = tmp_path / "a"
    res = run_cli("allocate", str(GEORGIA), "--scenario", "hurricane_savannah", "--route",
                  "--rounds", "3", "--route-iterations", str(ITERATIONS), "--format", "json",
                  "--out", str(out))
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    route = doc["route"]
    assert route["agree"] is True and 1 <= route["rounds"] <= 3
    assert [d["day"] for d in route["days"]] == [1, 2, 3]
    for d in route["days"]:
        assert d["on_trucks_units"] >= 0.98 * d["promised_units"]
    assert (out / "trucks.csv").is_file() and (out / "loop.json").is_file()


@pytest.mark.parametrize(("args", "message"), [
    (["--route", "--rounds", "0"],
     "error: --rounds 0: give a whole number of allocations from 1 to 50, e.g. 5.\n"),
    (["--route", "--rounds", "51"],
     "error: --rounds 51: give a whole number of allocations from 1 to 50, e.g. 5.\n"),
    (["--rounds", "3"],
     "error: --rounds 3: counts the allocations of --route; add --route, or leave --rounds "
     "out.\n"),
    (["--route", "--route-iterations", "0"],
     "error: --route-iterations 0: give a whole number of 1 or more, e.g. 200.\n"),
])
def test_bad_rounds_are_refused_in_one_line(args: list[str], message: str) -> None:
    res = run_cli("allocate", str(GEORGIA), "--scenario", "hurricane_savannah", *args)
    assert res.exit_code == 1
    assert res.stderr == message


def test_route_with_an_event_file_is_refused(tmp_path: Path) -> None:
    event = tmp_path / "e.toml"
    event.write_text("", encoding="utf-8")
    res = run_cli("allocate", str(GEORGIA), "--event", str(event), "--route")
    assert res.exit_code == 1
    assert res.stderr == (f"error: --route: routes a scenario of the instance, and {event} is "
                          "an event file; give --scenario ID instead of --event.\n")
