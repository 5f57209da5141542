"""Allocation and routing agree: allocate --route, allocate_and_route, the calibrated fleet."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reserve_opt.fleet import depot_kg_per_m3, load_kg
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


LIAONING = ROOT / "instances" / "liaoning"
TOY = ROOT / "instances" / "toy"


def test_a_unit_takes_its_weight_or_its_volume_at_the_trucks_kg_per_m3() -> None:
    # Liaoning's 10 t / 45 m3 trucks carry 222.2 kg per m3: a 3 kg, 0.03 m3 quilt takes
    # 6.67 kg of a truck (its volume fills the truck first), a 7 kg, 0.012 m3 case of water
    # its 7 kg
    inst = load_instance(LIAONING)
    (rho,) = depot_kg_per_m3(inst, ["W_yingkou"])
    assert rho == pytest.approx(10000 / 45)
    assert float(load_kg(3.0, 0.03, rho)) == pytest.approx(0.03 * 10000 / 45)
    assert float(load_kg(7.0, 0.012, rho)) == 7.0


def test_quake_haicheng_single_allocation_fits_the_trucks_that_carry_it() -> None:
    # W_yingkou's 27 trucks make at most 3 trips on day 1: the allocation's loads, counted
    # as routing packs them (quilts and tents by volume), fit 81 truck loads, and the day
    # routes within 2% (with kg and m3 counted apart, 87 loads were promised: 7.8% unmet)
    inst = load_instance(LIAONING)
    alloc = solve_allocation(inst, "quake_haicheng", AllocationOptions(explain=False))
    f = alloc.flows[(alloc.flows["source"] == "W_yingkou") & (alloc.flows["period"] == 1)]
    comm = {c.id: c for c in inst.commodities}
    loads = sum(float(q) * max(comm[str(k)].weight_kg, comm[str(k)].volume_m3 * 10000 / 45)
                for q, k in zip(f["quantity"], f["commodity"], strict=True))
    assert 0 < loads <= 27 * 3 * 10000 + 1e-3
    day1 = route_days(inst, alloc, max_iterations=ITERATIONS)[0]
    assert day1.period == 1
    assert day1.unmet_share <= 0.02


def test_the_loop_caps_sources_without_trucks_from_the_first_round() -> None:
    # the toy's supermarket has no vehicles and no fleet depot in its region: routing has no
    # truck for it, so the loop caps it at 0 kg on every day before the first allocation and
    # agrees in one round (it took a second round to learn that from the routes)
    inst = load_instance(TOY)
    loop = allocate_and_route(inst, "flood", max_iterations=ITERATIONS)
    assert loop.agree and loop.rounds == 1
    assert [(s, t, kg) for s, t, kg in loop.caps if s == "S_river"] == [
        ("S_river", 1, 0.0), ("S_river", 2, 0.0), ("S_river", 3, 0.0)]
    assert "S_river" not in set(loop.allocation.flows["source"])
    assert all(d.unmet_units == 0 for d in loop.days)


def test_a_warm_loop_gives_the_answer_of_a_cold_one() -> None:
    # Georgia's hurricane_flood takes more than one round; reusing the routes of days whose
    # deliveries did not change gives the same rounds, caps, allocation and routes as
    # routing every day again in every round
    inst = load_instance(GEORGIA)
    warm = allocate_and_route(inst, "hurricane_flood", max_iterations=ITERATIONS)
    cold = allocate_and_route(inst, "hurricane_flood", max_iterations=ITERATIONS, warm=False)
    assert warm.rounds == cold.rounds >= 2
    assert warm.agree and cold.agree
    assert warm.caps == cold.caps
    pd.testing.assert_frame_equal(warm.allocation.flows, cold.allocation.flows)
    assert [(d.period, d.promised_units, d.routed_units) for d in warm.days] == [
        (d.period, d.promised_units, d.routed_units) for d in cold.days]
    for w, c in zip(warm.days, cold.days, strict=True):
        pd.testing.assert_frame_equal(w.report, c.report)


def _bundled_scenarios() -> list[tuple[str, str]]:
    out = []
    for folder in sorted(p for p in (ROOT / "instances").iterdir() if p.is_dir()):
        inst = load_instance(folder)
        if inst.fleet:
            out += [(folder.name, sc.id) for sc in inst.scenarios]
    return out


@pytest.mark.slow
@pytest.mark.parametrize(("name", "scenario"), _bundled_scenarios())
def test_the_loop_converges_within_five_rounds_on_every_bundled_scenario(
        name: str, scenario: str) -> None:
    inst = load_instance(ROOT / "instances" / name)
    loop = allocate_and_route(inst, scenario, rounds=5, max_iterations=ITERATIONS)
    assert loop.agree, [(d.period, d.unmet_share) for d in loop.days]
    assert loop.rounds <= 5
    assert all(d.unmet_share <= 0.02 for d in loop.days)


def test_savannah_single_allocation_on_trucks_leaves_at_most_one_load_for_new_reasons() -> None:
    # routing the single allocation of each day: what is left off for reasons the
    # allocation does not report (not the grocer without trucks) is within 2% of the day's
    # promise on days 1 and 3; on day 2 one 10 t load of water (800 units, 2.6%), which a
    # hand-made plan carries but the engine's search misses (models/allocation.md)
    inst = load_instance(GEORGIA)
    alloc = solve_allocation(inst, "hurricane_savannah", AllocationOptions(explain=False))
    days = route_days(inst, alloc, max_iterations=ITERATIONS)
    assert [d.period for d in days] == [1, 2, 3]
    new = {}
    for d in days:
        rep = d.report
        new[d.period] = float(rep.loc[rep["source"] != "E_gwinnett_grocer", "unmet"].sum())
    assert new[1] <= 0.02 * days[0].promised_units
    assert new[3] <= 0.02 * days[2].promised_units
    assert new[2] <= 800.0  # one truck load of 12.5 kg cases
