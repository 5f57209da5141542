"""Routing an allocation's deliveries: every delivery on a route or unmet with a reason.

Hand-made deliveries on ``instances/toy`` (no links, great circles) and
``instances/liaoning`` (link graph). Every solve goes through :func:`check_deliveries`,
which runs the independent route checker and adds up every delivery.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reserve_opt import InstanceBuilder, load_instance
from reserve_opt.domain import Instance
from reserve_opt.errors import InputError
from reserve_opt.models.routing import (
    ENGINES,
    Break,
    DeliveryOptions,
    DeliveryProblem,
    RoutingResult,
    check,
    check_deliveries,
    delivery_report,
    from_allocation,
    route_lines,
    solve,
    travel_matrices,
)

ROOT = Path(__file__).resolve().parents[1]
COLUMNS = ["source", "region", "commodity", "quantity"]


@pytest.fixture(scope="module")
def toy() -> Instance:
    return load_instance(ROOT / "instances" / "toy")


@pytest.fixture(scope="module")
def liaoning() -> Instance:
    return load_instance(ROOT / "instances" / "liaoning")


@pytest.fixture(scope="module")
def seats(liaoning: Instance) -> Instance:
    """Liaoning without its demand points: regions served at their distribution points."""
    return dataclasses.replace(liaoning, demand_points=())


def _frame(rows: Sequence[tuple[str, str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COLUMNS)


#: Iterations per engine (PyVRP iterations; OR-Tools solutions): counts, not seconds, so
#: each outcome asserted here is the same on any machine.
ITERATIONS = {"pyvrp": 2_000, "ortools": 100}


def _route(plan: DeliveryProblem, engine: str) -> RoutingResult:
    result = solve(plan.problem, engine, seed=1, max_iterations=ITERATIONS[engine])
    verdict = check_deliveries(plan, result)
    assert verdict.ok, verdict.violations
    planned = float(plan.deliveries["quantity"].sum())
    assert verdict.delivered + verdict.unmet == pytest.approx(planned)
    return result


TOY_DELIVERIES = [
    ("W_north", "sea", "water", 9000),  # 14.4 t: two loads
    ("W_north", "sea", "tent", 300),
    ("W_north", "river", "water", 4000),
    ("S_river", "sea", "water", 1000),  # enterprise without a fleet
    ("S_river", "river", "water", 500),
    ("W_north", "hill", "tent", 50),
]


@pytest.mark.parametrize("engine", ENGINES)
def test_toy_every_delivery_routed_or_unmet_with_reason(toy: Instance, engine: str) -> None:
    plan = from_allocation(toy, _frame(TOY_DELIVERIES), "snow")
    result = _route(plan, engine)
    report = delivery_report(plan, result)
    # S_river has no vehicles and no fleet depot in its region: unmet, with that reason
    unmet = report[report["unmet"] > 0]
    assert set(unmet["source"]) == {"S_river"}
    assert set(unmet["reason"]) == {
        "S_river has no vehicles and there is no fleet depot in region river to borrow from; "
        "add fleet rows for S_river or use fleetless='nearest'"
    }
    # everything from W_north is on a route: 5 trucks of 10 t carry 14.4 + 7.5 + 6.4 + 1.25 t
    delivered = report[report["source"] == "W_north"]
    assert (delivered["unmet"] == 0).all() and (delivered["vehicles"] != "").all()
    assert result.status.value == "solved"
    # regions without a distribution point are served at the region's own point
    assert set(plan.loads["point"]) == {"D_sea", "river", "hill"}


def test_cut_link_makes_the_point_unmet_with_the_cut_named(toy: Instance) -> None:
    opts = DeliveryOptions(fleetless="nearest")
    plan = from_allocation(toy, _frame(TOY_DELIVERIES), "typhoon", options=opts)
    cut = plan.unrouted[plan.unrouted["source"] == "S_river"]
    assert list(cut["point"]) == ["D_sea"]
    assert list(cut["reason"]) == [
        "no road from S_river to D_sea in scenario typhoon: the outages (river-sea cut) "
        "cut every path"
    ]
    # S_river borrows a Northtown truck for its own region, which is not cut
    assert any("S_river has no fleet: it borrows vehicles from W_north" in n for n in plan.notes)
    result = _route(plan, "pyvrp")
    report = delivery_report(plan, result)
    own = report[(report["source"] == "S_river") & (report["region"] == "river")]
    assert own["delivered"].sum() == pytest.approx(500)
    borrowed = [r for r in result.routes if r.vehicle_type_name == "T_north@S_river"]
    assert len(borrowed) == 1
    # the empty drive from Northtown comes off the working day
    vt = plan.problem.vehicle_types[borrowed[0].vehicle_type]
    assert borrowed[0].start >= plan.problem.scaling.real_time(vt.shift_start) > 1.0


def test_travel_matrices_follow_outages(toy: Instance, liaoning: Instance) -> None:
    d, t = travel_matrices(toy, "typhoon", ["S_river", "D_sea", "W_north"])
    assert np.isinf(t[0, 1]) and np.isinf(t[1, 0]) and np.isfinite(t[0, 2])
    assert np.allclose(d, d.T)
    # Liaoning's link graph: the Liao flood cuts Shenyang-Jinzhou, so the trip detours
    ids = ["W_shenyang", "D_jz_gym"]
    d0, t0 = travel_matrices(liaoning, "none", ids)
    d1, t1 = travel_matrices(liaoning, "flood_liao", ids)
    assert t1[0, 1] > t0[0, 1] and d1[0, 1] > d0[0, 1]
    assert t0[0, 1] == pytest.approx(d0[0, 1] / liaoning.settings.speed_kmh)


def test_cut_link_on_the_link_graph(seats: Instance) -> None:
    # cut every link into Dandong in the no-event scenario: Dalian cannot reach its school
    b = InstanceBuilder.from_instance(seats)
    for lk in seats.links:
        if "dandong" in (lk.origin, lk.destination):
            b.add_outage("none", lk.origin, lk.destination, 0.0)
    inst = b.build()
    rows = [("W_dalian", "dandong", "water", 100), ("W_dalian", "dalian", "water", 100)]
    plan = from_allocation(inst, _frame(rows), "none")
    assert list(plan.unrouted["point"]) == ["D_dd_school"]
    assert plan.unrouted["reason"].iloc[0].startswith(
        "no road from W_dalian to D_dd_school in scenario none: the outages (")
    _route(plan, "ortools")


def test_delivery_bigger_than_a_truck_is_split_into_whole_unit_loads(seats: Instance) -> None:
    # 30,000 cases of water (7 kg) = 210 t and 2,000 tents to Dalian's two points
    rows = [("W_dalian", "dalian", "water", 30000), ("W_dalian", "dalian", "tent", 2000)]
    # Dalian's depot keeps only its own 8 trucks (no contracted ones) and 6 vans
    own = tuple(dataclasses.replace(v, count=8) if v.id == "V_dalian_10t" else v
                for v in seats.fleet)
    plan = from_allocation(dataclasses.replace(seats, fleet=own), _frame(rows), "none")
    loads = plan.loads
    # split 8000:3000 by shelter persons, whole units
    per_point = loads.groupby(["point", "commodity"])["quantity"].sum()
    assert per_point[("D_dl_gym", "water")] == 21818
    assert per_point[("D_dl_school", "water")] == 8182
    assert loads["quantity"].sum() == 32000
    assert (loads["quantity"] == loads["quantity"].round()).all()
    for c, client in enumerate(plan.problem.clients):
        assert client.demand[0] <= 10_000 and client.demand[1] <= 45_000  # kg, litres
        assert c in set(loads["client"])
    # the water is packed first (priority 1): each point's first load carries water
    first = loads[loads["first"]]
    assert set(first["commodity"]) == {"water"}
    # 14 trucks cannot carry 280 t in a 10 h day: the rest is unmet as fleet too small
    result = _route(plan, "pyvrp")
    assert result.unserved and all("fleet too small" in u.reason for u in result.unserved)


def test_unit_larger_than_every_truck_is_unmet(toy: Instance) -> None:
    b = InstanceBuilder.from_instance(toy)
    b.add("commodities", id="generator", name="Generator", unit="set", weight_kg=12000,
          volume_m3=8, purchase_cost=1, shortage_penalty=1)
    inst = b.build()
    plan = from_allocation(inst, _frame([("W_north", "sea", "generator", 1)]), "snow")
    assert list(plan.unrouted["reason"]) == [
        "one unit of generator (12000 kg, 8 m3) does not fit the largest vehicle of W_north "
        "that reaches D_sea (T_north: 10000 kg, 40 m3)"
    ]
    assert plan.problem.n_clients == 0
    _route(plan, "pyvrp")


def _long_haul(liaoning: Instance) -> pd.DataFrame:
    # Anshan -> Dandong and Benxi -> Dandong are long enough that a driver needs a break
    return _frame([("W_anshan", "dandong", "medkit", 675), ("W_benxi", "dandong", "tent", 450),
                   ("W_anshan", "anshan", "water", 500)])


def test_breaks_are_planned_by_ortools_and_verified(seats: Instance) -> None:
    opts = DeliveryOptions(break_min=20, drive_h_before_break=4)
    plan = from_allocation(seats, _long_haul(seats), "none", options=opts)
    result = _route(plan, "ortools")
    assert result.status.value == "solved"
    long_routes = [r for r in result.routes if r.end - r.start > 4]
    assert long_routes and all(r.breaks for r in long_routes)
    for r in result.routes:
        for b in r.breaks:
            assert b.duration == pytest.approx(20 / 60)
    # the checker catches a route whose breaks are taken away
    victim = long_routes[0]
    tampered = dataclasses.replace(
        result, routes=tuple(dataclasses.replace(r, breaks=()) if r is victim else r
                             for r in result.routes))
    violations = check(plan.problem, tampered).violations
    assert any("without a break, more than the 4 allowed" in v for v in violations)
    # ... and a break placed during unloading
    visit = victim.visits[0]
    moved = dataclasses.replace(victim, breaks=(Break(visit.start, 20 / 60),))
    tampered = dataclasses.replace(
        result, routes=tuple(moved if r is victim else r for r in result.routes))
    assert any("overlaps service" in v for v in check(plan.problem, tampered).violations)


def test_breaks_from_the_fleet_table(liaoning: Instance) -> None:
    b = InstanceBuilder.from_instance(liaoning)
    rows = b.rows["fleet"]
    for row in rows:
        row["break_min"], row["drive_h_before_break"] = 20.0, 4.0
    inst = b.build()
    plan = from_allocation(inst, _long_haul(inst), "none")
    assert all(vt.has_breaks for vt in plan.problem.vehicle_types)
    with pytest.raises(InputError) as err:
        solve(plan.problem, "pyvrp")
    assert str(err.value) == (
        "Driver breaks (vehicle type 'V_anshan_10t': a break of 0.333333 after at most 4 of "
        "work) are not supported by the pyvrp engine; use the ortools engine "
        "(--engine ortools)."
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_point_only_small_trucks_reach(seats: Instance, engine: str) -> None:
    rows = [("W_dalian", "dalian", "water", 3000), ("W_dalian", "dalian", "food", 3000)]
    opts = DeliveryOptions(max_vehicle_kg={"D_dl_school": 2000})
    plan = from_allocation(seats, _frame(rows), "none", options=opts)
    school = set(plan.loads.loc[plan.loads["point"] == "D_dl_school", "client"])
    assert school
    for c in school:
        assert plan.problem.clients[c].demand[0] <= 2000
    result = _route(plan, engine)
    assert result.status.value == "solved"
    for r in result.routes:
        for v in r.visits:
            if v.client in school:
                assert r.vehicle_type_name == "V_dalian_2t"


def test_demand_points_are_the_stops(liaoning: Instance) -> None:
    rows = [("W_dalian", "dalian", "water", 3000)]
    plan = from_allocation(liaoning, _frame(rows), "none",
                           options=DeliveryOptions(max_vehicle_kg={"P_1792260": 2000}))
    shares = dict(liaoning.point_shares["dalian"])
    per_point = plan.loads.groupby("point")["quantity"].sum()
    assert set(per_point.index) == set(shares)
    assert per_point.sum() == 3000
    for p, q in per_point.items():
        assert abs(q - 3000 * shares[str(p)]) <= 1  # whole units, largest remainder
    far = plan.loads.loc[plan.loads["point"] == "P_1792260", "client"]
    assert len(far) and all(plan.problem.clients[c].demand[0] <= 2000 for c in far)
    # a distribution point no longer receives goods where the region has demand points
    with pytest.raises(InputError) as err:
        from_allocation(liaoning, _frame(rows), "none",
                        options=DeliveryOptions(max_vehicle_kg={"D_dl_school": 2000}))
    assert str(err.value) == (
        "--max-vehicle-kg D_dl_school: no region receives goods there (a region with demand "
        "points is served at them, else at its distribution points, else at its seat); name "
        "one of those places")


def test_route_lines_are_lonlat_linestrings(toy: Instance) -> None:
    plan = from_allocation(toy, _frame(TOY_DELIVERIES[:3]), "snow")
    result = _route(plan, "pyvrp")
    lines = route_lines(plan, result)
    assert lines.crs.to_epsg() == 4326 and len(lines) == result.vehicles_used
    for line in lines.itertuples():
        start = line.geometry.coords[0]
        assert start == (123.02, 41.18) == line.geometry.coords[-1]  # W_north, round trip
    assert lines["delivered_kg"].sum() == pytest.approx(9000 * 1.6 + 300 * 25 + 4000 * 1.6)


def test_bad_deliveries_have_exact_messages(toy: Instance) -> None:
    with pytest.raises(InputError) as err:
        from_allocation(toy, _frame([("W_nowhere", "sea", "water", 1),
                                     ("W_north", "sea", "water", -1)]), "snow")
    assert err.value.problems == (
        "Delivery row 0 (W_nowhere -> sea, water): source 'W_nowhere' is not a facility of "
        "the instance.",
        "Delivery row 1 (W_north -> sea, water): quantity -1 must be a number >= 0 (units).",
    )
    with pytest.raises(InputError, match=r"lacks columns \['quantity'\]"):
        from_allocation(toy, pd.DataFrame({"source": [], "region": [], "commodity": []}), "snow")
    with pytest.raises(InputError, match="No scenario 'hail' in toy; use one of typhoon, flood"):
        from_allocation(toy, _frame(TOY_DELIVERIES), "hail")
    with pytest.raises(InputError, match="break_min and drive_h_before_break together"):
        DeliveryOptions(break_min=20)


def test_fleetless_none_and_response_deadline(toy: Instance) -> None:
    plan = from_allocation(toy, _frame(TOY_DELIVERIES), "snow",
                           options=DeliveryOptions(fleetless="none"))
    assert set(plan.unrouted["reason"]) == {
        "S_river has no vehicles in the fleet table (fleetless='none'); add fleet rows for "
        "S_river or let it borrow"
    }
    # first loads are due by the 6 h county standard (Seaside), the rest by the shift
    first = plan.loads[plan.loads["first"]]
    for c in set(first["client"]):
        assert plan.problem.clients[c].tw_late == 6 * 60
    later = set(plan.loads["client"]) - set(first["client"])
    assert later and all(plan.problem.clients[c].tw_late > 10**6 for c in later)
    # day 2 has no deadline
    day2 = from_allocation(toy, _frame(TOY_DELIVERIES), "snow", period=2)
    assert not day2.loads["first"].any()


# --------------------------------------------------------------------------- release times


@pytest.fixture(scope="module")
def typhoon_day1(toy: Instance) -> pd.DataFrame:
    from reserve_opt.models.allocation import solve_allocation

    day1: pd.DataFrame = solve_allocation(toy, "typhoon").deliveries(1)
    return day1


def _long_days(inst: Instance) -> Instance:
    """The toy with 24 h working days, so a truck can still go after a 12 h release."""
    fleet = tuple(dataclasses.replace(f, max_hours=24.0) for f in inst.fleet)
    return dataclasses.replace(inst, fleet=fleet)


@pytest.mark.parametrize("engine", ENGINES)
def test_contract_water_leaves_after_its_release(
    toy: Instance, typhoon_day1: pd.DataFrame, engine: str
) -> None:
    river = typhoon_day1[typhoon_day1["source"] == "S_river"]
    assert len(river) and (river["ready_h"] == 12.0).all()  # the contract's activation delay
    plan = from_allocation(_long_days(toy), typhoon_day1, "typhoon",
                           options=DeliveryOptions(fleetless="nearest"))
    loads = plan.loads[plan.loads["source"] == "S_river"]
    assert len(loads) and (loads["release_h"] == 12.0).all()
    clients = set(loads["client"])
    assert {plan.problem.clients[c].release_time for c in clients} == {12 * 60}
    others = plan.loads[plan.loads["source"] == "W_north"]
    assert set(others["release_h"]) == {0.0, 2.0}  # tents to river at once, sea at 2 h
    result = _route(plan, engine)
    assert plan.unrouted.empty and not result.unserved
    trips = [t for r in result.routes for t in r.trips
             if any(v.client in clients for v in t.visits)]
    assert trips and all(t.departure >= 12.0 for t in trips)
    # the same deliveries without ready_h (a --deliveries file) would leave at once
    bare = from_allocation(_long_days(toy), typhoon_day1[COLUMNS], "typhoon",
                           options=DeliveryOptions(fleetless="nearest"))
    assert (bare.loads["release_h"] == 0.0).all()
    assert all(c.release_time == 0 for c in bare.problem.clients)


def test_release_too_late_for_the_working_day_is_unmet(
    toy: Instance, typhoon_day1: pd.DataFrame
) -> None:
    # the borrowed truck's day ends at 10 h minus the drive home: 12 h is too late
    plan = from_allocation(toy, typhoon_day1, "typhoon",
                           options=DeliveryOptions(fleetless="nearest"))
    late = plan.unrouted[plan.unrouted["source"] == "S_river"]
    assert late["quantity"].sum() == 4000.0
    (reason,) = set(late["reason"])
    assert reason == (
        "not ready until 12 h of day 1 (12 h after the event's start): no vehicle of S_river "
        "can then load, reach river and be back before its working day ends at 8.38 h"
    )
    result = _route(plan, "pyvrp")  # every delivery routed or unmet with a reason
    assert all(u.reason for u in result.unserved)


def test_release_on_a_later_day_counts_from_that_day(toy: Instance) -> None:
    frame = pd.DataFrame([("W_north", "north", "water", 100.0, 30.0),
                          ("W_north", "north", "tent", 10.0, 12.0)],
                         columns=[*COLUMNS, "ready_h"])
    plan = from_allocation(toy, frame, "typhoon", period=2)
    # day 2 starts 24 h after the event: ready at 30 h is 6 h on its clock, 12 h is now
    by_commodity = dict(zip(plan.loads["commodity"], plan.loads["release_h"], strict=True))
    assert by_commodity == {"water": 6.0, "tent": 0.0}
    assert plan.loads["client"].nunique() == 2  # different releases, different loads
    result = _route(plan, "ortools")
    water = plan.loads.loc[plan.loads["commodity"] == "water", "client"].item()
    (trip,) = [t for r in result.routes for t in r.trips
               if any(v.client == water for v in t.visits)]
    assert trip.departure >= 6.0
    with pytest.raises(InputError, match=r"ready_h -1\.0 must be a number >= 0"):
        from_allocation(toy, frame.assign(ready_h=-1.0), "typhoon")


def test_route_command_reads_ready_h_from_a_deliveries_file(tmp_path: Path) -> None:
    from tests.cli_runner import run_cli

    path = tmp_path / "day2.csv"
    pd.DataFrame([("W_north", "north", "water", 100.0, 30.0)],
                 columns=[*COLUMNS, "ready_h"]).to_csv(path, index=False)
    out = tmp_path / "out"
    result = run_cli("route", str(ROOT / "instances" / "toy"), "--scenario", "typhoon",
                     "--period", "2", "--deliveries", str(path), "--max-iterations", "2000",
                     "--out", str(out))
    assert result.exit_code == 0, result.output
    visits = pd.read_csv(out / "routes.csv")
    # ready 30 h after the start is 6 h on day 2's clock: the trip loads from then on
    assert len(visits) == 1 and visits["departure_h"].item() == pytest.approx(6.0)
    assert visits["arrival_h"].item() > 6.0
