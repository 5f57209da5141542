"""Travel times over a road network the user supplies as lines.

:func:`build_road_network` turns a GeoDataFrame of (Multi)LineStrings into a graph whose nodes
are the line vertices (vertices at the same place, to ``node_precision_deg``, are one node, so
roads connect wherever they share a vertex) and whose edges are the segments between
consecutive vertices, with geodesic length (km) and time (h) at the road's speed.
:meth:`RoadNetwork.travel` snaps points to their nearest nodes and runs Dijkstra
by time (:func:`reserve_opt.geo.network.fastest_paths`, the package's one shortest-path
routine); :meth:`RoadNetwork.with_outages` cuts or
slows roads for a scenario, after which shortest paths are simply re-run.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree

from reserve_opt.errors import InputError
from reserve_opt.geo.crs import WGS84, check_lonlat, ensure_crs
from reserve_opt.geo.distance import geodesic_arcs_km, unit_vectors
from reserve_opt.geo.network import fastest_paths, path_lengths
from reserve_opt.geo.outages import LinkOutage, as_outages
from reserve_opt.geo.travel import TravelMatrices, VehicleClass

__all__ = [
    "MPH_KMH",
    "RoadNetwork",
    "build_road_network",
    "parse_maxspeed",
    "parse_oneway",
    "path_lengths",
]

MPH_KMH = 1.609344
"""km/h in one mph."""

# OSM ``oneway`` values, as OSMnx reads them: forward one-way, reversed one-way (drawn
# against the traffic), two-way. ``reversible``/``alternating`` roads change direction by
# time of day, so both directions are kept (as OSMnx does).
_ONEWAY_FORWARD = frozenset({"yes", "true", "1"})
_ONEWAY_REVERSED = frozenset({"-1", "reverse"})
_TWO_WAY = frozenset({"no", "false", "0", "reversible", "alternating"})

_I64 = NDArray[np.int64]
_F64 = NDArray[np.float64]


@dataclass(frozen=True)
class RoadNetwork:
    """A directed road graph with per-segment length and speed.

    Attributes
    ----------
    node_lon, node_lat
        Node coordinates, degrees WGS84, shape (n_nodes,).
    edge_from, edge_to
        Node indexes of each directed edge (segment), shape (n_edges,).
    edge_km
        Geodesic length of each edge, km.
    edge_speed_kmh
        Speed on each edge, km/h (0 when cut by an outage).
    edge_road
        Row position, in the input lines, of the road each edge belongs to.
    road_ids
        ID of each input road (the ``id_column`` value, or its row position).
    road_from_ids, road_to_ids
        End IDs of each road (``from_column`` / ``to_column`` values) when given, for
        :class:`~reserve_opt.geo.outages.LinkOutage` on ``(from_id, to_id)``; else ``None``.
    """

    node_lon: _F64
    node_lat: _F64
    edge_from: _I64
    edge_to: _I64
    edge_km: _F64
    edge_speed_kmh: _F64
    edge_road: _I64
    road_ids: tuple[Hashable, ...]
    road_from_ids: tuple[Hashable, ...] | None = None
    road_to_ids: tuple[Hashable, ...] | None = None

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.node_lon.size)

    def with_outages(
        self,
        outages: Iterable[LinkOutage | Sequence[Any]] = (),
        *,
        road_factors: dict[Hashable, float] | None = None,
    ) -> RoadNetwork:
        """Return a copy with roads cut (factor 0) or slowed (factor in (0, 1)).

        Parameters
        ----------
        outages
            ``(from_id, to_id, speed_factor)``: every road whose ends are ``from_id`` and
            ``to_id`` (either way round) per ``from_column`` / ``to_column`` is affected.
        road_factors
            ``{road_id: speed_factor}`` by the road's own ID (``id_column``).

        Returns
        -------
        RoadNetwork
            Speeds multiplied by the factors; shortest paths on it avoid cut roads.

        Raises
        ------
        InputError
            An outage naming roads that do not exist, or a factor outside [0, 1].
        """
        n_roads = len(self.road_ids)
        factor = np.ones(n_roads, dtype=np.float64)
        outs = as_outages(outages)
        if outs and (self.road_from_ids is None or self.road_to_ids is None):
            raise InputError(
                "the road network was built without from_column/to_column, so outages by "
                "(from_id, to_id) cannot be matched; rebuild it with them or use road_factors."
            )
        if outs:
            assert self.road_from_ids is not None and self.road_to_ids is not None
            ends: dict[tuple[Hashable, Hashable], list[int]] = {}
            for r, (a, b) in enumerate(zip(self.road_from_ids, self.road_to_ids, strict=True)):
                ends.setdefault((a, b), []).append(r)
                if a != b:
                    ends.setdefault((b, a), []).append(r)
            for o in outs:
                hits = ends.get((o.from_id, o.to_id))
                if not hits:
                    raise InputError(
                        f"outage {o.from_id!r} -> {o.to_id!r} matches no road in the network; "
                        "check both IDs against the road file's from/to columns."
                    )
                factor[hits] *= o.speed_factor
        if road_factors:
            pos = {rid: r for r, rid in enumerate(self.road_ids)}
            for rid, f in road_factors.items():
                if rid not in pos:
                    raise InputError(f"road {rid!r} in the outages is not in the road network; "
                                     "check the road ID.")
                LinkOutage(rid, rid, float(f))  # validates the factor
                factor[pos[rid]] *= float(f)
        return replace(self, edge_speed_kmh=self.edge_speed_kmh * factor[self.edge_road])

    def _edges(self, vehicle: VehicleClass | None) -> tuple[_F64, _F64]:
        """Time (h; inf when cut) and length (km) of every edge for ``vehicle``."""
        speed = self.edge_speed_kmh
        if vehicle is not None:
            speed = np.minimum(speed, vehicle.speed_kmh)
        with np.errstate(divide="ignore"):
            t = np.where(speed > 0, self.edge_km / np.where(speed > 0, speed, 1.0), np.inf)
        return t, self.edge_km

    def snap(
        self, lon: ArrayLike, lat: ArrayLike, *, ids: Sequence[Any] | None = None,
        max_snap_km: float = 5.0, what: str = "point", limit_name: str = "max_snap_km",
    ) -> tuple[_I64, _F64]:
        """Nearest node of each point and the geodesic distance to it.

        Parameters
        ----------
        lon, lat
            Points, degrees WGS84.
        ids
            Point IDs for the error message (default: positions).
        max_snap_km
            Refuse points farther than this from every node.
        what
            Word for the points in the error message (``"facility"``, ``"region"``).
        limit_name
            Name of the limit in the error message (the setting that gives it).

        Returns
        -------
        nodes : numpy.ndarray
            Node index per point.
        snap_km : numpy.ndarray
            Geodesic distance to that node, km.
        """
        lo = np.asarray(lon, dtype=np.float64).ravel()
        la = np.asarray(lat, dtype=np.float64).ravel()
        check_lonlat(lo, la, f"{what} coordinates")
        tree = cKDTree(unit_vectors(self.node_lon, self.node_lat))
        _, nodes = tree.query(unit_vectors(lo, la), k=1)
        nodes = np.asarray(nodes, dtype=np.int64)
        snap_km = geodesic_arcs_km(lo, la, self.node_lon[nodes], self.node_lat[nodes])
        far = np.flatnonzero(snap_km > max_snap_km)
        if far.size:
            i = int(far[0])
            name = ids[i] if ids is not None else i
            raise InputError(
                f"{what} {name!r} is {snap_km[i]:.1f} km from the nearest road node, more than "
                f"{limit_name}={max_snap_km:g} km; check its coordinates, extend the road "
                f"network or raise {limit_name}."
            )
        return nodes, snap_km

    def travel(
        self,
        origin_lon: ArrayLike,
        origin_lat: ArrayLike,
        dest_lon: ArrayLike,
        dest_lat: ArrayLike,
        *,
        vehicle: VehicleClass | None = None,
        origin_ids: Sequence[Any] | None = None,
        dest_ids: Sequence[Any] | None = None,
        max_snap_km: float = 5.0,
        access_speed_kmh: float | None = None,
    ) -> TravelMatrices:
        """Fastest-path distance, time and cost between points over the network.

        Parameters
        ----------
        origin_lon, origin_lat, dest_lon, dest_lat
            Degrees WGS84; each point is snapped to its nearest node.
        vehicle
            Speed cap (edge speed = min(road speed, vehicle speed)) and cost per km; with
            ``None`` road speeds are used and cost is 0.
        origin_ids, dest_ids
            IDs for error messages.
        max_snap_km
            Refuse points farther than this from the network.
        access_speed_kmh
            If given, the straight legs from each point to its node are added to distance
            and time at this speed; otherwise they are ignored.

        Returns
        -------
        TravelMatrices
            (n_origins, n_destinations) road km, hours and cost along the fastest path;
            ``inf`` where no path exists.
        """
        o_node, o_snap = self.snap(origin_lon, origin_lat, ids=origin_ids,
                                   max_snap_km=max_snap_km, what="origin")
        d_node, d_snap = self.snap(dest_lon, dest_lat, ids=dest_ids,
                                   max_snap_km=max_snap_km, what="destination")
        t_edge, km_edge = self._edges(vehicle)
        time_h, dist_km = fastest_paths(self.edge_from, self.edge_to, t_edge, km_edge,
                                        self.n_nodes, o_node, d_node)
        if access_speed_kmh is not None:
            if not (math.isfinite(access_speed_kmh) and access_speed_kmh > 0):
                raise InputError(f"access_speed_kmh={access_speed_kmh} must be positive.")
            leg = o_snap[:, None] + d_snap[None, :]
            dist_km = dist_km + leg
            time_h = time_h + leg / access_speed_kmh
        per_km = vehicle.cost_per_km if vehicle is not None else 0.0
        with np.errstate(invalid="ignore"):  # inf * 0 for unreachable pairs
            cost = np.where(np.isfinite(dist_km), dist_km * per_km, np.inf)
        return TravelMatrices(distance_km=dist_km, time_h=time_h, cost=cost)


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def parse_oneway(values: Sequence[Any], *, source: str = "oneway"
                 ) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Directions each road may be driven, from OSM ``oneway`` tags (as OSMnx reads them).

    Parameters
    ----------
    values
        One tag per road: ``yes``/``true``/``1`` (or True, 1) along the line as drawn;
        ``-1``/``reverse`` against it; ``no``/``false``/``0`` (or False, 0), ``reversible``
        and ``alternating`` (direction changes by time of day) and empty both ways. Case
        and surrounding spaces are ignored.
    source
        Name for error messages.

    Returns
    -------
    forward, backward : numpy.ndarray
        Whether each road may be driven along / against the line.

    Raises
    ------
    InputError
        A value that is none of these, naming its row.
    """
    n = len(values)
    forward = np.ones(n, dtype=bool)
    backward = np.ones(n, dtype=bool)
    for i, v in enumerate(values):
        if _blank(v):
            continue
        if isinstance(v, bool | np.bool_):
            backward[i] = not v
            continue
        tag = str(int(v)) if isinstance(v, int | np.integer) else str(v).strip().lower()
        if tag in _ONEWAY_FORWARD:
            backward[i] = False
        elif tag in _ONEWAY_REVERSED:
            forward[i] = False
        elif tag not in _TWO_WAY:
            raise InputError(
                f"{source}: row {i} has oneway {v!r}; give yes, no, -1 or reversible "
                "(or true/false/1/0), or leave it empty for a two-way road.")
    return forward, backward


def parse_maxspeed(values: Sequence[Any], default_kmh: float, *, source: str = "maxspeed"
                   ) -> NDArray[np.float64]:
    """Speeds in km/h from numbers or OSM ``maxspeed`` tags (as OSMnx reads them).

    Parameters
    ----------
    values
        One value per road: a number (km/h), ``"50"``, ``"50 km/h"``/``"50 kmh"``/
        ``"50 kph"``, ``"30 mph"`` (x :data:`MPH_KMH`), several separated by ``;`` or
        ``|`` (their mean, as OSMnx takes). Defaults, documented: an empty value, ``none``
        (no limit posted), ``signals``, ``variable``, ``walk`` and implicit country tags
        such as ``DE:urban`` or ``RU:rural`` (a limit set by law, not a number) all take
        ``default_kmh``.
    default_kmh
        Speed of a road without a usable number, km/h.
    source
        Name for error messages.

    Returns
    -------
    numpy.ndarray
        km/h per road, all positive.

    Raises
    ------
    InputError
        A value that is not a positive speed in one of these forms, naming its row.
    """
    out = np.empty(len(values), dtype=np.float64)
    for i, v in enumerate(values):
        if _blank(v):
            out[i] = default_kmh
            continue
        if isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool):
            kmh = float(v)
        else:
            kmh = _maxspeed_tag(str(v), default_kmh)
        if not (math.isfinite(kmh) and kmh > 0):
            raise InputError(
                f"{source}: row {i} has speed {v!r}; give a positive km/h, a tag such as "
                "'50 mph' or '30 km/h', or leave it empty for the default.")
        out[i] = kmh
    return out


def _maxspeed_tag(tag: str, default_kmh: float) -> float:
    """km/h of one ``maxspeed`` tag; NaN when it is not one."""
    parts = [p.strip().lower() for p in tag.replace("|", ";").split(";") if p.strip()]
    speeds = []
    for p in parts:
        if p in ("none", "signals", "variable", "walk") or (
                ":" in p and p.split(":", 1)[0].isalpha()):
            speeds.append(default_kmh)
            continue
        factor = 1.0
        for unit, f in (("mph", MPH_KMH), ("km/h", 1.0), ("kmh", 1.0), ("kph", 1.0)):
            if p.endswith(unit):
                p, factor = p[: -len(unit)].strip(), f
                break
        try:
            speeds.append(float(p) * factor)
        except ValueError:
            return math.nan
    return float(np.mean(speeds)) if speeds else math.nan


def build_road_network(
    lines: gpd.GeoDataFrame,
    *,
    speed_column: str | None = None,
    default_speed_kmh: float = 60.0,
    id_column: str | None = None,
    from_column: str | None = None,
    to_column: str | None = None,
    oneway_column: str | None = None,
    crs: Any = None,
    node_precision_deg: float = 1e-7,
    source: str = "road network",
) -> RoadNetwork:
    """Build a :class:`RoadNetwork` from road lines.

    Parameters
    ----------
    lines
        GeoDataFrame of LineStrings / MultiLineStrings with a CRS (or pass ``crs``).
    speed_column
        Column of speeds: numbers in km/h or OSM ``maxspeed`` tags (see
        :func:`parse_maxspeed`); missing values fall back to ``default_speed_kmh``.
    default_speed_kmh
        Speed for roads without one.
    id_column
        Road IDs (for ``road_factors`` outages); default: row positions.
    from_column, to_column
        Road end IDs, for outages given as ``(from_id, to_id, speed_factor)``.
    oneway_column
        OSM ``oneway`` values (see :func:`parse_oneway`): ``yes``/``true``/``1``/True
        along the line only, ``-1``/``reverse`` against it only, ``no``/``false``/``0``/
        ``reversible``/``alternating``/empty both ways.
    crs
        CRS override when ``lines`` has none.
    node_precision_deg
        Vertices that agree to this many degrees are the same node (1e-7 deg ~ 1 cm).
    source
        Name for error messages.

    Returns
    -------
    RoadNetwork

    Raises
    ------
    InputError
        Missing CRS, non-line geometry, bad speeds, missing columns.
    """
    if not (math.isfinite(default_speed_kmh) and default_speed_kmh > 0):
        raise InputError(f"default_speed_kmh={default_speed_kmh} must be a positive km/h.")
    for col in (speed_column, id_column, from_column, to_column, oneway_column):
        if col is not None and col not in lines.columns:
            raise InputError(f"{source}: no column {col!r}; columns are {list(lines.columns)}.")
    if (from_column is None) != (to_column is None):
        raise InputError(f"{source}: give both from_column and to_column, or neither.")
    geoms = lines.geometry.to_numpy()
    ok = np.isin(shapely.get_type_id(geoms), [1, 5])  # LineString, MultiLineString
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        raise InputError(f"{source}: row {i} is not a LineString; roads must be lines.")
    coords0 = shapely.get_coordinates(geoms)
    the_crs = ensure_crs(lines.crs, coords0[:, 0], coords0[:, 1], override=crs, source=source)
    g = gpd.GeoSeries(geoms, crs=the_crs).to_crs(WGS84)
    n_roads = len(lines)
    if speed_column is not None:
        sp = parse_maxspeed(lines[speed_column].tolist(), default_speed_kmh,
                            source=f"{source}: column {speed_column!r}")
    else:
        sp = np.full(n_roads, default_speed_kmh)
    if oneway_column is not None:
        forward, backward = parse_oneway(lines[oneway_column].tolist(),
                                         source=f"{source}: column {oneway_column!r}")
    else:
        forward = backward = np.ones(n_roads, dtype=bool)

    # explode to simple parts, then to consecutive-vertex segments
    parts, part_road = shapely.get_parts(g.to_numpy(), return_index=True)
    xy, vert_part = shapely.get_coordinates(parts, return_index=True)
    same_part = vert_part[1:] == vert_part[:-1]
    a = np.flatnonzero(same_part)
    key = np.round(xy / node_precision_deg).astype(np.int64)
    _, first, node_of = np.unique(key, axis=0, return_index=True, return_inverse=True)
    node_of = node_of.ravel()
    node_xy = xy[first]
    u, v = node_of[a], node_of[a + 1]
    road = part_road[vert_part[a]].astype(np.int64)
    keep = u != v
    u, v, road, a = u[keep], v[keep], road[keep], a[keep]
    km = geodesic_arcs_km(xy[a, 0], xy[a, 1], xy[a + 1, 0], xy[a + 1, 1])
    fwd, back = forward[road], backward[road]
    ef = np.concatenate((u[fwd], v[back])).astype(np.int64)
    et = np.concatenate((v[fwd], u[back])).astype(np.int64)
    er = np.concatenate((road[fwd], road[back]))
    ekm = np.concatenate((km[fwd], km[back]))
    ids: tuple[Hashable, ...] = (
        tuple(lines[id_column].tolist()) if id_column is not None else tuple(range(n_roads))
    )
    return RoadNetwork(
        node_lon=node_xy[:, 0].copy(),
        node_lat=node_xy[:, 1].copy(),
        edge_from=ef,
        edge_to=et,
        edge_km=ekm,
        edge_speed_kmh=sp[er].astype(np.float64),
        edge_road=er,
        road_ids=ids,
        road_from_ids=tuple(lines[from_column].tolist()) if from_column is not None else None,
        road_to_ids=tuple(lines[to_column].tolist()) if to_column is not None else None,
    )
