"""From an instance and one event to the flat arrays the allocation LP reads.

Indices: ``J`` regions, ``K`` commodities, ``T`` periods, ``U`` supply units (a warehouse's
stock of one commodity, or one enterprise contract), ``H`` channels (who may serve whom:
own stock, an agreement, or a parent region), ``F`` flow candidates (unit, channel,
dispatch period) that arrive within the horizon. Candidates are built with table joins,
never a Python loop over unit x region pairs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from reserve_opt.domain import (
    ContractKind,
    FacilityKind,
    Instance,
    Scenario,
    Tier,
    resolve_sharing,
)
from reserve_opt.errors import InputError
from reserve_opt.fleet import (
    depot_capacity,
    depot_kg_per_m3,
    depot_overnight,
    depot_shift_h,
    fleet_trips,
    home_fleets,
    load_kg,
    no_day_reason,
)
from reserve_opt.transport import TransportArcs, build_arcs

from .options import AllocationOptions

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Channel agreement index of own stock, of a parent region and of pooled sharing (no
#: agreement).
OWN, PARENT, POOLED = -1, -2, -3
_EPS = 1e-9


@dataclass(frozen=True, eq=False)
class AllocationData:
    """Everything the allocation LP and its report read, as arrays."""

    instance: Instance
    event: Scenario
    options: AllocationOptions
    arcs: TransportArcs
    demand: FloatArray  # (J, K, T) units needed in each period
    penalty: FloatArray  # (K,) currency/unit
    priority: IntArray  # (K,)
    weight_kg: FloatArray  # (K,)
    volume_m3: FloatArray  # (K,)
    # supply units
    u_facility: tuple[str, ...]
    u_contract: tuple[str, ...]  # "" for warehouse stock
    u_k: IntArray
    u_owner: IntArray  # owner region
    u_production: BoolArray  # capacity contract (produced over time)
    u_avail: FloatArray  # units available over the event (stock) or produced by T
    u_release_h: FloatArray  # first departure, h after the event starts
    u_price: FloatArray  # currency/unit drawn
    u_produced: FloatArray  # (U, T) cumulative production by the end of each period
    # channels
    h_owner: IntArray
    h_region: IntArray
    h_k: IntArray
    h_tier: IntArray
    h_agreement: IntArray  # agreement position, OWN or PARENT
    h_delay_h: FloatArray
    h_compensation: FloatArray  # currency/unit
    h_protect: BoolArray
    h_cap: FloatArray  # most units over the event on this channel (inf when none)
    # most units the channel's lender gives of its commodity over the event under its
    # agreement to all that agreement's borrowers together (inf when none)
    h_total_cap: FloatArray
    # flow candidates
    f_u: IntArray
    f_h: IntArray
    f_t: IntArray  # dispatch period, 0-based
    f_arrival: IntArray  # arrival period, 0-based
    f_depart_h: FloatArray
    f_arrive_h: FloatArray
    f_distance_km: FloatArray
    f_time_h: FloatArray
    f_time_source: npt.NDArray[np.int8]  # code into transport.TIME_SOURCES
    f_cost: FloatArray  # transport, currency/unit
    # fleet limits per (source facility, period)
    depot_ids: tuple[str, ...]  # facilities with vehicles
    depot_kg_h: FloatArray  # (D, T) kg x hours in each period
    depot_m3_h: FloatArray  # (D, T) m3 x hours in each period
    depot_kg: FloatArray  # (D, T) kg in each period (capacity x max trips)
    depot_m3: FloatArray  # (D, T) m3 in each period
    f_depot: IntArray  # fleet each candidate ships on (own or borrowed), -1 when unlimited
    depot_shift_h: FloatArray  # (D,) longest working day of a depot's vehicles, h
    depot_overnight: npt.NDArray[np.bool_]  # (D,) its vehicles make overnight trips
    f_trip_h: FloatArray  # vehicle-hours charged per unit of load on each day it takes
    f_load_kg: FloatArray  # kg of truck one unit takes (fleet.load_kg; weight if unlimited)
    f_trip_days: IntArray  # working days the trip occupies its vehicle (1: within one)
    # (region, commodity) -> why a source's trucks carry it on no day (fleet rule), for
    # pairs that lost candidates that way
    no_day: dict[tuple[int, int], str] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int, int]:
        """(J, K, T)."""
        j, k, t = self.demand.shape
        return j, k, t

    @property
    def held(self) -> FloatArray:
        """Units each region holds for the event (stock, contracts, production), (J, K)."""
        return region_supply(self.u_owner, self.u_k, self.u_avail, self.demand.shape[:2])

    @property
    def f_j(self) -> IntArray:
        """Receiving region of each candidate."""
        return self.h_region[self.f_h]

    @property
    def f_k(self) -> IntArray:
        """Commodity of each candidate."""
        return self.u_k[self.f_u]

    @property
    def f_tier(self) -> IntArray:
        """Agreement tier of each candidate (0 own)."""
        return self.h_tier[self.f_h]


def region_supply(owner: IntArray, k: IntArray, units: FloatArray,
                  shape: tuple[int, int]) -> FloatArray:
    """Units summed by (owner region, commodity), shape ``shape`` = (J, K)."""
    out = np.zeros(shape)
    np.add.at(out, (owner, k), units)
    return out


def total_cap_rows(data: AllocationData) -> tuple[IntArray, IntArray, FloatArray]:
    """The lender-total rows: channels under one, the row of each, and each row's cap.

    One row per (agreement, lender, commodity) with a ``total_cap_quantity`` or
    ``total_cap_share``: it bounds what the lender gives under that agreement to all its
    borrowers together.
    """
    J, K = data.demand.shape[:2]
    hs = np.flatnonzero(np.isfinite(data.h_total_cap))
    key = (data.h_agreement[hs] * J + data.h_owner[hs]) * K + data.h_k[hs]
    _, first, row = np.unique(key, return_index=True, return_inverse=True)
    return hs, row.astype(np.int64), data.h_total_cap[hs[first]]


def period_demand(instance: Instance, event: Scenario, options: AllocationOptions) -> FloatArray:
    """Units of each commodity each region needs in each period, shape (J, K, T).

    Consumables (:attr:`Commodity.consumable`: a need per person-day) are spread evenly
    over the event's days; everything else (durable goods, and goods whose demand is only
    given in units) is needed in the first period (``demand_profile="auto"``).
    """
    J, K, T = len(instance.regions), len(instance.commodities), options.periods
    out = np.zeros((J, K, T))
    days_h = max(event.days, 0.0) * 24.0
    starts = np.arange(T) * options.period_h
    # share of the event's need that falls in each period (even profile)
    if days_h > 0:
        overlap = np.clip(np.minimum(starts + options.period_h, days_h) - starts, 0.0, None)
        even = overlap / days_h
    else:
        even = np.zeros(T)
        even[0] = 1.0
    first = np.zeros(T)
    first[0] = 1.0
    for (rid, cid), q in instance.demand(event.id).items():
        j, k = instance.region_index[rid], instance.commodity_index[cid]
        c = instance.commodities[k]
        if options.demand_profile == "even":
            prof = even
        elif options.demand_profile == "first-day":
            prof = first
        else:
            prof = even if c.consumable else first
        out[j, k] += q * prof
    return out


def prepare(instance: Instance, event: Scenario, options: AllocationOptions,
            stock: Mapping[tuple[str, str], float] | None = None) -> AllocationData:
    """Build :class:`AllocationData` for one event.

    Parameters
    ----------
    instance
        The instance reduced to the event (its only scenario).
    event
        The event.
    options
        Model options.
    stock
        Warehouse stock to allocate, (facility id, commodity id) -> units, e.g. a placement
        plan's; default the instance's existing stock.

    Returns
    -------
    AllocationData
    """
    regs, comms = instance.regions, instance.commodities
    J, K, T, H = len(regs), len(comms), options.periods, options.period_h
    ridx, kidx = instance.region_index, instance.commodity_index
    demand = period_demand(instance, event, options)

    # ---------------- supply units
    if stock is None:
        stock = {(f.id, c): q for f in instance.facilities
                 if f.kind is FacilityKind.GOVERNMENT_WAREHOUSE for c, q in f.stock.items()}
    uf, uc, uk, uo, uprod, uav, urel, upr = [], [], [], [], [], [], [], []
    produced_rows: list[FloatArray] = []
    ends = (np.arange(T) + 1) * H
    for (fid, cid), q in sorted(stock.items()):
        if fid not in instance.facility_index or cid not in kidx:
            raise InputError(f"Stock names facility {fid!r} and commodity {cid!r}; both must be "
                             "ids of the instance.")
        avail = float(q) * event.surviving(fid)
        if avail <= _EPS:
            continue
        fac = instance.facility(fid)
        uf.append(fid)
        uc.append("")
        uk.append(kidx[cid])
        uo.append(ridx[fac.region])
        uprod.append(False)
        uav.append(avail)
        urel.append(0.0)
        upr.append(0.0)
        produced_rows.append(np.full(T, avail))
    for con in instance.contracts:
        if not con.signed:
            continue
        fac = instance.facility(con.facility)
        if con.kind is ContractKind.STOCK:
            avail = con.quantity * event.surviving(con.facility)
            prod = np.full(T, avail)
        else:  # produced at rate_per_day after the lead time, at most quantity
            prod = np.minimum(con.quantity,
                              con.rate_per_day * np.maximum(0.0, ends - con.delay_h) / 24.0)
            avail = float(prod[-1])
        if avail <= _EPS:
            continue
        uf.append(con.facility)
        uc.append(con.id)
        uk.append(kidx[con.commodity])
        uo.append(ridx[fac.region])
        uprod.append(con.kind is ContractKind.CAPACITY)
        uav.append(avail)
        urel.append(con.delay_h)
        upr.append(con.unit_price)
        produced_rows.append(prod)
    U = len(uf)
    u_k = np.array(uk, dtype=np.int64)
    u_owner = np.array(uo, dtype=np.int64)
    u_avail = np.array(uav, dtype=np.float64)
    u_produced = np.array(produced_rows, dtype=np.float64).reshape(U, T)

    # ---------------- channels: own, agreements, parent regions
    need = demand.sum(axis=2) > 0  # (J, K)
    lender_supply = region_supply(u_owner, u_k, u_avail, (J, K))
    rows: list[tuple[int, int, int, int, int, float, float, bool, float, float]] = []
    for j in range(J):
        for k in range(K):
            if need[j, k]:
                rows.append((j, j, k, int(Tier.OWN), OWN, 0.0, 0.0, False, math.inf,
                             math.inf))
    pooled = resolve_sharing(options.sharing, instance.agreements) == "pooled"
    for o, j, k in zip(*np.nonzero((lender_supply[:, None, :] > _EPS) & need[None, :, :]),
                       strict=True) if pooled else ():
        if o != j:
            rows.append((int(o), int(j), int(k), int(Tier.POOLED), POOLED, 0.0, 0.0, False,
                         math.inf, math.inf))
    for ai, a in enumerate(() if pooled else instance.agreements):
        pairs = [(ridx[o], ridx[j]) for o, j in instance.lending_pairs(a)]
        ks = [kidx[c] for c in a.commodities] if a.commodities else list(range(K))
        for o, j in pairs:
            for k in ks:
                if not need[j, k] or lender_supply[o, k] <= _EPS:
                    continue
                cap = a.borrower_cap(lender_supply[o, k])
                total = a.lender_cap(lender_supply[o, k])
                rows.append((o, j, k, int(a.tier), ai, a.delay_h, a.compensation,
                             a.protect_own, cap, total))
    if options.parent_serves and not pooled:
        for j, r in enumerate(regs):
            for o in (ridx[a] for a in instance.ancestors[r.id]):
                for k in range(K):
                    if need[j, k] and lender_supply[o, k] > _EPS:
                        rows.append((o, j, k, int(Tier.HIGHER_LEVEL), PARENT, 0.0, 0.0, True,
                                     math.inf, math.inf))
    ch = pd.DataFrame(rows, columns=["o", "j", "k", "tier", "agr", "delay", "comp", "protect",
                                     "cap", "total"])

    # ---------------- arcs and flow candidates
    src_ids = tuple(dict.fromkeys(uf))
    max_t = options.max_arc_time_h if options.max_arc_time_h is not None else options.horizon_h
    arcs = build_arcs(instance, sources=src_ids, max_time_h=max_t)
    sa = arcs.scenarios[0]
    src_pos = {s: i for i, s in enumerate(arcs.source_ids)}
    arc_df = pd.DataFrame({"src": sa.source, "j": sa.region, "dist": sa.distance_km,
                           "time": sa.time_h, "tsrc": sa.time_source})
    units = pd.DataFrame({"u": np.arange(U), "src": [src_pos[f] for f in uf], "k": u_k,
                          "o": u_owner})
    # channels first (few per unit), then the arc of each (source, region) pair
    cand = units.merge(ch.reset_index(names="h"), on=["o", "k"]).merge(arc_df, on=["src", "j"])
    cand = cand.sort_values(["u", "h"], kind="stable").reset_index(drop=True)
    n = len(cand)
    cu = cand["u"].to_numpy(np.int64)
    ch_delay = cand["delay"].to_numpy(np.float64)
    release = np.array(urel, dtype=np.float64)[cu] + ch_delay
    prod = np.array(uprod, dtype=bool)[cu]
    t_all = np.tile(np.arange(T, dtype=np.int64), n)
    c_rep = np.repeat(np.arange(n), T)
    # stock leaves as soon as it is released within the period; a day's production
    # leaves at the end of that day (plus the agreement's delay when lent)
    depart: FloatArray = np.where(prod[c_rep], (t_all + 1) * H + ch_delay[c_rep],
                      np.maximum(t_all * H, release[c_rep]))
    valid = np.where(prod[c_rep], True, depart < (t_all + 1) * H - _EPS)
    c_rep, t_all, depart = c_rep[valid], t_all[valid], depart[valid]
    f_u = cu[c_rep]
    f_time = cand["time"].to_numpy(np.float64)[c_rep]

    # ---------------- fleets: kg x h and m3 x h per period at each depot
    # per period: only signed vehicles, those under a logistics contract once they arrive
    periods = [depot_capacity(instance, H, options.max_trips, start_h=t * H)
               for t in range(T)] if options.fleet_limits else []
    depot_ids = tuple(periods[0]) if periods else ()
    shift = depot_shift_h(instance, depot_ids, H)
    night = depot_overnight(instance, depot_ids)

    def per_period(field: str) -> FloatArray:
        return np.array([[getattr(p[d], field) for p in periods] for d in depot_ids],
                        dtype=np.float64).reshape(len(depot_ids), T)

    # a source without vehicles of its own ships on the nearest fleet of its region (as
    # routing borrows them); with no fleet in its region it is not limited (the closed
    # loop, allocate --route, learns from routing what such a source can send)
    dpos = {d: i for i, d in enumerate(depot_ids)}
    fleet_of = home_fleets(instance, arcs.source_ids) if depot_ids else {}
    src_depot = np.array([dpos.get(fleet_of.get(s) or "", -1) for s in arcs.source_ids],
                         dtype=np.int64)
    f_src = units["src"].to_numpy(np.int64)[f_u]
    f_dep = src_depot[f_src]
    trip_h = np.zeros(f_u.size)
    trip_days = np.ones(f_u.size, dtype=np.int64)
    to_arrive = f_time.copy()
    on_fleet = np.flatnonzero(f_dep >= 0)
    if on_fleet.size:
        # the one fleet rule (reserve_opt.fleet.fleet_trips): a load whose round trip does
        # not fit the rest of that working day goes the next day (that day's candidate),
        # one longer than a working day rides overnight, resting the night, when the
        # depot's fleet allows it; one that no working day carries is not a candidate
        trips = fleet_trips(shift[f_dep[on_fleet]], depart[on_fleet] - t_all[on_fleet] * H,
                            f_time[on_fleet], options.handling_h, H, night[f_dep[on_fleet]])
        trip_h[on_fleet] = trips.charge_h
        trip_days[on_fleet] = trips.days
        to_arrive[on_fleet] = trips.arrive_h
    # candidates no working day carries (not those that wait for the next day), with the
    # rule's reason, for the explanation of a pair left with no candidate at all
    no_day: dict[tuple[int, int], str] = {}
    h_j = ch["j"].to_numpy(np.int64)[cand["h"].to_numpy(np.int64)[c_rep]]
    for i in on_fleet[~np.isfinite(trip_h[on_fleet])]:
        key = (int(h_j[i]), int(u_k[f_u[i]]))
        if key not in no_day:
            d = int(f_dep[i])
            why = no_day_reason(float(shift[d]), float(f_time[i]), options.handling_h,
                                bool(night[d]), depot_ids[d])
            if why:
                no_day[key] = f"{arcs.source_ids[f_src[i]]} -> {regs[key[0]].id}: {why}"
    arrive: FloatArray = depart + to_arrive
    fin = np.isfinite(arrive)
    arr_t = np.maximum(np.ceil(np.where(fin, arrive, 0.0) / H - 1e-9).astype(np.int64) - 1, 0)
    keep = fin & np.isfinite(trip_h) & (arr_t < T)
    c_rep, t_all, arr_t, depart, arrive = (c_rep[keep], t_all[keep], arr_t[keep],
                                           depart[keep], arrive[keep])
    f_u, f_src, trip_h, trip_days = f_u[keep], f_src[keep], trip_h[keep], trip_days[keep]
    f_k = u_k[f_u]
    dist = cand["dist"].to_numpy(np.float64)[c_rep]
    # the share of a truck a unit takes: bulky goods fill its m3 before its kg
    weight = np.array([c.weight_kg for c in comms], dtype=np.float64)
    volume = np.array([c.volume_m3 for c in comms], dtype=np.float64)
    f_dep = src_depot[f_src]
    rho = np.append(depot_kg_per_m3(instance, depot_ids), 0.0)  # -1 (unlimited): weight
    f_load = load_kg(weight[f_k], volume[f_k], rho[f_dep])

    return AllocationData(
        instance=instance, event=event, options=options, arcs=arcs, demand=demand,
        penalty=np.array([c.shortage_penalty for c in comms], dtype=np.float64),
        priority=np.array([c.priority for c in comms], dtype=np.int64),
        weight_kg=np.array([c.weight_kg for c in comms], dtype=np.float64),
        volume_m3=np.array([c.volume_m3 for c in comms], dtype=np.float64),
        u_facility=tuple(uf), u_contract=tuple(uc), u_k=u_k, u_owner=u_owner,
        u_production=np.array(uprod, dtype=bool), u_avail=u_avail,
        u_release_h=np.array(urel, dtype=np.float64),
        u_price=np.array(upr, dtype=np.float64), u_produced=u_produced,
        h_owner=ch["o"].to_numpy(np.int64), h_region=ch["j"].to_numpy(np.int64),
        h_k=ch["k"].to_numpy(np.int64), h_tier=ch["tier"].to_numpy(np.int64),
        h_agreement=ch["agr"].to_numpy(np.int64), h_delay_h=ch["delay"].to_numpy(np.float64),
        h_compensation=ch["comp"].to_numpy(np.float64),
        h_protect=ch["protect"].to_numpy(bool), h_cap=ch["cap"].to_numpy(np.float64),
        h_total_cap=ch["total"].to_numpy(np.float64),
        f_u=f_u, f_h=cand["h"].to_numpy(np.int64)[c_rep], f_t=t_all, f_arrival=arr_t,
        f_depart_h=depart, f_arrive_h=arrive, f_distance_km=dist,
        f_time_h=cand["time"].to_numpy(np.float64)[c_rep],
        f_time_source=cand["tsrc"].to_numpy(np.int8)[c_rep],
        f_cost=dist * arcs.cost_per_unit_km[f_k],
        depot_ids=depot_ids,
        depot_kg_h=per_period("kg_h"), depot_m3_h=per_period("m3_h"),
        depot_kg=per_period("kg"), depot_m3=per_period("m3"),
        f_depot=src_depot[f_src],
        depot_shift_h=shift,
        depot_overnight=night,
        f_trip_h=trip_h,
        f_load_kg=f_load,
        f_trip_days=trip_days,
        no_day=no_day,
    )
