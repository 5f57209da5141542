"""Travel distance, time and cost from great-circle distance with a detour factor.

Road distance is approximated as ``geodesic_km * detour_factor``; time as road distance over
the vehicle class's speed; cost as road distance times the class's cost per km. For a road
network the user supplies, see :mod:`reserve_opt.geo.roads`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from reserve_opt.errors import InputError
from reserve_opt.geo.distance import geodesic_matrix_km

__all__ = [
    "DEFAULT_DETOUR_FACTOR",
    "TravelMatrices",
    "VehicleClass",
    "great_circle_travel",
    "road_distance_km",
    "travel_cost",
    "travel_time_h",
]

#: Typical ratio of road to great-circle distance for inter-city trips (1.2-1.4 is usual).
DEFAULT_DETOUR_FACTOR = 1.3


@dataclass(frozen=True)
class VehicleClass:
    """A class of vehicle: its average road speed and its cost per km.

    Parameters
    ----------
    name
        Label, e.g. ``"truck_10t"``.
    speed_kmh
        Average speed on the road, km/h, > 0.
    cost_per_km
        Cost per road km in the instance's currency, >= 0.
    """

    name: str
    speed_kmh: float
    cost_per_km: float = 0.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.speed_kmh) and self.speed_kmh > 0):
            raise InputError(
                f"vehicle class {self.name!r}: speed_kmh={self.speed_kmh} must be a positive "
                "number of km/h; fix the speed."
            )
        if not (math.isfinite(self.cost_per_km) and self.cost_per_km >= 0):
            raise InputError(
                f"vehicle class {self.name!r}: cost_per_km={self.cost_per_km} must be zero or "
                "positive; fix the cost."
            )


@dataclass(frozen=True)
class TravelMatrices:
    """Origin x destination road distance, time and cost for one vehicle class.

    Attributes
    ----------
    distance_km, time_h, cost
        Arrays of shape (n_origins, n_destinations); ``inf`` where unreachable.
    """

    distance_km: NDArray[np.float64]
    time_h: NDArray[np.float64]
    cost: NDArray[np.float64]


def _check_detour(detour_factor: float) -> None:
    if not (math.isfinite(detour_factor) and detour_factor >= 1.0):
        raise InputError(
            f"detour_factor={detour_factor} must be at least 1 (road km per great-circle km); "
            "use e.g. 1.3."
        )


def road_distance_km(geodesic_km: ArrayLike, detour_factor: float = DEFAULT_DETOUR_FACTOR
                     ) -> NDArray[np.float64]:
    """Approximate road distance: geodesic km times the detour factor.

    Parameters
    ----------
    geodesic_km
        Great-circle (geodesic) distance(s), km.
    detour_factor
        Road km per geodesic km, >= 1.

    Returns
    -------
    numpy.ndarray
        Road km, same shape as the input.
    """
    _check_detour(detour_factor)
    return np.asarray(geodesic_km, dtype=np.float64) * detour_factor


def travel_time_h(road_km: ArrayLike, speed_kmh: float) -> NDArray[np.float64]:
    """Travel time in hours for road distance(s) at ``speed_kmh``.

    Parameters
    ----------
    road_km
        Road distance(s), km.
    speed_kmh
        Speed, km/h, > 0.

    Returns
    -------
    numpy.ndarray
        Hours, same shape as the input.
    """
    if not (math.isfinite(speed_kmh) and speed_kmh > 0):
        raise InputError(f"speed_kmh={speed_kmh} must be a positive number of km/h.")
    return np.asarray(road_km, dtype=np.float64) / speed_kmh


def travel_cost(road_km: ArrayLike, cost_per_km: float) -> NDArray[np.float64]:
    """Travel cost for road distance(s) at ``cost_per_km``.

    Parameters
    ----------
    road_km
        Road distance(s), km.
    cost_per_km
        Cost per km, >= 0.

    Returns
    -------
    numpy.ndarray
        Cost, same shape as the input.
    """
    return np.asarray(road_km, dtype=np.float64) * cost_per_km


def great_circle_travel(
    origin_lon: ArrayLike,
    origin_lat: ArrayLike,
    dest_lon: ArrayLike,
    dest_lat: ArrayLike,
    vehicle: VehicleClass,
    *,
    detour_factor: float = DEFAULT_DETOUR_FACTOR,
) -> TravelMatrices:
    """Dense origin x destination travel matrices from geodesic distance and a detour factor.

    Parameters
    ----------
    origin_lon, origin_lat, dest_lon, dest_lat
        Degrees (WGS84).
    vehicle
        Speed and cost per km.
    detour_factor
        Road km per geodesic km, >= 1.

    Returns
    -------
    TravelMatrices
        Road distance (km), time (h) and cost, each (n_origins, n_destinations).
    """
    road = road_distance_km(
        geodesic_matrix_km(origin_lon, origin_lat, dest_lon, dest_lat), detour_factor
    )
    return TravelMatrices(
        distance_km=road,
        time_h=travel_time_h(road, vehicle.speed_kmh),
        cost=travel_cost(road, vehicle.cost_per_km),
    )
