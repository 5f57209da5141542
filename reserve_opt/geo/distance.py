"""Geodesic distances on the WGS84 ellipsoid (pyproj.Geod, Karney's algorithm), in km.

Never Euclidean on degrees. Inputs are longitudes/latitudes in degrees; outputs are km.
Also the unit-sphere helpers used by the KD-tree prefilter in :mod:`reserve_opt.geo.sparse`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pyproj import Geod

from reserve_opt.geo.crs import check_lonlat

__all__ = [
    "GEOD",
    "MIN_RADIUS_OF_CURVATURE_KM",
    "chord_for_distance_km",
    "geodesic_arcs_km",
    "geodesic_matrix_km",
    "unit_vectors",
]

#: The WGS84 ellipsoid; ``GEOD.inv`` implements Karney (2013), accurate to ~15 nm.
GEOD = Geod(ellps="WGS84")

#: Smallest radius of curvature of the WGS84 ellipsoid: the meridional radius at the
#: equator, a (1 - e^2) = 6,335.439 km. The ellipsoid's metric
#: ds^2 = M^2 dphi^2 + N^2 cos^2(phi) dlambda^2 is at least this radius squared times the unit
#: sphere's metric at the same lon/lat, so two points at geodesic distance d are at most
#: d / MIN_RADIUS_OF_CURVATURE_KM radians apart on the unit sphere: the bound that makes the
#: KD-tree prefilter exact (it never drops a pair the exact test would keep).
MIN_RADIUS_OF_CURVATURE_KM = 6378.137 * (1.0 - 0.0066943799901413165)

_CHUNK_PAIRS = 1 << 21  # ~2M pairs per Geod.inv call keeps temporaries near 100 MB


def _as_lonlat(lon: ArrayLike, lat: ArrayLike, what: str) -> tuple[NDArray[np.float64],
                                                                  NDArray[np.float64]]:
    lo = np.ascontiguousarray(lon, dtype=np.float64).ravel()
    la = np.ascontiguousarray(lat, dtype=np.float64).ravel()
    if lo.shape != la.shape:
        raise ValueError(f"{what}: lon has {lo.size} values but lat has {la.size}")
    check_lonlat(lo, la, what)
    return lo, la


def geodesic_arcs_km(
    lon1: ArrayLike, lat1: ArrayLike, lon2: ArrayLike, lat2: ArrayLike
) -> NDArray[np.float64]:
    """Geodesic distance for each arc of an arc list (element-wise), in km.

    Parameters
    ----------
    lon1, lat1
        Arc start points, degrees, 1-D of length n.
    lon2, lat2
        Arc end points, degrees, 1-D of length n.

    Returns
    -------
    numpy.ndarray
        Shape (n,), km on the WGS84 ellipsoid.
    """
    lo1, la1 = _as_lonlat(lon1, lat1, "arc start points")
    lo2, la2 = _as_lonlat(lon2, lat2, "arc end points")
    if lo1.shape != lo2.shape:
        raise ValueError(f"arc lists differ in length: {lo1.size} starts, {lo2.size} ends")
    out = np.empty(lo1.size, dtype=np.float64)
    for s in range(0, lo1.size, _CHUNK_PAIRS):
        e = min(s + _CHUNK_PAIRS, lo1.size)
        _, _, d_m = GEOD.inv(lo1[s:e], la1[s:e], lo2[s:e], la2[s:e])
        out[s:e] = np.asarray(d_m) / 1000.0
    return out


def geodesic_matrix_km(
    origin_lon: ArrayLike,
    origin_lat: ArrayLike,
    dest_lon: ArrayLike,
    dest_lat: ArrayLike,
) -> NDArray[np.float64]:
    """Pairwise geodesic distances origin x destination, in km.

    Built by broadcasting origins against destinations and calling ``Geod.inv`` on row
    blocks of about two million pairs, so memory stays near the size of the result.

    Parameters
    ----------
    origin_lon, origin_lat
        n origins, degrees.
    dest_lon, dest_lat
        m destinations, degrees.

    Returns
    -------
    numpy.ndarray
        Shape (n, m), km on the WGS84 ellipsoid.
    """
    olo, ola = _as_lonlat(origin_lon, origin_lat, "origins")
    dlo, dla = _as_lonlat(dest_lon, dest_lat, "destinations")
    n, m = olo.size, dlo.size
    out = np.empty((n, m), dtype=np.float64)
    if n == 0 or m == 0:
        return out
    rows = max(1, _CHUNK_PAIRS // m)
    for s in range(0, n, rows):
        e = min(s + rows, n)
        a_lo, b_lo = np.broadcast_arrays(olo[s:e, None], dlo[None, :])
        a_la, b_la = np.broadcast_arrays(ola[s:e, None], dla[None, :])
        _, _, d_m = GEOD.inv(a_lo.ravel(), a_la.ravel(), b_lo.ravel(), b_la.ravel())
        out[s:e] = np.asarray(d_m).reshape(e - s, m) / 1000.0
    return out


def unit_vectors(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.float64]:
    """Points on the unit sphere (x, y, z) for geodetic lon/lat in degrees.

    Parameters
    ----------
    lon, lat
        Degrees, 1-D of length n.

    Returns
    -------
    numpy.ndarray
        Shape (n, 3).
    """
    lo = np.radians(np.asarray(lon, dtype=np.float64).ravel())
    la = np.radians(np.asarray(lat, dtype=np.float64).ravel())
    c = np.cos(la)
    return np.column_stack((c * np.cos(lo), c * np.sin(lo), np.sin(la)))


def chord_for_distance_km(distance_km: ArrayLike) -> NDArray[np.float64]:
    """Unit-sphere chord length that no pair within ``distance_km`` (geodesic) can exceed.

    A pair at geodesic distance d has spherical angle at most
    ``d / MIN_RADIUS_OF_CURVATURE_KM``, hence chord at most ``2 sin(angle / 2)``. The result is
    padded by 1e-9 against rounding, so a KD-tree ball of this radius never misses a pair.

    Parameters
    ----------
    distance_km
        Geodesic distance bound(s), km.

    Returns
    -------
    numpy.ndarray
        Chord length(s) on the unit sphere, at most 2.
    """
    ang = np.asarray(distance_km, dtype=np.float64) / MIN_RADIUS_OF_CURVATURE_KM
    ang = np.minimum(ang, np.pi)
    return np.asarray(np.minimum(2.0 * np.sin(ang / 2.0) + 1e-9, 2.0 + 1e-9))
