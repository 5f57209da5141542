"""Joining facilities to region polygons; Voronoi service areas."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point, box

from reserve_opt.errors import InputError
from reserve_opt.geo.distance import GEOD
from reserve_opt.geo.join import join_points_to_regions
from reserve_opt.geo.read import read_polygons
from reserve_opt.geo.service_areas import voronoi_service_areas

DATA = Path(__file__).resolve().parent / "data"
GEONAMES = DATA / "geonames" / "liaoning_cities500.csv"
POPULATION = DATA / "liaoning" / "prefecture_population_2021.csv"
NE = DATA / "natural_earth" / "ne_50m_admin_0_countries.geojson"  # China only
GEORGIA = DATA / "georgia" / "G_utm.shp"


@pytest.fixture
def squares() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"rid": ["west", "east"]},
                            geometry=[box(120.0, 40.0, 121.0, 41.0), box(121.0, 40.0, 122.0, 41.0)],
                            crs="EPSG:4326")


def test_join_inside_border_nearest(squares: gpd.GeoDataFrame) -> None:
    pts = gpd.GeoDataFrame(
        {"fid": ["in_w", "in_e", "on_border", "just_out"]},
        geometry=[Point(120.5, 40.5), Point(121.5, 40.2), Point(121.0, 40.5),
                  Point(122.005, 40.5)],  # 0.005 deg ~ 0.42 km east of the east square
        crs="EPSG:4326",
    ).to_crs("EPSG:32651")
    out = join_points_to_regions(pts, squares, region_id_column="rid", point_id_column="fid")
    assert out["point_id"].tolist() == ["in_w", "in_e", "on_border", "just_out"]
    assert out["region_id"].tolist() == ["west", "east", "west", "east"]
    assert out["match"].tolist() == ["inside", "inside", "border", "nearest"]
    assert out["distance_km"].iloc[3] == pytest.approx(0.42, abs=0.02)
    assert (out["distance_km"].iloc[:3] == 0).all()


def test_join_far_point_named(squares: gpd.GeoDataFrame) -> None:
    pts = gpd.GeoDataFrame({"fid": ["ok", "W-17"]},
                           geometry=[Point(120.5, 40.5), Point(123.0, 40.5)], crs="EPSG:4326")
    with pytest.raises(InputError) as err:
        join_points_to_regions(pts, squares, region_id_column="rid", point_id_column="fid")
    msg = str(err.value)
    assert msg.startswith("facility 'W-17' lies 84.")
    assert msg.endswith("km outside every region polygon (nearest: 'east', tolerance 1 km); "
                        "fix its coordinates or raise tolerance_km.")


def test_join_georgia_county_seats() -> None:
    counties = read_polygons(GEORGIA, crs="EPSG:26916", id_column="AreaKey")
    seats = gpd.GeoDataFrame({"AreaKey": counties.index},
                             geometry=gpd.points_from_xy(counties["lon"], counties["lat"]),
                             crs="EPSG:4326")
    out = join_points_to_regions(seats, counties[["geometry"]], point_id_column="AreaKey")
    assert (out["point_id"].to_numpy() == out["region_id"].to_numpy()).all()
    assert (out["match"] == "inside").all()


def _liaoning_seats() -> pd.DataFrame:
    g = pd.read_csv(GEONAMES)
    pref = pd.read_csv(POPULATION)["prefecture_en"]
    seats = g[g["name"].isin(pref) & (g["in_cities15000"] == 1)].drop_duplicates("name")
    assert len(seats) == 14
    return seats


def _area_km2(geom: shapely.Geometry) -> float:
    return abs(GEOD.geometry_area_perimeter(geom)[0]) / 1e6


def test_voronoi_cells_tile_the_hull() -> None:
    seats = _liaoning_seats()
    cells = voronoi_service_areas(seats["longitude"], seats["latitude"], seats["name"].tolist())
    assert list(cells.index) == seats["name"].tolist()
    assert cells.crs.to_epsg() == 4326
    # every seat lies in its own cell
    own = gpd.GeoSeries(gpd.points_from_xy(cells["lon"], cells["lat"]), index=cells.index,
                        crs="EPSG:4326")
    assert cells.geometry.covers(own).all()
    union = shapely.union_all(cells.geometry.to_numpy())
    total = cells["area_km2"].sum()
    # no overlap: the union's area equals the sum of the areas
    assert _area_km2(union) == pytest.approx(total, rel=1e-6)
    # cover: union equals the buffered hull (a single polygon without holes)
    assert union.geom_type == "Polygon" and len(union.interiors) == 0


def test_voronoi_clipped_to_natural_earth_china() -> None:
    ne = gpd.read_file(NE, engine="pyogrio")
    china = ne.loc[ne["ADM0_A3"] == "CHN"]
    outline = china.geometry.union_all()
    rng = np.random.default_rng(0)
    pts = []
    while len(pts) < 40:
        lo, la = rng.uniform(73, 135), rng.uniform(18, 54)
        if outline.contains(Point(lo, la)):
            pts.append((lo, la))
    lon, lat = np.array(pts).T
    cells = voronoi_service_areas(lon, lat, boundary=china)
    assert cells["inside_boundary"].all()
    total = cells["area_km2"].sum()
    assert total == pytest.approx(_area_km2(outline), rel=1e-4)
    inter = 0.0
    geoms = cells.geometry.to_numpy()
    for i in range(len(geoms)):
        inter += float(shapely.area(shapely.intersection(geoms[i], geoms[i + 1:])).sum())
    assert inter < 1e-9 * float(shapely.area(outline))


def test_voronoi_duplicates_refused() -> None:
    with pytest.raises(InputError) as err:
        voronoi_service_areas([120.0, 121.0, 120.0], [40.0, 41.0, 40.0], ["a", "b", "c"])
    assert str(err.value) == ("regions 'a' and 'c' are at the same location; "
                              "merge them or fix the coordinates.")
