"""Independent checker of an allocation: from the instance, the event and the result alone.

It reads no model arrays and calls no solver; it walks the flow lines with plain loops over
the domain objects. It recomputes each period's demand, who may serve whom (own stock, the
agreements with their tiers, parents), release and arrival times, surviving stock, contract
and production limits, caps, protect_own, fleet hours, the backlog and fill rates, every
cost term, the settlement ledger and the shortage levels' values. Usable arcs and their
times come from :func:`reserve_opt.transport.build_arcs` (the definition of the network),
which fleet a source ships on from :func:`reserve_opt.fleet.home_fleets`.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

from reserve_opt.domain import (
    PARENT_AGREEMENT,
    POOLED_AGREEMENT,
    ContractKind,
    FacilityKind,
    Instance,
    Scenario,
    Tier,
)
from reserve_opt.fleet import (
    depot_kg_per_m3,
    fleet_trips,
    home_fleets,
    no_day_reason,
    trip_loads,
)
from reserve_opt.fleet import load_kg as load_kg_of
from reserve_opt.models.placement.check import CheckReport
from reserve_opt.transport import build_arcs

from .event import event_instance
from .result import AllocationResult

__all__ = ["CheckReport", "check_allocation"]


class _Flow(NamedTuple):
    period: int
    arrival_period: int
    source: str
    contract: str
    lender: str
    region: str
    commodity: str
    tier: int
    agreement: str
    quantity: float
    depart_h: float
    arrive_h: float
    transport_cost: float
    contract_cost: float
    compensation: float


def _flows(records: list[dict[Any, Any]]) -> list[_Flow]:
    """Typed rows of the flow table (plain Python values)."""
    return [_Flow(int(r["period"]), int(r["arrival_period"]), str(r["source"]),
                  str(r["contract"] or ""), str(r["lender"]), str(r["region"]),
                  str(r["commodity"]), int(r["tier"]), str(r["agreement"] or ""),
                  float(r["quantity"]), float(r["depart_h"]), float(r["arrive_h"]),
                  float(r["transport_cost"]), float(r["contract_cost"]),
                  float(r["compensation"])) for r in records]


def _close(a: float, b: float, rel: float, abs_: float) -> bool:
    return abs(a - b) <= max(abs_, rel * max(abs(a), abs(b)))


def _demand_by_period(inst: Instance, ev: Scenario, periods: int, period_h: float,
                      profile: str) -> dict[tuple[str, str, int], float]:
    out: dict[tuple[str, str, int], float] = defaultdict(float)
    for (rid, cid), q in inst.demand(ev.id).items():
        c = inst.commodity(cid)
        spread = profile == "even" or (profile == "auto" and c.consumable)
        for t in range(periods):
            if spread and ev.days > 0:
                lo, hi = t * period_h, (t + 1) * period_h
                share = max(0.0, min(hi, ev.days * 24.0) - lo) / (ev.days * 24.0)
            else:
                share = 1.0 if t == 0 else 0.0
            out[(rid, cid, t + 1)] += q * share
    return out


def _unknown_ids(inst: Instance, result: AllocationResult) -> str:
    """The first ids of the allocation the instance lacks, as ``kind id`` phrases, or ``""``."""
    known = {"facility": set(inst.facility_index), "region": set(inst.region_index),
             "commodity": set(inst.commodity_index),
             "contract": {c.id for c in inst.contracts} | {""},
             "agreement": {a.id for a in inst.agreements} | {"", PARENT_AGREEMENT,
                                                              POOLED_AGREEMENT}}
    columns = [("flows", "source", "facility"), ("flows", "lender", "region"),
               ("flows", "region", "region"), ("flows", "commodity", "commodity"),
               ("flows", "contract", "contract"), ("flows", "agreement", "agreement"),
               ("fill", "region", "region"), ("fill", "commodity", "commodity"),
               ("response", "region", "region")]
    missing: set[str] = set()
    for table, column, kind in columns:
        frame = getattr(result, table)
        if column in frame:
            missing |= {f"{kind} {v!r}" for v in frame[column].dropna().astype(str).unique()
                        if v not in known[kind]}
    ordered = sorted(missing)
    return ", ".join(ordered[:3]) + (f" and {len(ordered) - 3} more" if len(ordered) > 3
                                     else "")


def check_allocation(instance: Instance, event: str | Scenario, result: AllocationResult, *,
                     stock: Mapping[tuple[str, str], float] | None = None,
                     rel_tol: float = 1e-6) -> CheckReport:
    """Verify an allocation without the solver.

    Parameters
    ----------
    instance
        The instance the allocation was made for.
    event
        The event (scenario id or scenario) it answers.
    result
        The allocation.
    stock
        The warehouse stock it allocated, if not the instance's (as given to
        ``solve_allocation``).
    rel_tol
        Relative tolerance on every comparison (absolute floor 1e-6 x the quantity scale).

    Returns
    -------
    CheckReport
        ``ok`` when nothing is violated; recomputed ``costs``.
    """
    inst, ev = event_instance(instance, event)
    unknown = _unknown_ids(inst, result)
    if unknown:
        return CheckReport(violations=(f"The allocation names {unknown}, which instance "
                                       f"{inst.name!r} does not have: it was made for another "
                                       "instance.",), warnings=())
    o = result.options
    T, H = o.periods, o.period_h
    bad: list[str] = []
    warn: list[str] = []
    demand = _demand_by_period(inst, ev, T, H, o.demand_profile)
    # absolute slack on top of the relative tolerance: flows under 1e-6 units are dropped
    # as solver dust, so a few of them may be missing from any sum
    atol = 1e-4

    def leq(a: float, b: float) -> bool:
        return a <= b + max(atol, rel_tol * abs(b))

    # who may serve whom
    parents = inst.ancestors
    contracts = {c.id: c for c in inst.contracts}
    agreements = {a.id: a for a in inst.agreements}
    lends = {a.id: set(inst.lending_pairs(a)) for a in inst.agreements}
    arcs = build_arcs(inst, sources=sorted({*result.flows["source"]}) or None,
                      max_time_h=o.max_arc_time_h if o.max_arc_time_h is not None
                      else o.periods * o.period_h) if len(result.flows) else None
    arc_time: dict[tuple[str, str], tuple[float, float]] = {}
    if arcs is not None:
        sa = arcs.scenarios[0]
        for s, j, d, t in zip(sa.source, sa.region, sa.distance_km, sa.time_h, strict=True):
            arc_time[(arcs.source_ids[s], arcs.region_ids[j])] = (float(d), float(t))

    if stock is None:
        stock = {(f.id, c): q for f in inst.facilities
                 if f.kind is FacilityKind.GOVERNMENT_WAREHOUSE for c, q in f.stock.items()}
    supply: dict[tuple[str, str], float] = defaultdict(float)  # (region, commodity)
    for (fid, cid), q in stock.items():
        supply[(inst.facility(fid).region, cid)] += q * ev.surviving(fid)
    for con in inst.contracts:
        if con.signed:
            if con.kind is ContractKind.STOCK:
                avail = con.quantity * ev.surviving(con.facility)
            else:
                avail = min(con.quantity,
                            con.rate_per_day * max(0.0, T * H - con.delay_h) / 24.0)
            supply[(inst.facility(con.facility).region, con.commodity)] += avail

    used_stock: dict[tuple[str, str], float] = defaultdict(float)
    used_contract: dict[str, float] = defaultdict(float)
    produced_by: dict[tuple[str, int], float] = defaultdict(float)
    on_channel: dict[tuple[str, str, str, str], float] = defaultdict(float)
    by_lender: dict[tuple[str, str, str], float] = defaultdict(float)  # agreement totals
    protected_out: dict[tuple[str, str], float] = defaultdict(float)
    fleet_kg: dict[tuple[str, int], float] = defaultdict(float)
    fleet_m3: dict[tuple[str, int], float] = defaultdict(float)
    fleet_load: dict[tuple[str, int], float] = defaultdict(float)  # load weight x loads, kg
    sent_kg: dict[tuple[str, int], float] = defaultdict(float)  # weight leaving, kg
    home_of: dict[str, str | None] = {}
    load_m3: dict[tuple[str, int], float] = defaultdict(float)
    delivered: dict[tuple[str, str, int], float] = defaultdict(float)
    transport = prices = compensation = 0.0
    first_arrival: dict[str, float] = {}
    for n, f in enumerate(_flows(result.flows.to_dict(orient="records")), start=1):
        where = f"flow {n} ({f.source} -> {f.region}, {f.commodity}, period {f.period})"
        q = f.quantity
        if q < 0:
            bad.append(f"{where}: negative quantity {q}.")
        fac = inst.facility(f.source)
        k = inst.commodity(f.commodity)
        if fac.region != f.lender:
            bad.append(f"{where}: lender {f.lender} does not own {f.source} ({fac.region} does).")
        # the source and its release time
        release = 0.0
        production = False
        if f.contract:
            drawn = contracts.get(f.contract)
            if (drawn is None or not drawn.signed or drawn.facility != f.source
                    or drawn.commodity != f.commodity):
                bad.append(f"{where}: contract {f.contract} is not a signed contract of "
                           f"{f.source} for {f.commodity}.")
                continue
            release = drawn.delay_h
            production = drawn.kind is ContractKind.CAPACITY
            used_contract[drawn.id] += q
            if production:
                produced_by[(drawn.id, f.period)] += q
            prices += q * drawn.unit_price
            if not _close(f.contract_cost, q * drawn.unit_price, rel_tol, atol):
                bad.append(f"{where}: contract cost {f.contract_cost} != "
                           f"{q * drawn.unit_price}.")
        else:
            if (f.source, f.commodity) not in stock:
                bad.append(f"{where}: {f.source} holds no {f.commodity}.")
            used_stock[(f.source, f.commodity)] += q
        # permission and tier
        delay = 0.0
        if f.region == f.lender:
            if f.tier != Tier.OWN or f.agreement:
                bad.append(f"{where}: own stock must be tier 0 without an agreement.")
        elif f.agreement == POOLED_AGREEMENT:
            if result.sharing != "pooled":
                bad.append(f"{where}: pooled between regions, but the allocation shares under "
                           "agreements.")
            if f.tier != Tier.POOLED:
                bad.append(f"{where}: pooled stock is tier {int(Tier.POOLED)}, not {f.tier}.")
            if f.compensation:
                bad.append(f"{where}: pooled stock owes no compensation, not "
                           f"{f.compensation}.")
        elif f.agreement == PARENT_AGREEMENT:
            if not o.parent_serves or f.lender not in parents[f.region]:
                bad.append(f"{where}: {f.lender} is not a parent of {f.region}.")
            if f.tier != Tier.HIGHER_LEVEL:
                bad.append(f"{where}: a parent region serves at tier 3, not {f.tier}.")
            protected_out[(f.lender, f.commodity)] += q
        else:
            a = agreements.get(f.agreement)
            if a is None or not a.covers(f.commodity):
                bad.append(f"{where}: agreement {f.agreement!r} does not exist or does not "
                           f"cover {f.commodity}.")
                continue
            if (f.lender, f.region) not in lends[a.id]:
                bad.append(f"{where}: agreement {a.id} does not let {f.lender} lend to "
                           f"{f.region}.")
            if f.tier != a.tier:
                bad.append(f"{where}: tier {f.tier} but agreement {a.id} is tier {int(a.tier)}.")
            delay = a.delay_h
            on_channel[(a.id, f.lender, f.region, f.commodity)] += q
            by_lender[(a.id, f.lender, f.commodity)] += q
            if a.protect_own:
                protected_out[(f.lender, f.commodity)] += q
            compensation += q * a.compensation
            if not _close(f.compensation, q * a.compensation, rel_tol, atol):
                bad.append(f"{where}: compensation {f.compensation} != {q * a.compensation}.")
        # timing over the network
        arc = arc_time.get((f.source, f.region))
        if arc is None:
            bad.append(f"{where}: no usable arc from {f.source} to {f.region} in this event.")
            continue
        dist, tt = arc
        t0 = (f.period - 1) * H
        if production:
            depart = f.period * H + delay
        else:
            depart = max(t0, release + delay)
            if depart >= f.period * H:
                bad.append(f"{where}: released at {release + delay:g} h, after period "
                           f"{f.period} ends.")
        # the fleet that carries it, by the one fleet rule: a round trip longer than the
        # working day rides overnight (arrival after the night's rest) when allowed
        trip_h, days, to_arrive = 0.0, 1, tt
        if f.source not in home_of:
            home_of.update(home_fleets(inst, [f.source]))
        depot = home_of[f.source] if o.fleet_limits else None
        if depot is not None:
            # the depot's working day, from its signed vehicles (none: nothing is carried)
            rows = [v for v in inst.vehicles if v.depot == depot]
            shift = max((min(v.max_hours, H) for v in rows), default=0.0)
            night = any(v.overnight for v in rows)
            trip = fleet_trips(np.array(shift), np.array(depart - t0), np.array(tt),
                               o.handling_h, H, night)
            trip_h, days, to_arrive = (float(trip.charge_h), int(trip.days),
                                       float(trip.arrive_h))
            if not math.isfinite(trip_h):
                why = no_day_reason(shift, tt, o.handling_h, night, depot) or (
                    f"no round trip of {depot}'s vehicles from the release at "
                    f"{depart - t0:g} h fits the rest of its {shift:g} h working day; it "
                    "goes the next day")
                bad.append(f"{where}: {why}.")
                continue
        arrive = depart + to_arrive
        arrival_period = max(1, math.ceil(arrive / H - 1e-9))
        if not (_close(f.depart_h, depart, 1e-9, 1e-6)
                and _close(f.arrive_h, arrive, 1e-9, 1e-6)
                and f.arrival_period == arrival_period):
            bad.append(f"{where}: departs {f.depart_h} h / arrives {f.arrive_h} h (period "
                       f"{f.arrival_period}); expected {depart:g} h / {arrive:g} h (period "
                       f"{arrival_period}).")
        if arrival_period > T:
            bad.append(f"{where}: arrives after the horizon.")
        if q > 0:
            first_arrival[f.region] = min(first_arrival.get(f.region, math.inf), arrive)
        delivered[(f.region, f.commodity, arrival_period)] += q
        cost = q * dist * inst.transport_cost_per_unit_km(f.commodity)
        transport += cost
        if not _close(f.transport_cost, cost, rel_tol, atol):
            bad.append(f"{where}: transport cost {f.transport_cost} != {cost}.")
        # an overnight trip holds its vehicle each working day it takes (in the horizon),
        # its working hours and all its loads of those days; the fleet counts each unit's
        # load weight on its depot's trucks (bulky goods fill their m3 first), the route
        # cap its weight
        sent_kg[(f.source, f.period)] += q * k.weight_kg
        lkg = float(load_kg_of(k.weight_kg, k.volume_m3,
                               depot_kg_per_m3(inst, [depot])[0])) if depot else k.weight_kg
        loads = float(trip_loads(np.array(days), o.max_trips)) if depot is not None else 1.0
        for day in range(f.period, min(f.period + days, T + 1)):
            fleet_kg[(f.source, day)] += q * lkg * trip_h
            fleet_m3[(f.source, day)] += q * k.volume_m3 * trip_h
            fleet_load[(f.source, day)] += q * lkg * loads
            load_m3[(f.source, day)] += q * k.volume_m3 * loads

    # supply limits
    for (fid, cid), q in used_stock.items():
        cap = stock.get((fid, cid), 0.0) * ev.surviving(fid)
        if not leq(q, cap):
            bad.append(f"{fid} ships {q:g} {cid}, more than the {cap:g} that survived.")
    for cid_, q in used_contract.items():
        con = contracts[cid_]
        if con.kind is ContractKind.STOCK:
            cap = con.quantity * ev.surviving(con.facility)
            if not leq(q, cap):
                bad.append(f"contract {con.id} ships {q:g}, more than its {cap:g}.")
        else:
            cum = 0.0
            for t in range(1, T + 1):
                cum += produced_by.get((con.id, t), 0.0)
                made = min(con.quantity,
                           con.rate_per_day * max(0.0, t * H - con.delay_h) / 24.0)
                if not leq(cum, made):
                    bad.append(f"contract {con.id} ships {cum:g} by period {t}, more than "
                               f"the {made:g} produced.")
    for (aid, lender, borrower, cid), q in on_channel.items():
        a = agreements[aid]
        if a.cap_quantity is not None and not leq(q, a.cap_quantity):
            bad.append(f"agreement {aid} lends {q:g} {cid} {lender} -> {borrower}, over its "
                       f"cap of {a.cap_quantity:g}.")
        if a.cap_share is not None:
            cap = a.cap_share * supply[(lender, cid)]
            if not leq(q, cap):
                bad.append(f"agreement {aid} lends {q:g} {cid} {lender} -> {borrower}, over "
                           f"{a.cap_share:g} of the lender's {supply[(lender, cid)]:g}.")
    for (aid, lender, cid), q in by_lender.items():
        a = agreements[aid]
        if a.total_cap_quantity is not None and not leq(q, a.total_cap_quantity):
            bad.append(f"agreement {aid}: {lender} gives {q:g} {cid} to its borrowers in all, "
                       f"over its total cap of {a.total_cap_quantity:g}.")
        if a.total_cap_share is not None:
            cap = a.total_cap_share * supply[(lender, cid)]
            if not leq(q, cap):
                bad.append(f"agreement {aid}: {lender} gives {q:g} {cid} to its borrowers in "
                           f"all, over {a.total_cap_share:g} of its {supply[(lender, cid)]:g}.")
    need_total: dict[tuple[str, str], float] = defaultdict(float)
    for (rid, cid, _), q in demand.items():
        need_total[(rid, cid)] += q
    for (rid, cid), q in protected_out.items():
        surplus = max(0.0, supply[(rid, cid)] - need_total[(rid, cid)])
        if not leq(q, surplus):
            bad.append(f"{rid} lends {q:g} {cid} under protect_own terms but its surplus over "
                       f"its own need is {surplus:g}.")
    for src, t, cap in o.route_caps_kg:
        if not leq(sent_kg.get((src, t), 0.0), cap):
            bad.append(f"{src} sends {sent_kg[(src, t)]:g} kg in period {t}, over the "
                       f"{cap:g} kg its routes carried (route cap).")
    if o.fleet_limits:
        # each source ships on its own vehicles, else on its region's nearest depot's (the
        # definition, like the arcs, is shared with the model)
        fleet_of = home_fleets(inst, {src for src, _ in fleet_kg})
        for usage in (fleet_kg, fleet_m3, fleet_load, load_m3):
            pooled: dict[tuple[str, int], float] = defaultdict(float)
            for (src, t), used in usage.items():
                depot = fleet_of[src]
                if depot is not None:
                    pooled[(depot, t)] += used
            usage.clear()
            usage.update(pooled)
        # per depot and unit (kg, m3): vehicle capacity x hours, and x trips
        # per depot, unit (kg, m3) and period: vehicle capacity x hours, and x trips, of
        # the signed vehicles, for the share of the period after they arrive
        hour_cap: dict[str, dict[tuple[str, int], float]] = {u: defaultdict(float)
                                                             for u in ("kg", "m3")}
        trip_cap: dict[str, dict[tuple[str, int], float]] = {u: defaultdict(float)
                                                             for u in ("kg", "m3")}
        for v in inst.fleet:
            for t in range(1, T + 1):
                share = min(1.0, max(0.0, (t * H - v.delay_h) / H)) if v.signed else 0.0
                for unit, size in (("kg", v.capacity_kg), ("m3", v.capacity_m3)):
                    hour_cap[unit][(v.depot, t)] += v.count * size * min(v.max_hours, H) * share
                    trip_cap[unit][(v.depot, t)] += v.count * o.max_trips * size * share
        for unit, usage in (("kg", fleet_kg), ("m3", fleet_m3)):
            for (src, t), used in usage.items():
                if (src, t) in hour_cap[unit] and not leq(used, hour_cap[unit][(src, t)]):
                    bad.append(f"fleet at {src} in period {t}: {used:g} {unit} x h used of "
                               f"{hour_cap[unit][(src, t)]:g}.")
        for unit, usage in (("kg", fleet_load), ("m3", load_m3)):
            for (src, t), used in usage.items():
                if (src, t) in trip_cap[unit] and not leq(used, trip_cap[unit][(src, t)]):
                    bad.append(f"fleet at {src} in period {t} carries {used:g} {unit}, more "
                               f"than {o.max_trips} trips of its vehicles "
                               f"({trip_cap[unit][(src, t)]:g} {unit}).")

    # demand, backlog and fill rates, period by period
    fill = {(str(r["region"]), str(r["commodity"]), int(r["period"])): r
            for r in result.fill.to_dict(orient="records")}
    pairs = sorted({(rid, cid) for (rid, cid, _), q in demand.items() if q > 0})
    level_short: dict[int, float] = defaultdict(float)
    for rid, cid in pairs:
        cum_d = cum_x = 0.0
        for t in range(1, T + 1):
            cum_d += demand.get((rid, cid, t), 0.0)
            cum_x += delivered.get((rid, cid, t), 0.0)
            short = max(0.0, cum_d - cum_x)
            short = short if short > 1e-9 * cum_d + 1e-6 else 0.0
            row = fill.get((rid, cid, t))
            if row is None:
                bad.append(f"fill table has no row for {rid}, {cid}, period {t}.")
                continue
            for name, want in (("demand", demand.get((rid, cid, t), 0.0)),
                               ("cum_delivered", cum_x), ("shortage", short)):
                if not _close(float(row[name]), want, rel_tol, atol):
                    bad.append(f"fill {rid}, {cid}, period {t}: {name} {row[name]} "
                               f"!= {want:g}.")
            com = inst.commodity(cid)
            level_short[com.priority if o.priorities else 0] += com.shortage_penalty * short
    # a level's scale: its value if nothing at all were delivered; solvers that print
    # 8 significant digits (CBC) leave errors of about 1e-8 of each flow behind
    worst: dict[int, float] = defaultdict(float)
    for (_, cid, t), q in demand.items():
        com = inst.commodity(cid)
        worst[com.priority if o.priorities else 0] += com.shortage_penalty * q * (T - t + 1)
    for lv in result.levels:
        if lv.name.startswith("shortage") and lv.value is not None:
            prio = int(lv.name.removeprefix("shortage_p")) if lv.name != "shortage" else 0
            if not _close(lv.value, level_short[prio], 1e-6, 1e-7 * max(1.0, worst[prio])):
                bad.append(f"level {lv.name}: reported {lv.value:g}, recomputed "
                           f"{level_short[prio]:g}.")
    # response times
    for resp in result.response.to_dict(orient="records"):
        rid, reported = str(resp["region"]), float(resp["first_arrival_h"])
        got = first_arrival.get(rid, math.inf)
        if not _close(reported, got, 1e-9, 1e-6) and not (
                math.isinf(got) and math.isinf(reported)):
            bad.append(f"response {rid}: first arrival {reported} h, recomputed {got:g} h.")
        std = inst.settings.response_h(inst.region(rid).level)
        if bool(resp["met"]) != (got <= std + 1e-9):
            bad.append(f"response {rid}: met={resp['met']} but first arrival {got:g} h vs "
                       f"standard {std:g} h.")
    # money
    costs = {"transport": transport, "contract_prices": prices,
             "compensation_transfer": compensation}
    for key, want in costs.items():
        if not _close(result.costs()[key], want, rel_tol, 1e-6 * max(1.0, want)):
            bad.append(f"cost {key}: reported {result.costs()[key]:g}, recomputed {want:g}.")
    s = result.settlement
    for key, want in (("agreement", compensation), ("contract", prices)):
        got = float(s.loc[s["kind"] == key, "amount"].sum()) if len(s) else 0.0
        if not _close(got, want, rel_tol, 1e-6 * max(1.0, want)):
            bad.append(f"settlement {key} lines sum to {got:g}, recomputed {want:g}.")
    if result.levels and result.levels[-1].name == "cost" and result.objective is not None:
        want = transport + prices
        if not _close(result.objective, want, 1e-6, 1e-6 * max(1.0, want)):
            bad.append(f"cost level {result.objective:g} != transport + prices {want:g}.")
    return CheckReport(violations=tuple(bad), warnings=tuple(warn), costs=costs)
