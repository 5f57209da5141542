"""Join facilities (points) to the region polygon that contains them."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from reserve_opt.errors import InputError
from reserve_opt.geo.crs import WGS84, local_aeqd

__all__ = ["join_points_to_regions"]


def _wgs84(gdf: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
    if gdf.crs is None:
        raise InputError(f"the {what} have no CRS; read them with reserve_opt.geo.read_* or "
                         "set one (e.g. gdf.set_crs('EPSG:4326')).")
    return gdf.to_crs(WGS84)


def join_points_to_regions(
    points: gpd.GeoDataFrame,
    regions: gpd.GeoDataFrame,
    *,
    region_id_column: str | None = None,
    point_id_column: str | None = None,
    tolerance_km: float = 1.0,
    what: str = "facility",
) -> pd.DataFrame:
    """Find the region polygon each point lies in.

    A point strictly inside one polygon gets ``match="inside"``. A point on a border, or
    inside overlapping polygons, gets the first of them in ``regions`` order and
    ``match="border"``. A point outside every polygon (e.g. a coastal warehouse on a
    simplified coastline) gets the nearest polygon if it is within ``tolerance_km``
    (``match="nearest"``); otherwise an :class:`~reserve_opt.errors.InputError` names it.

    Parameters
    ----------
    points
        Point GeoDataFrame with a CRS.
    regions
        Polygon GeoDataFrame with a CRS.
    region_id_column
        Column of region IDs (default: the index).
    point_id_column
        Column of point IDs (default: the index).
    tolerance_km
        How far outside every polygon a point may lie and still be joined to the nearest one.
        Measured in a local azimuthal equidistant projection centred on the points.
    what
        Word for the points in error messages.

    Returns
    -------
    pandas.DataFrame
        One row per point, in input order: ``point_id``, ``region_id``, ``match``
        (``"inside"``, ``"border"``, ``"nearest"``) and ``distance_km`` (0 unless nearest).

    Raises
    ------
    InputError
        Missing CRS, or a point farther than ``tolerance_km`` from every region.
    """
    pts = _wgs84(points, f"{what} points").reset_index(drop=False)
    regs = _wgs84(regions, "regions").reset_index(drop=False)
    if not (pts.geom_type == "Point").all():
        i = int(np.flatnonzero((pts.geom_type != "Point").to_numpy())[0])
        raise InputError(f"{what} row {i} is a {pts.geom_type.iloc[i]}, not a point; "
                         "pass point locations.")
    p_ids = (pts[point_id_column] if point_id_column is not None else pts.iloc[:, 0]).to_numpy()
    r_ids = (regs[region_id_column] if region_id_column is not None
             else regs.iloc[:, 0]).to_numpy()
    n = len(pts)
    region_pos = np.full(n, -1, dtype=np.int64)
    match = np.full(n, "", dtype=object)
    dist_km = np.zeros(n, dtype=np.float64)

    left = gpd.GeoDataFrame({"_p": np.arange(n)}, geometry=pts.geometry.to_numpy(), crs=WGS84)
    right = gpd.GeoDataFrame({"_r": np.arange(len(regs))}, geometry=regs.geometry.to_numpy(),
                             crs=WGS84)
    hits = gpd.sjoin(left, right, how="inner", predicate="intersects")
    if len(hits):
        hits = hits.sort_values(["_p", "_r"])
        n_hits = hits.groupby("_p").size()
        first = hits.drop_duplicates("_p")
        pp = first["_p"].to_numpy()
        rr = first["_r"].to_numpy()
        region_pos[pp] = rr
        inside = shapely.within(left.geometry.to_numpy()[pp], right.geometry.to_numpy()[rr])
        single = (n_hits.loc[pp] == 1).to_numpy()
        match[pp] = np.where(inside & single, "inside", "border")

    rest = np.flatnonzero(region_pos < 0)
    if rest.size:
        lon = left.geometry.x.to_numpy()[rest]
        lat = left.geometry.y.to_numpy()[rest]
        proj = local_aeqd(float(np.mean(lon)), float(np.mean(lat)))
        lp = left.iloc[rest].to_crs(proj)
        rp = right.to_crs(proj)
        near = gpd.sjoin_nearest(lp, rp, how="left", distance_col="_d")
        near = near.sort_values(["_p", "_r"]).drop_duplicates("_p")
        far = near.loc[near["_d"] > tolerance_km * 1000.0]
        if len(far):
            msgs = [
                f"{what} {p_ids[int(p)]!r} lies {float(d) / 1000.0:.2f} km outside every "
                f"region polygon (nearest: {r_ids[int(r)]!r}, tolerance {tolerance_km:g} km); "
                "fix its coordinates or raise tolerance_km."
                for p, r, d in zip(far["_p"], far["_r"], far["_d"], strict=True)
            ]
            raise InputError(msgs)
        pp = near["_p"].to_numpy()
        region_pos[pp] = near["_r"].to_numpy()
        match[pp] = "nearest"
        dist_km[pp] = near["_d"].to_numpy() / 1000.0

    out: dict[str, Any] = {
        "point_id": p_ids,
        "region_id": r_ids[region_pos],
        "match": match.astype(str),
        "distance_km": dist_km,
    }
    return pd.DataFrame(out)
