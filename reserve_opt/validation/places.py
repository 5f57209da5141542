"""Checks of where things are: lon/lat columns into WGS84, points against region polygons.

A region's seat, each facility and each demand point must lie in the polygon of the region
they name, or within :data:`COAST_TOLERANCE_KM` of it (simplified coastlines cut off harbour
warehouses). Distances are geodesic: measured in an azimuthal equidistant projection
centred on the point, exact from its centre. When most points of a table miss their
polygons the cause is one mistake, reported once: the table's lon and lat columns are
swapped, or the geometry file's CRS is wrong (for UTM files, the zone that fits is named).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from reserve_opt.io.raw import RawTable, Row
from reserve_opt.validation.cells import row_label

COAST_TOLERANCE_KM = 5.0
"""How far (geodesic km) a seat or facility may lie outside its region's polygon."""

_SEGMENT_DEG = 0.05
"""Polygon edges are split to this length (degrees) before projecting, so that they stay
close to the edges as drawn in lon/lat."""


def to_wgs84(crs: Any, parsed: dict[str, list[Row]]) -> None:
    """Convert the lon/lat columns from the manifest's geographic CRS into WGS84, in place.

    Nothing happens for WGS84 itself or for a CRS the manifest check refused (missing,
    unknown, projected or not in degrees; each reported there).
    """
    if crs is None or crs == "EPSG:4326":
        return  # no need to load pyproj
    from pyproj import CRS, Transformer

    from reserve_opt.geo.crs import WGS84, in_degrees

    try:
        source = CRS.from_user_input(crs)
    except Exception:  # pyproj raises CRSError; reported by the manifest check
        return
    if (not source.is_geographic or source.equals(WGS84, ignore_axis_order=True)
            or not in_degrees(source)):
        return
    to = Transformer.from_crs(source, WGS84, always_xy=True)
    for table in ("regions", "facilities", "demand_points"):
        rows = [r for r in parsed.get(table, [])
                if r.get("lon") is not None and r.get("lat") is not None]
        if not rows:
            continue
        lon, lat = to.transform(np.array([r["lon"] for r in rows], dtype=float),
                                np.array([r["lat"] for r in rows], dtype=float))
        for row, x, y in zip(rows, np.atleast_1d(lon), np.atleast_1d(lat), strict=True):
            row["lon"], row["lat"] = float(x), float(y)


@dataclass
class _Points:
    """The rows of one table that name a region with a polygon, and their positions."""

    table: RawTable
    rows: list[int]
    region: list[str]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]


def _points(table: RawTable | None, parsed: list[Row], key: str,
            geometry: dict[str, Any]) -> _Points | None:
    if table is None:
        return None
    keep = [i for i, r in enumerate(parsed) if r.get(key) in geometry
            and r.get("lon") is not None and r.get("lat") is not None]
    return _Points(table, keep, [parsed[i][key] for i in keep],
                   np.array([parsed[i]["lon"] for i in keep], dtype=float),
                   np.array([parsed[i]["lat"] for i in keep], dtype=float))


def _covered(geometry: dict[str, Any], region: list[str], lon: NDArray[np.float64],
             lat: NDArray[np.float64]) -> NDArray[np.bool_]:
    import shapely

    polygons = np.array([geometry[r] for r in region], dtype=object)
    return np.asarray(shapely.covers(polygons, shapely.points(lon, lat)), dtype=bool)


def distance_km(polygon: Any, lon: float, lat: float) -> float:
    """Geodesic distance (km) from a point to a WGS84 polygon; 0 inside it.

    Parameters
    ----------
    polygon
        Shapely polygon or multipolygon in WGS84 degrees.
    lon, lat
        The point, in degrees.

    Returns
    -------
    float
    """
    import shapely
    from pyproj import Transformer

    from reserve_opt.geo.crs import WGS84, local_aeqd

    if polygon.covers(shapely.Point(lon, lat)):
        return 0.0
    fwd = Transformer.from_crs(WGS84, local_aeqd(lon, lat), always_xy=True)

    def project(xy: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.column_stack(fwd.transform(xy[:, 0], xy[:, 1]))

    # shapely 2.0's transform: one (N, 2) array in, one out
    flat = shapely.transform(shapely.segmentize(polygon, _SEGMENT_DEG), project)
    return float(shapely.distance(shapely.Point(0.0, 0.0), flat)) / 1000.0


def _deg(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".")


def _swap_fits(geometry: dict[str, Any], pts: _Points) -> NDArray[np.bool_]:
    """Whether each point lies in its polygon with its lon and lat swapped."""
    ok = np.abs(pts.lon) <= 90.0
    fits = np.zeros(pts.lon.size, dtype=bool)
    idx = np.flatnonzero(ok)
    if idx.size:
        fits[idx] = _covered(geometry, [pts.region[i] for i in idx], pts.lat[idx], pts.lon[idx])
    return fits


def check_places(
    tables: dict[str, RawTable], parsed: dict[str, list[Row]], geometry: dict[str, Any],
    geometry_source: str, geometry_crs: Any, problems: list[str],
) -> None:
    """Report seats, facilities and demand points that lie outside their region's polygon.

    Parameters
    ----------
    tables, parsed
        The raw and parsed tables (lon/lat already in WGS84).
    geometry
        Region id -> polygon in WGS84.
    geometry_source
        Name of the geometry file, for messages.
    geometry_crs
        The CRS the geometry file declared (``None``: WGS84).
    problems
        Where problems are appended.
    """
    if not geometry or "regions" not in parsed:
        return
    import shapely

    seats = _points(tables.get("regions"), parsed["regions"], "id", geometry)
    facilities = _points(tables.get("facilities"), parsed.get("facilities", []), "region",
                         geometry)
    points = _points(tables.get("demand_points"), parsed.get("demand_points", []), "region",
                     geometry)
    regions_by_id = {r["id"]: r for r in parsed["regions"]}
    index = list(geometry)
    tree = shapely.STRtree([geometry[r] for r in index])
    for pts, what in ((seats, "seat"), (facilities, "facility"), (points, "demand point")):
        if pts is None or not pts.rows:
            continue
        inside = _covered(geometry, pts.region, pts.lon, pts.lat)
        away = {int(k): distance_km(geometry[pts.region[k]], float(pts.lon[k]),
                                    float(pts.lat[k]))
                for k in np.flatnonzero(~inside)}
        outside = np.array([k for k, d in away.items() if d > COAST_TOLERANCE_KM], dtype=int)
        if pts.lon.size >= 3 and 2 * outside.size > pts.lon.size:
            _report_table(pts, what, outside, geometry, geometry_source, geometry_crs,
                          problems)
            if what == "seat":
                return  # the facilities would only repeat it
            continue
        for k in outside:
            _report_point(pts, int(k), away[int(k)], what, geometry, geometry_source,
                          regions_by_id, index, tree, problems)


def _report_point(pts: _Points, k: int, away: float, what: str, geometry: dict[str, Any],
                  geometry_source: str, regions: dict[str, Row], index: list[str],
                  tree: Any, problems: list[str]) -> None:
    import shapely

    rid, lon, lat = pts.region[k], float(pts.lon[k]), float(pts.lat[k])
    i = pts.rows[k]
    label = row_label(pts.table, i, pts.table.rows[i])
    name = regions.get(rid, {}).get("name")
    region = f"'{rid}'" + (f" ({name})" if name else "")
    whose = "its own polygon" if what == "seat" else f"the polygon of its region {region}"
    head = (f"{label}: lon {_deg(lon)}, lat {_deg(lat)} lies {away:,.1f} km outside {whose} "
            f"in {geometry_source} (up to {COAST_TOLERANCE_KM:g} km is allowed for coasts)")
    if abs(lon) <= 90.0 and geometry[rid].covers(shapely.Point(lat, lon)):
        problems.append(f"{head}; lon and lat look swapped: write lon {_deg(lat)}, "
                        f"lat {_deg(lon)}")
        return
    hits = [index[j] for j in tree.query(shapely.Point(lon, lat), predicate="covered_by")]
    other = next((h for h in hits if h != rid), None)
    if other is None:
        problems.append(f"{head} and in no region of it; fix its lon/lat or its region")
    elif what == "seat":
        problems.append(f"{head}, in region '{other}'; fix its lon/lat")
    else:
        problems.append(f"{head}, in region '{other}'; fix its lon/lat, or set its region "
                        f"to '{other}'")


def _report_table(pts: _Points, what: str, outside: NDArray[np.intp],
                  geometry: dict[str, Any], geometry_source: str, geometry_crs: Any,
                  problems: list[str]) -> None:
    """One line for a table whose points mostly miss their polygons: one cause for all."""
    n, missed = pts.lon.size, outside.size
    things = {"seat": "region seats", "facility": "facilities"}.get(what, what + "s")
    swapped = int(np.count_nonzero(_swap_fits(geometry, pts)))
    if 2 * swapped > n:
        problems.append(
            f"{pts.table.source}: {missed} of {n} {things} lie outside their region's "
            f"polygon in {geometry_source}, and {swapped} lie inside with lon and lat "
            f"swapped; the lon and lat columns look swapped: exchange the two column names")
        return
    from pyproj import CRS

    from reserve_opt.geo.crs import WGS84, refit_utm_zone

    crs = WGS84 if geometry_crs is None else CRS.from_user_input(geometry_crs)
    head = (f"{geometry_source}: read in {_crs_name(crs)}, its polygons miss {missed} of {n} "
            f"{things} in {pts.table.source}")
    fit = refit_utm_zone(crs, pts.lon, pts.lat,
                         lambda x, y: _covered(geometry, pts.region, x, y))
    if fit is not None:
        problems.append(f"{head}; read in {_crs_name(fit[0])}, {fit[1]} of {n} lie inside: "
                        f"declare that CRS in the file (for a Shapefile, in its .prj)")
    else:
        problems.append(f"{head}; check the CRS the file declares (for a Shapefile, its .prj) "
                        f"and the lon/lat in {pts.table.source}")


def _crs_name(crs: Any) -> str:
    code = crs.to_authority()
    return f"{code[0]}:{code[1]} ({crs.name})" if code else crs.name


def unplaced(problem: str, geometry: dict[str, Any], tables: dict[str, RawTable],
             parsed: dict[str, list[Row]]) -> str:
    """The problem of a geometry file without a CRS, naming the CRS it is probably in.

    That is the CRS (WGS84 degrees or a WGS 84 UTM zone) in which most region seats fall
    inside their polygons; the problem is returned as it is when none does.
    """
    from reserve_opt.geo.crs import locate_crs

    seats = _points(tables.get("regions"), parsed.get("regions", []), "id", geometry)
    if seats is None or seats.lon.size < 3:
        return problem
    found = locate_crs(seats.lon, seats.lat,
                       lambda x, y: _covered(geometry, seats.region, x, y))
    if found is None:
        return problem
    return (f"{problem}; in {_crs_name(found[0])} {found[1]} of {seats.lon.size} region seats "
            f"in {seats.table.source} fall inside their polygons, so that is probably its CRS")
