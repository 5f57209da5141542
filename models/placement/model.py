"""Data preparation and the vectorised formulation of the placement MILP.

See ``models/placement.md`` for the formulation. Everything here works on flat numpy
arrays: scenario-indexed flow candidates are concatenated over scenarios, and every
constraint block is built from triplets in one call.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from reserve_opt.domain import ContractKind, FacilityKind, Instance, resolve_sharing
from reserve_opt.fleet import (
    charged_trip_h,
    depot_kg_per_m3,
    depot_overnight,
    depot_shift_h,
    fleet_trips,
    home_fleets,
    load_kg,
    trip_loads,
    vehicle_capacity,
)
from reserve_opt.solvers import Model
from reserve_opt.transport import TransportArcs, build_arcs

from .options import PlacementOptions

#: Lending-triple agreement index of a parent region serving its child (no agreement).
PARENT = -1

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
#: Adds one slack per row in phase 1: (name, rows, weight, sign) -> triplet parts.
ElasticSlack = Callable[[str, IntArray, FloatArray, float],
                        tuple[IntArray, IntArray, FloatArray]]


@dataclass(frozen=True, eq=False)
class PlacementData:
    """Arrays the formulation reads, prepared once from an instance and options.

    Indices: ``S`` scenarios, ``J`` regions, ``K`` commodities, ``G`` government
    warehouses (existing and candidate), ``L`` candidate size options, ``C`` contracts,
    ``U = G*K + C`` supply units (a warehouse-commodity pair ``u = g*K + k``, then one
    unit per contract), ``T`` lending triples (agreement, lender, borrower, commodity).
    Flow candidates ``f`` are concatenated over scenarios.
    """

    instance: Instance
    sharing: Literal["pooled", "agreements"]
    arcs: TransportArcs
    prob: FloatArray  # (S,)
    demand: FloatArray  # (S, J, K) units
    volume: FloatArray  # (K,) m3/unit
    purchase: FloatArray  # (K,) currency/unit
    holding: FloatArray  # (K,)
    penalty: FloatArray  # (K,)
    gov_ids: tuple[str, ...]
    gov_region: IntArray  # (G,)
    gov_candidate: BoolArray  # (G,)
    gov_capacity: FloatArray  # (G,) m3, inf when unlimited, 0 for candidates
    existing: FloatArray  # (G, K)
    rho: FloatArray  # (S, G) surviving fraction
    size_gov: IntArray  # (L,)
    size_label: tuple[str, ...]
    size_capacity: FloatArray  # (L,) m3
    size_cost: FloatArray  # (L,)
    con_ids: tuple[str, ...]
    con_k: IntArray  # (C,)
    con_region: IntArray  # (C,)
    con_signed: BoolArray  # (C,)
    con_retainer: FloatArray  # (C,)
    con_price: FloatArray  # (C,)
    con_avail: FloatArray  # (S, C) units available if signed
    unit_k: IntArray  # (U,)
    unit_owner: IntArray  # (U,)
    std_h: FloatArray  # (J,) response standard, h
    tri_agreement: IntArray  # (T,) agreement position, PARENT for a parent region
    tri_lender: IntArray
    tri_borrower: IntArray
    tri_k: IntArray
    tri_cap_q: FloatArray  # inf when none
    tri_cap_share: FloatArray  # inf when none
    tri_protect: BoolArray  # lends only its surplus (protect_own terms, or a parent region)
    # the lender's total under the triple's agreement, over all its borrowers (inf when none)
    tri_total_q: FloatArray
    tri_total_share: FloatArray
    tri_delay: FloatArray  # h, the agreement's delay from request to release (0 for a parent)
    unit_delay: FloatArray  # (U,) h, the unit's own release delay (contract activation)
    f_s: IntArray  # flow candidates
    f_u: IntArray
    f_j: IntArray
    f_src: IntArray  # position in arcs.source_ids
    f_dist: FloatArray  # km
    f_time: FloatArray  # h
    f_source: npt.NDArray[np.int8]  # where the time came from, code into TIME_SOURCES
    f_delay: FloatArray  # h (source delay + agreement delay if lent)
    f_cost: FloatArray  # transport, currency/unit
    f_price: FloatArray  # unit price, currency/unit
    budget: float | None

    @property
    def shape(self) -> tuple[int, int, int]:
        """(S, J, K)."""
        s, j, k = self.demand.shape
        return s, j, k

    @property
    def n_gov(self) -> int:
        """Number of government warehouses G."""
        return len(self.gov_ids)

    @property
    def f_k(self) -> IntArray:
        """Commodity of each flow candidate."""
        return self.unit_k[self.f_u]


def prepare(instance: Instance, options: PlacementOptions) -> PlacementData:
    """Turn an instance into the arrays of :class:`PlacementData`.

    Parameters
    ----------
    instance
        The instance.
    options
        The model options.

    Returns
    -------
    PlacementData
    """
    sharing = resolve_sharing(options.sharing, instance.agreements)
    regs = instance.regions
    comms = instance.commodities
    scens = instance.scenarios
    S, J, K = len(scens), len(regs), len(comms)
    ridx = instance.region_index
    kidx = instance.commodity_index

    govs = [f for f in instance.facilities if f.kind is FacilityKind.GOVERNMENT_WAREHOUSE]
    G = len(govs)
    contracts = instance.contracts
    src_ids: list[str] = [f.id for f in govs]
    for c in contracts:
        if c.facility not in src_ids:
            src_ids.append(c.facility)
    arcs = build_arcs(instance, sources=src_ids, max_time_h=options.max_arc_time_h)
    src_pos = {s: i for i, s in enumerate(arcs.source_ids)}

    prob = np.array([s.probability for s in scens], dtype=np.float64)
    demand = np.zeros((S, J, K))
    for si, sc in enumerate(scens):
        for (rid_, cid_), q in instance.demand(sc.id).items():
            demand[si, ridx[rid_], kidx[cid_]] += q

    existing = np.zeros((G, K))
    for g, f in enumerate(govs):
        for cid_, q in f.stock.items():
            existing[g, kidx[cid_]] = q
    gov_cap = np.array([
        0.0 if f.is_candidate else (math.inf if f.capacity_m3 is None else f.capacity_m3)
        for f in govs
    ])
    rho = np.array([[sc.surviving(f.id) for f in govs] for sc in scens]).reshape(S, G)
    size_gov, size_label, size_cap, size_cost = [], [], [], []
    for g, f in enumerate(govs):
        if f.is_candidate:
            for z in f.sizes:
                size_gov.append(g)
                size_label.append(z.size)
                size_cap.append(z.capacity_m3)
                size_cost.append(z.fixed_cost)

    C = len(contracts)
    con_k = np.array([kidx[c.commodity] for c in contracts], dtype=np.int64)
    con_region = np.array([ridx[instance.facility(c.facility).region] for c in contracts],
                          dtype=np.int64)
    con_avail = np.zeros((S, C))
    for ci, c in enumerate(contracts):
        for si, sc in enumerate(scens):
            if c.kind is ContractKind.STOCK:
                con_avail[si, ci] = c.quantity * sc.surviving(c.facility)
            else:
                days = max(0.0, sc.days - c.delay_h / 24.0)
                con_avail[si, ci] = min(c.quantity, c.rate_per_day * days)

    gov_region = np.array([ridx[f.region] for f in govs], dtype=np.int64)
    unit_k = np.concatenate([np.tile(np.arange(K, dtype=np.int64), G), con_k])
    unit_owner = np.concatenate([np.repeat(gov_region, K), con_region])
    unit_src = np.concatenate([
        np.repeat(np.array([src_pos[f.id] for f in govs], dtype=np.int64), K),
        np.array([src_pos[c.facility] for c in contracts], dtype=np.int64),
    ])
    unit_delay = np.concatenate([np.zeros(G * K), [c.delay_h for c in contracts]])
    unit_price = np.concatenate([np.zeros(G * K), [c.unit_price for c in contracts]])

    std_h = np.array([instance.settings.response_h(r.level) for r in regs])

    # sharing permissions and lending triples
    allowed = np.ones((K, J, J), dtype=bool)
    agr_delay = np.zeros((K, J, J))
    tri: list[tuple[int, int, int, int, float, float, bool, float, float, float]] = []
    if sharing == "agreements":
        allowed[:] = False
        allowed[:, np.arange(J), np.arange(J)] = True
        agr_delay[:] = math.inf
        agr_delay[:, np.arange(J), np.arange(J)] = 0.0
        for ai, a in enumerate(instance.agreements):
            pairs = [(ridx[o], ridx[j]) for o, j in instance.lending_pairs(a)]
            ks = [kidx[c] for c in a.commodities] if a.commodities else list(range(K))
            cq = math.inf if a.cap_quantity is None else float(a.cap_quantity)
            cs = math.inf if a.cap_share is None else float(a.cap_share)
            tq = math.inf if a.total_cap_quantity is None else float(a.total_cap_quantity)
            ts = math.inf if a.total_cap_share is None else float(a.total_cap_share)
            for o, j in pairs:
                for k in ks:
                    allowed[k, o, j] = True
                    agr_delay[k, o, j] = min(agr_delay[k, o, j], a.delay_h)
                    tri.append((ai, o, j, k, cq, cs, a.protect_own, tq, ts, a.delay_h))
        if options.parent_serves:  # higher level: no agreement (index -1), cap or delay;
            # a parent gives only its surplus, as in allocation
            for r in regs:
                j = ridx[r.id]
                for o in (ridx[a] for a in instance.ancestors[r.id]):
                    allowed[:, o, j] = True
                    agr_delay[:, o, j] = 0.0
                    tri += [(PARENT, o, j, k, math.inf, math.inf, True, math.inf, math.inf,
                             0.0) for k in range(K)]
    tri_arr = np.array(tri, dtype=np.float64).reshape(-1, 10)

    # flow candidates: every (unit, arc) pair from the unit's source, per scenario
    fs_l, fu_l, fa_l = [], [], []
    U = unit_k.size
    for si, sa in enumerate(arcs.scenarios):
        starts = np.searchsorted(sa.source, np.arange(len(arcs.source_ids)), side="left")
        ends = np.searchsorted(sa.source, np.arange(len(arcs.source_ids)), side="right")
        cnt = (ends - starts)[unit_src]
        tot = int(cnt.sum())
        u = np.repeat(np.arange(U, dtype=np.int64), cnt)
        offs = np.arange(tot, dtype=np.int64) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        a = np.repeat(starts[unit_src], cnt) + offs
        jj = sa.region[a]
        kk = unit_k[u]
        oo = unit_owner[u]
        keep = (demand[si, jj, kk] > 0) & allowed[kk, oo, jj]
        if options.response_time:
            keep &= sa.time_h[a] + unit_delay[u] + agr_delay[kk, oo, jj] <= std_h[jj] + 1e-9
        fs_l.append(np.full(int(keep.sum()), si, dtype=np.int64))
        fu_l.append(u[keep])
        fa_l.append(a[keep])
    f_s = np.concatenate(fs_l) if fs_l else np.zeros(0, dtype=np.int64)
    f_u = np.concatenate(fu_l) if fu_l else np.zeros(0, dtype=np.int64)
    f_dist = np.concatenate([arcs.scenarios[s].distance_km[a] for s, a in
                             zip(range(S), fa_l, strict=True)]) if fa_l else np.zeros(0)
    f_time = np.concatenate([arcs.scenarios[s].time_h[a] for s, a in
                             zip(range(S), fa_l, strict=True)]) if fa_l else np.zeros(0)
    f_source = np.concatenate([arcs.scenarios[s].time_source[a] for s, a in
                               zip(range(S), fa_l, strict=True)]) if fa_l else np.zeros(0, np.int8)
    f_j = np.concatenate([arcs.scenarios[s].region[a] for s, a in
                          zip(range(S), fa_l, strict=True)]) if fa_l else np.zeros(0, np.int64)
    f_k = unit_k[f_u]
    f_o = unit_owner[f_u]
    budget = instance.settings.budget if options.budget == "instance" else options.budget

    return PlacementData(
        instance=instance,
        sharing=sharing,
        arcs=arcs,
        prob=prob,
        demand=demand,
        volume=np.array([c.volume_m3 for c in comms]),
        purchase=np.array([c.purchase_cost for c in comms]),
        holding=np.array([c.holding_cost for c in comms]),
        penalty=np.array([c.shortage_penalty for c in comms]),
        gov_ids=tuple(f.id for f in govs),
        gov_region=gov_region,
        gov_candidate=np.array([f.is_candidate for f in govs], dtype=bool),
        gov_capacity=gov_cap,
        existing=existing,
        rho=rho,
        size_gov=np.array(size_gov, dtype=np.int64),
        size_label=tuple(size_label),
        size_capacity=np.array(size_cap, dtype=np.float64),
        size_cost=np.array(size_cost, dtype=np.float64),
        con_ids=tuple(c.id for c in contracts),
        con_k=con_k,
        con_region=con_region,
        con_signed=np.array([c.signed for c in contracts], dtype=bool),
        con_retainer=np.array([c.retainer for c in contracts], dtype=np.float64),
        con_price=np.array([c.unit_price for c in contracts], dtype=np.float64),
        con_avail=con_avail,
        unit_k=unit_k,
        unit_owner=unit_owner,
        std_h=std_h,
        tri_agreement=tri_arr[:, 0].astype(np.int64),
        tri_lender=tri_arr[:, 1].astype(np.int64),
        tri_borrower=tri_arr[:, 2].astype(np.int64),
        tri_k=tri_arr[:, 3].astype(np.int64),
        tri_cap_q=tri_arr[:, 4],
        tri_cap_share=tri_arr[:, 5],
        tri_protect=tri_arr[:, 6] > 0.5,
        tri_total_q=tri_arr[:, 7],
        tri_total_share=tri_arr[:, 8],
        tri_delay=tri_arr[:, 9],
        unit_delay=unit_delay,
        f_s=f_s,
        f_u=f_u,
        f_j=f_j.astype(np.int64),
        f_src=unit_src[f_u],
        f_dist=f_dist,
        f_time=f_time,
        f_source=f_source,
        f_delay=unit_delay[f_u] + np.where(f_o != f_j, agr_delay[f_k, f_o, f_j], 0.0)
        if sharing == "agreements" else unit_delay[f_u],
        f_cost=f_dist * arcs.cost_per_unit_km[f_k],
        f_price=unit_price[f_u],
        budget=budget,
    )


def stock_bound(data: PlacementData) -> FloatArray:
    """Most units of each commodity an optimal plan needs at each warehouse, (G, K).

    A unit at g survives scenario s with probability rho_sg, so covering the whole demand
    D_sk of k (every region) takes D_sk / rho_sg units at g; more than the largest of these
    over the scenarios where g survives at all is never used. When g's region lends k
    under a share cap (``cap_share`` or ``total_cap_share`` sigma), lending D_sk can take
    D_sk / sigma held, so the bound is divided by the smallest such share (at most 1).
    Stock above the bound only adds purchase and holding cost (never negative), and
    loosens no constraint
    (protect_own surpluses and share caps are already met at the bound), so with positive
    purchase costs no optimum holds more. 0 where g survives no scenario.
    """
    S, _, K = data.shape
    G = data.n_gov
    dtot = data.demand.sum(axis=1)  # (S, K)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_s = np.where(data.rho[:, :, None] > 0,
                         dtot[:, None, :] / data.rho[:, :, None], 0.0)  # (S, G, K)
    out = per_s.max(axis=0) if S else np.zeros((G, K))
    share = np.ones((data.shape[1], K))  # smallest share cap per (lender, commodity), <= 1
    for sigma in (data.tri_cap_share, data.tri_total_share):
        capped = np.flatnonzero(np.isfinite(sigma) & (sigma > 0))
        np.minimum.at(share, (data.tri_lender[capped], data.tri_k[capped]), sigma[capped])
    out /= share[data.gov_region]
    return out


def stock_limit(data: PlacementData) -> FloatArray:
    """Most units of each commodity each warehouse can hold alone, (G, K); inf if unlimited.

    Existing: existing stock, or its space over the unit volume if larger; candidate: its
    largest size over the unit volume.
    """
    G, K = data.n_gov, data.shape[2]
    space = np.where(data.gov_candidate, 0.0, data.gov_capacity)
    if data.size_gov.size:
        np.maximum.at(space, data.size_gov, data.size_capacity)
    with np.errstate(divide="ignore", invalid="ignore"):
        fits = np.where(data.volume[None, :] > 0, space[:, None] / data.volume[None, :], np.inf)
    out: FloatArray = np.maximum(np.broadcast_to(fits, (G, K)), data.existing)
    return out


@dataclass(frozen=True, eq=False)
class Layout:
    """Where each part of the model sits, for reading a solution back."""

    demand_s: IntArray  # demand pairs i: scenario, region, commodity, quantity
    demand_j: IntArray
    demand_k: IntArray
    demand_q: FloatArray
    pair_lender: IntArray  # cross-region (lender, borrower, commodity) pairs under agreements
    pair_borrower: IntArray
    pair_k: IntArray
    sl_j: IntArray  # service-level rows
    sl_k: IntArray
    elastic: bool


def protect_own_rows(m: Model, data: PlacementData, lent: IntArray, buy: IntArray,
                     u: IntArray) -> None:
    """Lending under protect_own (and by a parent region) only from surplus, as allocation.

    Allocation: what o gives of k under such terms in an event is at most
    ``max(0, H - d)``, H = everything o holds of k for the event (surviving warehouse
    stock, contract availability) and d its own demand; stock o receives from others
    does not count (flows go from a source straight to a region). Here, per scenario s,
    with P = sum of L_st over those triples of (o, k) and H = sum_g rho_sg (e_gk + buy_gk)
    + sum_c avail_sc u_c over o's warehouses and contracts of k, H_min its value with no
    purchase and no new contract, H_max with every warehouse of o full and every contract:

    * d = 0: nothing to add (P <= H holds through the stock rows);
    * H_min >= d: ``P <= H - d``;
    * H_max <= d (short whatever the plan; with a budget of 0 nothing priced is added, as
      in analysis's frozen plans): ``P <= 0``;
    * else a binary ``protect_on`` b (o holds its own need in s):
      ``P <= (H - H_min) - (d - H_min) b`` and ``P <= M b``, M the least of the borrowers'
      demand, the triples' caps at H_max, and H_max - d. b = 0 lends nothing; b = 1 needs
      H >= d and lends at most H - d. max(0, H - d) is not concave in H, so it takes the
      binary; these two rows are the convex hull of both cases for H in [H_min, H_max].
      Per borrower j also ``P_j <= d_sjk b`` (valid, and tightens the LP: on Liaoning the
      relaxation rises from 40.23M to 40.84M CNY against an optimum of 43.57M).
    """
    S, _, K = data.shape
    pro = np.flatnonzero(data.tri_protect)
    if not pro.size:
        return
    most = stock_limit(data)
    # with no budget left, nothing with a price can be added (the frozen plans of analysis)
    spent = data.budget is not None and data.budget <= 0
    free_con = ~data.con_signed & ~(spent & (data.con_retainer > 0))
    r_l: list[IntArray] = []
    c_l: list[IntArray] = []
    v_l: list[FloatArray] = []
    rhs: list[float] = []
    on_p: list[IntArray] = []  # lent columns of each binary's P
    on_d: list[float] = []
    on_m: list[float] = []
    on_r: list[int] = []
    on_t: list[tuple[int, IntArray]] = []
    for key in np.unique(data.tri_lender[pro] * K + data.tri_k[pro]):
        o, k = int(key // K), int(key % K)
        ts = pro[(data.tri_lender[pro] == o) & (data.tri_k[pro] == k)]
        borrowers = np.unique(data.tri_borrower[ts])
        gs = np.flatnonzero(data.gov_region == o)
        cs = np.flatnonzero((data.con_region == o) & (data.con_k == k))
        h_cols = np.concatenate([buy[gs, k], u[cs]])
        for s in range(S):
            d = float(data.demand[s, o, k])
            h_fixed = float(data.rho[s, gs] @ data.existing[gs, k])
            h_min = h_fixed + float(data.con_avail[s, cs[data.con_signed[cs]]].sum())
            grown = data.existing[gs, k] if spent and data.purchase[k] > 0 else most[gs, k]
            h_max = float(data.rho[s, gs] @ grown) + float(
                data.con_avail[s, cs[data.con_signed[cs] | free_con[cs]]].sum())
            # P is at most the borrowers' demand, the triples' caps and, lending, h_max - d
            share = data.tri_cap_share[ts]
            by_share = np.full(ts.size, math.inf)
            fin = np.isfinite(share)
            by_share[fin] = [0.0 if sh <= 0 else sh * h_max for sh in share[fin]]
            caps = np.minimum(data.tri_cap_q[ts], by_share)
            big = min(float(data.demand[s, borrowers, k].sum()), h_max - d, float(caps.sum()))
            if d <= 0 or (big <= 0 < h_max - d):  # nothing to lend, or nobody to lend to
                continue
            r = len(rhs)
            r_l.append(np.full(ts.size, r, dtype=np.int64))
            c_l.append(lent[s, ts])
            v_l.append(np.ones(ts.size))
            if h_max <= d:  # short whatever the plan: lends nothing
                rhs.append(0.0)
                continue
            r_l.append(np.full(h_cols.size, r, dtype=np.int64))
            c_l.append(h_cols)
            v_l.append(np.concatenate([-data.rho[s, gs], -data.con_avail[s, cs]]))
            if h_min >= d:
                rhs.append(h_fixed - d)
            else:
                rhs.append(h_fixed - h_min)
                on_r.append(r)
                on_p.append(lent[s, ts])
                on_t.append((s, ts))
                on_d.append(d - h_min)
                on_m.append(big)
    if on_r:
        b = m.add_binaries("protect_on", len(on_r))
        n = len(rhs)
        r_l.append(np.array(on_r, dtype=np.int64))  # + (d - H_min) b in P - H <= h_fixed - H_min
        c_l.append(b)
        v_l.append(np.array(on_d))
        for i, cols in enumerate(on_p):  # P - M b <= 0
            r_l.append(np.full(cols.size + 1, n + i, dtype=np.int64))
            c_l.append(np.append(cols, b[i]))
            v_l.append(np.append(np.ones(cols.size), -on_m[i]))
        rhs += [0.0] * len(on_r)
        # per borrower too: what j gets this way is at most its demand, and only if b = 1
        for i, (s, ts) in enumerate(on_t):
            for j in np.unique(data.tri_borrower[ts]):
                tj = ts[data.tri_borrower[ts] == j]
                dj = float(data.demand[s, j, data.tri_k[tj[0]]])
                r_l.append(np.full(tj.size + 1, len(rhs), dtype=np.int64))
                c_l.append(np.append(lent[s, tj], b[i]))
                v_l.append(np.append(np.ones(tj.size), -dj))
                rhs.append(0.0)
    if not rhs:
        return
    m.add_constraints("protect_own", (np.concatenate(r_l), np.concatenate(c_l),
                                      np.concatenate(v_l)),
                      ub=np.array(rhs), n_rows=len(rhs))


def share_rows(m: Model, data: PlacementData, name: str, groups: list[IntArray],
               shares: FloatArray, lent: IntArray, buy: IntArray, u: IntArray) -> None:
    """Per scenario and group of triples of one lender and commodity: lent <= share x held.

    What the group lends is at most ``share`` x the lender's available stock of the
    commodity.

    Available: ``sum_g rho_sg (e_gk + buy_gk) + sum_c avail_sc u_c`` over the lender's
    warehouses and contracts of k, as allocation counts its stock after damage.
    """
    S = data.shape[0]
    if not groups:
        return
    rr, cc, vv, rhs = [], [], [], []
    for row, (ts, share) in enumerate(zip(groups, shares, strict=True)):
        o, k = data.tri_lender[ts[0]], data.tri_k[ts[0]]
        gs = np.flatnonzero(data.gov_region == o)
        cs = np.flatnonzero((data.con_region == o) & (data.con_k == k))
        rows = row * S + np.arange(S)
        rr += [np.repeat(rows, ts.size), np.repeat(rows, gs.size), np.repeat(rows, cs.size)]
        cc += [lent[:, ts].ravel(), np.tile(buy[gs, k], S), np.tile(u[cs], S)]
        vv += [np.ones(S * ts.size), (-share * data.rho[:, gs]).ravel(),
               (-share * data.con_avail[:, cs]).ravel()]
        rhs.append(share * (data.rho[:, gs] @ data.existing[gs, k]))
    m.add_constraints(name, (np.concatenate(rr), np.concatenate(cc), np.concatenate(vv)),
                      ub=np.concatenate(rhs), n_rows=len(groups) * S)


def total_groups(data: PlacementData) -> list[IntArray]:
    """Triples of each (agreement, lender, commodity) with a lender total, in key order."""
    J, K = data.shape[1], data.shape[2]
    ts = np.flatnonzero(np.isfinite(data.tri_total_q) | np.isfinite(data.tri_total_share))
    key = (data.tri_agreement[ts] * J + data.tri_lender[ts]) * K + data.tri_k[ts]
    order = np.argsort(key, kind="stable")
    _, starts = np.unique(key[order], return_index=True)
    return np.split(ts[order], starts[1:]) if ts.size else []


def total_rows(m: Model, data: PlacementData, lent: IntArray, buy: IntArray,
               u: IntArray) -> None:
    """Lender totals, as allocation, per (agreement, lender, commodity) and scenario.

    What one lender lends of a commodity under one agreement to all its borrowers is at
    most ``total_cap_quantity`` and ``total_cap_share`` x its available stock
    (:func:`share_rows`).
    """
    S = data.shape[0]
    groups = total_groups(data)
    by_q = [g for g in groups if np.isfinite(data.tri_total_q[g[0]])]
    if by_q:
        rows = np.concatenate([np.repeat(i * S + np.arange(S), g.size)
                               for i, g in enumerate(by_q)])
        cols = np.concatenate([lent[:, g].ravel() for g in by_q])
        m.add_constraints("lent_total_cap", (rows, cols, np.ones(cols.size)),
                          ub=np.repeat([data.tri_total_q[g[0]] for g in by_q], S),
                          n_rows=len(by_q) * S)
    by_share = [g for g in groups if np.isfinite(data.tri_total_share[g[0]])]
    share_rows(m, data, "lent_total_share_cap", by_share,
               np.array([data.tri_total_share[g[0]] for g in by_share]), lent, buy, u)


def timely_rows(m: Model, data: PlacementData, lent: IntArray, x: IntArray, cross: IntArray,
                cpair: IntArray, tri_pair: IntArray) -> None:
    """With response times: units booked to an agreement arrive within the standard.

    The delay that counts is that agreement's own, not the fastest agreement's on the pair.

    A cross-region flow f on a (lender, borrower, commodity) pair has slack
    ``sigma_f = standard_j - travel_f - release_f``; it may be booked to triple t of the pair
    when ``delay_t <= sigma_f``. The sets a flow may use are nested (every triple up to a
    delay), so a booking exists exactly when, for each delay d of the pair's triples above
    the smallest, ``sum_{t: delay_t >= d} lent_t <= sum_{f: sigma_f >= d} x_f`` (Gale's
    supply-demand theorem; lent_balance makes the totals equal). Pairs whose triples all
    have one delay need no row.
    """
    S = data.shape[0]
    sigma = (data.std_h[data.f_j[cross]] - data.f_time[cross]
             - data.unit_delay[data.f_u[cross]])
    rr, cc, vv = [], [], []
    n = 0
    order = np.argsort(tri_pair, kind="stable")
    _, starts = np.unique(tri_pair[order], return_index=True)
    for ts in np.split(order, starts[1:]) if order.size else []:
        delays = np.unique(data.tri_delay[ts])
        if delays.size < 2:
            continue
        fs = np.flatnonzero(cpair == tri_pair[ts[0]])
        for d in delays[1:]:
            late = ts[data.tri_delay[ts] >= d]
            ok = fs[sigma[fs] >= d - 1e-9]
            rows = n + np.arange(S)
            rr += [np.repeat(rows, late.size), n + data.f_s[cross[ok]]]
            cc += [lent[:, late].ravel(), x[cross[ok]]]
            vv += [np.ones(S * late.size), -np.ones(ok.size)]
            n += S
    if n:
        m.add_constraints("lent_timely", (np.concatenate(rr), np.concatenate(cc),
                                          np.concatenate(vv)), ub=0.0, n_rows=n)


def event_days(data: PlacementData) -> FloatArray:
    """Days of each scenario's window for fleets: its ``days``, whole days, at least one."""
    return np.array([max(1.0, math.ceil(s.days)) for s in data.instance.scenarios])


def flow_depots(data: PlacementData, depots: tuple[str, ...]) -> IntArray:
    """The position in ``depots`` of the fleet each flow candidate ships on, -1 for none."""
    dpos = {d: i for i, d in enumerate(depots)}
    home = home_fleets(data.instance, data.arcs.source_ids)
    src_depot = np.array([dpos.get(home.get(s) or "", -1) for s in data.arcs.source_ids],
                         dtype=np.int64)
    return src_depot[data.f_src]


def fleet_capacity(data: PlacementData, options: PlacementOptions) -> FloatArray:
    """What each fleet row can move in each scenario: (S, V, 4) kg x h, m3 x h, kg, m3.

    Day by day over the scenario's days (:func:`event_days`), by the rule allocation
    applies per day (:func:`reserve_opt.fleet.vehicle_capacity`: working hours and trips,
    after the vehicles arrive).
    """
    fleet = data.instance.fleet
    days = event_days(data)
    out = np.zeros((days.size, len(fleet), 4))
    for vi, v in enumerate(fleet):
        per_day = [vehicle_capacity(v, 24.0, options.max_trips, 24.0 * i)
                   for i in range(int(days.max()))]
        cum = np.cumsum([[c.kg_h, c.m3_h, c.kg, c.m3] for c in per_day], axis=0)
        out[:, vi, :] = cum[days.astype(np.int64) - 1]
    return out


def fleet_rows(m: Model, data: PlacementData, options: PlacementOptions,
               x: IntArray, hire: IntArray) -> None:
    """Per scenario and fleet depot: the round trips and loads its vehicles can make.

    Each unit shipped from a source on a depot's fleet costs its load weight
    (:func:`reserve_opt.fleet.load_kg`: its weight, or its volume x the depot's trucks' kg
    per m3 where larger, as allocation counts it) x the hours of a whole round trip in the
    depot's working day (``charged_trip_h``, as in allocation; a trip longer than the day
    rides overnight, charged a working day on each day it takes, or is not carried when the
    depot's rows make no overnight trips) in kg-hours, and its load weight in loads (its
    volume in m3-hours and m3 loads); the depot's rows of the fleet table give
    :func:`fleet_capacity` each, an offer only when hired (``hire``).
    Sources whose region has no fleet row are not limited, as in allocation.
    """
    inst = data.instance
    depots = tuple(dict.fromkeys(v.depot for v in inst.fleet))
    if not depots:
        return
    f_depot = flow_depots(data, depots)
    fd = np.flatnonzero(f_depot >= 0)
    if not fd.size:
        return
    S, _, _ = data.shape
    D, V = len(depots), len(inst.fleet)
    k = data.unit_k[data.f_u[fd]]
    m3 = data.volume[k]
    # kg rows count each unit's load weight on its depot's trucks (bulky goods fill a
    # truck's m3 first), as allocation does: reserve_opt.fleet.load_kg; offers count, as
    # they do for the working day
    rho = depot_kg_per_m3(inst, depots, offers=True)
    kg = load_kg(np.array([c.weight_kg for c in inst.commodities])[k], m3, rho[f_depot[fd]])
    # whole round trips in the depot's working day, as allocation charges them, and an
    # overnight trip its working day on each day it takes (reserve_opt.fleet.fleet_trips);
    # a trip longer than the day on a fleet without overnight trips is not carried
    shift = depot_shift_h(inst, depots, offers=True)
    night = depot_overnight(inst, depots, offers=True)
    trip_h = charged_trip_h(shift[f_depot[fd]], np.zeros(fd.size), data.f_time[fd],
                            options.handling_h, overnight=night[f_depot[fd]])
    # an overnight trip takes all its vehicle's loads on each day it is away
    days = fleet_trips(shift[f_depot[fd]], np.zeros(fd.size), data.f_time[fd],
                       options.handling_h, overnight=night[f_depot[fd]]).days
    loads = np.maximum(days, 1) * trip_loads(days, options.max_trips)
    far = ~np.isfinite(trip_h)
    if far.any():
        m.add_constraints("fleet_no_trip", (np.arange(int(far.sum())), x[fd[far]],
                                            np.ones(int(far.sum()))),
                          ub=0.0, n_rows=int(far.sum()))
    trip_h = np.where(far, 0.0, trip_h)
    rows = data.f_s[fd] * D + f_depot[fd]
    v_depot = np.array([depots.index(v.depot) for v in inst.fleet], dtype=np.int64)
    v_rows = (np.arange(S)[:, None] * D + v_depot[None, :]).ravel()
    v_cols = np.tile(hire, S)
    cap = fleet_capacity(data, options)  # (S, V, 4)
    for i, (name, coef) in enumerate((("fleet_kg_h", kg * trip_h), ("fleet_m3_h", m3 * trip_h),
                                      ("fleet_kg", kg * loads), ("fleet_m3", m3 * loads))):
        m.add_constraints(name, (np.concatenate([rows, v_rows]),
                                 np.concatenate([x[fd], v_cols]),
                                 np.concatenate([coef, -cap[:, :, i].reshape(S * V)])),
                          ub=0.0, n_rows=S * D)


def space_rows(data: PlacementData) -> IntArray:
    """The warehouse of each ``space`` row: candidates and capacity-limited warehouses."""
    return np.flatnonzero(data.gov_candidate | np.isfinite(data.gov_capacity))


def first_stage_rows(m: Model, data: PlacementData, y: IntArray, buy: IntArray,
                     u: IntArray, elastic_slack: ElasticSlack | None = None,
                     hire: IntArray | None = None) -> None:
    """The first-stage rows: one size per candidate, space, the candidate stock cut, budget.

    Shared by the extensive form (:func:`build_model`) and the master problem of the
    decomposition (:mod:`models.placement.decomposition`), so both hold the same plans.
    ``elastic_slack`` adds a slack per row (phase 1); ``None`` adds none. ``hire``: the
    fleet rows' columns (logistics contracts not yet signed count in the budget).
    """
    K = data.shape[2]
    G = data.n_gov
    L = data.size_gov.size
    if elastic_slack is None:
        elastic_slack = _no_slack

    # at most one size per candidate
    if L:
        cand, row_of = np.unique(data.size_gov, return_inverse=True)
        m.add_constraints("one_size", (row_of, y, np.ones(L)), ub=1.0, n_rows=cand.size)

    # space: sum_k b_k (e + buy) <= cap (existing) or sum_l M_l y_l (candidate)
    sp_g = space_rows(data)
    space_slack = False
    if sp_g.size:
        row_of_g = np.full(G, -1, dtype=np.int64)
        row_of_g[sp_g] = np.arange(sp_g.size)
        gg, kk = np.meshgrid(sp_g, np.arange(K), indexing="ij")
        r1 = row_of_g[gg.ravel()]
        c1 = buy[gg.ravel(), kk.ravel()]
        v1 = data.volume[kk.ravel()]
        ls = np.flatnonzero(row_of_g[data.size_gov] >= 0) if L else np.zeros(0, np.int64)
        r2 = row_of_g[data.size_gov[ls]]
        rhs = np.where(data.gov_candidate[sp_g], 0.0, data.gov_capacity[sp_g]) - (
            data.existing[sp_g] @ data.volume)
        scale = np.maximum(np.where(data.gov_candidate[sp_g], 1.0, data.gov_capacity[sp_g]), 1.0)
        extra_r, extra_c, extra_v = elastic_slack(
            "space", np.arange(sp_g.size, dtype=np.int64), 1.0 / scale, -1.0)
        space_slack = bool(extra_c.size)
        m.add_constraints(
            "space",
            (np.concatenate([r1, r2, extra_r]), np.concatenate([c1, y[ls], extra_c]),
             np.concatenate([v1, -data.size_capacity[ls], extra_v])),
            ub=rhs, n_rows=sp_g.size)

    # optimality cut (tightens the LP): candidate g holds at most stock_bound(g, k) of k, and
    # nothing unless opened: buy_gk <= sum_l min(bound_gk, M_l / b_k) y_gl. Valid when
    # purchase costs are positive (see stock_bound); M_l / b_k is what size l can hold.
    cut_k = np.flatnonzero(data.purchase > 0)
    if L and cut_k.size:
        cand, row_of = np.unique(data.size_gov, return_inverse=True)
        bound = stock_bound(data)[cand][:, cut_k]  # (candidates, |cut_k|)
        with np.errstate(divide="ignore"):
            fits = np.where(data.volume[cut_k] > 0,
                            data.size_capacity[:, None] / data.volume[cut_k][None, :], np.inf)
        coef = np.minimum(bound[row_of], fits)  # (L, |cut_k|)
        keep = np.isfinite(coef).all(axis=0)
        cut_k, bound, coef = cut_k[keep], bound[:, keep], coef[:, keep]
        # a pair whose bound no size reaches says only what the space row already does
        # (b_k buy_gk <= sum_l M_l y_gl): left out, the national master has a tenth of
        # its rows (10,000 of them were such pairs)
        tight = np.zeros((cand.size, cut_k.size), dtype=bool)
        np.logical_or.at(tight, row_of, bound[row_of] < fits)
        if space_slack:
            tight[:] = True  # phase 1's space rows have slacks: they imply nothing
        pc, pk = np.nonzero(tight)
        nck = pc.size
        rc = np.full((cand.size, cut_k.size), -1, dtype=np.int64)
        rc[pc, pk] = np.arange(nck)
        ly, lk = np.nonzero(tight[row_of])  # (size option, commodity) pairs of kept rows
        if nck:
            m.add_constraints(
                "candidate_stock_link",
                (np.concatenate([np.arange(nck), rc[row_of[ly], lk]]),
                 np.concatenate([buy[cand[pc], cut_k[pk]], y[ly]]),
                 np.concatenate([np.ones(nck), -coef[ly, lk]])),
                ub=0.0, n_rows=nck)

    # budget on new first-stage spending
    if data.budget is not None:
        unsigned = np.flatnonzero(~data.con_signed)
        fleet = data.instance.fleet
        offers = np.array([i for i, v in enumerate(fleet) if not v.signed], dtype=np.int64)
        hired = hire[offers] if hire is not None else np.zeros(0, dtype=np.int64)
        offer_retainer = np.array([fleet[i].retainer for i in offers] if hire is not None
                                  else [], dtype=np.float64)
        extra_r, extra_c, extra_v = elastic_slack("budget", np.zeros(1, dtype=np.int64),
                      np.array([1.0 / max(data.budget, 1.0)]), -1.0)
        cols = np.concatenate([y, buy.ravel(), u[unsigned], hired, extra_c])
        vals = np.concatenate([data.size_cost, np.broadcast_to(data.purchase, (G, K)).ravel(),
                               data.con_retainer[unsigned], offer_retainer, extra_v])
        m.add_constraints("budget", (np.zeros(cols.size, dtype=np.int64), cols, vals),
                          ub=data.budget, n_rows=1)



def _no_slack(name: str, rows: IntArray, weight: FloatArray,
              sign: float) -> tuple[IntArray, IntArray, FloatArray]:
    """No elastic slack: empty triplet parts."""
    return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0)

def build_model(data: PlacementData, options: PlacementOptions, *,
                elastic: bool = False) -> tuple[Model, Layout]:
    """Build the placement MILP (or its elastic phase-1 twin) in vectorised blocks.

    Parameters
    ----------
    data
        Prepared arrays.
    options
        Model options.
    elastic
        Add nonnegative slacks to the space, budget and service-level rows and minimise
        their normalised sum instead of cost (used to explain infeasibility).

    Returns
    -------
    tuple of Model and Layout
    """
    S, J, K = data.shape
    G = data.n_gov
    C = len(data.con_ids)
    L = data.size_gov.size
    lam = options.risk_weight
    sc = 0.0 if elastic else 1.0  # weight of the expected cost terms
    P = data.prob
    m = Model("placement-elastic" if elastic else "placement")

    # ---------------- first stage
    y = m.add_binaries("open", L, obj=sc * data.size_cost)
    buy = m.add_variables("buy", (G, K), obj=sc * np.broadcast_to(data.purchase, (G, K)))
    u = m.add_variables("sign", C, lb=data.con_signed.astype(float), ub=1.0, integer=True,
                        obj=sc * data.con_retainer)
    # fleet rows: own vehicles and signed logistics contracts fixed at 1, offers a choice
    fleet = data.instance.fleet
    hire = m.add_variables("hire", len(fleet),
                           lb=np.array([float(v.signed) for v in fleet]), ub=1.0,
                           integer=True, obj=sc * np.array([v.retainer for v in fleet]))

    # ---------------- second stage
    nf = data.f_s.size
    f_k = data.f_k
    x = m.add_variables("flow", nf, obj=sc * P[data.f_s] * (data.f_cost + data.f_price))
    z = m.add_variables("unused", (S, G, K),
                        obj=sc * P[:, None, None] * data.holding[None, None, :])
    ds, dj, dk = np.nonzero(data.demand > 0)
    dq = data.demand[ds, dj, dk]
    w = m.add_variables("short", ds.size, ub=dq, obj=sc * P[ds] * data.penalty[dk])

    slack_cols: list[tuple[IntArray, FloatArray]] = []

    def elastic_slack(name: str, rows: IntArray, weight: FloatArray,
                      sign: float) -> tuple[IntArray, IntArray, FloatArray]:
        """One slack per row (column entries ``sign``) if elastic, as triplet parts."""
        if not elastic:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0)
        sl = m.add_variables(f"slack_{name}", rows.size, obj=weight)
        slack_cols.append((sl, weight))
        return rows, sl, np.full(rows.size, sign)

    first_stage_rows(m, data, y, buy, u, elastic_slack, hire)

    # government stock balance: sum_j x + z = rho (e + buy)
    gov_f = np.flatnonzero(data.f_u < G * K)
    s_idx, g_idx, k_idx = (a.ravel() for a in np.meshgrid(np.arange(S), np.arange(G),
                                                         np.arange(K), indexing="ij"))
    row_z = (s_idx * G + g_idx) * K + k_idx
    m.add_constraints(
        "stock_balance",
        (np.concatenate([data.f_s[gov_f] * G * K + data.f_u[gov_f], row_z, row_z]),
         np.concatenate([x[gov_f], z.ravel(), buy[g_idx, k_idx]]),
         np.concatenate([np.ones(gov_f.size), np.ones(row_z.size),
                         -data.rho[s_idx, g_idx]])),
        lb=data.rho[s_idx, g_idx] * data.existing[g_idx, k_idx],
        ub=data.rho[s_idx, g_idx] * data.existing[g_idx, k_idx], n_rows=S * G * K)

    # contract availability: sum_j x <= avail * u
    if C:
        con_f = np.flatnonzero(data.f_u >= G * K)
        cc = data.f_u[con_f] - G * K
        sc_s, sc_c = (a.ravel() for a in np.meshgrid(np.arange(S), np.arange(C), indexing="ij"))
        m.add_constraints(
            "contract_supply",
            (np.concatenate([data.f_s[con_f] * C + cc, sc_s * C + sc_c]),
             np.concatenate([x[con_f], u[sc_c]]),
             np.concatenate([np.ones(con_f.size), -data.con_avail[sc_s, sc_c]])),
            ub=0.0, n_rows=S * C)

    # demand: sum_i x + w = d
    dkey = (ds * J + dj) * K + dk
    fkey = (data.f_s * J + data.f_j) * K + f_k
    frow = np.searchsorted(dkey, fkey)
    m.add_constraints(
        "demand",
        (np.concatenate([frow, np.arange(ds.size)]), np.concatenate([x, w]),
         np.ones(nf + ds.size)),
        lb=dq, ub=dq, n_rows=ds.size)

    if options.fleet_limits:
        fleet_rows(m, data, options, x, hire)

    # sharing agreements: lent amounts per triple, summed per (lender, borrower, commodity)
    p_o = p_j = p_k = np.zeros(0, dtype=np.int64)
    if data.sharing == "agreements" and data.tri_agreement.size:
        T = data.tri_agreement.size
        pkey_t = (data.tri_lender * J + data.tri_borrower) * K + data.tri_k
        pkeys, tri_pair = np.unique(pkey_t, return_inverse=True)
        NP = pkeys.size
        p_o, p_j, p_k = pkeys // (J * K), (pkeys // K) % J, pkeys % K
        lent = m.add_variables("lent", (S, T), ub=np.broadcast_to(data.tri_cap_q, (S, T)))
        f_o = data.unit_owner[data.f_u]
        cross = np.flatnonzero(f_o != data.f_j)
        ckey = (f_o[cross] * J + data.f_j[cross]) * K + f_k[cross]
        cpair = np.searchsorted(pkeys, ckey)
        ss, tt = (a.ravel() for a in np.meshgrid(np.arange(S), np.arange(T), indexing="ij"))
        m.add_constraints(
            "lent_balance",
            (np.concatenate([data.f_s[cross] * NP + cpair, ss * NP + tri_pair[tt]]),
             np.concatenate([x[cross], lent[ss, tt]]),
             np.concatenate([np.ones(cross.size), -np.ones(ss.size)])),
            lb=0.0, ub=0.0, n_rows=S * NP)
        # share caps: lent_t <= share_t * (lender's available stock of k)
        sh = np.flatnonzero(np.isfinite(data.tri_cap_share))
        share_rows(m, data, "lent_share_cap", [sh[i:i + 1] for i in range(sh.size)],
                   data.tri_cap_share[sh], lent, buy, u)
        # lender totals: per (agreement, lender, commodity), over all its borrowers
        total_rows(m, data, lent, buy, u)
        if options.response_time:
            timely_rows(m, data, lent, x, cross, cpair, tri_pair)

        protect_own_rows(m, data, lent, buy, u)

    # service level: sum_s P_s w_sjk <= (1 - alpha) sum_s P_s d_sjk
    sl_j = sl_k = np.zeros(0, dtype=np.int64)
    if options.service_level is not None:
        ed = np.einsum("s,sjk->jk", P, data.demand)
        sl_j, sl_k = np.nonzero(ed > 0)
        row_of_jk = np.full((J, K), -1, dtype=np.int64)
        row_of_jk[sl_j, sl_k] = np.arange(sl_j.size)
        extra_r, extra_c, extra_v = elastic_slack("service", np.arange(sl_j.size, dtype=np.int64),
                      1.0 / ed[sl_j, sl_k], -1.0)
        m.add_constraints(
            "service_level",
            (np.concatenate([row_of_jk[dj, dk], extra_r]), np.concatenate([w, extra_c]),
             np.concatenate([P[ds], extra_v])),
            ub=(1.0 - options.service_level) * ed[sl_j, sl_k], n_rows=sl_j.size)

    # risk: + lambda CVaR_beta of the scenario's second-stage cost Q_s (Rockafellar-Uryasev):
    # eta + sum_s P_s xi_s / (1 - beta), xi_s >= Q_s - eta, Q_s = transport + unit prices +
    # holding + shortage penalty in s
    if lam > 0 and not elastic:
        beta = options.cvar_level
        eta = m.add_variables("cvar_eta", 1, lb=-math.inf, obj=lam)
        xi = m.add_variables("cvar_excess", S, obj=lam * P / (1.0 - beta))
        m.add_constraints(
            "cvar",
            (np.concatenate([np.arange(S), np.arange(S), data.f_s, s_idx, ds]),
             np.concatenate([xi, np.repeat(eta, S), x, z.ravel(), w]),
             np.concatenate([np.ones(2 * S), -(data.f_cost + data.f_price),
                             -data.holding[k_idx], -data.penalty[dk]])),
            lb=0.0, n_rows=S)

    layout = Layout(ds.astype(np.int64), dj.astype(np.int64), dk.astype(np.int64), dq,
                    p_o.astype(np.int64), p_j.astype(np.int64), p_k.astype(np.int64),
                    sl_j.astype(np.int64), sl_k.astype(np.int64), elastic)
    return m, layout
