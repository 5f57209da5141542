"""Travel between places: the one home of distances, times, outages and shortest paths.

Every model (plan, allocate, route, site, analyze) takes its travel from here. A pair's
distance and time come from the first of these that knows it (its **time source**):

1. ``table`` -- a row of the instance's ``travel`` table (a planner's OD matrix; directed,
   partial matrices allowed). A row with a scenario replaces the normal row in that
   scenario, and outages do not apply to it (it already is the time after damage).
   Only the rows without a ``vehicle_class`` count here, for every model; a class's rows
   give its vehicles' times in routing (:func:`class_times`), never a distance.
2. ``road`` -- the fastest path over the road layer named by ``[geometry] roads``
   (:mod:`reserve_opt.geo.network`; the roads' own lengths and speeds, one-way roads
   driven one way). Every facility and region point is snapped to its nearest road node;
   one farther than the ``road_snap_km`` setting is refused, naming it. The straight leg
   from a point to its node counts as a geodesic leg (x detour factor, at ``speed_kmh``).
   Outages apply to road pairs by the pair rule below. Pairs the roads do not join are
   unusable.
3. ``links`` -- the fastest path over the ``links`` table (``scipy.sparse.csgraph``). A
   link's length is its ``distance_km`` or, when empty, the great-circle length of its
   ends: the links are the road, so no detour factor. Its time is ``time_h``, or length over
   its ``speed_kmh`` (else the ``speed_kmh`` setting); ``oneway`` links run from -> to only.
   Every facility and demand point is joined to its region's node by a local link of its
   geodesic distance x detour factor (a geodesic fallback leg). An outage with
   ``speed_factor`` 0 removes a link; with f > 0 it divides the link's speed by f. The
   reported distance is the length of the fastest path. Pairs the links do not join are
   unusable. A region with demand points is measured at its points
   (:mod:`reserve_opt.demand_points`).
4. ``geodesic`` -- without roads or links: great-circle distance x ``detour_factor``, at the
   ``speed_kmh`` setting (sparse with a time limit for big instances).

The detour factor applies once, to geodesic legs only. An outage ``(a, b)`` on a table, road or
geodesic pair applies to every pair whose ends are ``a`` or located in region ``a``, and
``b`` or located in region ``b``, in both directions. Several outages on one pair (two rows,
or a region's and one of its facilities') keep the worst: the smallest speed factor, as a
variant's outage on top of another does (``models/variants.md``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
import pandas as pd

from reserve_opt.domain import FacilityKind, Instance, Outage
from reserve_opt.errors import InputError
from reserve_opt.geo import VehicleClass, dense_arcs, geodesic_arcs_km, sparse_arcs
from reserve_opt.geo.network import fastest_paths, fastest_trees

__all__ = [
    "TIME_SOURCES",
    "LinkEdges",
    "RoadGraph",
    "ScenarioArcs",
    "TransportArcs",
    "TravelMatrix",
    "build_arcs",
    "class_times",
    "default_sources",
    "link_edges",
    "region_of",
    "travel_matrix",
    "travel_paths",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
CodeArray = npt.NDArray[np.int8]

#: Above this many source x region pairs, arcs without links are built sparsely
#: (KD-tree prefilter) and a ``max_time_h`` must be given.
DENSE_PAIR_LIMIT = 4_000_000

TIME_SOURCES = ("table", "links", "geodesic", "road")
"""Where a pair's time came from, by code (0, 1, 2, 3); the precedence is table > road >
links > geodesic (road came last, so the older codes kept their numbers)."""
_TABLE, _LINKS, _GEODESIC, _ROAD = 0, 1, 2, 3

_SOURCE_KINDS = (
    FacilityKind.GOVERNMENT_WAREHOUSE,
    FacilityKind.ENTERPRISE_RESERVE,
    FacilityKind.PRODUCTION_CAPACITY,
)

OutageKey = tuple[tuple[str, str, float], ...]
_Base = tuple[IntArray, IntArray, FloatArray, FloatArray, CodeArray]


@dataclass(frozen=True, eq=False)
class ScenarioArcs:
    """The usable arcs of one scenario, as parallel arrays sorted by (source, region).

    Attributes
    ----------
    scenario
        Scenario id.
    source
        Position of each arc's source in :attr:`TransportArcs.source_ids`.
    region
        Position of each arc's region in :attr:`TransportArcs.region_ids`.
    distance_km
        Road length, km.
    time_h
        Travel time, hours (outage slow-downs included).
    time_source
        Code of where each arc's time came from: a position in :data:`TIME_SOURCES`.
    """

    scenario: str
    source: IntArray
    region: IntArray
    distance_km: FloatArray
    time_h: FloatArray
    time_source: CodeArray

    def __len__(self) -> int:
        return int(self.source.size)


@dataclass(frozen=True, eq=False)
class TransportArcs:
    """Usable source -> region arcs of every scenario of an instance.

    Attributes
    ----------
    source_ids
        Facility ids of the sources, in arc-index order.
    region_ids
        Region ids, in instance order.
    commodity_ids
        Commodity ids, in instance order.
    cost_per_unit_km
        Transport cost of each commodity, currency per unit km, shape (K,).
    scenarios
        One :class:`ScenarioArcs` per scenario, in instance order.
    uses_links
        Whether distances follow the instance's link graph (else its roads, or great
        circles x detour).
    """

    source_ids: tuple[str, ...]
    region_ids: tuple[str, ...]
    commodity_ids: tuple[str, ...]
    cost_per_unit_km: FloatArray
    scenarios: tuple[ScenarioArcs, ...]
    uses_links: bool

    def scenario(self, scenario_id: str) -> ScenarioArcs:
        """The arcs of one scenario."""
        for s in self.scenarios:
            if s.scenario == scenario_id:
                return s
        raise InputError(f"No scenario {scenario_id!r}; the instance has "
                         f"{[s.scenario for s in self.scenarios]}.")

    def unit_cost(self, scenario: int | str) -> FloatArray:
        """Per-unit transport cost of every arc and commodity, currency per unit.

        Parameters
        ----------
        scenario
            Scenario position or id.

        Returns
        -------
        numpy.ndarray
            Shape (n_arcs, K): ``distance_km[:, None] * cost_per_unit_km[None, :]``.
        """
        sa = self.scenarios[scenario] if isinstance(scenario, int) else self.scenario(scenario)
        return sa.distance_km[:, None] * self.cost_per_unit_km[None, :]

    def to_frame(self) -> pd.DataFrame:
        """All arcs as one table.

        Returns
        -------
        pandas.DataFrame
            Columns ``scenario, source, region, distance_km, time_h, time_source`` and one
            ``cost_<commodity>`` column per commodity (currency per unit).
        """
        src = np.asarray(self.source_ids, dtype=object)
        reg = np.asarray(self.region_ids, dtype=object)
        names = np.asarray(TIME_SOURCES, dtype=object)
        frames = []
        for s in self.scenarios:
            df = pd.DataFrame({
                "scenario": s.scenario,
                "source": src[s.source],
                "region": reg[s.region],
                "distance_km": s.distance_km,
                "time_h": s.time_h,
                "time_source": names[s.time_source],
            })
            for k, c in enumerate(self.commodity_ids):
                df[f"cost_{c}"] = s.distance_km * self.cost_per_unit_km[k]
            frames.append(df)
        if not frames:
            return pd.DataFrame(columns=["scenario", "source", "region", "distance_km",
                                         "time_h", "time_source"])
        return pd.concat(frames, ignore_index=True)


@dataclass(frozen=True, eq=False)
class TravelMatrix:
    """Distance, time and time source between every origin and destination of a scenario.

    Attributes
    ----------
    distance_km, time_h
        Shape (n_origins, n_destinations); ``inf`` where no path is usable.
    time_source
        Codes into :data:`TIME_SOURCES`, same shape.
    """

    distance_km: FloatArray
    time_h: FloatArray
    time_source: CodeArray


@dataclass(frozen=True, eq=False)
class LinkEdges:
    """The edges of the link graph: explicit links, then one local link per facility.

    Attributes
    ----------
    origin, destination
        Location ids of each edge's ends.
    distance_km, time_h
        Length (km) and time (h) under normal conditions.
    oneway
        The edge runs from origin to destination only.
    """

    origin: tuple[str, ...]
    destination: tuple[str, ...]
    distance_km: FloatArray
    time_h: FloatArray
    oneway: npt.NDArray[np.bool_]


def default_sources(instance: Instance) -> tuple[str, ...]:
    """Facilities that can supply goods: warehouses, enterprise reserves, production sites."""
    return tuple(f.id for f in instance.facilities if f.kind in _SOURCE_KINDS)


def link_edges(instance: Instance) -> LinkEdges:
    """The link graph's edges with their lengths and times (see the module docstring).

    Parameters
    ----------
    instance
        The instance (its ``links``, facilities and settings).

    Returns
    -------
    LinkEdges
        Explicit links in file order, then each facility's and each demand point's local
        link to its region.
    """
    st = instance.settings
    locs = instance.locations()
    links = instance.links
    local = [(f.id, f.region) for f in instance.facilities]
    local += [(p.id, p.region) for p in instance.demand_points]
    a_id = tuple([lk.origin for lk in links] + [a for a, _ in local])
    b_id = tuple([lk.destination for lk in links] + [b for _, b in local])
    geo = geodesic_arcs_km([locs[a][0] for a in a_id], [locs[a][1] for a in a_id],
                           [locs[b][0] for b in b_id], [locs[b][1] for b in b_id])
    nl = len(links)
    given = np.array([np.nan if lk.distance_km is None else lk.distance_km for lk in links],
                     dtype=np.float64)
    length = np.concatenate([np.where(np.isnan(given), geo[:nl], given),
                             geo[nl:] * st.detour_factor])  # detour on the geodesic leg only
    speed = np.array([st.speed_kmh if lk.speed_kmh is None else lk.speed_kmh for lk in links]
                     + [st.speed_kmh] * len(local), dtype=np.float64)
    time = length / speed
    for k, lk in enumerate(links):
        if lk.time_h is not None:
            time[k] = lk.time_h
    oneway = np.array([lk.oneway for lk in links] + [False] * len(local), dtype=bool)
    return LinkEdges(a_id, b_id, length, time, oneway)


def _outage_key(outages: Iterable[Outage]) -> OutageKey:
    items: dict[tuple[str, str], float] = {}
    for o in outages:
        a, b = sorted((o.origin, o.destination))
        items[(a, b)] = min(items.get((a, b), 1.0), float(o.speed_factor))
    return tuple(sorted((a, b, f) for (a, b), f in items.items() if f < 1.0))


def _pair_factors(key: OutageKey, o_id: npt.NDArray[np.object_],
                  o_reg: npt.NDArray[np.object_], o_at: IntArray,
                  d_id: npt.NDArray[np.object_], d_reg: npt.NDArray[np.object_],
                  d_at: IntArray) -> FloatArray:
    """Speed factor of each pair under the pair rule of outages.

    A pair is origin ``o_at[k]`` (a position in ``o_id``, whose regions are ``o_reg``) and
    destination ``d_at[k]``: each outage's ends are matched against the few places once,
    and the pairs take the matches by position.
    """
    factor = np.ones(o_at.size)
    for a, b, f in key:
        o_a, o_b = (o_id == a) | (o_reg == a), (o_id == b) | (o_reg == b)
        d_a, d_b = (d_id == a) | (d_reg == a), (d_id == b) | (d_reg == b)
        hit = (o_a[o_at] & d_b[d_at]) | (o_b[o_at] & d_a[d_at])
        factor[hit] = np.minimum(factor[hit], f)
    return factor


def _slowed(time: FloatArray, factor: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore"):
        return np.where(factor > 0, time / np.where(factor > 0, factor, 1.0), np.inf)


def region_of(instance: Instance) -> dict[str, str]:
    """The region of every location id: a region is its own, a facility or point lies in one.

    Parameters
    ----------
    instance
        The instance.

    Returns
    -------
    dict
        Location id -> region id.
    """
    return {**{r.id: r.id for r in instance.regions},
            **{f.id: f.region for f in instance.facilities},
            **{p.id: p.region for p in instance.demand_points}}


def build_arcs(
    instance: Instance,
    *,
    sources: Sequence[str] | None = None,
    max_time_h: float | None = None,
) -> TransportArcs:
    """Usable source -> region arcs of every scenario, with distance, time and unit costs.

    Parameters
    ----------
    instance
        The instance.
    sources
        Facility ids to use as sources; default :func:`default_sources`.
    max_time_h
        Drop arcs slower than this, hours (``None`` keeps every reachable pair). Required
        without links when there are more than :data:`DENSE_PAIR_LIMIT` pairs.

    Returns
    -------
    TransportArcs
        One arc set per scenario.

    Raises
    ------
    InputError
        On an unknown source id, or a big instance without ``max_time_h``.
    """
    src_ids = default_sources(instance) if sources is None else tuple(sources)
    unknown = [s for s in src_ids if s not in instance.facility_index]
    if unknown:
        raise InputError(f"Unknown source facilities {unknown}; give facility ids.")
    reg_ids = tuple(r.id for r in instance.regions)
    table = _table_pairs(instance, src_ids, reg_ids)
    base: Callable[[str, OutageKey], _Base]
    if table is not None and table.covers(len(src_ids), len(reg_ids)):
        base = _no_arcs  # a full matrix: nothing to measure
    elif instance.roads is not None:
        base = _road_arcs(instance, src_ids, reg_ids)
    elif instance.links:
        base = _link_arcs(instance, src_ids, reg_ids)
    else:
        base = _geodesic_arcs(instance, src_ids, max_time_h)
    where = region_of(instance)
    src_reg = np.asarray([where[s] for s in src_ids], dtype=object)
    src_obj = np.asarray(src_ids, dtype=object)
    reg_obj = np.asarray(reg_ids, dtype=object)
    out = []
    for sc in instance.scenarios:
        s, r, d, t, code = base(sc.id, _outage_key(sc.outages))
        if table is not None:
            ts, tr_, td, tt = table.in_force(sc.id, _outage_key(sc.outages), src_obj, src_reg,
                                             reg_obj, reg_obj)
            if s.size:  # the table's pairs replace those the base measured
                other = ~_pair_in(s, r, ts, tr_, len(src_ids), len(reg_ids))
                s, r = np.concatenate([s[other], ts]), np.concatenate([r[other], tr_])
                d, t = np.concatenate([d[other], td]), np.concatenate([t[other], tt])
                code = np.concatenate([code[other], np.full(ts.size, _TABLE, dtype=np.int8)])
            else:
                s, r, d, t = ts, tr_, td, tt
                code = np.full(ts.size, _TABLE, dtype=np.int8)
        if instance.demand_points:
            from reserve_opt.demand_points import spread_over_points  # it uses travel_matrix

            d, t, code = spread_over_points(instance, sc.id, src_ids, reg_ids, s, r, d, t,
                                            code)
        out.append(_finish(sc.id, s, r, d, t, code, max_time_h))
    cpk = np.array([instance.transport_cost_per_unit_km(c.id) for c in instance.commodities],
                   dtype=np.float64)
    return TransportArcs(
        source_ids=src_ids,
        region_ids=reg_ids,
        commodity_ids=tuple(c.id for c in instance.commodities),
        cost_per_unit_km=cpk,
        scenarios=tuple(out),
        uses_links=bool(instance.links) and instance.roads is None,
    )


#: Up to this many origin x destination pairs, pair sets are flags over every pair (one
#: byte each) rather than sorted arrays.
_PAIR_FLAGS_LIMIT = 64_000_000


def _pair_in(o: IntArray, d: IntArray, set_o: IntArray, set_d: IntArray, n_o: int,
             n_d: int) -> npt.NDArray[np.bool_]:
    """Whether each pair ``(o, d)`` is one of the pairs ``(set_o, set_d)``."""
    if n_o * n_d <= _PAIR_FLAGS_LIMIT:
        flags = np.zeros(n_o * n_d, dtype=bool)
        flags[set_o * n_d + set_d] = True
        return np.asarray(flags[o * n_d + d], dtype=bool)
    return np.asarray(np.isin(o * n_d + d, set_o * n_d + set_d), dtype=bool)


@dataclass(frozen=True, eq=False)
class _TablePairs:
    """Rows of the travel table between given origins and destinations, as positions.

    ``scenario`` is a position in ``scenario_ids``, -1 for a normal row.
    """

    origin: IntArray
    destination: IntArray
    distance_km: FloatArray
    time_h: FloatArray
    scenario: npt.NDArray[np.int32]
    scenario_ids: tuple[str, ...]
    n_origins: int
    n_destinations: int

    def covers(self, n_origins: int, n_destinations: int) -> bool:
        """Whether the normal rows give every origin -> destination pair."""
        normal = self.scenario < 0
        seen = np.zeros(n_origins * n_destinations, dtype=bool)
        seen[self.origin[normal] * n_destinations + self.destination[normal]] = True
        return bool(seen.all())

    def pick(self, scenario: str) -> tuple[IntArray, IntArray, FloatArray, FloatArray,
                                           npt.NDArray[np.bool_]]:
        """Rows in force in ``scenario`` (its own, else the normal ones); which are its own."""
        code = (self.scenario_ids.index(scenario) if scenario in self.scenario_ids else -2)
        own = self.scenario == code
        normal = self.scenario < 0
        if own.any():
            # a scenario's row replaces the normal row of its pair (keys are unique per
            # scenario, so each pair has at most one of each)
            normal &= ~_pair_in(self.origin, self.destination, self.origin[own],
                                self.destination[own], self.n_origins, self.n_destinations)
            use = own | normal
        elif normal.all():
            return (self.origin, self.destination, self.distance_km, self.time_h,
                    np.zeros(self.origin.size, dtype=bool))
        else:
            use = normal
        return (self.origin[use], self.destination[use], self.distance_km[use],
                self.time_h[use], own[use])

    def in_force(self, scenario: str, key: OutageKey, o_id: npt.NDArray[np.object_],
                 o_reg: npt.NDArray[np.object_], d_id: npt.NDArray[np.object_],
                 d_reg: npt.NDArray[np.object_]
                 ) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:
        """Rows in force in ``scenario`` (:meth:`pick`) with their hours after its outages.

        A scenario's own row is its time after the damage; a normal row is slowed by the
        scenario's outages (``key``) under the pair rule, places given as in
        :func:`_pair_factors`.
        """
        o, d, dist, time, own = self.pick(scenario)
        if key:
            factor = _pair_factors(key, o_id, o_reg, o, d_id, d_reg, d)
            time = np.where(own, time, _slowed(time, factor))
        return o, d, dist, time


def _table_pairs(instance: Instance, origins: Sequence[str], destinations: Sequence[str],
                 vehicle_class: str | None = None) -> _TablePairs | None:
    """The table's rows of ``vehicle_class`` (``None``: the class-free rows)."""
    tr = instance.travel
    if not len(tr) or (vehicle_class is not None and vehicle_class not in tr.classes):
        return None
    if tr.classes:
        want = -1 if vehicle_class is None else tr.classes.index(vehicle_class)
        mine = tr.vehicle_class == want
        if not mine.any():
            return None
        tr = replace(tr, origin=tr.origin[mine], destination=tr.destination[mine],
                     distance_km=tr.distance_km[mine], time_h=tr.time_h[mine],
                     scenario=tr.scenario[mine], vehicle_class=tr.vehicle_class[mine])
    # each of the table's few thousand places looked up once, its millions of rows by code
    places = pd.Index(tr.places, dtype=object)
    o = pd.Index(list(origins), dtype=object).get_indexer(places)[tr.origin]
    d = pd.Index(list(destinations), dtype=object).get_indexer(places)[tr.destination]
    dist, time, scen = tr.distance_km, tr.time_h, tr.scenario
    keep = (o >= 0) & (d >= 0)
    if not keep.all():
        o, d, dist, time, scen = o[keep], d[keep], dist[keep], time[keep], scen[keep]
    time = np.where(np.isnan(time), dist / instance.settings.speed_kmh, time)
    return _TablePairs(o.astype(np.int64), d.astype(np.int64), dist, time, scen,
                       tr.scenarios, len(origins), len(destinations))


def _finish(scenario: str, s: IntArray, r: IntArray, d: FloatArray, t: FloatArray,
            code: CodeArray, max_time_h: float | None) -> ScenarioArcs:
    keep = np.isfinite(t)
    if max_time_h is not None:
        keep &= t <= max_time_h
    fresh = False  # the arcs own their arrays: they may come from the instance's table
    if not keep.all():
        s, r, d, t, code = s[keep], r[keep], d[keep], t[keep], code[keep]
        fresh = True
    if s.size > 1 and not _in_order(s, r):
        order = np.lexsort((r, s))
        s, r, d, t, code = s[order], r[order], d[order], t[order], code[order]
        fresh = True
    return ScenarioArcs(scenario, s.astype(np.int64, copy=not fresh),
                        r.astype(np.int64, copy=not fresh), d.astype(np.float64, copy=not fresh),
                        t.astype(np.float64, copy=not fresh), code.astype(np.int8, copy=not fresh))


def _in_order(s: IntArray, r: IntArray) -> bool:
    """Whether the pairs are sorted by (s, r) already (a table in matrix order is)."""
    ds = np.diff(s)
    return bool(((ds > 0) | ((ds == 0) & (np.diff(r) >= 0))).all())



def _no_arcs(scenario: str, key: OutageKey) -> _Base:
    none = np.zeros(0, dtype=np.int64)
    return none, none, np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int8)


def _geodesic_arcs(instance: Instance, src_ids: tuple[str, ...],
                   max_time_h: float | None) -> Callable[[str, OutageKey], _Base]:
    st = instance.settings
    fac = [instance.facility(f) for f in src_ids]
    n, m = len(fac), len(instance.regions)
    vehicle = VehicleClass("planning", st.speed_kmh)
    args = (
        np.array([f.lon for f in fac]), np.array([f.lat for f in fac]),
        np.array([r.lon for r in instance.regions]), np.array([r.lat for r in instance.regions]),
        vehicle,
    )
    if n * m > DENSE_PAIR_LIMIT:
        if max_time_h is None:
            raise InputError(
                f"{n} sources x {m} regions is more than {DENSE_PAIR_LIMIT} pairs; give "
                "max_time_h (e.g. the response-time standard) to build arcs sparsely."
            )
        table = sparse_arcs(*args, max_time_h=max_time_h, detour_factor=st.detour_factor)
    elif n and m:
        # every pair: the n nearest sources of each region are all of them
        table = dense_arcs(*args, k_nearest=n, detour_factor=st.detour_factor)
    else:
        table = None
    if table is None:
        base_s = base_r = np.zeros(0, dtype=np.int64)
        base_d = base_t = np.zeros(0)
    else:
        base_s, base_r = table.origin.astype(np.int64), table.destination.astype(np.int64)
        base_d, base_t = table.distance_km, table.time_h
    src_id = np.asarray(src_ids, dtype=object)
    src_region = np.asarray([f.region for f in fac], dtype=object)
    reg_id = np.asarray([r.id for r in instance.regions], dtype=object)
    codes = np.full(base_s.size, _GEODESIC, dtype=np.int8)
    cache: dict[OutageKey, FloatArray] = {}

    def arcs(scenario: str, key: OutageKey) -> _Base:
        if key not in cache:
            t = base_t
            if key and base_s.size:
                t = _slowed(base_t, _pair_factors(key, src_id, src_region, base_s,
                                                  reg_id, reg_id, base_r))
            cache[key] = t
        return base_s, base_r, base_d, cache[key], codes

    return arcs


def _road_arcs(instance: Instance, src_ids: tuple[str, ...],
               reg_ids: tuple[str, ...]) -> Callable[[str, OutageKey], _Base]:
    graph = RoadGraph(instance)
    d, t = graph.paths(src_ids, reg_ids)
    ns, nr = len(src_ids), len(reg_ids)
    s_idx = np.repeat(np.arange(ns, dtype=np.int64), nr)
    r_idx = np.tile(np.arange(nr, dtype=np.int64), ns)
    codes = np.full(s_idx.size, _ROAD, dtype=np.int8)
    where = region_of(instance)
    s_obj = np.asarray(src_ids, dtype=object)
    s_reg = np.asarray([where[s] for s in src_ids], dtype=object)
    r_obj = np.asarray(reg_ids, dtype=object)
    dist, time = d.ravel(), t.ravel()
    cache: dict[OutageKey, FloatArray] = {}

    def arcs(scenario: str, key: OutageKey) -> _Base:
        if key not in cache:
            cache[key] = _slowed(time, _pair_factors(key, s_obj, s_reg, s_idx, r_obj, r_obj,
                                                         r_idx))
        return s_idx, r_idx, dist, cache[key], codes

    return arcs


class RoadGraph:
    """Fastest paths over the instance's road layer between its facilities and regions.

    Every facility and region point is snapped to its nearest road node once; the straight
    leg to it is a geodesic leg (x detour factor, at the ``speed_kmh`` setting).

    Parameters
    ----------
    instance
        An instance with :attr:`~reserve_opt.domain.Instance.roads`.

    Raises
    ------
    InputError
        A point farther from every road node than the ``road_snap_km`` setting, naming it.
    """

    def __init__(self, instance: Instance) -> None:
        net = instance.roads
        if net is None:
            raise InputError("the instance names no road layer; add [geometry] roads to its "
                             "manifest (reserve-opt roads import writes one)")
        self.net = net
        st = instance.settings
        ids = [r.id for r in instance.regions] + [f.id for f in instance.facilities]
        kinds = ["region"] * len(instance.regions) + ["facility"] * len(instance.facilities)
        lon = np.array([r.lon for r in instance.regions] + [f.lon for f in instance.facilities])
        lat = np.array([r.lat for r in instance.regions] + [f.lat for f in instance.facilities])
        node = np.zeros(len(ids), dtype=np.int64)
        snap = np.zeros(len(ids))
        for kind in ("facility", "region"):  # facilities first: they are named first
            at = np.flatnonzero(np.asarray(kinds) == kind)
            if at.size:
                node[at], snap[at] = net.snap(
                    lon[at], lat[at], ids=[ids[i] for i in at], max_snap_km=st.road_snap_km,
                    what=kind, limit_name="road_snap_km")
        self.ids, self.kinds = tuple(ids), tuple(kinds)
        self.node, self.snap_km = node, snap
        self.pos = {x: i for i, x in enumerate(ids)}
        self.leg_km = snap * st.detour_factor  # the straight leg is a geodesic leg
        self.leg_h = self.leg_km / st.speed_kmh
        self.cache: dict[tuple[str, ...], tuple[FloatArray, FloatArray]] = {}

    def snaps(self) -> pd.DataFrame:
        """Each point's road node and snap distance.

        Returns
        -------
        pandas.DataFrame
            Columns ``id, kind, node, snap_km`` (kind: facility or region).
        """
        return pd.DataFrame({"id": self.ids, "kind": self.kinds, "node": self.node,
                             "snap_km": self.snap_km})

    def paths(self, origins: Sequence[str],
              destinations: Sequence[str]) -> tuple[FloatArray, FloatArray]:
        """Length (km) and time (h) of the fastest road path between places.

        Parameters
        ----------
        origins, destinations
            Facility or region ids.

        Returns
        -------
        distance_km, time_h : numpy.ndarray
            Shape (len(origins), len(destinations)), snap legs included; ``inf`` where
            the roads do not join them.
        """
        src = tuple(origins)
        o = np.array([self.pos[x] for x in src], dtype=np.int64)
        d = np.array([self.pos[x] for x in destinations], dtype=np.int64)
        if src not in self.cache:
            net = self.net
            with np.errstate(divide="ignore"):
                t_edge = np.where(net.edge_speed_kmh > 0, net.edge_km / np.where(
                    net.edge_speed_kmh > 0, net.edge_speed_kmh, 1.0), np.inf)
            t, km = fastest_paths(net.edge_from, net.edge_to, t_edge, net.edge_km,
                                  net.n_nodes, self.node[o])
            self.cache[src] = (km, t)
        km_all, t_all = self.cache[src]
        cols = self.node[d]
        dist = km_all[:, cols] + self.leg_km[o][:, None] + self.leg_km[d][None, :]
        time = t_all[:, cols] + self.leg_h[o][:, None] + self.leg_h[d][None, :]
        return dist, time


def _link_arcs(instance: Instance, src_ids: tuple[str, ...],
               reg_ids: tuple[str, ...]) -> Callable[[str, OutageKey], _Base]:
    graph = _LinkGraph(instance)
    ns, nr = len(src_ids), len(reg_ids)
    s_idx = np.repeat(np.arange(ns, dtype=np.int64), nr)
    r_idx = np.tile(np.arange(nr, dtype=np.int64), ns)
    codes = np.full(s_idx.size, _LINKS, dtype=np.int8)

    def arcs(scenario: str, key: OutageKey) -> _Base:
        d, t = graph.paths(key, src_ids, reg_ids)
        return s_idx, r_idx, d.ravel(), t.ravel(), codes

    return arcs


class _LinkGraph:
    """Fastest paths over the link graph, cached per distinct outage set."""

    def __init__(self, instance: Instance) -> None:
        self.edges = link_edges(instance)
        self.node_of: dict[str, int] = {r.id: i for i, r in enumerate(instance.regions)}
        for f in instance.facilities:
            self.node_of[f.id] = len(self.node_of)
        for p in instance.demand_points:
            self.node_of[p.id] = len(self.node_of)
        self.nn = len(self.node_of)
        e = self.edges
        self.ea = np.array([self.node_of[a] for a in e.origin], dtype=np.int64)
        self.eb = np.array([self.node_of[b] for b in e.destination], dtype=np.int64)
        self.cache: dict[tuple[OutageKey, tuple[str, ...]], tuple[FloatArray, FloatArray]] = {}
        self.trees: dict[tuple[OutageKey, tuple[str, ...]],
                         tuple[IntArray, npt.NDArray[np.int32]]] = {}

    def paths(self, key: OutageKey, origins: Sequence[str],
              destinations: Sequence[str]) -> tuple[FloatArray, FloatArray]:
        """Length (km) and time (h) of the fastest path between each origin and destination."""
        src = tuple(origins)
        if (key, src) not in self.cache:
            self.cache[(key, src)] = self._all(key, src)
        d_all, t_all = self.cache[(key, src)]
        cols = np.array([self.node_of[x] for x in destinations], dtype=np.int64)
        return d_all[:, cols], t_all[:, cols]

    def _all(self, key: OutageKey, src: tuple[str, ...]) -> tuple[FloatArray, FloatArray]:
        e, ea, eb = self.edges, self.ea, self.eb
        lo, hi = np.minimum(ea, eb), np.maximum(ea, eb)
        factor = np.ones(ea.size)
        for a, b, f in key:
            if a in self.node_of and b in self.node_of:
                na, nb = sorted((self.node_of[a], self.node_of[b]))
                factor[(lo == na) & (hi == nb)] *= f
        keep = factor > 0
        two = keep & ~e.oneway
        u = np.concatenate([ea[keep], eb[two]])
        v = np.concatenate([eb[keep], ea[two]])
        length = np.concatenate([e.distance_km[keep], e.distance_km[two]])
        time = np.concatenate([e.time_h[keep] / factor[keep], e.time_h[two] / factor[two]])
        nodes = np.array([self.node_of[x] for x in src], dtype=np.int64)
        uniq, pred, t_all, d_all = fastest_trees(u, v, time, length, self.nn, nodes)
        self.trees[(key, src)] = (uniq, pred)
        row = np.searchsorted(uniq, nodes)
        return d_all[row], t_all[row]


def travel_paths(instance: Instance, scenario: str, pairs: Iterable[tuple[str, str]],
                 ) -> dict[tuple[str, str], tuple[str, ...] | None]:
    """The places the fastest link path of each (origin, destination) pair passes.

    Parameters
    ----------
    instance
        The instance.
    scenario
        Scenario id (its outages cut or slow links).
    pairs
        (origin, destination) facility, region or demand point ids.

    Returns
    -------
    dict
        Pair -> location ids from origin to destination (both included) when the pair's
        time comes from the links, the path this module measured; ``None`` when it comes
        from the travel table or the geodesic fallback (no path is known), or when the
        pair is unreachable.
    """
    pairs = list(dict.fromkeys(pairs))
    out: dict[tuple[str, str], tuple[str, ...] | None] = dict.fromkeys(pairs)
    if not pairs or not instance.links:
        return out
    origins = list(dict.fromkeys(a for a, _ in pairs))
    dests = list(dict.fromkeys(b for _, b in pairs))
    m = travel_matrix(instance, scenario, origins, dests)
    oi = {a: i for i, a in enumerate(origins)}
    di = {b: i for i, b in enumerate(dests)}
    graph = _LinkGraph(instance)
    key = _outage_key(instance.scenario(scenario).outages)
    graph.paths(key, origins, dests)
    uniq, pred = graph.trees[(key, tuple(origins))]
    row = {int(n): k for k, n in enumerate(uniq)}
    names = list(graph.node_of)
    for a, b in pairs:
        i, j = oi[a], di[b]
        if a == b or m.time_source[i, j] != _LINKS or not np.isfinite(m.time_h[i, j]):
            continue
        start, node = graph.node_of[a], graph.node_of[b]
        tree = pred[row[start]]
        path = [node]
        while node != start and node >= 0:
            node = int(tree[node])
            path.append(node)
        if node == start:
            out[(a, b)] = tuple(names[n] for n in reversed(path))
    return out


def class_times(instance: Instance, scenario: str, origins: Sequence[str],
                destinations: Sequence[str], vehicle_class: str) -> FloatArray:
    """Hours the travel table gives ``vehicle_class`` between places in a scenario.

    The class's rows under the class-free rows' rule (a scenario's row replaces the normal
    row of its pair; the scenario's outages slow the normal ones); routing gives them to
    the vehicles whose fleet row names the class. Distances are not a class's: one
    distance matrix (the class-free one) serves a routing problem.

    Parameters
    ----------
    instance
        The instance.
    scenario
        Scenario id.
    origins, destinations
        Facility or region ids.
    vehicle_class
        A class of the travel table.

    Returns
    -------
    numpy.ndarray
        Shape ``(len(origins), len(destinations))``, hours; NaN where the class has no row.
    """
    where = region_of(instance)
    out = np.full((len(origins), len(destinations)), np.nan)
    table = _table_pairs(instance, origins, destinations, vehicle_class)
    if table is None:
        return out
    o_obj, d_obj = np.asarray(origins, dtype=object), np.asarray(destinations, dtype=object)
    o_reg = np.asarray([where[i] for i in origins], dtype=object)
    d_reg = np.asarray([where[i] for i in destinations], dtype=object)
    o, d, _, tt = table.in_force(scenario, _outage_key(instance.scenario(scenario).outages),
                                 o_obj, o_reg, d_obj, d_reg)
    out[o, d] = tt
    return out


def travel_matrix(instance: Instance, scenario: str, origins: Sequence[str],
                  destinations: Sequence[str]) -> TravelMatrix:
    """Distance, time and time source between places in a scenario (the arcs' rule).

    Parameters
    ----------
    instance
        The instance.
    scenario
        Scenario id.
    origins, destinations
        Facility or region ids.

    Returns
    -------
    TravelMatrix
        Shape ``(len(origins), len(destinations))``; a place to itself is 0 km, 0 h.

    Raises
    ------
    InputError
        On an id that is neither a region nor a facility.
    """
    where = region_of(instance)
    unknown = [i for i in (*origins, *destinations) if i not in where]
    if unknown:
        raise InputError(f"Unknown locations {unknown}; give facility or region ids.")
    key = _outage_key(instance.scenario(scenario).outages)
    st = instance.settings
    o_obj = np.asarray(origins, dtype=object)
    d_obj = np.asarray(destinations, dtype=object)
    o_reg = np.asarray([where[i] for i in origins], dtype=object)
    d_reg = np.asarray([where[i] for i in destinations], dtype=object)
    n, m = len(origins), len(destinations)
    o_all = np.repeat(np.arange(n, dtype=np.int64), m)  # every pair, row-major
    d_all = np.tile(np.arange(m, dtype=np.int64), n)
    if instance.roads is not None:
        dist, time = RoadGraph(instance).paths(origins, destinations)
        factor = _pair_factors(key, o_obj, o_reg, o_all, d_obj, d_reg, d_all).reshape(n, m)
        time = _slowed(time, factor)
        code = np.full((n, m), _ROAD, dtype=np.int8)
    elif instance.links:
        dist, time = _LinkGraph(instance).paths(key, origins, destinations)
        code = np.full((n, m), _LINKS, dtype=np.int8)
    else:
        locs = instance.locations()
        olon, olat = (np.repeat([locs[i][k] for i in origins], m) for k in (0, 1))
        dlon, dlat = (np.tile([locs[i][k] for i in destinations], n) for k in (0, 1))
        geo = geodesic_arcs_km(olon, olat, dlon, dlat) if n and m else np.zeros(0)
        dist = (np.asarray(geo) * st.detour_factor).reshape(n, m)
        factor = _pair_factors(key, o_obj, o_reg, o_all, d_obj, d_reg, d_all).reshape(n, m)
        time = _slowed(dist / st.speed_kmh, factor)
        code = np.full((n, m), _GEODESIC, dtype=np.int8)
    table = _table_pairs(instance, origins, destinations)
    if table is not None:
        o, d, td, tt = table.in_force(scenario, key, o_obj, o_reg, d_obj, d_reg)
        dist, time, code = dist.copy(), time.copy(), code.copy()
        dist[o, d] = td
        time[o, d] = tt
        code[o, d] = _TABLE
    same = o_obj[:, None] == d_obj[None, :]
    dist = np.where(same, 0.0, dist)
    time = np.where(same, 0.0, time)
    return TravelMatrix(dist, time, code)
