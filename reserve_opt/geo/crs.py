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
    "CRS_HINT",
    "WGS84",
    "check_lonlat",
    "ensure_crs",
    "in_degrees",
    "local_aeqd",
    "locate_crs",
    "refit_utm_zone",
]

#: The storage CRS: WGS84 geographic, longitude first.
WGS84: CRS = CRS.from_epsg(4326)

#: How far (degrees) projected data may fall outside its CRS's declared area of use before it
#: is refused. UTM data routinely spills a degree or two past its 6-degree zone (Georgia, in
#: UTM 17N, reaches 85.6 W while the zone ends at 84 W), so the check only catches CRSs that
#: cannot be right, such as a UTM zone on the wrong continent.
AREA_OF_USE_MARGIN_DEG = 5.0

#: How to name a CRS in hints. No zone is given as an example: the coordinates of a UTM file
#: look the same in every zone, so a named zone would be a guess (and was a wrong one).
CRS_HINT = "for UTM data EPSG:326NN (north) or EPSG:327NN (south), NN the zone"


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
            f"are really in ({CRS_HINT}) or swap the longitude and latitude columns."
        )


def in_degrees(crs: CRS) -> bool:
    """Whether a CRS measures its first two axes in degrees (not grads, radians or metres).

    Parameters
    ----------
    crs
        Any CRS.

    Returns
    -------
    bool
    """
    return all(a.unit_name == "degree" for a in crs.axis_info[:2])


def _check_projected(x: NDArray[np.float64], y: NDArray[np.float64], crs: CRS, source: str,
                     fix: str) -> None:
    """Refuse projected coordinates that land far outside the CRS's area of use."""
    tr = Transformer.from_crs(crs, WGS84, always_xy=True)
    lon, lat = tr.transform(x, y)
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    name = crs.to_string()
    if not (np.isfinite(lon).all() and np.isfinite(lat).all()):
        raise InputError(
            f"{source}: some coordinates cannot be transformed from {name} to longitude/latitude; "
            f"{fix}"
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
        # an area's name can list a hundred counties: its first two parts say enough
        area = " - ".join(aou.name.rstrip(".").split(" - ")[:2])
        raise InputError(
            f"{source}: in {name} the coordinates fall at lon {lon.min():.2f}..{lon.max():.2f}, "
            f"lat {lat.min():.2f}..{lat.max():.2f}, more than {m:g} degrees outside that "
            f"CRS's area of use ({area}: lon {west:g}..{east:g}, lat {south:g}..{north:g}); "
            f"{fix}"
        )


def ensure_crs(
    file_crs: Any,
    x: ArrayLike,
    y: ArrayLike,
    *,
    override: Any = None,
    source: str,
    fix: str = "pass the CRS the data are really in with crs=...",
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
    fix
        What the messages of a CRS that cannot hold the coordinates tell the user to do.

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
                f"pass an EPSG code ({CRS_HINT})."
            ) from exc
    elif file_crs is None:
        raise InputError(
            f"{source} has no coordinate reference system; "
            f"add a .prj or pass crs=... with the CRS the data are in ({CRS_HINT})."
        )
    else:
        crs = CRS.from_user_input(file_crs)
    xa = np.asarray(x, dtype=float)
    ya = np.asarray(y, dtype=float)
    if crs.is_geographic:
        # Axis order in files read by GDAL/pyogrio is always x = longitude.
        check_lonlat(xa, ya, source)
    else:
        _check_projected(xa, ya, crs, source, fix)
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


def _utm_zones(crs: CRS) -> list[CRS]:
    """The other UTM zones on the datum of the UTM CRS ``crs`` (none if it is not UTM)."""
    from pyproj.database import query_utm_crs_info

    if not crs.utm_zone:
        return []
    datum = crs.name.split(" / ")[0]  # "NAD83 / UTM zone 17N" -> "NAD83"
    zones = []
    for info in query_utm_crs_info(datum_name=datum):
        if info.deprecated or info.name == crs.name or " / UTM zone " not in info.name:
            continue
        zones.append(CRS.from_authority(info.auth_name, info.code))
    return zones


def refit_utm_zone(
    declared: CRS, lon: ArrayLike, lat: ArrayLike, fits: Any
) -> tuple[CRS, int] | None:
    """Find the UTM zone a file was really in, from points known to lie on its features.

    A UTM file's coordinates look the same in every zone (each zone is the next one moved
    by 6 degrees), so neither their range nor the CRS's area of use can tell a wrong zone.
    Points whose WGS84 position is known independently (region seats) can: each zone of
    ``declared``'s datum is tried by placing the points where that zone would have put them
    in the file and asking ``fits`` whether they land on their features as read.

    Parameters
    ----------
    declared
        The UTM CRS the file declares, with which its coordinates were converted.
    lon, lat
        WGS84 degrees of the reference points.
    fits
        Callable ``fits(lon, lat) -> bool array``: whether each point, so moved, lies on
        its own feature of the file as read.

    Returns
    -------
    (pyproj.CRS, int) or None
        The zone under which most points fit and how many do, or ``None`` when
        ``declared`` is not UTM or no zone fits more than half of the points.
    """
    lon_a = np.asarray(lon, dtype=float)
    lat_a = np.asarray(lat, dtype=float)
    back = Transformer.from_crs(declared, WGS84, always_xy=True)
    best: tuple[CRS, int] | None = None
    for zone in _utm_zones(declared):
        x, y = Transformer.from_crs(WGS84, zone, always_xy=True).transform(lon_a, lat_a)
        moved_lon, moved_lat = back.transform(x, y)
        ok = np.isfinite(moved_lon) & np.isfinite(moved_lat)
        n = int(np.count_nonzero(np.asarray(fits(moved_lon, moved_lat)) & ok))
        if 2 * n > lon_a.size and (best is None or n > best[1]):
            best = (zone, n)
    return best


def locate_crs(lon: ArrayLike, lat: ArrayLike, fits: Any) -> tuple[CRS, int] | None:
    """Find the CRS of a file that declares none, from points known to lie on its features.

    WGS84 degrees and every WGS 84 UTM zone are tried: the points are moved to where that
    CRS would have put them in the file, and ``fits`` says whether they land on their
    features there.

    Parameters
    ----------
    lon, lat
        WGS84 degrees of the reference points.
    fits
        Callable ``fits(x, y) -> bool array`` in the file's coordinates.

    Returns
    -------
    (pyproj.CRS, int) or None
        The CRS under which most points fit and how many do, or ``None`` when none fits
        more than half of them.
    """
    lon_a = np.asarray(lon, dtype=float)
    lat_a = np.asarray(lat, dtype=float)
    utm_1n = CRS.from_epsg(32601)
    best: tuple[CRS, int] | None = None
    for crs in [WGS84, utm_1n, *_utm_zones(utm_1n)]:
        x, y = Transformer.from_crs(WGS84, crs, always_xy=True).transform(lon_a, lat_a)
        ok = np.isfinite(x) & np.isfinite(y)
        n = int(np.count_nonzero(np.asarray(fits(x, y)) & ok))
        if 2 * n > lon_a.size and (best is None or n > best[1]):
            best = (crs, n)
    return best
