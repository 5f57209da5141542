"""Reading points and polygons, CRS refusal."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from reserve_opt.errors import InputError
from reserve_opt.geo.read import read_points, read_polygons

DATA = Path(__file__).resolve().parent / "data"
GEORGIA = DATA / "georgia" / "G_utm.shp"
GEONAMES = DATA / "geonames" / "liaoning_cities500.csv"


def test_missing_crs_refused_with_exact_message() -> None:
    with pytest.raises(InputError) as err:
        read_polygons(GEORGIA)
    assert str(err.value) == (
        f"{GEORGIA} has no coordinate reference system; "
        "add a .prj or pass crs=... with the CRS the data are in (for UTM data EPSG:326NN "
        "(north) or EPSG:327NN (south), NN the zone)."
    )


def test_projected_data_declared_as_degrees_refused_with_exact_message() -> None:
    with pytest.raises(InputError) as err:
        read_polygons(GEORGIA, crs="EPSG:4326")
    assert str(err.value) == (
        f"{GEORGIA}: coordinates span lon 627306..1.08219e+06, lat 3.36806e+06..3.87981e+06, "
        "outside lon [-180, 180] / lat [-90, 90]; the data are not in geographic degrees, "
        "so pass the CRS they are really in (for UTM data EPSG:326NN (north) or EPSG:327NN "
        "(south), NN the zone) or swap the longitude and latitude columns."
    )


def test_csv_lon_lat_out_of_range_refused_with_exact_message(tmp_path: Path) -> None:
    p = tmp_path / "depots.csv"
    pd.DataFrame({"id": ["a", "b"], "lon": [123.4, 41.8], "lat": [41.8, 123.4]}).to_csv(
        p, index=False
    )
    with pytest.raises(InputError) as err:
        read_points(p)
    assert str(err.value) == (
        f"{p}: coordinates span lon 41.8..123.4, lat 41.8..123.4, outside lon [-180, 180] / "
        "lat [-90, 90]; the data are not in geographic degrees, so pass the CRS they are "
        "really in (for UTM data EPSG:326NN (north) or EPSG:327NN (south), NN the zone) or "
        "swap the longitude and latitude columns."
    )


def test_wrong_utm_zone_far_away_refused() -> None:
    with pytest.raises(InputError, match=r"degrees outside that CRS's area of use"):
        read_polygons(GEORGIA, crs="EPSG:27700")  # British National Grid for US data
    # A wrong UTM zone cannot be caught this way: UTM 50N puts Georgia in eastern China.
    # Inside an instance the region seats tell the zone (tests/test_places.py).
    assert read_polygons(GEORGIA, crs="EPSG:32650")["lon"].between(110, 130).all()


def test_georgia_counties_read_with_crs_override() -> None:
    # The shapefile is UTM zone 16N: its own Latitude/Longitud attributes agree with
    # EPSG:26916 to 0.05 degrees, while EPSG:26917 (what data/georgia/README says)
    # would put every county 6 degrees east, in the Atlantic (see the next test).
    g = read_polygons(GEORGIA, crs="EPSG:26916", id_column="AreaKey")
    assert len(g) == 159
    assert g.crs.to_epsg() == 4326
    assert g.index.is_unique
    assert g["lon"].between(-85.7, -80.8).all()
    assert g["lat"].between(30.3, 35.0).all()
    assert g.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    # representative points lie inside their polygons (centroids need not)
    reps = gpd.GeoSeries(gpd.points_from_xy(g["lon"], g["lat"]), index=g.index, crs=4326)
    assert g.geometry.contains(reps).all()
    assert np.abs(g["lon"] - g["Longitud"]).max() < 0.3
    assert np.abs(g["lat"] - g["Latitude"]).max() < 0.3


def test_georgia_with_zone_17n_lands_in_the_atlantic() -> None:
    g = read_polygons(GEORGIA, crs="EPSG:26917")
    assert len(g) == 159
    assert (g["lon"] - g["Longitud"]).between(5.5, 6.5).all()


def test_geonames_csv_points() -> None:
    pts = read_points(GEONAMES, id_column="geonameid")
    assert len(pts) == 329
    assert pts.crs.to_epsg() == 4326
    assert pts.loc[2034937, "name"] == "Shenyang"
    assert pts.loc[2034937, "lon"] == pytest.approx(123.43278)
    assert pts.loc[2034937, "lat"] == pytest.approx(41.79222)


def test_csv_missing_coordinate_refused(tmp_path: Path) -> None:
    p = tmp_path / "f.csv"
    p.write_text("id,lon,lat\na,120,40\nb,,41\n")
    with pytest.raises(InputError) as err:
        read_points(p)
    assert str(err.value) == (
        f"{p}: line 3 (data row 1) has no numeric lon/lat; fill it in or drop the row."
    )


def test_csv_in_projected_crs(tmp_path: Path) -> None:
    p = tmp_path / "utm.csv"
    pd.DataFrame({"id": [1], "x": [500000.0], "y": [4000000.0]}).to_csv(p, index=False)
    pts = read_points(p, crs="EPSG:32651", id_column="id")
    assert pts.loc[1, "lon"] == pytest.approx(123.0)
    assert 36.0 < pts.loc[1, "lat"] < 36.2


@pytest.mark.parametrize("ext", ["gpkg", "geojson", "shp"])
def test_vector_formats_roundtrip(tmp_path: Path, ext: str) -> None:
    wgs = gpd.GeoDataFrame(
        {"fid_": ["d1", "d2"]},
        geometry=[Point(123.43278, 41.79222), Point(121.60222, 38.91222)],
        crs=4326,
    )
    p = tmp_path / f"depots.{ext}"
    wgs.to_crs(32651).to_file(p, engine="pyogrio")
    pts = read_points(p, id_column="fid_")
    assert pts.loc["d1", "lon"] == pytest.approx(123.43278, abs=1e-7)
    assert pts.loc["d2", "lat"] == pytest.approx(38.91222, abs=1e-7)
    polys = gpd.GeoDataFrame({"rid": ["r1"]}, geometry=[box(120, 38, 125, 43)], crs=4326)
    q = tmp_path / f"regions.{ext}"
    polys.to_file(q, engine="pyogrio")
    r = read_polygons(q, id_column="rid")
    assert 120 < r.loc["r1", "lon"] < 125


def test_shapefile_without_prj_and_override(tmp_path: Path) -> None:
    wgs = gpd.GeoDataFrame({"n": [1]}, geometry=[Point(-84.39, 33.75)], crs=4326)
    p = tmp_path / "atl.shp"
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        wgs.to_crs(26916).set_crs(None, allow_override=True).to_file(p, engine="pyogrio")
    assert not p.with_suffix(".prj").exists()
    with pytest.raises(InputError, match=r"add a \.prj or pass crs="):
        read_points(p)
    pts = read_points(p, crs="EPSG:26916")
    assert pts["lon"].iloc[0] == pytest.approx(-84.39, abs=1e-6)


def test_duplicate_ids_refused(tmp_path: Path) -> None:
    p = tmp_path / "dup.csv"
    p.write_text("id,lon,lat\na,120,40\na,121,41\n")
    with pytest.raises(InputError, match=r"ID 'a' in column 'id' appears more than once"):
        read_points(p, id_column="id")
