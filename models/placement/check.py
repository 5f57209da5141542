"""Independent checker of a placement plan: from the instance and the result alone.

It reads no model matrices and calls no solver. It recomputes, from the domain objects and
the plan's lines: at most one size per candidate, space, budget, flows within surviving stock
and contract amounts, demand balance and shortages, sharing permissions and agreement caps,
protect_own surpluses (as allocation defines them), response times, the service-level floor,
every cost term, the risk term and the objective; the solver's claims (status, bound, gap)
for consistency; and one family of neighbour plans (one more unit at a warehouse with room,
used by short regions it serves without agreement), none of which may beat the bound or a
plan called optimal. Usable arcs and their lengths come from
:func:`reserve_opt.transport.build_arcs` (the definition of the network).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from reserve_opt.domain import PARENT_AGREEMENT, ContractKind, FacilityKind, Instance
from reserve_opt.fleet import (
    charged_trip_h,
    depot_kg_per_m3,
    fleet_trips,
    home_fleets,
    load_kg,
    no_day_reason,
    trip_loads,
)
from reserve_opt.solvers import SolveStatus, relative_gap
from reserve_opt.transport import build_arcs

from .result import PlacementResult, cvar


@dataclass(frozen=True)
class CheckReport:
    """What the checker found.

    Attributes
    ----------
    violations
        Broken constraints and cost mismatches, one sentence each.
    warnings
        Things allowed but worth a look (e.g. an unknown requested gap).
    costs
        Recomputed cost terms, currency.
    """

    violations: tuple[str, ...]
    warnings: tuple[str, ...]
    costs: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """No violations."""
        return not self.violations


def _close(a: float, b: float, rel: float, abs_: float) -> bool:
    return abs(a - b) <= max(abs_, rel * max(abs(a), abs(b)))


def _unknown_ids(instance: Instance, result: PlacementResult) -> str:
    """The first ids of the plan the instance lacks, as ``kind id`` phrases, or ``""``."""
    known = {"facility": set(instance.facility_index), "region": set(instance.region_index),
             "commodity": set(instance.commodity_index),
             "scenario": set(instance.scenario_index),
             "contract": {c.id for c in instance.contracts},
             "agreement": {a.id for a in instance.agreements},
             "vehicle": {veh.id for veh in instance.fleet}}
    named: list[tuple[str, str | None]] = [
        *(("facility", o.facility) for o in result.opened),
        *(x for s in result.stock for x in (("facility", s.facility),
                                             ("commodity", s.commodity))),
        *(("contract", c.contract) for c in result.contracts),
        *(("vehicle", d.vehicle) for d in result.vehicles),
        *(x for f in result.flows for x in (("facility", f.source), ("region", f.region),
                                             ("commodity", f.commodity), ("scenario", f.scenario),
                                             ("contract", f.contract))),
        *(x for s in result.shortages for x in (("region", s.region),
                                                 ("commodity", s.commodity),
                                                 ("scenario", s.scenario))),
        *(("agreement", s.agreement) for s in result.settlement
          if s.agreement != PARENT_AGREEMENT),
        *(("scenario", sid) for sid, _ in result.scenario_probabilities),
    ]
    missing = sorted({f"{kind} {i!r}" for kind, i in named
                      if i is not None and i not in known[kind]})
    return ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3
                                     else "")


def _fleets(instance: Instance, hired: dict[str, bool], max_trips: int,
            fleet_use: dict[tuple[str, str], list[float]], v: list[str],
            leq: Callable[[float, float], bool]) -> dict[tuple[str, str], list[float]]:
    """Each depot's round trips and loads in a scenario within its vehicles' days of work.

    Recomputed from the rows of the vehicle table the plan holds (count x capacity x
    min(max_hours, 24 h) a day, and ``max_trips`` loads a day each, for the share of each
    day after the vehicles arrive), over the scenario's days rounded up to whole days.

    Returns
    -------
    dict
        What is left, (scenario, depot) -> [kg x h, m3 x h, kg, m3], for every depot.
    """
    days = {s.id: max(1.0, math.ceil(s.days)) for s in instance.scenarios}
    cap: dict[tuple[str, str], list[float]] = {
        (sid, veh.depot): [0.0] * 4 for sid in days for veh in instance.fleet}
    for veh in instance.fleet:
        if not hired[veh.id]:
            continue
        hours = min(veh.max_hours, 24.0)
        for sid, n_days in days.items():
            # the share of each day after the vehicles arrive
            share = sum(min(1.0, max(0.0, (24.0 * (i + 1) - veh.delay_h) / 24.0))
                        for i in range(int(n_days)))
            c = cap[(sid, veh.depot)]
            for i, amount in enumerate((veh.capacity_kg * hours, veh.capacity_m3 * hours,
                                        veh.capacity_kg * max_trips,
                                        veh.capacity_m3 * max_trips)):
                c[i] += veh.count * amount * share
    if not cap:
        return {}
    depot_of = home_fleets(instance, sorted({src for _, src in fleet_use}))
    per: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0] * 4)
    for (sid, src), use in fleet_use.items():
        d = depot_of.get(src)
        if d is not None:
            per[(sid, d)] = [a + b for a, b in zip(per[(sid, d)], use, strict=True)]
    names = ("load-weight kg x h of round trips", "m3 x h of round trips",
             "load-weight kg carried", "m3 carried")
    left: dict[tuple[str, str], list[float]] = {}
    for (sid, d), have_all in cap.items():
        use = per.get((sid, d), [0.0] * 4)
        left[(sid, d)] = [have_all[i] - use[i] for i in range(4)]
        for i, name in enumerate(names):
            have = have_all[i]
            if not leq(use[i], have):
                v.append(f"Fleet at {d} in {sid}: {use[i]:,.1f} {name}, more than its "
                         f"vehicles' {have:,.1f} over {days[sid]:g} days.")
    return left


def check_placement(instance: Instance, result: PlacementResult, *, rel_tol: float = 1e-6,
                    abs_tol: float = 1e-5) -> CheckReport:
    """Check a plan against the instance and recompute its costs.

    Parameters
    ----------
    instance
        The instance the plan was made for.
    result
        The plan.
    rel_tol, abs_tol
        Tolerances on quantities and costs.

    Returns
    -------
    CheckReport
    """
    v: list[str] = []
    warn: list[str] = []
    if result.costs is None:
        return CheckReport(("The result carries no plan to check.",), ())
    unknown = _unknown_ids(instance, result)
    if unknown:
        return CheckReport((f"The plan names {unknown}, which instance {instance.name!r} does "
                            "not have: it was made for another instance.",), ())
    opts = result.options
    _solver_claims(result, v, warn)
    tol = abs_tol

    def leq(a: float, b: float) -> bool:
        return a <= b + max(tol, rel_tol * abs(b))

    comm = {c.id: c for c in instance.commodities}
    # ---------------- first stage
    size_of: dict[str, tuple[float, float]] = {}
    for op in result.opened:
        f = instance.facility(op.facility)
        if not f.is_candidate:
            v.append(f"{op.facility} is opened but is not a candidate warehouse.")
            continue
        if op.facility in size_of:
            v.append(f"{op.facility} is opened at more than one size.")
        match = [z for z in f.sizes if z.size == op.size]
        if not match:
            v.append(f"{op.facility} opened at unknown size {op.size!r}.")
            continue
        size_of[op.facility] = (match[0].capacity_m3, match[0].fixed_cost)
    stock: dict[tuple[str, str], float] = defaultdict(float)
    room: dict[str, float] = {}  # m3 left at each warehouse that may hold stock
    purchase = 0.0
    for ln in result.stock:
        f = instance.facility(ln.facility)
        if f.kind is not FacilityKind.GOVERNMENT_WAREHOUSE:
            v.append(f"Stock line at {ln.facility}, which is not a government warehouse.")
        ex = float(f.stock.get(ln.commodity, 0.0))
        if not _close(ex, ln.existing, rel_tol, tol) or ln.added < -tol or not _close(
                ln.total, ln.existing + ln.added, rel_tol, tol):
            v.append(f"Stock line {ln.facility}/{ln.commodity} is inconsistent "
                     f"(existing {ln.existing} vs instance {ex}, added {ln.added}, "
                     f"total {ln.total}).")
        stock[(ln.facility, ln.commodity)] += ln.total
        purchase += max(ln.total - ex, 0.0) * comm[ln.commodity].purchase_cost
    for f in instance.facilities_of_kind(FacilityKind.GOVERNMENT_WAREHOUSE):
        for ck, q in f.stock.items():
            if q > tol and stock.get((f.id, ck), 0.0) < q - tol:
                v.append(f"Existing stock of {ck} at {f.id} ({q}) is missing from the plan.")
        used = sum(comm[ck].volume_m3 * q for (fid, ck), q in stock.items() if fid == f.id)
        if f.is_candidate:
            cap = size_of[f.id][0] if f.id in size_of else 0.0
        else:
            cap = math.inf if f.capacity_m3 is None else f.capacity_m3
        if not leq(used, cap):
            v.append(f"{f.id} holds {used:.3f} m3 but has {cap:.3f} m3.")
        if not f.is_candidate or f.id in size_of:
            room[f.id] = cap - used
        if f.is_candidate and f.id not in size_of and any(
                q > tol for (fid, _), q in stock.items() if fid == f.id):
            v.append(f"{f.id} holds stock but is not opened.")
    signed = {cd.contract: cd.signed for cd in result.contracts}
    for c in instance.contracts:
        if c.signed and not signed.get(c.id, False):
            v.append(f"Contract {c.id} was signed before and must stay signed.")
    # fleet rows: own vehicles and signed logistics contracts stay; offers as decided
    held = {d.vehicle: d.signed for d in result.vehicles}
    hired = {veh.id: held.get(veh.id, veh.signed) for veh in instance.fleet}
    for veh in instance.fleet:
        if veh.signed and not hired[veh.id]:
            v.append(f"Vehicles {veh.id} were held before and must stay held.")
    fixed = sum(fc for _, fc in size_of.values())
    retainer = sum(c.retainer for c in instance.contracts if signed.get(c.id, False)) + sum(
        veh.retainer for veh in instance.fleet if hired[veh.id])
    new_spend = fixed + purchase + sum(c.retainer for c in instance.contracts
                                       if signed.get(c.id, False) and not c.signed) + sum(
        veh.retainer for veh in instance.fleet if hired[veh.id] and not veh.signed)
    budget = instance.settings.budget if opts.budget == "instance" else opts.budget
    if budget is not None and not isinstance(budget, str) and not leq(new_spend, budget):
        v.append(f"New first-stage spending {new_spend:,.2f} exceeds the budget {budget:,.2f}.")

    # ---------------- sharing rules, recomputed from the agreements
    region_of = {f.id: f.region for f in instance.facilities}
    reg = {r.id: r for r in instance.regions}
    covering: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for ai, agr in enumerate(instance.agreements):
        for lo, bo in instance.lending_pairs(agr):
            for k in comm:
                if agr.covers(k):
                    covering[(lo, bo, k)].append(ai)
    if opts.parent_serves:  # -1: a parent region, no agreement, cap or delay
        for r in instance.regions:
            for anc in instance.ancestors[r.id]:
                for k in comm:
                    covering[(anc, r.id, k)].append(-1)
    contracts = {c.id: c for c in instance.contracts}

    # ---------------- second stage
    sources = sorted({s for s, _ in stock} | {c.facility for c in instance.contracts}
                     | set(room))
    arcs = build_arcs(instance, sources=sources or None, max_time_h=opts.max_arc_time_h)
    arc_of: dict[tuple[str, str, str], tuple[float, float]] = {}
    for sa in arcs.scenarios:
        for i in range(len(sa)):
            arc_of[(sa.scenario, arcs.source_ids[sa.source[i]], arcs.region_ids[sa.region[i]])] = (
                float(sa.distance_km[i]), float(sa.time_h[i]))
    prob = {s.id: s.probability for s in instance.scenarios}
    out_gov: dict[tuple[str, str, str], float] = defaultdict(float)
    out_con: dict[tuple[str, str], float] = defaultdict(float)
    served: dict[tuple[str, str, str], float] = defaultdict(float)
    lent: dict[tuple[str, str, str, str], float] = defaultdict(float)
    # cross-region flows per (scenario, lender, commodity): (borrower, units, slack h), slack
    # = the response standard - travel - the source's release (inf without response times)
    lent_flows: dict[tuple[str, str, str], list[tuple[str, float, float]]] = defaultdict(list)
    scen_cost: dict[str, float] = defaultdict(float)  # second-stage cost of each scenario
    transport = unit_prices = 0.0
    fleet_use: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0] * 4)
    shift_of = {veh.depot: 0.0 for veh in instance.fleet}
    for veh in instance.fleet:  # the depot's working day (offers count, as in the model)
        shift_of[veh.depot] = max(shift_of[veh.depot], min(veh.max_hours, 24.0))
    night_of = {d: any(veh.overnight for veh in instance.fleet if veh.depot == d)
                for d in shift_of}
    kg_per_m3_of = dict(zip(shift_of, depot_kg_per_m3(instance, list(shift_of), offers=True)
                            .tolist(), strict=True))
    homes: dict[str, str | None] = {}

    def home_depot(source: str) -> str | None:
        if source not in homes:
            homes.update(home_fleets(instance, [source]))
        return homes[source]

    for fl in result.flows:
        if fl.quantity < -tol:
            v.append(f"Negative flow {fl}.")
        arc = arc_of.get((fl.scenario, fl.source, fl.region))
        if arc is None:
            v.append(f"Flow {fl.source}->{fl.region} in {fl.scenario} uses no usable arc.")
            continue
        dist, time_h = arc
        if not _close(dist, fl.distance_km, 1e-9, 1e-6):
            v.append(f"Flow {fl.source}->{fl.region} in {fl.scenario}: distance "
                     f"{fl.distance_km} vs {dist}.")
        if fl.contract is None:
            delay = 0.0
            out_gov[(fl.scenario, fl.source, fl.commodity)] += fl.quantity
            price = 0.0
        else:
            con = contracts[fl.contract]
            if con.facility != fl.source or con.commodity != fl.commodity:
                v.append(f"Flow drawn on {con.id} from {fl.source} of {fl.commodity} does not "
                         "match the contract.")
            delay = con.delay_h
            price = con.unit_price
            out_con[(fl.scenario, con.id)] += fl.quantity
        owner = region_of[fl.source]
        if result.sharing == "agreements" and owner != fl.region:
            cov = covering.get((owner, fl.region, fl.commodity), [])
            if not cov:
                v.append(f"{owner} may not lend {fl.commodity} to {fl.region} (no agreement), "
                         f"but {fl.source} ships {fl.quantity:.3f} in {fl.scenario}.")
            else:
                delay += min(instance.agreements[ai].delay_h if ai >= 0 else 0.0
                             for ai in cov)
                lent[(fl.scenario, owner, fl.region, fl.commodity)] += fl.quantity
                slack = (instance.settings.response_h(reg[fl.region].level) - time_h - (
                    delay - min(instance.agreements[ai].delay_h if ai >= 0 else 0.0
                                for ai in cov)) if opts.response_time else math.inf)
                if fl.quantity > tol:
                    lent_flows[(fl.scenario, owner, fl.commodity)].append(
                        (fl.region, fl.quantity, slack))
        if opts.response_time:
            lim = instance.settings.response_h(reg[fl.region].level)
            if time_h + delay > lim + 1e-9:
                v.append(f"Flow {fl.source}->{fl.region} in {fl.scenario} takes "
                         f"{time_h + delay:.2f} h > {lim} h.")
        served[(fl.scenario, fl.region, fl.commodity)] += fl.quantity
        if opts.fleet_limits:
            k_obj = comm[fl.commodity]
            depot = home_depot(fl.source)
            trip = 0.0 if depot is None else float(charged_trip_h(
                np.array(shift_of[depot]), np.array(0.0), np.array(time_h), opts.handling_h,
                overnight=night_of[depot]))
            if not math.isfinite(trip):
                v.append(f"Flow {fl.source}->{fl.region} in {fl.scenario}: "
                         + no_day_reason(shift_of.get(depot or "", 0.0), time_h,
                                         opts.handling_h, False, str(depot)) + ".")
                trip = 0.0
            # an overnight trip takes all its vehicle's loads on each day it is away
            days = 1 if depot is None else int(fleet_trips(
                np.array(shift_of[depot]), np.array(0.0), np.array(time_h), opts.handling_h,
                overnight=night_of[depot]).days)
            loads = max(days, 1) * float(trip_loads(np.array(days), opts.max_trips))
            # the unit's load weight on its depot's trucks (bulky goods fill their m3 first)
            lkg = k_obj.weight_kg if depot is None else float(load_kg(
                k_obj.weight_kg, k_obj.volume_m3, kg_per_m3_of[depot]))
            use = fleet_use[(fl.scenario, fl.source)]
            use[0] += fl.quantity * lkg * trip
            use[1] += fl.quantity * k_obj.volume_m3 * trip
            use[2] += fl.quantity * lkg * loads
            use[3] += fl.quantity * k_obj.volume_m3 * loads
        cost = fl.quantity * dist * instance.transport_cost_per_unit_km(fl.commodity)
        transport += prob[fl.scenario] * cost
        unit_prices += prob[fl.scenario] * fl.quantity * price
        scen_cost[fl.scenario] += cost + fl.quantity * price

    fleet_left = (_fleets(instance, hired, opts.max_trips, fleet_use, v, leq)
                  if opts.fleet_limits else {})

    holding = 0.0
    avail_region: dict[tuple[str, str, str], float] = defaultdict(float)
    for sc in instance.scenarios:
        for (fid, k), q in stock.items():
            have = sc.surviving(fid) * q
            avail_region[(sc.id, region_of[fid], k)] += have
            out = out_gov.get((sc.id, fid, k), 0.0)
            if not leq(out, have):
                v.append(f"{fid} ships {out:.3f} {k} in {sc.id} but has {have:.3f} left.")
            holding += sc.probability * comm[k].holding_cost * max(have - out, 0.0)
            scen_cost[sc.id] += comm[k].holding_cost * max(have - out, 0.0)
        for c in instance.contracts:
            if c.kind is ContractKind.STOCK:
                av = c.quantity * sc.surviving(c.facility)
            else:
                av = min(c.quantity, c.rate_per_day * max(0.0, sc.days - c.delay_h / 24.0))
            av = av if signed.get(c.id, False) else 0.0
            avail_region[(sc.id, region_of[c.facility], c.commodity)] += av
            out = out_con.get((sc.id, c.id), 0.0)
            if not leq(out, av):
                v.append(f"Contract {c.id} gives {out:.3f} in {sc.id} but only {av:.3f} "
                         "is available.")
    for (sid, lo, bo, k), q in lent.items():
        cap = 0.0
        for ai in covering[(lo, bo, k)]:
            if ai < 0:
                cap = math.inf
                break
            ag = instance.agreements[ai]
            cq = math.inf if ag.cap_quantity is None else ag.cap_quantity
            cs = math.inf if ag.cap_share is None else ag.cap_share * avail_region[(sid, lo, k)]
            cap += min(cq, cs)
        if not leq(q, cap):
            v.append(f"{lo} lends {q:.3f} {k} to {bo} in {sid}, over the agreement cap "
                     f"{cap:.3f}.")
    v += _protect_own(instance, lent, covering, avail_region, leq)
    v += _bookings(instance, lent_flows, covering, avail_region, opts.response_time, tol,
                   rel_tol)

    shortage = 0.0
    short_of: dict[tuple[str, str, str], float] = {}
    short_line = {(x.scenario, x.region, x.commodity): x for x in result.shortages}
    loss: dict[str, float] = defaultdict(float)
    exp_d: dict[tuple[str, str], float] = defaultdict(float)
    exp_w: dict[tuple[str, str], float] = defaultdict(float)
    for sc in instance.scenarios:
        dem = instance.demand(sc.id)
        for (j, k), d in dem.items():
            got = served.get((sc.id, j, k), 0.0)
            if not leq(got, d):
                v.append(f"{j} receives {got:.3f} {k} in {sc.id}, more than its demand {d}.")
            w = max(d - got, 0.0)
            sh = short_line.get((sc.id, j, k))
            # w is a difference of quantities of the demand's size: tolerance scales with it
            if sh is None or not _close(sh.shortage, w, rel_tol, max(1e-4, rel_tol * d)):
                v.append(f"Shortage of {k} in {j}, {sc.id}: reported "
                         f"{None if sh is None else sh.shortage}, recomputed {w:.4f}.")
            shortage += sc.probability * comm[k].shortage_penalty * w
            loss[sc.id] += comm[k].shortage_penalty * w
            scen_cost[sc.id] += comm[k].shortage_penalty * w
            short_of[(sc.id, j, k)] = w
            exp_d[(j, k)] += sc.probability * d
            exp_w[(j, k)] += sc.probability * w
        for (s2, j, k), got in served.items():
            if s2 == sc.id and (j, k) not in dem and got > tol:
                v.append(f"{j} receives {got:.3f} {k} in {sc.id} without demand.")
    if opts.service_level is not None:
        for (j, k), ed in exp_d.items():
            if ed > 0 and 1.0 - exp_w[(j, k)] / ed < opts.service_level - 1e-6:
                v.append(f"Expected fill rate of {k} in {j} is "
                         f"{1 - exp_w[(j, k)] / ed:.6f} < {opts.service_level}.")

    # settlement totals agree with the cross-region flows
    if result.sharing == "agreements":
        exp_lent: dict[tuple[str, str, str], float] = defaultdict(float)
        for (sid, lo, bo, k), q in lent.items():
            exp_lent[(lo, bo, k)] += prob[sid] * q
        exp_set: dict[tuple[str, str, str], float] = defaultdict(float)
        for st in result.settlement:
            exp_set[(st.lender, st.borrower, st.commodity)] += st.expected_units
        for key in set(exp_lent) | set(exp_set):
            if not _close(exp_lent.get(key, 0.0), exp_set.get(key, 0.0), 1e-5, 1e-3):
                v.append(f"Settlement of {key} lists {exp_set.get(key, 0.0):.4f} expected "
                         f"units, flows give {exp_lent.get(key, 0.0):.4f}.")

    scen_p = [sc.probability for sc in instance.scenarios]
    second = [scen_cost.get(sc.id, 0.0) for sc in instance.scenarios]
    costs = {
        "fixed": fixed, "purchase": purchase, "retainer": retainer, "transport": transport,
        "unit_prices": unit_prices, "holding": holding, "shortage": shortage,
        "cvar_shortage": cvar([loss.get(sc.id, 0.0) for sc in instance.scenarios], scen_p,
                              opts.cvar_level),
        "cvar_second_stage": cvar(second, scen_p, opts.cvar_level),
    }
    costs["total"] = sum(costs[k] for k in ("fixed", "purchase", "retainer", "transport",
                                             "unit_prices", "holding", "shortage"))
    lam = opts.risk_weight
    costs["objective"] = costs["total"] + lam * costs["cvar_second_stage"]
    rep = result.costs.to_dict()
    scale = max(abs(costs["objective"]), 1.0)
    for k, val in costs.items():
        if k in rep and abs(val - rep[k]) > max(1e-6 * scale, 1e-4):
            v.append(f"Cost {k}: reported {rep[k]:,.6f}, recomputed {val:,.6f}.")
    obj_tol = max(1e-6 * scale, 1e-4)
    what = ("expected total cost" if lam == 0 else
            f"E[cost] + {lam:g} x CVaR_{opts.cvar_level:g}(second-stage cost)")
    # the solver's objective is c x; with risk, eta and the excesses may sit above their
    # minimum at a non-final incumbent, so the objective may exceed the plan's value
    if result.objective is not None and (
            result.objective < costs["objective"] - obj_tol
            or (lam == 0 and result.objective > costs["objective"] + obj_tol)):
        v.append(f"Objective {result.objective:,.6f} differs from the recomputed {what} "
                 f"{costs['objective']:,.6f}.")
    elif result.objective is not None and result.objective > costs["objective"] + obj_tol:
        warn.append(f"Objective {result.objective:,.6f} is above the plan's recomputed {what} "
                    f"{costs['objective']:,.6f} (the solver's CVaR auxiliaries are not at "
                    "their minimum).")
    if result.bound is not None and math.isfinite(result.bound) and (
            result.bound > costs["objective"] + obj_tol):
        v.append(f"Bound {result.bound:,.6f} is above the plan's recomputed {what} "
                 f"{costs['objective']:,.6f}; a lower bound cannot exceed a plan's cost.")
    move = _cheaper_neighbour(instance, result, stock, room, new_spend, budget, arc_of,
                              short_of, second, region_of, fleet_left)
    if move is not None:
        delta, desc = move
        better = costs["objective"] + delta
        allowed = result.mip_gap if result.mip_gap is not None else 0.0
        if result.bound is not None and math.isfinite(result.bound) and (
                better < result.bound - obj_tol):
            v.append(f"Bound {result.bound:,.6f} is wrong: {desc} gives a plan costing "
                     f"{better:,.6f}.")
        elif result.status is SolveStatus.OPTIMAL and (
                better < costs["objective"] - allowed * abs(costs["objective"]) - obj_tol):
            v.append(f"Status 'optimal' is wrong: {desc} lowers the {what} from "
                     f"{costs['objective']:,.6f} to {better:,.6f}, beyond the requested gap "
                     f"{allowed:g}.")
    return CheckReport(tuple(v), tuple(dict.fromkeys(warn)), costs)


#: Slack on the requested gap when judging ``optimal`` (solvers measure it their own way).
GAP_SLACK = 1e-6


def _solver_claims(result: PlacementResult, v: list[str], warn: list[str]) -> None:
    """Status, objective, bound and gap of a minimisation agree with each other."""
    st, obj, bound, gap = result.status, result.objective, result.bound, result.gap
    if not st.has_solution:
        v.append(f"Status {st.value!r} carries no plan, yet the result has one.")
    if obj is None or not math.isfinite(obj):
        v.append(f"A plan with objective {obj!r}; it must be a finite number.")
        return
    tol = max(1e-6 * abs(obj), 1e-6)
    if bound is not None and not math.isnan(bound) and bound > obj + tol:
        v.append(f"Bound {bound:,.6f} is above the objective {obj:,.6f}; when minimising, the "
                 "bound is at most the objective.")
    real_gap = relative_gap(obj, bound)
    if gap is not None and (real_gap is None or not (
            abs(gap - real_gap) <= 1e-6 * max(1.0, abs(real_gap)))):
        said = "no bound" if bound is None else f"bound {bound:,.6f}"
        real = "none" if real_gap is None else f"{real_gap:.6g}"
        v.append(f"Gap {gap:.6g} does not match objective {obj:,.6f} and {said} "
                 f"(|objective - bound| / |objective| = {real}).")
    if st is not SolveStatus.OPTIMAL:
        return
    if real_gap is None:
        warn.append("Status 'optimal' comes without a bound to confirm it.")
    elif result.mip_gap is None:
        warn.append(f"Status 'optimal' with gap {real_gap:.6g}; the requested gap is unknown, "
                    "so it cannot be confirmed.")
    elif real_gap > result.mip_gap + GAP_SLACK:
        v.append(f"Status 'optimal' with gap {real_gap:.6g}, above the requested gap "
                 f"{result.mip_gap:g}; it is 'feasible'.")


def _protect_own(instance: Instance, lent: dict[tuple[str, str, str, str], float],
                 covering: dict[tuple[str, str, str], list[int]],
                 held: dict[tuple[str, str, str], float],
                 leq: Callable[[float, float], bool]) -> list[str]:
    """Lenders give under protect_own terms and as parents at most their surplus.

    Allocation's rule: over an event, what region o gives of k under agreements with
    ``protect_own`` and as a parent is at most ``max(0, held - own demand)``, held = o's
    surviving stock and available contracts (not what it receives). A flow on a pair is
    booked first to the pair's agreements without protect_own, up to their caps; the rest
    is protected lending.
    """
    v: list[str] = []
    need: dict[tuple[str, str, str], float] = defaultdict(float)
    for (sid, lo, bo, k), q in lent.items():
        free = 0.0
        for ai in covering[(lo, bo, k)]:
            if ai < 0 or instance.agreements[ai].protect_own:
                continue
            ag = instance.agreements[ai]
            free += min(math.inf if ag.cap_quantity is None else ag.cap_quantity,
                        math.inf if ag.cap_share is None
                        else ag.cap_share * held[(sid, lo, k)])
        need[(sid, lo, k)] += max(q - free, 0.0)
    demand = {sc.id: instance.demand(sc.id) for sc in instance.scenarios}
    for (sid, lo, k), q in need.items():
        have = held[(sid, lo, k)]
        own = demand[sid].get((lo, k), 0.0)
        if not leq(q, max(have - own, 0.0)):
            v.append(f"{lo} lends {q:.3f} {k} in {sid} under protect_own terms or as a parent, "
                     f"more than its surplus {max(have - own, 0.0):.3f} (holds {have:.3f}, "
                     f"needs {own:.3f}).")
    return v


def _bookings(instance: Instance,
              lent_flows: dict[tuple[str, str, str], list[tuple[str, float, float]]],
              covering: dict[tuple[str, str, str], list[int]],
              held: dict[tuple[str, str, str], float], response_time: bool, tol: float,
              rel_tol: float) -> list[str]:
    """Each lender's cross-region units can be booked to the agreements that cover them.

    Per (scenario, lender, commodity), a small LP looks for a booking b[f, t] of each
    flow f to the agreements t covering its borrower (a parent region: no cap, no delay)
    such that every flow is booked whole, each agreement keeps its per-borrower caps and
    its lender totals (``total_cap_quantity``, ``total_cap_share`` x held), protect_own
    and parent lending stays within the lender's surplus and, with response times, a flow
    is booked only to agreements whose delay still lets it arrive within the standard.
    Groups whose only agreement terms are per-borrower caps are left to the pair checks.
    """
    from scipy.optimize import linprog  # the checker's own solver, not the model's

    v: list[str] = []
    demand = {sc.id: instance.demand(sc.id) for sc in instance.scenarios}
    ags = instance.agreements
    for (sid, lo, k), flows in sorted(lent_flows.items()):
        tri = sorted({(ai, bo) for bo, _, _ in flows for ai in covering[(lo, bo, k)]})
        totals = {ai for ai, _ in tri if ai >= 0 and (
            ags[ai].total_cap_quantity is not None or ags[ai].total_cap_share is not None)}
        timed = response_time and any(
            len({ags[ai].delay_h if ai >= 0 else 0.0 for ai in covering[(lo, bo, k)]}) > 1
            for bo, _, _ in flows)
        if not totals and not timed:
            continue
        have = held[(sid, lo, k)]
        cols = [(f, t) for f, (bo, _, slack) in enumerate(flows) for t, (ai, b2) in
                enumerate(tri) if b2 == bo and (ags[ai].delay_h if ai >= 0 else 0.0)
                <= slack + 1e-9]
        n = len(cols)
        a_eq = np.zeros((len(flows), n))
        rows_ub: list[np.ndarray] = []
        ub: list[float] = []

        def bound(sel: np.ndarray, cap: float, rows_ub: list[np.ndarray] = rows_ub,
                  ub: list[float] = ub) -> None:
            if math.isfinite(cap):
                rows_ub.append(sel.astype(float))
                ub.append(cap + max(tol, rel_tol * abs(cap)))

        for c, (f, _) in enumerate(cols):
            a_eq[f, c] = 1.0
        tcol = np.array([t for _, t in cols], dtype=np.int64)
        for t, (ai, _) in enumerate(tri):
            if ai >= 0:
                ag = ags[ai]
                bound(tcol == t, min(math.inf if ag.cap_quantity is None else ag.cap_quantity,
                                     math.inf if ag.cap_share is None else ag.cap_share * have))
        for ai in sorted(totals):
            ag = ags[ai]
            mine = np.isin(tcol, [t for t, (a2, _) in enumerate(tri) if a2 == ai])
            bound(mine, min(math.inf if ag.total_cap_quantity is None else ag.total_cap_quantity,
                            math.inf if ag.total_cap_share is None
                            else ag.total_cap_share * have))
        protected = np.isin(tcol, [t for t, (ai, _) in enumerate(tri)
                                   if ai < 0 or ags[ai].protect_own])
        bound(protected, max(have - demand[sid].get((lo, k), 0.0), 0.0))
        b_eq = np.array([q for _, q, _ in flows])
        res = linprog(np.zeros(n), A_ub=np.array(rows_ub).reshape(len(rows_ub), n),
                      b_ub=np.array(ub), A_eq=a_eq, b_eq=b_eq, bounds=(0, None),
                      method="highs") if n else None
        if res is None or res.status != 0:
            what = "caps, lender totals, protect_own surplus" + (
                " and response standards (each agreement's own delay)" if response_time else "")
            v.append(f"{lo} lends {b_eq.sum():.3f} {k} in {sid} to "
                     f"{', '.join(sorted({bo for bo, _, _ in flows}))}, but no booking of "
                     f"these units to its agreements keeps their {what}.")
    return v


def _cheaper_neighbour(instance: Instance, result: PlacementResult,
                       stock: dict[tuple[str, str], float], room: dict[str, float],
                       spent: float, budget: float | None,
                       arc_of: dict[tuple[str, str, str], tuple[float, float]],
                       short_of: dict[tuple[str, str, str], float], second: list[float],
                       region_of: dict[str, str],
                       fleet_left: dict[tuple[str, str], list[float]],
                       ) -> tuple[float, str] | None:
    """The best plan one step away: delta more units of k at a warehouse with room.

    In each scenario the surviving part of the extra units goes to the short region it
    may serve without an agreement (any region when pooled, its own under agreements) where
    it saves most (shortage penalty minus transport), or stays unused (holding). delta is
    the largest amount for which every scenario's change is linear: within the room, the
    budget, every used region's shortage and, under fleet limits, what its depot's vehicles
    have left in that scenario. Such a plan is feasible (more stock only
    loosens the share caps and protect_own surpluses; shortages only fall), so its cost
    change ``q delta + E[dQ] + lambda (CVaR(Q + dQ) - CVaR(Q))`` must not be negative in
    an optimal plan.

    Returns
    -------
    tuple or None
        (cost change, description) of the best such step, or ``None`` if none lowers cost.
    """
    opts = result.options
    scens = instance.scenarios
    probs = [sc.probability for sc in scens]
    reg = {r.id: r for r in instance.regions}
    base_cvar = cvar(second, probs, opts.cvar_level)
    short_by: dict[tuple[str, str], list[tuple[str, float]]] = defaultdict(list)
    for (sid, j, k), w in short_of.items():
        if w > 1e-9:
            short_by[(sid, k)].append((j, w))
    best: tuple[float, str] | None = None
    depot_of = home_fleets(instance, room) if fleet_left else {}
    shift_of: dict[str, float] = {}
    for veh in instance.fleet:
        shift_of[veh.depot] = max(shift_of.get(veh.depot, 0.0), min(veh.max_hours, 24.0))
    night_of = {d: any(veh.overnight for veh in instance.fleet if veh.depot == d)
                for d in shift_of}
    kg_per_m3_of = dict(zip(shift_of, depot_kg_per_m3(instance, list(shift_of), offers=True)
                            .tolist(), strict=True))
    for fid, m3 in room.items():
        for c in instance.commodities:
            k = c.id
            units = m3 / c.volume_m3 if c.volume_m3 > 0 else math.inf
            if budget is not None and c.purchase_cost > 0:
                units = min(units, (budget - spent) / c.purchase_cost)
            per_unit: list[float] = []  # second-stage cost change per unit added, by scenario
            for sc in scens:
                rho = sc.surviving(fid)
                use = c.holding_cost  # unused surviving units are held
                for j, w in short_by.get((sc.id, k), []):
                    if result.sharing == "agreements" and j != region_of[fid]:
                        continue
                    arc = arc_of.get((sc.id, fid, j))
                    if arc is None or (opts.response_time and arc[1] > instance.settings
                                       .response_h(reg[j].level) + 1e-9):
                        continue
                    gain = arc[0] * instance.transport_cost_per_unit_km(k) - c.shortage_penalty
                    if gain < use:
                        use = gain
                        if rho > 0:
                            units = min(units, w / rho)
                            left = fleet_left.get((sc.id, depot_of.get(fid) or ""))
                            if left is not None:  # the extra units ride its depot's trucks
                                trip = float(charged_trip_h(
                                    np.array(shift_of.get(depot_of.get(fid) or "", 0.0)),
                                    np.array(0.0), np.array(arc[1]), opts.handling_h,
                                    overnight=night_of.get(depot_of.get(fid) or "", False)))
                                if not math.isfinite(trip):
                                    units = 0.0
                                    continue
                                days = int(fleet_trips(
                                    np.array(shift_of.get(depot_of.get(fid) or "", 0.0)),
                                    np.array(0.0), np.array(arc[1]), opts.handling_h,
                                    overnight=night_of.get(depot_of.get(fid) or "",
                                                           False)).days)
                                loads = max(days, 1) * float(trip_loads(np.array(days),
                                                                        opts.max_trips))
                                lkg = float(load_kg(c.weight_kg, c.volume_m3, kg_per_m3_of.get(
                                    depot_of.get(fid) or "", 0.0)))
                                for i, coef in enumerate((lkg * trip,
                                                          c.volume_m3 * trip,
                                                          lkg * loads,
                                                          c.volume_m3 * loads)):
                                    if coef > 0:
                                        units = min(units, max(left[i], 0.0) / (rho * coef))
                per_unit.append(rho * use)
            if not math.isfinite(units) or units <= 1e-9 or min(per_unit) >= 0:
                continue
            d_q = [q + units * u for q, u in zip(second, per_unit, strict=True)]
            delta = units * c.purchase_cost + sum(
                p * units * u for p, u in zip(probs, per_unit, strict=True)) + \
                opts.risk_weight * (cvar(d_q, probs, opts.cvar_level) - base_cvar)
            if best is None or delta < best[0]:
                have = stock.get((fid, k), 0.0)
                best = (delta, f"holding {units:,.3f} more {k} at {fid} (now {have:,.3f}) "
                               "for the short regions it serves")
    return best if best is not None and best[0] < 0 else None
