"""Geospatial layer: read locations, geodesic distances, travel times, coverage, sparse arcs.

Works on plain numpy arrays, pandas / GeoPandas frames and small frozen dataclasses; it does
not depend on :mod:`reserve_opt.domain`. Everything is stored in WGS84 lon/lat degrees and
units are in the names (``_km``, ``_h``, ``_kmh``, ``_per_km``).
"""

from reserve_opt.geo.coverage import (
    RESPONSE_TIME_LIMIT_H,
    Coverage,
    coverage_from_arcs,
    coverage_from_matrix,
    response_time_limit_h,
)
from reserve_opt.geo.crs import WGS84, check_lonlat, ensure_crs, local_aeqd
from reserve_opt.geo.distance import geodesic_arcs_km, geodesic_matrix_km
from reserve_opt.geo.join import join_points_to_regions
from reserve_opt.geo.outages import LinkOutage
from reserve_opt.geo.read import read_points, read_polygons
from reserve_opt.geo.roads import RoadNetwork, build_road_network
from reserve_opt.geo.service_areas import voronoi_service_areas
from reserve_opt.geo.sparse import ArcTable, dense_arcs, sparse_arcs
from reserve_opt.geo.travel import (
    DEFAULT_DETOUR_FACTOR,
    TravelMatrices,
    VehicleClass,
    great_circle_travel,
)

__all__ = [
    "DEFAULT_DETOUR_FACTOR",
    "RESPONSE_TIME_LIMIT_H",
    "WGS84",
    "ArcTable",
    "Coverage",
    "LinkOutage",
    "RoadNetwork",
    "TravelMatrices",
    "VehicleClass",
    "build_road_network",
    "check_lonlat",
    "coverage_from_arcs",
    "coverage_from_matrix",
    "dense_arcs",
    "ensure_crs",
    "geodesic_arcs_km",
    "geodesic_matrix_km",
    "great_circle_travel",
    "join_points_to_regions",
    "local_aeqd",
    "read_points",
    "read_polygons",
    "response_time_limit_h",
    "sparse_arcs",
    "voronoi_service_areas",
]
