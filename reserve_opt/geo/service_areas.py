"""Service areas for regions known only as points: Voronoi cells clipped to a boundary.

Cells are computed with :func:`shapely.voronoi_polygons` in a local azimuthal equidistant
projection centred on the boundary (distances from its centre are exact, the scale error
elsewhere is θ/sin θ - 1, under 2% within 2,000 km), clipped to the boundary there, and
returned in WGS84. They approximate the geodesic Voronoi diagram; at province scale the
difference is negligible.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import ArrayLike
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from reserve_opt.errors import InputError
from reserve_opt.geo.crs import WGS84, check_lonlat, local_aeqd
from reserve_opt.geo.distance import GEOD

__all__ = ["voronoi_service_areas"]


def _boundary_wgs84(boundary: BaseGeometry | gpd.GeoDataFrame | gpd.GeoSeries) -> BaseGeometry:
    if isinstance(boundary, gpd.GeoDataFrame | gpd.GeoSeries):
        if boundary.crs is None:
            raise InputError("the boundary has no CRS; set one or read it with "
                             "reserve_opt.geo.read_polygons.")
        geom = boundary.to_crs(WGS84).geometry.union_all()
    else:
        geom = boundary
    if geom.is_empty or geom.area == 0:
        raise InputError("the boundary polygon is empty; pass a polygon outline or None.")
    return shapely.make_valid(geom)


def voronoi_service_areas(
    lon: ArrayLike,
    lat: ArrayLike,
    ids: Sequence[Any] | None = None,
    *,
    boundary: BaseGeometry | gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    hull_buffer_km: float = 25.0,
) -> gpd.GeoDataFrame:
    """Voronoi service area of each point, clipped to a boundary.

    Parameters
    ----------
    lon, lat
        Region points (seats), degrees WGS84.
    ids
        Region IDs by position (default: positions).
    boundary
        Outline to clip to: a shapely geometry in WGS84 lon/lat, or a GeoDataFrame/GeoSeries
        with a CRS (all parts are unioned), e.g. a Natural Earth country. ``None`` = the
        convex hull of the points buffered by ``hull_buffer_km``.
    hull_buffer_km
        Buffer around the hull when ``boundary`` is None.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326, one row per point in input order, indexed by ID: ``lon``, ``lat``,
        ``inside_boundary`` (is the point itself inside), ``area_km2`` (geodesic area of the
        cell) and the cell geometry.

    Raises
    ------
    InputError
        Fewer than 2 points, duplicate locations, or a point whose cell misses the boundary.
    """
    lo = np.asarray(lon, dtype=np.float64).ravel()
    la = np.asarray(lat, dtype=np.float64).ravel()
    check_lonlat(lo, la, "service-area points")
    n = lo.size
    id_list = list(ids) if ids is not None else list(range(n))
    if len(id_list) != n:
        raise InputError(f"{len(id_list)} IDs were given for {n} service-area points.")
    if n < 2:
        raise InputError("Voronoi service areas need at least 2 points; give more regions "
                         "or use the boundary itself as the one service area.")
    key = np.round(np.column_stack((lo, la)), 7)
    _, first, inv = np.unique(key, axis=0, return_index=True, return_inverse=True)
    inv = inv.ravel()
    if first.size < n:
        dup = int(np.flatnonzero(first[inv] != np.arange(n))[0])
        raise InputError(
            f"regions {id_list[int(first[inv[dup]])]!r} and {id_list[dup]!r} are at the same "
            "location; merge them or fix the coordinates."
        )

    if boundary is not None:
        b_wgs = _boundary_wgs84(boundary)
        c = b_wgs.centroid
        lon0, lat0 = float(c.x), float(c.y)
    else:
        lon0, lat0 = float(np.mean(lo)), float(np.mean(la))
    proj = local_aeqd(lon0, lat0)
    fwd = Transformer.from_crs(WGS84, proj, always_xy=True)
    back = Transformer.from_crs(proj, WGS84, always_xy=True)
    x, y = fwd.transform(lo, la)
    pts = shapely.points(np.asarray(x), np.asarray(y))
    if boundary is None:
        b_proj = shapely.convex_hull(shapely.multipoints(pts)).buffer(hull_buffer_km * 1000.0)
    else:
        b_proj = shapely.make_valid(shapely.transform(b_wgs, fwd.transform, interleaved=False))

    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=b_proj, ordered=True)
    )
    clipped = shapely.intersection(cells, b_proj)
    empty = shapely.is_empty(clipped) | (shapely.area(clipped) <= 0)
    if empty.any():
        i = int(np.flatnonzero(empty)[0])
        raise InputError(
            f"region {id_list[i]!r} at lon {lo[i]:.5f}, lat {la[i]:.5f} gets no service area "
            "inside the boundary; check its coordinates or the boundary outline."
        )
    # keep only polygonal parts (intersection may add slivers of lower dimension)
    clipped = np.array([
        g if g.geom_type in ("Polygon", "MultiPolygon")
        else shapely.union_all([p for p in shapely.get_parts(g)
                                if p.geom_type in ("Polygon", "MultiPolygon")])
        for g in clipped
    ], dtype=object)
    inside = shapely.covers(b_proj, pts)
    cells_wgs = shapely.transform(clipped, back.transform, interleaved=False)
    area_km2 = np.array([abs(GEOD.geometry_area_perimeter(g)[0]) / 1e6 for g in cells_wgs])
    return gpd.GeoDataFrame(
        {"lon": lo, "lat": la, "inside_boundary": inside, "area_km2": area_km2},
        geometry=cells_wgs,
        crs=WGS84,
        index=id_list,
    )
