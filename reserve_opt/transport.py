"""Per-scenario transport arcs from supply sources (facilities) to regions.

An arc ``source -> region`` is usable in a scenario when the region can be reached from the
source's location after the scenario's outages. Each arc carries its road length (km), travel
time (h) and, through :meth:`TransportArcs.unit_cost`, a per-unit cost for every commodity
(currency per unit = km x the commodity's cost per unit km).

Two ways of measuring, chosen by the instance:

* **With links** (``instance.links`` not empty): fastest paths over the undirected link graph
  (``scipy.sparse.csgraph.dijkstra``). A link's length is its ``distance_km`` or, when empty,
  the geodesic distance of its ends x ``settings.detour_factor``. Every facility is joined to its
  region's node by a local link of its geodesic distance x detour factor. An outage on a link
  with ``speed_factor`` 0 removes it; with ``speed_factor`` f > 0 it divides its speed by f
  (time / f; its length is unchanged). Paths are fastest paths; the reported distance is the
  length of that path. Shortest paths are cached per distinct outage set.
* **Without links**: geodesic distance x detour factor between every source and region
  (:mod:`reserve_opt.geo`), sparse with a time limit for big instances. An outage ``(a, b)``
  applies to every pair whose ends are ``a`` or located in region ``a``, and ``b`` or located
  in region ``b``, in both directions; several outages on one pair multiply their factors.

Travel time is road km / ``settings.speed_kmh``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
from scipy.sparse import csgraph

from reserve_opt.domain import FacilityKind, Instance, Outage
from reserve_opt.errors import InputError
from reserve_opt.geo import VehicleClass, dense_arcs, geodesic_arcs_km, sparse_arcs
from reserve_opt.geo.roads import path_lengths

__all__ = ["ScenarioArcs", "TransportArcs", "build_arcs", "default_sources"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: Above this many source x region pairs, arcs without links are built sparsely
#: (KD-tree prefilter) and a ``max_time_h`` must be given.
DENSE_PAIR_LIMIT = 4_000_000

_SOURCE_KINDS = (
    FacilityKind.GOVERNMENT_WAREHOUSE,
    FacilityKind.ENTERPRISE_RESERVE,
    FacilityKind.PRODUCTION_CAPACITY,
)


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
    """

    scenario: str
    source: IntArray
    region: IntArray
    distance_km: FloatArray
    time_h: FloatArray

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
        Whether distances follow the instance's link graph (else great circles x detour).
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
            Columns ``scenario, source, region, distance_km, time_h`` and one
            ``cost_<commodity>`` column per commodity (currency per unit).
        """
        src = np.asarray(self.source_ids, dtype=object)
        reg = np.asarray(self.region_ids, dtype=object)
        frames = []
        for s in self.scenarios:
            df = pd.DataFrame({
                "scenario": s.scenario,
                "source": src[s.source],
                "region": reg[s.region],
                "distance_km": s.distance_km,
                "time_h": s.time_h,
            })
            for k, c in enumerate(self.commodity_ids):
                df[f"cost_{c}"] = s.distance_km * self.cost_per_unit_km[k]
            frames.append(df)
        if not frames:
            return pd.DataFrame(columns=["scenario", "source", "region", "distance_km", "time_h"])
        return pd.concat(frames, ignore_index=True)


def default_sources(instance: Instance) -> tuple[str, ...]:
    """Facilities that can supply goods: warehouses, enterprise reserves, production sites."""
    return tuple(f.id for f in instance.facilities if f.kind in _SOURCE_KINDS)


def _outage_key(outages: Iterable[Outage]) -> tuple[tuple[str, str, float], ...]:
    items: dict[tuple[str, str], float] = {}
    for o in outages:
        a, b = sorted((o.origin, o.destination))
        items[(a, b)] = items.get((a, b), 1.0) * float(o.speed_factor)
    return tuple(sorted((a, b, f) for (a, b), f in items.items() if f < 1.0))


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
    if instance.links:
        per_scen = _link_arcs(instance, src_ids, max_time_h)
    else:
        per_scen = _geodesic_arcs(instance, src_ids, max_time_h)
    cpk = np.array([instance.transport_cost_per_unit_km(c.id) for c in instance.commodities],
                   dtype=np.float64)
    return TransportArcs(
        source_ids=src_ids,
        region_ids=tuple(r.id for r in instance.regions),
        commodity_ids=tuple(c.id for c in instance.commodities),
        cost_per_unit_km=cpk,
        scenarios=tuple(per_scen),
        uses_links=bool(instance.links),
    )


def _finish(scenario: str, s: IntArray, r: IntArray, d: FloatArray, t: FloatArray,
            max_time_h: float | None) -> ScenarioArcs:
    keep = np.isfinite(t)
    if max_time_h is not None:
        keep &= t <= max_time_h
    s, r, d, t = s[keep], r[keep], d[keep], t[keep]
    order = np.lexsort((r, s))
    return ScenarioArcs(scenario, s[order].astype(np.int64), r[order].astype(np.int64),
                        d[order].astype(np.float64), t[order].astype(np.float64))


def _geodesic_arcs(instance: Instance, src_ids: tuple[str, ...],
                   max_time_h: float | None) -> list[ScenarioArcs]:
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
        base_s, base_r = table.origin, table.destination
        base_d, base_t = table.distance_km, table.time_h
    src_id = np.asarray(src_ids, dtype=object)
    src_region = np.asarray([f.region for f in fac], dtype=object)
    reg_id = np.asarray([r.id for r in instance.regions], dtype=object)
    cache: dict[tuple[tuple[str, str, float], ...], tuple[FloatArray, FloatArray]] = {}
    out = []
    for sc in instance.scenarios:
        key = _outage_key(sc.outages)
        if key not in cache:
            factor = np.ones(base_s.size)
            if key and base_s.size:
                s_id, s_reg, r_id = src_id[base_s], src_region[base_s], reg_id[base_r]
                for a, b, f in key:
                    hit = (((s_id == a) | (s_reg == a)) & (r_id == b)) | (
                        ((s_id == b) | (s_reg == b)) & (r_id == a))
                    factor[hit] *= f
            with np.errstate(divide="ignore"):
                t = np.where(factor > 0, base_t / np.where(factor > 0, factor, 1.0), np.inf)
            cache[key] = (base_d, t)
        d, t = cache[key]
        out.append(_finish(sc.id, base_s, base_r, d, t, max_time_h))
    return out


def _link_arcs(instance: Instance, src_ids: tuple[str, ...],
               max_time_h: float | None) -> list[ScenarioArcs]:
    st = instance.settings
    regions = instance.regions
    nr = len(regions)
    node_of: dict[str, int] = {r.id: i for i, r in enumerate(regions)}
    for j, f in enumerate(instance.facilities):
        node_of[f.id] = nr + j
    nn = nr + len(instance.facilities)
    locs = instance.locations()
    # explicit links, then one local link per facility to its region's node
    ends = [(lk.origin, lk.destination) for lk in instance.links]
    given = [lk.distance_km for lk in instance.links]
    ends += [(f.id, f.region) for f in instance.facilities]
    given += [None] * len(instance.facilities)
    a_id = [e[0] for e in ends]
    b_id = [e[1] for e in ends]
    geo = geodesic_arcs_km([locs[a][0] for a in a_id], [locs[a][1] for a in a_id],
                           [locs[b][0] for b in b_id], [locs[b][1] for b in b_id])
    length = np.where([g is None for g in given], geo * st.detour_factor,
                      [0.0 if g is None else float(g) for g in given])
    ea = np.array([node_of[a] for a in a_id], dtype=np.int64)
    eb = np.array([node_of[b] for b in b_id], dtype=np.int64)
    lo, hi = np.minimum(ea, eb), np.maximum(ea, eb)
    base_time = length / st.speed_kmh
    src_nodes = np.array([node_of[s] for s in src_ids], dtype=np.int64)
    cache: dict[tuple[tuple[str, str, float], ...], tuple[FloatArray, FloatArray]] = {}
    out = []
    for sc in instance.scenarios:
        key = _outage_key(sc.outages)
        if key not in cache:
            factor = np.ones(lo.size)
            for a, b, fac in key:
                if a not in node_of or b not in node_of:
                    continue
                na, nb = sorted((node_of[a], node_of[b]))
                factor[(lo == na) & (hi == nb)] *= fac
            cache[key] = _paths(lo, hi, length, base_time, factor, nn, src_nodes, nr)
        d, t = cache[key]
        ns = src_nodes.size
        s_idx = np.repeat(np.arange(ns, dtype=np.int64), nr)
        r_idx = np.tile(np.arange(nr, dtype=np.int64), ns)
        out.append(_finish(sc.id, s_idx, r_idx, d.ravel(), t.ravel(), max_time_h))
    return out


def _paths(lo: IntArray, hi: IntArray, length: FloatArray, base_time: FloatArray,
           factor: FloatArray, nn: int, src_nodes: IntArray,
           nr: int) -> tuple[FloatArray, FloatArray]:
    """Fastest-path time and its length from each source node to each region node."""
    keep = factor > 0
    lo, hi, length = lo[keep], hi[keep], length[keep]
    time = base_time[keep] / factor[keep]
    # parallel links: keep the fastest
    order = np.lexsort((time, hi, lo))
    lo, hi, length, time = lo[order], hi[order], length[order], time[order]
    first = np.ones(lo.size, dtype=bool)
    first[1:] = (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])
    lo, hi, length, time = lo[first], hi[first], length[first], time[first]
    # tiny epsilon keeps zero-length local links as explicit edges in csgraph
    t_w = sp.csr_matrix((np.concatenate([time, time]) + 1e-12,
                         (np.concatenate([lo, hi]), np.concatenate([hi, lo]))), shape=(nn, nn))
    l_w = sp.csr_matrix((np.concatenate([length, length]),
                         (np.concatenate([lo, hi]), np.concatenate([hi, lo]))), shape=(nn, nn))
    if src_nodes.size == 0:
        return np.zeros((0, nr)), np.zeros((0, nr))
    uniq, inv = np.unique(src_nodes, return_inverse=True)
    t_all, pred = csgraph.dijkstra(t_w, directed=True, indices=uniq, return_predecessors=True)
    d_all = path_lengths(pred, l_w, uniq)
    t_all = np.where(np.isfinite(d_all), t_all, np.inf)
    return d_all[inv][:, :nr], t_all[inv][:, :nr]
