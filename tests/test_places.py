"""Misplaced data: points outside their region's polygon, a wrong CRS, the manifest's crs."""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Geod, Transformer

from reserve_opt.io import load_instance
from reserve_opt.validation.places import COAST_TOLERANCE_KM, distance_km
from tests.cli_runner import run_cli

REPO = Path(__file__).resolve().parents[1]
GEORGIA = REPO / "instances" / "georgia"


def _copy(src: Path, tmp_path: Path) -> Path:
    dst = tmp_path / src.name
    shutil.copytree(src, dst)
    return dst


def _edit_csv(path: Path, row_id: str, **cells: str) -> None:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        if row["id"] == row_id:
            row.update(cells)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _errors(folder: Path) -> list[str]:
    result = run_cli("validate", str(folder))
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    return result.stderr.splitlines()


@pytest.mark.parametrize("name", ["georgia", "liaoning", "rawls-turnquist", "toy"])
def test_bundled_instances_stay_valid(name: str) -> None:
    result = run_cli("validate", str(REPO / "instances" / name))
    assert result.exit_code == 0, result.output


def test_swapped_warehouse_is_one_line_naming_it_and_the_fix(tmp_path: Path) -> None:
    inst = _copy(GEORGIA, tmp_path)
    # W_fulton at lon -84.404385, lat 33.843885, written the wrong way round (Antarctica)
    _edit_csv(inst / "facilities.csv", "W_fulton", lon="33.843885", lat="-84.404385")
    assert _errors(inst) == [
        "error: facilities.csv line 2 (id 'W_fulton'): lon 33.843885, lat -84.404385 lies "
        "13,991.7 km outside the polygon of its region 'c13121' (Fulton County) in "
        "regions.gpkg (up to 5 km is allowed for coasts); lon and lat look swapped: write "
        "lon -84.404385, lat 33.843885"]


def test_warehouse_in_another_county_names_both(tmp_path: Path) -> None:
    inst = _copy(GEORGIA, tmp_path)
    _edit_csv(inst / "facilities.csv", "W_fulton", region="c13021")  # Bibb County
    [line] = _errors(inst)
    assert re.fullmatch(
        r"error: facilities.csv line 2 \(id 'W_fulton'\): lon -84.404385, lat 33.843885 lies "
        r"[\d.]+ km outside the polygon of its region 'c13021' \(Bibb County\) in "
        r"regions.gpkg \(up to 5 km is allowed for coasts\), in region 'c13121'; fix its "
        r"lon/lat, or set its region to 'c13121'", line)


def test_seat_in_the_sea_is_refused(tmp_path: Path) -> None:
    inst = _copy(GEORGIA, tmp_path)
    _edit_csv(inst / "regions.csv", "c13051", lon="-79.0", lat="31.0")  # Chatham, offshore
    [line] = _errors(inst)
    assert re.fullmatch(
        r"error: regions.csv line \d+ \(id 'c13051'\): lon -79, lat 31 lies [\d,.]+ km "
        r"outside its own polygon in regions.gpkg \(up to 5 km is allowed for coasts\) and "
        r"in no region of it; fix its lon/lat or its region", line)


def _georgia_as_shapefile(tmp_path: Path, declared: int) -> Path:
    """Georgia with its polygons as a UTM 16N shapefile (like the source) declaring ``declared``."""
    inst = _copy(GEORGIA, tmp_path)
    frame = gpd.read_file(inst / "regions.gpkg").to_crs("EPSG:26916")
    frame.set_crs(f"EPSG:{declared}", allow_override=True).to_file(inst / "regions.shp")
    (inst / "regions.gpkg").unlink()
    toml = inst / "instance.toml"
    toml.write_text(toml.read_text().replace('regions = "regions.gpkg"',
                                             'regions = "regions.shp"'))
    return inst


def test_polygons_in_the_right_utm_zone_are_valid(tmp_path: Path) -> None:
    result = run_cli("validate", str(_georgia_as_shapefile(tmp_path, 26916)))
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(("declared", "name", "fit"), [
    (26917, "NAD83 / UTM zone 17N", "EPSG:26916 (NAD83 / UTM zone 16N)"),
    # another datum and continent: the zone is found on the declared CRS's own datum
    (32650, "WGS 84 / UTM zone 50N", "EPSG:32616 (WGS 84 / UTM zone 16N)"),
])
def test_wrong_utm_zone_is_one_line_naming_the_right_one(
        tmp_path: Path, declared: int, name: str, fit: str) -> None:
    assert _errors(_georgia_as_shapefile(tmp_path, declared)) == [
        f"error: regions.shp: read in EPSG:{declared} ({name}), its polygons miss 159 of 159 "
        f"region seats in regions.csv; read in {fit}, 159 of 159 lie inside: declare that "
        "CRS in the file (for a Shapefile, in its .prj)"]


def test_polygons_far_outside_their_crs_area_of_use(tmp_path: Path) -> None:
    # NAD83 / Georgia West (ftUS) for metres of UTM 16N: Illinois, not Georgia
    assert _errors(_georgia_as_shapefile(tmp_path, 2240)) == [
        "error: regions.shp: in EPSG:2240 the coordinates fall at lon -90.17..-88.48, lat "
        "39.16..40.54, more than 5 degrees outside that CRS's area of use (United States "
        "(USA) - Georgia: lon -85.61..-82.99, lat 30.62..35.01); declare the CRS the data "
        "are in, in the file (for a Shapefile, its .prj)"]


def test_swapped_columns_are_one_line(tmp_path: Path) -> None:
    inst = _copy(GEORGIA, tmp_path)
    text = (inst / "regions.csv").read_text()
    (inst / "regions.csv").write_text(text.replace(",lon,lat,", ",lat,lon,", 1))
    assert _errors(inst) == [
        "error: regions.csv: 159 of 159 region seats lie outside their region's polygon in "
        "regions.gpkg, and 159 lie inside with lon and lat swapped; the lon and lat columns "
        "look swapped: exchange the two column names"]


def test_coastal_tolerance_is_5_km_geodesic(tmp_path: Path) -> None:
    assert COAST_TOLERANCE_KM == 5.0
    regions = gpd.read_file(GEORGIA / "regions.gpkg").set_index("id")
    chatham = regions.geometry["c13051"]  # Savannah, on the Atlantic
    east = shapely.get_coordinates(chatham)
    lon0, lat0 = east[np.argmax(east[:, 0])]
    geod = Geod(ellps="WGS84")
    for km, valid in ((3.0, True), (8.0, False)):
        lon, lat, _ = geod.fwd(lon0, lat0, 90.0, km * 1000.0)
        # the nearest point of the polygon is at most the easternmost vertex's distance
        assert 0.0 < distance_km(chatham, lon, lat) <= km + 1e-6
        inst = _copy(GEORGIA, tmp_path / str(km))
        _edit_csv(inst / "regions.csv", "c13051", lon=repr(lon), lat=repr(lat))
        result = run_cli("validate", str(inst))
        assert (result.exit_code == 0) == valid, result.output


def test_distance_to_a_polygon_is_geodesic() -> None:
    box = shapely.box(100.0, 40.0, 101.0, 41.0)
    lon, lat, _ = Geod(ellps="WGS84").fwd(101.0, 40.5, 90.0, 20_000.0)
    assert distance_km(box, lon, lat) == pytest.approx(20.0, rel=1e-3)
    assert distance_km(box, 100.5, 40.5) == 0.0


def test_manifest_crs_is_applied_to_lon_lat(toy_path: Path, tmp_path: Path) -> None:
    inst = _copy(toy_path, tmp_path)
    toml = inst / "instance.toml"
    toml.write_text(toml.read_text().replace('crs = "EPSG:4326"', 'crs = "EPSG:4301"'))
    wgs = load_instance(toy_path)
    tokyo = load_instance(inst)
    to = Transformer.from_crs("EPSG:4301", "EPSG:4326", always_xy=True)
    for a, b in zip(wgs.facilities, tokyo.facilities, strict=True):
        assert (b.lon, b.lat) == pytest.approx(to.transform(a.lon, a.lat), abs=1e-9)
        assert abs(b.lon - a.lon) > 1e-3  # Tokyo datum: about 300 m off WGS84 here
    for a, r in zip(wgs.regions, tokyo.regions, strict=True):
        assert (r.lon, r.lat) == pytest.approx(to.transform(a.lon, a.lat), abs=1e-9)


def test_manifest_crs_in_grads_is_refused(toy_path: Path, tmp_path: Path) -> None:
    inst = _copy(toy_path, tmp_path)
    toml = inst / "instance.toml"
    toml.write_text(toml.read_text().replace('crs = "EPSG:4326"', 'crs = "EPSG:4807"'))
    assert _errors(inst) == [
        "error: instance.toml: crs 'EPSG:4807' measures angles in grad, but lon/lat columns "
        "hold degrees; give a CRS in degrees such as \"EPSG:4326\""]


def test_json_document_is_checked_the_same_way(tmp_path: Path) -> None:
    import json

    from reserve_opt.errors import InputError
    from reserve_opt.io.jsondoc import read_json, write_json
    from reserve_opt.validation import validate_raw

    path = tmp_path / "georgia.json"
    write_json(load_instance(GEORGIA), path)
    doc = json.loads(path.read_text())
    row = doc["facilities"][0]
    row["lon"], row["lat"] = row["lat"], row["lon"]
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError) as err:
        validate_raw(read_json(path))
    assert err.value.problems == (
        "georgia.json facilities[0] (id 'W_fulton'): lon 33.843885, lat -84.404385 lies "
        "13,991.7 km outside the polygon of its region 'c13121' (Fulton County) in "
        "georgia.json regions geometry (up to 5 km is allowed for coasts); lon and lat look "
        "swapped: write lon -84.404385, lat 33.843885",)


def test_polygons_without_crs_name_the_zone_the_seats_fit(tmp_path: Path) -> None:
    inst = _georgia_as_shapefile(tmp_path, 26916)
    (inst / "regions.prj").unlink()  # as libpysal ships G_utm.shp
    assert _errors(inst) == [
        "error: regions.shp: has no CRS, so its coordinates cannot be placed; write it with a "
        "CRS (for a Shapefile, add the .prj file); in EPSG:32616 (WGS 84 / UTM zone 16N) 159 "
        "of 159 region seats in regions.csv fall inside their polygons, so that is probably "
        "its CRS"]
