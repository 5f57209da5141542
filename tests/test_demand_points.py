"""Demand points: a region's demand spread over its towns, travel measured to them
(reserve_opt.demand_points), and their checks."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest
from pyproj import Geod

from reserve_opt import InstanceBuilder, load_instance
from reserve_opt.domain import Instance
from reserve_opt.transport import build_arcs, travel_matrix, travel_paths
from tests.cli_runner import run_cli

ROOT = Path(__file__).resolve().parents[1]
LIAONING = ROOT / "instances" / "liaoning"
GEOD = Geod(ellps="WGS84")


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    return float(GEOD.inv(a[0], a[1], b[0], b[1])[2]) / 1000.0


def _graph(inst: Instance, scenario: str) -> nx.DiGraph:
    """Liaoning's road graph rebuilt from its tables with pyproj and networkx only."""
    st, locs = inst.settings, inst.locations()
    g = nx.DiGraph()
    edges = [(lk.origin, lk.destination,
              lk.distance_km if lk.distance_km is not None
              else _km(locs[lk.origin], locs[lk.destination]),
              lk.time_h, lk.speed_kmh or st.speed_kmh, lk.oneway) for lk in inst.links]
    # facilities and demand points join their region's seat by a geodesic x detour leg
    edges += [(x.id, x.region, _km(locs[x.id], locs[x.region]) * st.detour_factor, None,
               st.speed_kmh, False) for x in (*inst.facilities, *inst.demand_points)]
    cut = {frozenset((o.origin, o.destination)): o.speed_factor
           for o in inst.scenario(scenario).outages}
    for a, b, km, hours, kmh, oneway in edges:
        f = cut.get(frozenset((a, b)), 1.0)
        if f == 0:
            continue
        t = (km / kmh if hours is None else hours) / f
        for u, v in ((a, b),) if oneway else ((a, b), (b, a)):
            if not g.has_edge(u, v) or g[u][v]["time"] > t:
                g.add_edge(u, v, time=t, km=km)
    return g


def test_liaoning_first_arrivals_equal_networkx_times(tmp_path: Path) -> None:
    out = tmp_path / "al"
    res = run_cli("allocate", str(LIAONING), "-s", "typhoon_east", "--out", str(out))
    assert res.exit_code == 0, res.stderr
    assert "Last demand point reached in each region" in res.stdout
    pts = pd.read_csv(out / "response_points.csv", encoding="utf-8-sig")
    flows = pd.read_csv(out / "flows.csv", encoding="utf-8-sig")
    inst = load_instance(LIAONING)
    g = _graph(inst, "typhoon_east")
    shipped = flows[flows["quantity"] > 0]
    assert len(pts) > 0
    for r in pts.to_dict(orient="records"):
        mine = shipped[shipped["region"] == r["region"]]
        want = min(d + nx.shortest_path_length(g, s, r["point"], weight="time")
                   for s, d in zip(mine["source"], mine["depart_h"], strict=True))
        assert abs(r["first_arrival_h"] - want) <= 1e-6, r
    assert (pts["first_arrival_h"] > 0).any()
    # no near-zero times left over from a graph epsilon
    t = flows["time_h"].to_numpy()
    assert not ((t > 0) & (t < 1e-6)).any()


def test_arc_is_measured_at_the_points_and_split_by_population() -> None:
    b = InstanceBuilder("pts", currency="CNY", speed_kmh=60.0, detour_factor=1.3)
    b.add_region("a", population=1000, lon=123.0, lat=41.0)
    b.add_region("b", population=1000, lon=124.0, lat=41.0)
    b.add_commodity("water", unit="bottle", weight_kg=1, volume_m3=0.001, purchase_cost=1,
                    shortage_penalty=10)
    b.add_facility("W", kind="government_warehouse", region="a", lon=123.0, lat=41.0,
                   capacity_m3=10)
    b.add_scenario("s", probability=1.0)
    b.add_demand_point("near", region="a", lon=123.1, lat=41.0, population=300)
    b.add_demand_point("far", region="a", lon=123.5, lat=41.0, population=100)
    inst = b.build()
    assert dict(inst.point_shares["a"]) == {"near": 0.75, "far": 0.25}
    arcs = build_arcs(inst).scenario("s")
    m = travel_matrix(inst, "s", ["W"], ["near", "far", "b"])
    got = dict(zip(arcs.region.tolist(), zip(arcs.distance_km, arcs.time_h, strict=True),
                   strict=True))
    far_km = _km((123.0, 41.0), (123.5, 41.0)) * 1.3
    assert m.distance_km[0, 1] == pytest.approx(far_km, rel=1e-9)
    assert got[0][0] == pytest.approx(0.75 * m.distance_km[0, 0] + 0.25 * far_km, rel=1e-9)
    assert got[0][1] == pytest.approx(far_km / 60.0, rel=1e-9)  # the slowest point
    # a region without points keeps its seat
    assert got[1][0] == pytest.approx(_km((123.0, 41.0), (124.0, 41.0)) * 1.3, rel=1e-9)


def test_link_paths_reach_points_through_their_seat() -> None:
    inst = load_instance(LIAONING)
    paths = travel_paths(inst, "typhoon_east", [("W_shenyang", "P_1784055")])
    assert paths[("W_shenyang", "P_1784055")] == (
        "W_shenyang", "shenyang", "anshan", "yingkou", "dalian", "P_1784055")


def _copy(tmp_path: Path) -> Path:
    dst = tmp_path / "lia"
    shutil.copytree(LIAONING, dst, ignore=shutil.ignore_patterns("variants", "build.py"))
    return dst


def _edit(dst: Path, line: int, **cells: object) -> None:
    df = pd.read_csv(dst / "demand_points.csv", dtype=str, keep_default_na=False)
    for k, v in cells.items():
        df.loc[line - 2, k] = str(v)
    df.to_csv(dst / "demand_points.csv", index=False)


@pytest.mark.parametrize(("cells", "message"), [
    ({"region": "fushun"},
     "error: demand_points.csv line 2 (id 'P_2034937'): lon 123.43278, lat 41.79222 lies "
     "21.8 km outside the polygon of its region 'fushun' (Fushun 抚顺市) in regions.gpkg (up "
     "to 5 km is allowed for coasts), in region 'shenyang'; fix its lon/lat, or set its "
     "region to 'shenyang'"),
    ({"lon": "130.0"},
     "error: demand_points.csv line 2 (id 'P_2034937'): lon 130, lat 41.79222 lies 519.2 km "
     "outside the polygon of its region 'shenyang' (Shenyang 沈阳市) in regions.gpkg (up to "
     "5 km is allowed for coasts) and in no region of it; fix its lon/lat or its region"),
    ({"id": "W_shenyang"},
     "error: demand_points.csv line 2 (id 'W_shenyang'): id 'W_shenyang' is also a facility "
     "id; give demand points ids of their own"),
    ({"share": "0.5"},
     "error: demand_points.csv line 22 (id 'P_2037620'): share is empty while other points "
     "of region 'shenyang' give one; give a share for every point of the region (they sum "
     "to 1) or for none (population then sets them)"),
    ({"region": "nowhere"},
     "error: demand_points.csv line 2 (id 'P_2034937'): region 'nowhere' is not a region in "
     "regions.csv; use a region id from regions.csv, or add the region there"),
])
def test_bad_demand_points_are_one_line(tmp_path: Path, cells: dict[str, object],
                                        message: str) -> None:
    dst = _copy(tmp_path)
    _edit(dst, 2, **cells)
    res = run_cli("validate", str(dst))
    assert res.exit_code == 1
    assert message in res.stderr.splitlines(), res.stderr


def test_shares_must_sum_to_one(tmp_path: Path) -> None:
    dst = _copy(tmp_path)
    df = pd.read_csv(dst / "demand_points.csv", dtype=str, keep_default_na=False)
    df.loc[df["region"] == "panjin", "share"] = "0.4"
    df.to_csv(dst / "demand_points.csv", index=False)
    res = run_cli("validate", str(dst))
    assert res.exit_code == 1
    assert ("error: demand_points.csv: the shares of region 'panjin''s 2 demand points sum "
            "to 0.8; make them sum to 1") in res.stderr.splitlines(), res.stderr


def test_given_shares_replace_population(tmp_path: Path) -> None:
    dst = _copy(tmp_path)
    df = pd.read_csv(dst / "demand_points.csv", dtype=str, keep_default_na=False)
    panjin = df["region"] == "panjin"
    df.loc[panjin, "share"] = ["0.3", "0.7"]
    df.to_csv(dst / "demand_points.csv", index=False)
    shares = dict(load_instance(dst).point_shares["panjin"])
    assert list(shares.values()) == [0.3, 0.7]
    by_pop = dict(load_instance(LIAONING).point_shares["panjin"])
    pop = df.loc[panjin, "population"].astype(float).to_numpy()
    assert list(by_pop.values()) == pytest.approx(list(pop / pop.sum()), rel=1e-12)


def _geod_km(line: object) -> float:
    return float(GEOD.geometry_length(line)) / 1000.0


def test_flows_and_routes_are_drawn_along_their_paths(tmp_path: Path) -> None:
    import geopandas as gpd

    inst = load_instance(LIAONING)
    detour = inst.settings.detour_factor
    seats = {(r.lon, r.lat) for r in inst.regions}
    res = run_cli("allocate", str(LIAONING), "-s", "typhoon_east", "--out",
                  str(tmp_path / "al"))
    assert res.exit_code == 0, res.stderr
    flows = gpd.read_file(tmp_path / "al" / "flows.gpkg")
    assert flows.is_valid.all() and (flows.geom_type == "LineString").all()
    assert set(flows["path_kind"]) <= {"links", "links+geodesic"}
    assert (flows["path_kind"] == "links").sum() >= 5  # seat-to-seat legs with a known path
    for rec in flows.to_dict(orient="records"):
        coords = list(rec["geometry"].coords)
        assert len(coords) >= 2 and rec["distance_km"] > 0
        if rec["path_kind"] == "links":
            assert _geod_km(rec["geometry"]) == pytest.approx(rec["distance_km"], rel=0.01)
        else:  # the local legs at either end are geodesic x detour, the rest links
            km = [float(GEOD.inv(a[0], a[1], b[0], b[1])[2]) / 1000.0
                  for a, b in itertools.pairwise(coords)]
            if coords[0] not in seats:
                km[0] *= detour
            if coords[-1] not in seats:
                km[-1] *= detour
            assert sum(km) == pytest.approx(rec["distance_km"], rel=0.01)
    res = run_cli("route", str(LIAONING), "-s", "typhoon_east", "--out", str(tmp_path / "r"))
    assert res.exit_code == 0, res.stderr
    routes = gpd.read_file(tmp_path / "r" / "routes.geojson")
    assert routes.is_valid.all()
    lines = routes[routes.geom_type == "LineString"]
    still = routes[routes.geom_type == "Point"]
    assert len(lines) and (still["distance_km"] == 0).all()
    assert (still["path_kind"] == "none").all()
    for rec in lines.to_dict(orient="records"):
        drawn = _geod_km(rec["geometry"])
        if rec["path_kind"] == "links":
            assert drawn == pytest.approx(rec["distance_km"], rel=0.01)
        else:  # stops at towns: the local legs count x detour, the links as drawn
            assert rec["path_kind"] == "links+geodesic"
            assert drawn * (1 - 0.01) <= rec["distance_km"] <= drawn * detour * (1 + 0.01)
    assert (lines.geometry.apply(_geod_km) > 0).all()


def test_demand_points_round_trip_through_json_and_folder(tmp_path: Path) -> None:
    from reserve_opt.io import save_instance

    inst = load_instance(LIAONING)
    again = load_instance(save_instance(inst, tmp_path / "l.json"))
    assert again.demand_points == inst.demand_points
    folder = load_instance(save_instance(again, tmp_path / "l"))
    assert folder.demand_points == inst.demand_points and len(inst.demand_points) == 48


def test_straight_lines_say_so(tmp_path: Path) -> None:
    import geopandas as gpd

    from reserve_opt.io.folder import write_folder
    from reserve_opt.path_lines import pair_lines
    from tests.test_travel_table import _far_km, _od

    inst = _od(slow=True)
    drawn = pair_lines(inst, "s", [("W_near", "city"), ("W_far", "city"), ("city", "city")])
    assert drawn[("W_near", "city")] is not None and drawn[("W_near", "city")][1] == "table"
    assert drawn[("W_far", "city")] is not None and drawn[("W_far", "city")][1] == "geodesic"
    assert drawn[("city", "city")] is None  # nothing between a place and itself
    folder = write_folder(inst, tmp_path / "od")
    res = run_cli("allocate", str(folder), "-s", "s", "--out", str(tmp_path / "al"))
    assert res.exit_code == 0, res.stderr
    flows = gpd.read_file(tmp_path / "al" / "flows.gpkg")
    assert flows["path_kind"].tolist() == ["geodesic"]
    assert flows["distance_km"].iloc[0] == pytest.approx(_far_km(inst), rel=1e-12)
    # straight: the great circle, the detour factor only in the number
    assert _geod_km(flows.geometry.iloc[0]) * 1.3 == pytest.approx(_far_km(inst), rel=1e-3)
