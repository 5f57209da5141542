"""The travel table's optional vehicle class: a class's rows give the times of the fleet
rows naming it, in routing only; allocation and distances keep the class-free rows."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reserve_opt import InstanceBuilder, load_instance, save_instance
from reserve_opt.domain import Instance
from reserve_opt.errors import InputError
from reserve_opt.io.folder import write_folder
from reserve_opt.io.jsondoc import write_json
from reserve_opt.models.routing import (
    check_deliveries,
    delivery_report,
    from_allocation,
    solve,
)
from reserve_opt.transport import build_arcs, class_times, travel_matrix
from tests.cli_runner import run_cli

DELIVERY = pd.DataFrame([("W", "town", "water", 500)],
                        columns=["source", "region", "commodity", "quantity"])


def _builder(class_h: float | None, *, cls: str = "heavy",
             fleet_cls: str | None = "heavy") -> InstanceBuilder:
    """W in home, 120 km / 2 h from town each way; heavy trucks take ``class_h`` h."""
    b = InstanceBuilder("vc", currency="CNY", speed_kmh=60.0, detour_factor=1.3,
                        transport_cost_per_kg_km=0.001)
    b.add_region("home", population=1000, lon=123.0, lat=41.0)
    b.add_region("town", population=1000, lon=124.0, lat=41.0)
    b.add_commodity("water", unit="bottle", weight_kg=1.0, volume_m3=0.001, purchase_cost=2,
                    shortage_penalty=20)
    b.add_facility("W", kind="government_warehouse", region="home", lon=123.0, lat=41.0,
                   capacity_m3=100)
    b.add_stock("W", "water", 1000)
    b.add_scenario("s", probability=1.0)
    b.add_demand("s", "town", "water", 500)
    for a, c in (("W", "town"), ("town", "W")):
        b.add_travel(a, c, 120.0, 2.0)
        if class_h is not None:
            b.add_travel(a, c, 999.0, class_h, vehicle_class=cls)
    extra = {} if fleet_cls is None else {"vehicle_class": fleet_cls}
    b.add_vehicle_type("T", depot="W", count=1, capacity_kg=1000, capacity_m3=10,
                       overnight=False, **extra)
    return b


def _routed(inst: Instance) -> tuple[list[float], dict[str, object]]:
    plan = from_allocation(inst, DELIVERY, "s")
    result = solve(plan.problem, "pyvrp", seed=1, max_iterations=200)
    assert check_deliveries(plan, result).ok
    row = delivery_report(plan, result).to_dict("records")[0]
    return [r.duration for r in result.routes], row


def test_a_slow_class_lengthens_its_route_exactly() -> None:
    # class-free: 2 h there, 2 h back, plus 0.75 h of loading and unloading
    assert _routed(_builder(None, fleet_cls=None).build())[0] == [pytest.approx(4.75)]
    # heavy trucks at half speed on the pair: 4 h + 4 h + 0.75 h
    durations, row = _routed(_builder(4.0).build())
    assert durations == [pytest.approx(8.75)]
    assert row["delivered"] == 500.0


def test_a_slower_class_no_longer_fits_the_working_day() -> None:
    # 6 h + 6 h + 0.75 h = 12.75 h, past the 10 h working day (no overnight trips)
    durations, row = _routed(_builder(6.0).build())
    assert durations == []
    assert row["unmet"] == 500.0
    assert row["reason"] == (
        "W -> town: a round trip of 12.75 h from W is longer than its vehicles' 10 h working "
        "day and its fleet rows make no overnight trips (overnight false), so no day of the "
        "event can deliver it; set overnight to true in fleet.csv to let trucks rest the "
        "night and go on")


def test_the_class_time_sends_the_load_overnight() -> None:
    b = _builder(6.0)
    b.rows["fleet"][0]["overnight"] = True
    plan = from_allocation(b.build(), DELIVERY, "s")
    result = solve(plan.problem, "pyvrp", seed=1, max_iterations=200)
    assert check_deliveries(plan, result).ok
    # 12.75 working hours on the overnight vehicle's clock (2 h round trip: a day trip)
    assert [(r.vehicle_type_name, r.duration) for r in result.routes] == [
        ("T overnight", pytest.approx(12.75))]


def test_class_rows_change_no_allocation_arc_and_no_distance() -> None:
    inst, plain = _builder(4.0).build(), _builder(None, fleet_cls=None).build()
    a, b = build_arcs(inst).to_frame(), build_arcs(plain).to_frame()
    pd.testing.assert_frame_equal(a, b)
    m = travel_matrix(inst, "s", ["W", "town"], ["W", "town"])
    assert m.distance_km.tolist() == [[0.0, 120.0], [120.0, 0.0]]
    assert m.time_h.tolist() == [[0.0, 2.0], [2.0, 0.0]]
    h = class_times(inst, "s", ["W", "town", "home"], ["W", "town"], "heavy")
    assert np.isnan(h[0, 0]) and np.isnan(h[2, 0]) and h[0, 1] == 4.0 and h[1, 0] == 4.0


def test_table_carries_classes_through_json_and_folders(tmp_path: Path) -> None:
    inst = _builder(4.0).build()
    assert list(inst.travel.rows())[:2] == [("W", "town", 120.0, 2.0, None, None),
                                            ("W", "town", 999.0, 4.0, None, "heavy")]
    assert inst.fleet[0].vehicle_class == "heavy"
    doc = write_json(inst, tmp_path / "vc.json")
    assert json.loads(doc.read_text())["travel"][1]["vehicle_class"] == "heavy"
    assert load_instance(doc) == inst
    folder = write_folder(inst, tmp_path / "vc")
    assert (folder / "travel.csv").read_text().splitlines()[:3] == [
        "from,to,distance_km,time_h,scenario,vehicle_class", "W,town,120.0,2.0,,",
        "W,town,999.0,4.0,,heavy"]
    assert (folder / "fleet.csv").read_text().splitlines()[0].endswith(",signed,vehicle_class")
    assert load_instance(folder) == inst
    parquet = write_folder(inst, tmp_path / "vcp", table_format="parquet")
    assert load_instance(parquet) == inst
    save_instance(inst, tmp_path / "vc.xlsx")
    assert load_instance(tmp_path / "vc.xlsx") == inst
    # without classes neither file has the column (instances written before are unchanged)
    plain = write_folder(_builder(None, fleet_cls=None).build(), tmp_path / "plain")
    assert (plain / "travel.csv").read_text().splitlines()[0] == (
        "from,to,distance_km,time_h,scenario")
    assert (plain / "fleet.csv").read_text().splitlines()[0].endswith(",signed")


def _problems(b: InstanceBuilder) -> list[str]:
    with pytest.raises(InputError) as err:
        b.build()
    return list(err.value.problems)


def test_a_fleet_class_without_travel_rows_is_refused() -> None:
    assert _problems(_builder(None)) == [
        "fleet row 1 (id 'T'): vehicle_class 'heavy' has no rows in travel; give the "
        "class's times there or empty the cell"]


def test_a_travel_class_no_fleet_row_names_is_refused() -> None:
    assert _problems(_builder(4.0, cls="hevy")) == [
        "travel row 2: vehicle_class 'hevy' is the vehicle_class of no row in fleet; name it "
        "in the vehicles' fleet row or drop its travel rows",
        "fleet row 1 (id 'T'): vehicle_class 'heavy' has no rows in travel; give the "
        "class's times there or empty the cell"]


def test_a_class_row_needs_its_time() -> None:
    b = _builder(4.0)
    b.add_travel("W", "home", 5.0, vehicle_class="heavy")
    assert _problems(b) == [
        "travel row 5: time_h is empty on a row of vehicle_class 'heavy'; give the class's "
        "travel time (a class row sets its vehicles' time, not a distance)"]


def test_a_pair_may_have_one_row_per_class() -> None:
    b = _builder(4.0)
    b.add_travel("W", "town", 120.0, 5.0, vehicle_class="heavy")
    assert _problems(b) == [
        "travel row 5: from 'W', to 'town', vehicle_class 'heavy' is used again (first at "
        "travel row 2); give each travel row its own from and to and scenario and "
        "vehicle_class"]


def test_a_misspelt_class_in_a_folder_names_both_lines(tmp_path: Path) -> None:
    folder = write_folder(_builder(4.0).build(), tmp_path / "vc")
    fleet = folder / "fleet.csv"
    fleet.write_text(fleet.read_text().replace(",heavy", ",hevy"))
    res = run_cli("validate", str(folder))
    assert res.exit_code == 1
    assert res.stderr.splitlines() == [
        "error: travel.csv line 3: vehicle_class 'heavy' is the vehicle_class of no row in "
        "fleet.csv; name it in the vehicles' fleet row or drop its travel rows",
        "error: fleet.csv line 2 (id 'T'): vehicle_class 'hevy' has no rows in travel.csv; "
        "give the class's times there or empty the cell"]
