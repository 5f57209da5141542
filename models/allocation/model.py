"""The allocation LP in vectorised blocks, and its lexicographic objectives.

See ``models/allocation.md``. Variables: ``ship`` (one per flow candidate, units),
``backlog`` (region x commodity x period, units still owed at the end of the period) and,
with fairness, ``min_fill`` (the lowest fill rate). One matrix serves every level; each
level changes the objective and adds one row that keeps the previous level's optimum.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from reserve_opt.domain import Tier
from reserve_opt.fleet import trip_loads
from reserve_opt.solvers import Model

from .data import AllocationData, total_cap_rows

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class Level:
    """One objective of the lexicographic sequence.

    Attributes
    ----------
    name
        ``fairness``, ``shortage_p<priority>``, ``tier<n>`` or ``cost``.
    sense
        ``"min"`` or ``"max"``.
    c
        Objective coefficients over all variables.
    unit
        What the objective counts.
    """

    name: str
    sense: str
    c: FloatArray
    unit: str


@dataclass(frozen=True, eq=False)
class Layout:
    """Where each part of the model sits."""

    ship: IntArray
    backlog: IntArray  # (J, K, T), -1 where no demand
    min_fill: int  # column of the fairness variable, -1 without
    fair_jk: tuple[IntArray, IntArray]  # (region, commodity) pairs in the fairness rows
    levels: tuple[Level, ...]
    resource_blocks: tuple[str, ...]  # constraint blocks whose duals explain shortages


def _demand_rows(data: AllocationData) -> tuple[IntArray, IntArray, IntArray]:
    """(region, commodity) positions with demand, and a (J, K) -> pair-row map."""
    J, K, _ = data.shape
    dj, dk = np.nonzero(data.demand.sum(axis=2) > 0)
    pair = np.full((J, K), -1, dtype=np.int64)
    pair[dj, dk] = np.arange(dj.size)
    return dj.astype(np.int64), dk.astype(np.int64), pair


def route_cap_rows(data: AllocationData) -> list[tuple[str, int, float]]:
    """The options' route caps, one per (source, period), the tightest where repeated."""
    tight: dict[tuple[str, int], float] = {}
    for src, t, kg in data.options.route_caps_kg:
        tight[(src, t)] = min(kg, tight.get((src, t), kg))
    return [(src, t, kg) for (src, t), kg in sorted(tight.items())]


def build(data: AllocationData) -> tuple[Model, Layout]:
    """Build the allocation LP.

    Parameters
    ----------
    data
        Prepared arrays.

    Returns
    -------
    tuple of Model and Layout
    """
    opts = data.options
    J, K, T = data.shape
    F = data.f_u.size
    f_j, f_k, f_t, f_a = data.f_j, data.f_k, data.f_t, data.f_arrival
    m = Model("allocation")
    ship = m.add_variables("ship", F)
    dj, dk, pair = _demand_rows(data)
    P = dj.size
    cum = np.cumsum(data.demand, axis=2)
    bl = m.add_variables("backlog", (P, T), ub=cum[dj, dk])
    backlog = np.full((J, K, T), -1, dtype=np.int64)
    backlog[dj, dk] = bl

    # backlog: delivered by the end of t + backlog_t >= demand due by t (a shipment arriving
    # in period a counts in every period t >= a)
    f_pair = pair[f_j, f_k]
    reps = T - f_a
    rf = np.repeat(np.arange(F), reps)
    rt = f_a[rf] + (np.arange(rf.size) - np.repeat(np.cumsum(reps) - reps, reps))
    m.add_constraints(
        "due",
        (np.concatenate([f_pair[rf] * T + rt, np.arange(P * T)]),
         np.concatenate([ship[rf], bl.ravel()]),
         np.ones(rf.size + P * T)),
        lb=cum[dj, dk].ravel(), n_rows=P * T)

    # nothing beyond the horizon's demand is delivered (a zero-cost arc could otherwise
    # carry surplus that no level removes)
    m.add_constraints("deliver_at_most", (f_pair, ship, np.ones(F)), ub=cum[dj, dk, T - 1],
                      n_rows=P)

    resource: list[str] = []
    # stock: what leaves a stock unit over the event <= what survived
    stock_u = np.flatnonzero(~data.u_production)
    row_of_u = np.full(data.u_k.size, -1, dtype=np.int64)
    row_of_u[stock_u] = np.arange(stock_u.size)
    fs = np.flatnonzero(row_of_u[data.f_u] >= 0)
    if stock_u.size:
        m.add_constraints("stock", (row_of_u[data.f_u[fs]], ship[fs], np.ones(fs.size)),
                          ub=data.u_avail[stock_u], n_rows=stock_u.size)
        resource.append("stock")
    # production: dispatched by the end of t <= produced by the end of t
    prod_u = np.flatnonzero(data.u_production)
    if prod_u.size:
        row_of_p = np.full(data.u_k.size, -1, dtype=np.int64)
        row_of_p[prod_u] = np.arange(prod_u.size)
        fp = np.flatnonzero(row_of_p[data.f_u] >= 0)
        reps_p = T - f_t[fp]
        rp = np.repeat(fp, reps_p)
        tp = f_t[rp] + (np.arange(rp.size) - np.repeat(np.cumsum(reps_p) - reps_p, reps_p))
        m.add_constraints("production",
                          (row_of_p[data.f_u[rp]] * T + tp, ship[rp], np.ones(rp.size)),
                          ub=data.u_produced[prod_u].ravel(), n_rows=prod_u.size * T)
        resource.append("production")
    # agreement caps, per (agreement, lender, borrower, commodity) channel
    capped = np.flatnonzero(np.isfinite(data.h_cap))
    if capped.size:
        row_of_h = np.full(data.h_cap.size, -1, dtype=np.int64)
        row_of_h[capped] = np.arange(capped.size)
        fc = np.flatnonzero(row_of_h[data.f_h] >= 0)
        m.add_constraints("cap", (row_of_h[data.f_h[fc]], ship[fc], np.ones(fc.size)),
                          ub=data.h_cap[capped], n_rows=capped.size)
        resource.append("cap")
    # lender totals, per (agreement, lender, commodity) over all the agreement's borrowers
    th, t_row, t_cap = total_cap_rows(data)
    if th.size:
        row_of_t = np.full(data.h_cap.size, -1, dtype=np.int64)
        row_of_t[th] = t_row
        ft = np.flatnonzero(row_of_t[data.f_h] >= 0)
        m.add_constraints("total_cap", (row_of_t[data.f_h[ft]], ship[ft], np.ones(ft.size)),
                          ub=t_cap, n_rows=t_cap.size)
        resource.append("total_cap")
    # protect_own: a lender lends under such terms only its surplus over its own need
    f_o = data.h_owner[data.f_h]
    fpro = np.flatnonzero(data.h_protect[data.f_h] & (f_o != f_j))
    if fpro.size:
        surplus = np.maximum(data.held - data.demand.sum(axis=2), 0.0)
        key = f_o[fpro] * K + f_k[fpro]
        keys, row = np.unique(key, return_inverse=True)
        m.add_constraints("protect_own", (row, ship[fpro], np.ones(fpro.size)),
                          ub=surplus[keys // K, keys % K], n_rows=keys.size)
        resource.append("protect_own")
    # fleet: kg x h and m3 x h of round trips per depot and period, and kg and m3 carried
    # (at most max_trips loads per vehicle: short local trips are not free)
    fd = np.flatnonzero(data.f_depot >= 0)
    if fd.size:
        D = len(data.depot_ids)
        # an overnight trip holds its vehicle every working day it takes (within the
        # horizon): charged its working day on each (reserve_opt.fleet.fleet_trips)
        days = data.f_trip_days[fd]
        span = np.repeat(np.arange(fd.size), days)
        day = f_t[fd][span] + (np.arange(span.size) - np.repeat(np.cumsum(days) - days, days))
        on = day < T
        span, day = span[on], day[on]
        fs = fd[span]
        r = data.f_depot[fs] * T + day
        trip_h = data.f_trip_h[fs]
        # kg rows count each unit's load weight (bulky goods fill a truck's m3 first:
        # reserve_opt.fleet.load_kg), so a commodity's loads fit as routing packs them
        load = data.f_load_kg[fs]
        m.add_constraints("fleet_kg", (r, ship[fs], load * trip_h),
                          ub=data.depot_kg_h.ravel(), n_rows=D * T)
        m.add_constraints("fleet_m3", (r, ship[fs], data.volume_m3[f_k[fs]] * trip_h),
                          ub=data.depot_m3_h.ravel(), n_rows=D * T)
        # and all its vehicle's loads of those days (it makes no other trip)
        loads = trip_loads(data.f_trip_days[fs], data.options.max_trips)
        m.add_constraints("fleet_load_kg", (r, ship[fs], load * loads),
                          ub=data.depot_kg.ravel(), n_rows=D * T)
        m.add_constraints("fleet_load_m3", (r, ship[fs], data.volume_m3[f_k[fs]] * loads),
                          ub=data.depot_m3.ravel(), n_rows=D * T)
        resource += ["fleet_kg", "fleet_m3", "fleet_load_kg", "fleet_load_m3"]

    # route caps: what a source's trucks actually carried that day, fed back by the
    # closed loop (allocate --route)
    caps = route_cap_rows(data)
    if caps:
        fac = np.array(data.u_facility, dtype=object)[data.f_u]
        cap_row = {(src, t - 1): i for i, (src, t, _) in enumerate(caps)}
        rows = np.array([cap_row.get((s, int(t)), -1) for s, t in zip(fac, f_t, strict=True)],
                        dtype=np.int64)
        fr = np.flatnonzero(rows >= 0)
        m.add_constraints("route_cap", (rows[fr], ship[fr], data.weight_kg[f_k[fr]]),
                          ub=np.array([kg for _, _, kg in caps]), n_rows=len(caps))
        resource.append("route_cap")

    # fairness: delivered by the end of the horizon >= min_fill x demand, over the pairs
    # that some candidate can reach (a pair nobody can reach would pin the minimum at 0)
    fair_j = fair_k = np.zeros(0, dtype=np.int64)
    min_fill = -1
    if opts.fairness:
        reach = np.zeros(P, dtype=bool)
        reach[f_pair] = True
        rp_ = np.flatnonzero(reach)
        fair_j, fair_k = dj[rp_], dk[rp_]
        row_of_pair = np.full(P, -1, dtype=np.int64)
        row_of_pair[rp_] = np.arange(rp_.size)
        lam = m.add_variables("min_fill", 1, ub=1.0)
        min_fill = int(lam[0])
        tot = cum[fair_j, fair_k, T - 1]
        m.add_constraints(
            "fairness",
            (np.concatenate([row_of_pair[f_pair], np.arange(rp_.size)]),
             np.concatenate([ship, np.full(rp_.size, min_fill)]),
             np.concatenate([np.ones(F), -tot])),
            lb=0.0, n_rows=rp_.size)

    nvar = m.num_variables
    levels: list[Level] = []
    if opts.fairness:
        c = np.zeros(nvar)
        c[min_fill] = 1.0
        levels.append(Level("fairness", "max", c, "lowest fill rate (share)"))
    prios = sorted(set(data.priority[dk].tolist())) if opts.priorities else [0]
    for p in prios:
        c = np.zeros(nvar)
        sel = data.priority[dk] == p if opts.priorities else np.ones(P, dtype=bool)
        c[bl[sel].ravel()] = np.repeat(data.penalty[dk[sel]], T)
        name = f"shortage_p{p}" if opts.priorities else "shortage"
        levels.append(Level(name, "min", c, "penalty x units x periods short (currency x "
                                            "periods)"))
    if opts.tiers:
        for tier in (Tier.POOLED, Tier.HIGHER_LEVEL, Tier.ALLIANCE, Tier.NEIGHBOUR):
            hit = data.f_tier == tier
            if hit.any():
                c = np.zeros(nvar)
                c[ship[hit]] = 1.0
                name = "pooled" if tier is Tier.POOLED else f"tier{int(tier)}"
                levels.append(Level(name, "min", c, "units drawn from other regions' stock"
                                    if tier is Tier.POOLED else f"units drawn at tier {tier}"))
    c = np.zeros(nvar)
    c[ship] = data.f_cost + data.u_price[data.f_u]
    levels.append(Level("cost", "min", c, "transport + contract prices (currency)"))
    return m, Layout(ship=ship, backlog=backlog, min_fill=min_fill, fair_jk=(fair_j, fair_k),
                     levels=tuple(levels), resource_blocks=tuple(resource))
