"""The road layer named by ``[geometry] roads``: how it is read, refused and snapped to."""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import pytest
from pyproj import Geod
from shapely.geometry import LineString

from reserve_opt.errors import InputError
from reserve_opt.io import load_instance
from reserve_opt.transport import RoadGraph, build_arcs
from tests.cli_runner import run_cli

ROOT = Path(__file__).resolve().parents[1]


def _toy_with_roads(tmp_path: Path, roads: gpd.GeoDataFrame | None,
                    name: str = "roads.geojson") -> Path:
    inst = tmp_path / "toy"
    shutil.copytree(ROOT / "instances" / "toy", inst, ignore=shutil.ignore_patterns("variants"))
    with (inst / "instance.toml").open("a") as fh:
        fh.write(f'\n[geometry]\nroads = "{name}"\n')
    if roads is not None:
        roads.to_file(inst / name, driver="GeoJSON")
    return inst


def _ring(**columns: list[object]) -> gpd.GeoDataFrame:
    """Lines through the toy's places: north - river - sea - hill - north."""
    pts = [(123.0, 41.2), (122.4, 40.7), (122.8, 40.1), (123.3, 40.6), (123.0, 41.2)]
    lines = [LineString([pts[i], pts[i + 1]]) for i in range(4)]
    return gpd.GeoDataFrame(columns, geometry=lines, crs="EPSG:4326")


def test_missing_file_and_columns_are_one_line_each(tmp_path: Path) -> None:
    inst = _toy_with_roads(tmp_path / "a", None, "nope.gpkg")
    with pytest.raises(InputError) as err:
        load_instance(inst)
    assert list(err.value.problems) == [
        'instance.toml: [geometry] roads = "nope.gpkg" is not a file in the instance folder; '
        "fix the name or run reserve-opt roads import"]
    inst = _toy_with_roads(tmp_path / "b", _ring(speed_kmh=[80.0] * 4))
    with pytest.raises(InputError) as err:
        load_instance(inst)
    assert list(err.value.problems) == [
        "roads.geojson: has no 'oneway' column; add one saying yes, no or -1 for each road "
        "(reserve-opt roads import writes it)"]
    inst = _toy_with_roads(tmp_path / "c", _ring(oneway=["no"] * 4))
    with pytest.raises(InputError) as err:
        load_instance(inst)
    assert list(err.value.problems) == [
        "roads.geojson: has no 'speed_kmh' or 'maxspeed' column; add the speed of each road in "
        "km/h (or OSM maxspeed tags such as '50 mph')"]


def test_a_place_beyond_road_snap_km_is_refused_naming_it(tmp_path: Path) -> None:
    inst = _toy_with_roads(tmp_path, _ring(speed_kmh=[80.0] * 4, oneway=["no"] * 4))
    assert run_cli("validate", str(inst)).exit_code == 0
    snaps = RoadGraph(load_instance(inst)).snaps().set_index("id").snap_km
    # by hand: W_north (123.02, 41.18) is 0.02 deg of lat (2.22 km) and of lon (1.68 km at
    # 41.2 N) from north's node (123.0, 41.2): 2.8 km; D_sea 0.01 deg each way: 1.4 km
    assert snaps.round(1).to_dict() == {
        "north": 0.0, "river": 0.0, "hill": 0.0, "sea": 0.0, "W_north": 2.8, "W_sea": 2.8,
        "S_river": 1.4, "P_hill": 2.8, "D_sea": 1.4}
    arcs = build_arcs(load_instance(inst)).to_frame()
    assert set(arcs.time_source) == {"road"}
    # S_river -> north: the snap leg (geodesic x detour 1.3 at 60 km/h) then the road
    # river -> north at 80 km/h (the ring's other way round is longer)
    geod = Geod(ellps="WGS84")
    leg = geod.inv(122.41, 40.69, 122.4, 40.7)[2] / 1000 * 1.3
    road = geod.inv(122.4, 40.7, 123.0, 41.2)[2] / 1000
    row = arcs[(arcs.scenario == "flood") & (arcs.source == "S_river") & (arcs.region == "north")]
    assert row[["distance_km", "time_h"]].values.tolist() == [
        [pytest.approx(leg + road, rel=1e-9), pytest.approx(leg / 60 + road / 80, rel=1e-9)]]
    text = (inst / "instance.toml").read_text().replace(
        "[settings]\n", "[settings]\nroad_snap_km = 2.0\n")
    (inst / "instance.toml").write_text(text)
    result = run_cli("validate", str(inst))
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: facility 'W_north' is 2.8 km from the nearest road node, more than "
        "road_snap_km=2 km; check its coordinates, extend the road network or raise "
        "road_snap_km.")
