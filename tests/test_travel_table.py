"""A planner's travel table, links with times and one-way roads: every model uses the same
resolved travel (reserve_opt.transport)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from reserve_opt import InstanceBuilder, load_instance
from reserve_opt.domain import Instance
from reserve_opt.errors import InputError
from reserve_opt.geo import geodesic_matrix_km
from reserve_opt.io.folder import write_folder
from reserve_opt.models.allocation import solve_allocation
from reserve_opt.models.placement import solve_placement
from reserve_opt.models.routing import travel_matrices
from reserve_opt.transport import build_arcs, travel_matrix
from tests.cli_runner import run_cli

ROOT = Path(__file__).resolve().parents[1]


def _od(slow: bool, scenario_row: bool = False) -> Instance:
    # one city, two warehouses in it holding all it needs: W_near 4.2 km away, W_far 46.5 km
    b = InstanceBuilder("od", currency="CNY", speed_kmh=60.0, detour_factor=1.3,
                        transport_cost_per_kg_km=0.001)
    b.add_region("city", population=100000, lon=123.0, lat=41.0)
    b.add_commodity("water", unit="bottle", weight_kg=1.5, volume_m3=0.002, purchase_cost=2,
                    shortage_penalty=20)
    for fid, lon in (("W_near", 123.05), ("W_far", 123.6)):
        b.add_facility(fid, kind="government_warehouse", region="city", lon=lon, lat=41.0,
                       capacity_m3=100)
        b.add_stock(fid, "water", 1000)
        b.add_vehicle_type(f"t_{fid}", depot=fid, count=1, capacity_kg=10000, capacity_m3=30)
    b.add_scenario("s", probability=1.0)
    b.add_demand("s", "city", "water", 1000)
    if slow:
        # the planner's atlas: the only road from W_near is a 300 km, 30 h detour
        b.add_travel("W_near", "city", 300.0, 30.0)
    if scenario_row:
        b.add_travel("W_far", "city", 80.0, 2.0, scenario="s")
    return b.build()


def _far_km(inst: Instance) -> float:
    f, c = inst.facility("W_far"), inst.region("city")
    return float(geodesic_matrix_km([f.lon], [f.lat], [c.lon], [c.lat])[0, 0]) * 1.3


def test_travel_row_overrides_the_geodesic_and_says_so() -> None:
    df = build_arcs(_od(slow=True)).to_frame().set_index("source")
    assert df.loc["W_near", ["distance_km", "time_h", "time_source"]].tolist() == [
        300.0, 30.0, "table"]
    assert df.loc["W_far", "time_source"] == "geodesic"
    assert df.loc["W_far", "distance_km"] == pytest.approx(_far_km(_od(slow=True)), rel=1e-12)


def test_scenario_row_replaces_the_normal_one_after_damage() -> None:
    sa = build_arcs(_od(slow=True, scenario_row=True)).scenario("s")
    assert sorted(zip(sa.distance_km.tolist(), sa.time_h.tolist(), strict=True)) == [
        (80.0, 2.0), (300.0, 30.0)]


def test_one_slow_pair_moves_allocation_plan_site_and_route() -> None:
    base, slow = _od(slow=False), _od(slow=True)
    far_km = _far_km(slow)
    # allocation: W_near ships without the table, W_far with it
    for inst, src, km, how in ((base, "W_near", None, "geodesic"),
                               (slow, "W_far", far_km, "geodesic")):
        flows = solve_allocation(inst, "s").flows
        assert flows["source"].tolist() == [src]
        assert flows["time_source"].tolist() == [how]
        if km is not None:
            assert flows["distance_km"].iloc[0] == pytest.approx(km, rel=1e-12)
    # plan: its second-stage flows follow the same arcs
    assert [f.source for f in solve_placement(base).flows] == ["W_near"]
    plan_flows = solve_placement(slow).flows
    assert [(f.source, f.time_source) for f in plan_flows] == [("W_far", "geodesic")]
    assert plan_flows[0].distance_km == pytest.approx(far_km, rel=1e-12)
    # routing's matrix is the arcs' matrix, table pair included
    dist, time = travel_matrices(slow, "s", ["W_near", "W_far", "city"])
    assert (dist[0, 2], time[0, 2]) == (300.0, 30.0)
    assert dist[1, 2] == pytest.approx(far_km, rel=1e-12)
    tm = travel_matrix(slow, "s", ["W_near"], ["city"])
    assert tm.time_source.tolist() == [[0]]


def test_travel_csv_through_the_cli(tmp_path: Path) -> None:
    folders = {}
    for slow in (False, True):
        folders[slow] = write_folder(_od(slow), tmp_path / f"od_{slow}")
    assert (folders[True] / "travel.csv").read_text() == (
        "from,to,distance_km,time_h,scenario\nW_near,city,300.0,30.0,\n")
    far_km = _far_km(_od(slow=True))
    out = {}
    for slow, folder in folders.items():
        res = run_cli("allocate", str(folder), "-s", "s", "--format", "json")
        assert res.exit_code == 0, res.output
        out[slow] = json.loads(res.stdout)["flows"]
    assert [(f["source"], f["time_source"]) for f in out[False]] == [("W_near", "geodesic")]
    assert [(f["source"], f["time_source"]) for f in out[True]] == [("W_far", "geodesic")]
    site = run_cli("site", "p-median", str(folders[True]), "-p", "1", "--free-existing",
                   "--format", "json")
    assert site.exit_code == 0, site.output
    doc = json.loads(site.stdout)
    assert doc["open_sites"] == ["W_far"]
    assert doc["objective"] == pytest.approx(100000 * far_km, rel=1e-9)
    plan = run_cli("plan", str(folders[True]), "--format", "json")
    assert plan.exit_code == 0, plan.output
    assert [(f["source"], f["time_source"]) for f in json.loads(plan.stdout)["flows"]] == [
        ("W_far", "geodesic")]
    route = run_cli("route", str(folders[True]), "-s", "s", "--max-iterations", "50",
                    "--format", "json")
    assert route.exit_code == 0, route.output
    # one round trip from W_far, along the arc allocation used
    assert json.loads(route.stdout)["distance"] == pytest.approx(2 * far_km, abs=0.01)


def test_travel_rows_must_name_known_places(tmp_path: Path) -> None:
    folder = write_folder(_od(slow=True), tmp_path / "od")
    (folder / "travel.csv").write_text(
        "from,to,distance_km,time_h,scenario\nW_near,cty,300,30,\nW_far,city,-1,,\n")
    res = run_cli("validate", str(folder))
    assert res.exit_code == 1
    assert res.stderr.splitlines() == [
        "error: travel.csv line 3: distance_km -1 is below 0; give a value of at least 0 km",
        "error: travel.csv line 2: to 'cty' is not a region or facility "
        "id; did you mean 'city'?",
    ]


def _links() -> InstanceBuilder:
    b = InstanceBuilder("links", currency="CNY", speed_kmh=50.0, detour_factor=1.3)
    for i, lon in enumerate((120.0, 120.5, 121.0)):
        b.add_region("ABC"[i], population=1000, lon=lon, lat=40.0)
    b.add_commodity("w", unit="u", weight_kg=1, volume_m3=0.01, purchase_cost=1,
                    shortage_penalty=10)
    b.add_facility("WA", kind="government_warehouse", region="A", lon=120.0, lat=40.0,
                   capacity_m3=10)
    b.add_facility("WC", kind="government_warehouse", region="C", lon=121.0, lat=40.0,
                   capacity_m3=10)
    b.add_scenario("s", probability=1.0)
    b.add_link("A", "B", 50.0, time_h=0.5)            # 100 km/h road
    b.add_link("B", "C", 70.0, speed_kmh=35.0)        # 2 h
    b.add_link("C", "A", 100.0, oneway=True)          # C -> A only, 2 h at the setting
    return b


def test_link_times_speeds_and_oneway() -> None:
    inst = _links().build()
    tm = travel_matrix(inst, "s", ["A", "C"], ["A", "B", "C"])
    # A -> C cannot take the one-way road: A-B-C, 0.5 h + 2 h
    assert tm.distance_km.tolist() == [[0.0, 50.0, 120.0], [100.0, 70.0, 0.0]]
    assert tm.time_h.ravel() == pytest.approx([0.0, 0.5, 2.5, 2.0, 2.0, 0.0], abs=1e-9)
    assert tm.time_source.tolist() == [[1, 1, 1], [1, 1, 1]]


def test_link_with_time_and_speed_is_refused() -> None:
    b = _links()
    b.add_link("A", "C", 100.0, time_h=2.0, speed_kmh=50.0)
    with pytest.raises(InputError) as err:
        b.build()
    assert err.value.problems == (
        "links row 4: both time_h and speed_kmh are given; give one of them, the other "
        "would be ignored",)


def test_shenyang_dalian_over_links_is_not_multiplied_per_hop() -> None:
    inst = load_instance(ROOT / "instances" / "liaoning")
    tm = travel_matrix(inst, inst.scenarios[0].id, ["shenyang"], ["dalian"])
    a, b = inst.region("shenyang"), inst.region("dalian")
    geo = float(geodesic_matrix_km([a.lon], [a.lat], [b.lon], [b.lat])[0, 0])
    assert geo == pytest.approx(355.58, abs=0.01)
    # the sum of the path's great-circle hops (was 477 km with x1.3 on every hop)
    assert float(tm.distance_km[0, 0]) == pytest.approx(366.60, abs=0.01)
    assert tm.time_source.tolist() == [[1]]


def test_travel_table_round_trips_through_parquet(tmp_path: Path) -> None:
    inst = _od(slow=True, scenario_row=True)
    folder = write_folder(inst, tmp_path / "od", table_format="parquet")
    assert load_instance(folder) == inst
    shutil.rmtree(folder)


def test_parquet_travel_table_is_checked_by_column(tmp_path: Path) -> None:
    import tomllib

    import pyarrow as pa
    import pyarrow.parquet as pq
    import tomli_w

    folder = write_folder(_od(slow=False), tmp_path / "od")
    pq.write_table(pa.table({
        "from": ["W_near", "W_far", "W_near", "city", "W_far"],
        "to": ["city", "cty", "city", "city", "city"],
        "distance_km": [300.0, 10.0, 310.0, 1.0, -2.0],
        "time_h": [30.0, None, None, None, 1.0],
    }), folder / "travel.parquet")
    manifest = tomllib.loads((folder / "instance.toml").read_text())
    manifest["tables"]["travel"] = "travel.parquet"
    (folder / "instance.toml").write_text(tomli_w.dumps(manifest))
    res = run_cli("validate", str(folder))
    assert res.exit_code == 1
    assert res.stderr.splitlines() == [
        "error: travel.parquet row 5: distance_km -2 is below 0; give a value of at least 0 km",
        "error: travel.parquet row 3: from 'W_near', to 'city' is used again (first at "
        "travel.parquet row 1); give each travel row its own from and to and scenario and "
        "vehicle_class",
        "error: travel.parquet row 2: to 'cty' is not a region or facility id; did you mean "
        "'city'?",
        "error: travel.parquet row 4: from and to are both 'city'; give two different places "
        "(a place to itself takes no time)",
    ]


def test_a_full_matrix_needs_no_geodesic() -> None:
    b = InstanceBuilder.from_instance(_od(slow=True))
    b.add_travel("W_far", "city", 70.0, 1.2)
    sa = build_arcs(b.build()).scenario("s")
    assert sa.distance_km.tolist() == [300.0, 70.0]
    assert sa.time_source.tolist() == [0, 0]


def test_travel_table_round_trips_through_json(tmp_path: Path) -> None:
    from reserve_opt.io.jsondoc import write_json

    inst = _od(slow=True, scenario_row=True)
    assert load_instance(write_json(inst, tmp_path / "od.json")) == inst
    doc = json.loads((tmp_path / "od.json").read_text())
    assert doc["travel"] == [
        {"from": "W_near", "to": "city", "distance_km": 300.0, "time_h": 30.0,
         "scenario": None},
        {"from": "W_far", "to": "city", "distance_km": 80.0, "time_h": 2.0, "scenario": "s"}]
