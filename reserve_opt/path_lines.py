"""Lines drawn along the travel the numbers used (flows.gpkg, routes.geojson, maps).

A pair's line follows the node path :func:`reserve_opt.transport.travel_paths` measured,
so its length matches its ``distance_km``. Each line says how it was drawn, in
``path_kind`` (:data:`PATH_KINDS`):

- ``links``: along the fastest link path, every leg a link drawn between its ends (the
  links table holds no road shape: a link with a given ``distance_km`` is drawn as the
  straight line between its ends);
- ``links+geodesic``: a link path whose first or last leg is a facility's or demand
  point's local leg to its region's seat, a geodesic fallback drawn straight (its
  ``distance_km`` is the straight length x the detour factor);
- ``geodesic``: no path is known, a straight line (``distance_km`` is the great-circle
  length x the detour factor);
- ``table``: the travel table gave the pair; no path is known, a straight line.

Nothing is drawn between two places at the same position (a region's own stock at its
seat): no zero-length lines.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from reserve_opt.domain import Instance
from reserve_opt.transport import TIME_SOURCES, travel_matrix, travel_paths

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["PATH_KINDS", "flow_lines", "pair_lines"]

PATH_KINDS = ("links", "links+geodesic", "geodesic", "table")
"""How a line was drawn; see the module docstring."""

Coords = list[tuple[float, float]]


def _dedup(coords: Coords) -> Coords:
    out: Coords = []
    for c in coords:
        if not out or out[-1] != c:
            out.append(c)
    return out


def pair_lines(instance: Instance, scenario: str, pairs: Iterable[tuple[str, str]],
               ) -> dict[tuple[str, str], tuple[Coords, str] | None]:
    """The drawn course of each (origin, destination) pair and its ``path_kind``.

    Parameters
    ----------
    instance
        The instance.
    scenario
        Scenario id whose travel (outages, scenario rows) applies.
    pairs
        (origin, destination) facility, region or demand point ids.

    Returns
    -------
    dict
        Pair -> (lon/lat coordinates, path kind), or ``None`` when both ends are at the
        same position (nothing to draw).
    """
    pairs = list(dict.fromkeys(pairs))
    locs = instance.locations()
    paths = travel_paths(instance, scenario, pairs)
    links = {frozenset((lk.origin, lk.destination)) for lk in instance.links}
    straight = [p for p in pairs if paths[p] is None]
    codes: dict[tuple[str, str], str] = {}
    if straight:
        origins = list(dict.fromkeys(a for a, _ in straight))
        dests = list(dict.fromkeys(b for _, b in straight))
        m = travel_matrix(instance, scenario, origins, dests)
        oi = {a: i for i, a in enumerate(origins)}
        di = {b: i for i, b in enumerate(dests)}
        codes = {(a, b): TIME_SOURCES[int(m.time_source[oi[a], di[b]])] for a, b in straight}
    out: dict[tuple[str, str], tuple[Coords, str] | None] = {}
    for p in pairs:
        path = paths[p]
        if path is None:
            coords, kind = _dedup([locs[p[0]], locs[p[1]]]), codes[p]
            kind = "table" if kind == "table" else "geodesic"
        else:
            coords = _dedup([locs[n] for n in path])
            local = any(frozenset(leg) not in links and locs[leg[0]] != locs[leg[1]]
                        for leg in itertools.pairwise(path))
            kind = "links+geodesic" if local else "links"
        out[p] = (coords, kind) if len(coords) >= 2 else None
    return out


def flow_lines(instance: Instance, scenario: str, flows: pd.DataFrame) -> gpd.GeoDataFrame:
    """Allocation flows as lines along their travel, one per flow and receiving point.

    A flow into a region with demand points reaches each point with its share of the
    goods (:mod:`reserve_opt.demand_points`); one into a region without reaches its seat.

    Parameters
    ----------
    instance
        The instance (reduced to the event or holding ``scenario``).
    scenario
        Scenario id.
    flows
        Allocation flows (``source``, ``region``, ``quantity`` and the other columns of
        ``AllocationResult.flows``).

    Returns
    -------
    geopandas.GeoDataFrame
        The flow's columns, with ``quantity``, ``distance_km`` and ``time_h`` those of the
        leg to the point, plus ``point``, ``share`` and ``path_kind``; EPSG:4326. Legs
        between two places at the same position are left out (see the module docstring).
    """
    import geopandas as gpd
    from shapely.geometry import LineString

    shares = instance.point_shares
    legs: list[tuple[int, str, float]] = []
    for i, reg in enumerate(flows["region"]):
        for point, share in shares.get(str(reg), ((str(reg), 1.0),)):
            legs.append((i, point, share))
    pairs = [(str(flows["source"].iloc[i]), p) for i, p, _ in legs]
    drawn = pair_lines(instance, scenario, pairs)
    origins = list(dict.fromkeys(a for a, _ in pairs))
    dests = list(dict.fromkeys(b for _, b in pairs))
    m = travel_matrix(instance, scenario, origins, dests)
    oi = {a: i for i, a in enumerate(origins)}
    di = {b: i for i, b in enumerate(dests)}
    rows, geoms = [], []
    for (i, point, share), pair in zip(legs, pairs, strict=True):
        line = drawn[pair]
        if line is None:
            continue
        rec = flows.iloc[i].to_dict()
        rec.update(point=point, share=share, quantity=float(rec["quantity"]) * share,
                   distance_km=float(m.distance_km[oi[pair[0]], di[pair[1]]]),
                   time_h=float(m.time_h[oi[pair[0]], di[pair[1]]]), path_kind=line[1])
        rows.append(rec)
        geoms.append(LineString(line[0]))
    columns = [*flows.columns, "point", "share", "path_kind"]
    frame = pd.DataFrame(rows, columns=columns) if rows else pd.DataFrame(columns=columns)
    return gpd.GeoDataFrame(frame, geometry=geoms if geoms else np.array([], dtype=object),
                            crs="EPSG:4326")
