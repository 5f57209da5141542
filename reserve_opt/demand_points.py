"""Demand points: a region's demand spread over the towns where its people live.

A region with demand points (the ``demand_points`` table) receives its goods at them: a
shipment to the region is split over its points by their shares (population, unless
shares are given), the same split as its demand. Travel is measured from the source to
each point by :func:`reserve_opt.transport.travel_matrix` (table > links > geodesic), so:

- the arc's **distance** (what transport costs) is the share-weighted mean of the points'
  distances;
- the arc's **time** (when the shipment has arrived) is that of its slowest point, and its
  time source is that point's;
- a point's **first arrival** is the earliest a shipped flow reaches it: the flow's
  departure plus the travel time to that point.

A region without points is served at its seat, as before.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from reserve_opt.domain import Instance
from reserve_opt.transport import travel_matrix

__all__ = ["POINT_RESPONSE_COLUMNS", "point_first_arrivals", "spread_over_points"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
CodeArray = npt.NDArray[np.int8]

POINT_RESPONSE_COLUMNS = ["region", "point", "share", "first_arrival_h", "source",
                          "distance_km"]
"""Columns of the per-point response table (``response_points.csv``)."""


def spread_over_points(
    instance: Instance, scenario: str, source_ids: Sequence[str], region_ids: Sequence[str],
    source: IntArray, region: IntArray, distance_km: FloatArray, time_h: FloatArray,
    time_source: CodeArray,
) -> tuple[FloatArray, FloatArray, CodeArray]:
    """Distance, time and time source of source -> region arcs measured at the points.

    Parameters
    ----------
    instance
        The instance (its demand points and travel).
    scenario
        Scenario id.
    source_ids, region_ids
        Ids behind the positions in ``source`` and ``region``.
    source, region
        Arcs as positions.
    distance_km, time_h, time_source
        The arcs' values measured at the region seats.

    Returns
    -------
    tuple
        ``(distance_km, time_h, time_source)``: copies in which every arc into a region
        with points holds the share-weighted mean distance, the slowest point's time and
        that point's time source (see the module docstring).
    """
    shares = instance.point_shares
    with_points = [j for j, rid in enumerate(region_ids) if rid in shares]
    if not with_points or source.size == 0:
        return distance_km, time_h, time_source
    point_ids = [p for j in with_points for p, _ in shares[region_ids[j]]]
    m = travel_matrix(instance, scenario, list(source_ids), point_ids)
    col = {p: c for c, p in enumerate(point_ids)}
    n_src = len(source_ids)
    d_reg = np.full((n_src, len(region_ids)), np.nan)
    t_reg = np.full((n_src, len(region_ids)), np.nan)
    c_reg = np.zeros((n_src, len(region_ids)), dtype=np.int8)
    for j in with_points:
        cols = np.array([col[p] for p, _ in shares[region_ids[j]]], dtype=np.int64)
        w = np.array([w for _, w in shares[region_ids[j]]], dtype=np.float64)
        d, t = m.distance_km[:, cols], m.time_h[:, cols]
        slow = np.argmax(t, axis=1)
        t_reg[:, j] = t[np.arange(n_src), slow]
        with np.errstate(invalid="ignore"):
            d_reg[:, j] = np.where(np.isfinite(t_reg[:, j]), d @ w, np.inf)
        c_reg[:, j] = m.time_source[:, cols][np.arange(n_src), slow]
    hit = ~np.isnan(d_reg[source, region])
    dist, time, code = distance_km.copy(), time_h.copy(), time_source.copy()
    dist[hit] = d_reg[source[hit], region[hit]]
    time[hit] = t_reg[source[hit], region[hit]]
    code[hit] = c_reg[source[hit], region[hit]]
    return dist, time, code


def point_first_arrivals(instance: Instance, scenario: str,
                         shipped: pd.DataFrame) -> pd.DataFrame:
    """When the first goods reach each demand point of the regions that received any.

    Parameters
    ----------
    instance
        The instance (reduced to the event, or holding ``scenario``).
    scenario
        Scenario id whose travel applies.
    shipped
        Shipments with goods: columns ``source`` (facility id), ``region`` and
        ``depart_h`` (hours after the event starts).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`POINT_RESPONSE_COLUMNS`, one row per demand point of every region
        in ``shipped``: ``first_arrival_h`` is the smallest ``depart_h`` + travel time to
        the point over the region's shipments, ``source`` the facility of that shipment
        and ``distance_km`` its travel distance to the point.
    """
    shares = instance.point_shares
    rows = shipped[shipped["region"].isin(list(shares))]
    if rows.empty:
        return pd.DataFrame(columns=POINT_RESPONSE_COLUMNS)
    sources = list(dict.fromkeys(rows["source"]))
    regions = list(dict.fromkeys(rows["region"]))
    point_ids = [p for rid in regions for p, _ in shares[rid]]
    m = travel_matrix(instance, scenario, sources, point_ids)
    si = {s: i for i, s in enumerate(sources)}
    pi = {p: i for i, p in enumerate(point_ids)}
    out = []
    for rid in regions:
        mine = rows[rows["region"] == rid]
        s_pos = np.array([si[s] for s in mine["source"]], dtype=np.int64)
        depart = mine["depart_h"].to_numpy(np.float64)
        for p, share in shares[rid]:
            arrive = depart + m.time_h[s_pos, pi[p]]
            best = int(np.argmin(arrive))
            out.append({"region": rid, "point": p, "share": share,
                        "first_arrival_h": float(arrive[best]),
                        "source": str(mine["source"].iloc[best]),
                        "distance_km": float(m.distance_km[s_pos[best], pi[p]])})
    return pd.DataFrame(out, columns=POINT_RESPONSE_COLUMNS)
