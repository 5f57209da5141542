"""Coordinate reference systems: refuse missing or implausible CRSs, convert to WGS84.

Everything the geo layer stores is WGS84 longitude/latitude in degrees (EPSG:4326,
axis order lon, lat). Metric work (Voronoi cells, nearest-polygon tolerances) happens in
a local azimuthal equidistant projection built by :func:`local_aeqd`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS, Transformer

from reserve_opt.errors import InputError

__all__ = [
    "AREA_OF_USE_MARGIN_DEG",
    "WGS84",
    "check_lonlat",
    "ensure_crs",
    "local_aeqd",
]

#: The storage CRS: WGS84 geographic, longitude first.
WGS84: CRS = CRS.from_epsg(4326)

#: How far (degrees) projected data may fall outside its CRS's declared area of use before it
#: is refused. UTM data routinely spills a degree or two past its 6-degree zone (Georgia, in
#: UTM 17N, reaches 85.6 W while the zone ends at 84 W), so the check only catches CRSs that
#: cannot be right, such as a UTM zone on the wrong continent.
AREA_OF_USE_MARGIN_DEG = 5.0


def check_lonlat(lon: ArrayLike, lat: ArrayLike, source: str) -> None:
    """Refuse longitudes/latitudes that are not finite or out of range.

    Parameters
    ----------
    lon, lat
        Longitudes and latitudes in degrees.
    source
        Name of the file or table the values come from, used in the message.

    Raises
    ------
    InputError
        If any value is NaN/infinite, a longitude is outside [-180, 180] or a latitude is
        outside [-90, 90].
    """
    lon_a = np.asarray(lon, dtype=float)
    lat_a = np.asarray(lat, dtype=float)
    bad = ~(np.isfinite(lon_a) & np.isfinite(lat_a))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"{source}: row {i} has a missing or non-finite coordinate; "
            "fill in its longitude and latitude or drop the row."
        )
    if lon_a.size == 0:
        return
    if lon_a.min() < -180.0 or lon_a.max() > 180.0 or lat_a.min() < -90.0 or lat_a.max() > 90.0:
        raise InputError(
            f"{source}: coordinates span lon {lon_a.min():.6g}..{lon_a.max():.6g}, "
            f"lat {lat_a.min():.6g}..{lat_a.max():.6g}, outside lon [-180, 180] / "
            "lat [-90, 90]; the data are not in geographic degrees, so pass the CRS they "
            "are really in (e.g. crs='EPSG:26917') or swap the longitude and latitude columns."
        )


def _check_projected(x: NDArray[np.float64], y: NDArray[np.float64], crs: CRS, source: str) -> None:
    """Refuse projected coordinates that land far outside the CRS's area of use."""
    tr = Transformer.from_crs(crs, WGS84, always_xy=True)
    lon, lat = tr.transform(x, y)
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    name = crs.to_string()
    if not (np.isfinite(lon).all() and np.isfinite(lat).all()):
        raise InputError(
            f"{source}: some coordinates cannot be transformed from {name} to longitude/latitude; "
            "check that the file's CRS is right or pass the correct one with crs=..."
        )
    check_lonlat(lon, lat, source)
    aou = crs.area_of_use
    if aou is None or lon.size == 0:
        return
    m = AREA_OF_USE_MARGIN_DEG
    west, south, east, north = aou.bounds
    # an area of use that crosses the antimeridian (west > east): only latitude is checked
    lon_ok = west > east or bool(lon.min() >= west - m and lon.max() <= east + m)
    lat_ok = bool(lat.min() >= south - m and lat.max() <= north + m)
    if not (lon_ok and lat_ok):
        raise InputError(
            f"{source}: in {name} the coordinates fall at lon {lon.min():.2f}..{lon.max():.2f}, "
            f"lat {lat.min():.2f}..{lat.max():.2f}, far outside that CRS's area of use "
            f"({aou.name.rstrip('.')}: lon {west:g}..{east:g}, lat {south:g}..{north:g}); "
            "pass the CRS the data are really in with crs=..."
        )


def ensure_crs(
    file_crs: Any,
    x: ArrayLike,
    y: ArrayLike,
    *,
    override: Any = None,
    source: str,
) -> CRS:
    """Decide the CRS of some coordinates and refuse one that is missing or cannot be right.

    Parameters
    ----------
    file_crs
        CRS declared by the file (anything :meth:`pyproj.CRS.from_user_input` accepts) or
        ``None`` when the file declares none.
    x, y
        Coordinates (longitude/easting, latitude/northing) of all vertices or points.
    override
        CRS given by the caller (e.g. ``"EPSG:26917"``); it wins over ``file_crs``.
    source
        File name used in error messages.

    Returns
    -------
    pyproj.CRS
        The CRS the coordinates are in.

    Raises
    ------
    InputError
        If no CRS is known, the override cannot be parsed, geographic coordinates are out of
        range, or projected coordinates transform far outside the CRS's area of use.
    """
    if override is not None:
        try:
            crs = CRS.from_user_input(override)
        except Exception as exc:  # pyproj raises CRSError, a plain Exception subclass
            raise InputError(
                f"{source}: crs={override!r} is not a CRS pyproj understands; "
                "pass an EPSG code such as crs='EPSG:26917'."
            ) from exc
    elif file_crs is None:
        raise InputError(
            f"{source} has no coordinate reference system; "
            "add a .prj or pass crs='EPSG:26917' (the CRS the data are in)."
        )
    else:
        crs = CRS.from_user_input(file_crs)
    xa = np.asarray(x, dtype=float)
    ya = np.asarray(y, dtype=float)
    if crs.is_geographic:
        # Axis order in files read by GDAL/pyogrio is always x = longitude.
        check_lonlat(xa, ya, source)
    else:
        _check_projected(xa, ya, crs, source)
    return crs


def local_aeqd(lon0: float, lat0: float) -> CRS:
    """Return an azimuthal equidistant CRS on WGS84 centred at ``(lon0, lat0)``, in metres.

    Distances from the centre are exact; elsewhere the scale error grows slowly with distance
    (at most θ/sin θ - 1: about 0.4% at 1,000 km, 1.7% at 2,000 km), fine for Voronoi cells
    and snapping tolerances.

    Parameters
    ----------
    lon0, lat0
        Centre in degrees.

    Returns
    -------
    pyproj.CRS
    """
    return CRS.from_proj4(
        f"+proj=aeqd +lat_0={lat0:.8f} +lon_0={lon0:.8f} +datum=WGS84 +units=m +no_defs"
    )
