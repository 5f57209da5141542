"""Knock-out ranking: which single facility or link, if lost, raises expected shortage most.

Definition (see ``models/analysis.md``):

1. Solve the placement model once (the *base plan*).
2. Freeze its first stage in a derived instance (:func:`freeze_plan`): the plan's stock becomes
   existing stock, opened candidates become existing warehouses of their chosen size, unopened
   candidates hold and receive nothing (they become distribution points, so their place on a
   road network is kept), unsigned contracts the plan does not sign are removed, the ones it
   signs become signed, and the budget is 0 so nothing more can be bought.
3. Re-solve the second stage of the frozen instance (the *frozen base*), then once per
   candidate knock-out:

   * a **facility** (government warehouse, enterprise reserve, production site) is destroyed in
     every scenario: its stock and every contract it holds give nothing; it stays a point of
     the road network (roads through it are not cut);
   * a **link** (an undirected pair of locations joined by one or more of the instance's
     links) is cut in every scenario (speed factor 0);
   * without a links table, a **region pair** a--b is cut in every scenario (no source in a
     serves b and none in b serves a); only pairs that carry flow in the frozen base are
     tried, as cutting any other leaves the base solution optimal.

4. Report per knock-out the expected shortage (units, per commodity and summed; penalty cost
   in currency) and its increase over the frozen base, ranked by the increase of the expected
   shortage penalty (currency; it adds commodities up by their penalties), then by the
   increase in units, then by kind and id, so the ranking is the same for the same input.

The re-solves are risk neutral and carry no service-level floor: they measure what the loss
does to the fixed plan, and a floor could make them infeasible. Facility knock-outs reuse the
prepared model data of the frozen base (arcs, flow candidates) and only zero the lost supply;
link knock-outs change the arcs, so their data is prepared again.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from reserve_opt.analysis._records import records
from reserve_opt.builder import InstanceBuilder
from reserve_opt.domain import FacilityKind, Instance
from reserve_opt.errors import InputError, ReserveOptError
from reserve_opt.models.placement import PlacementOptions, PlacementResult, solve_placement
from reserve_opt.models.placement.model import PlacementData, build_model, prepare
from reserve_opt.solvers import SolverOptions, solve

__all__ = [
    "KNOCKOUT_KINDS",
    "KnockoutRanking",
    "freeze_plan",
    "knockout_ranking",
]

#: Facility kinds that can be knocked out (they supply goods).
KNOCKOUT_KINDS = (
    FacilityKind.GOVERNMENT_WAREHOUSE,
    FacilityKind.ENTERPRISE_RESERVE,
    FacilityKind.PRODUCTION_CAPACITY,
)

# purchase cost given in the frozen instance to goods that cost nothing, so that the
# zero budget forbids buying them too (currency/unit; only the first stage sees it)
_FROZEN_MIN_PURCHASE = 1.0
# figures closer than this (relative to their scale) count as ties when ranking
_TIE_DIGITS = 6

RankBy = Literal["cost", "units"]


def freeze_plan(instance: Instance, plan: PlacementResult) -> Instance:
    """The instance with the plan's first stage fixed and nothing more to buy.

    Parameters
    ----------
    instance
        The instance the plan was made for.
    plan
        A placement result that carries a plan.

    Returns
    -------
    Instance
        Stock = the plan's stock (units) as existing stock; opened candidates existing with
        their size's capacity (m3); unopened candidates turned into distribution points (no
        stock, no sizes); contracts the plan does not hold removed, the rest signed; budget 0;
        goods with purchase cost 0 get 1 currency/unit so the zero budget forbids buying.

    Raises
    ------
    InputError
        If the plan carries no plan.
    """
    if not plan.has_plan:
        raise InputError("The base plan has no solution (status "
                         f"{plan.status.value!r}); fix the instance so `reserve-opt plan` "
                         "finds a plan before analysing knock-outs.")
    b = InstanceBuilder.from_instance(instance)
    b.manifest["settings"] = {**b.manifest.get("settings", {}), "budget": 0.0}
    opened = {o.facility: o for o in plan.opened}
    unopened = {f.id for f in instance.facilities if f.is_candidate and f.id not in opened}
    for row in b.rows["facilities"]:
        fid = row["id"]
        if fid in opened:
            row["existing"] = True
            row["capacity_m3"] = opened[fid].capacity_m3
        elif fid in unopened:
            row["kind"] = FacilityKind.DISTRIBUTION_POINT.value
            row["existing"] = True
            row["capacity_m3"] = None
    b.rows["sizes"] = [r for r in b.rows["sizes"] if r["facility"] not in unopened | set(opened)]
    b.rows["stock"] = [{"facility": s.facility, "commodity": s.commodity, "quantity": s.total}
                       for s in plan.stock if s.total > 0]
    held = {c.contract for c in plan.contracts if c.signed}
    b.rows["contracts"] = [dict(r, signed=True) for r in b.rows["contracts"] if r["id"] in held]
    for row in b.rows["commodities"]:
        if not row["purchase_cost"] or row["purchase_cost"] <= 0:
            row["purchase_cost"] = _FROZEN_MIN_PURCHASE
    return b.build()


@dataclass(frozen=True, slots=True)
class _Outcome:
    """Expected shortage of one second-stage re-solve."""

    status: str
    shortage_units: dict[str, float]  # commodity -> expected units
    shortage_cost: float  # currency
    second_stage_cost: float  # currency
    flow: npt.NDArray[np.float64] | None = None  # per flow candidate, units


@dataclass(frozen=True, eq=False)
class KnockoutRanking:
    """The knock-out ranking and how it was made.

    Attributes
    ----------
    table
        One row per knock-out, best ranked first. Columns: ``rank``, ``target_type``
        (``facility``, ``link`` or ``region_pair``), ``target`` (facility id, or ``a--b``),
        ``kind`` (facility kind, ``link`` or ``region pair``), ``region`` (owner region of a
        facility, else empty), ``status``, ``expected_shortage_units`` (summed over commodities),
        ``shortage_increase_units``, ``expected_shortage_cost_<CUR>``,
        ``shortage_increase_cost_<CUR>``, ``expected_second_stage_cost_<CUR>``,
        ``second_stage_increase_<CUR>`` and one ``expected_shortage_<commodity>_units``
        column per commodity.
    base
        The frozen base: ``status``, ``expected_shortage_units`` (per commodity and
        ``total``), ``expected_shortage_cost``, ``expected_second_stage_cost``.
    plan
        The base plan's summary (status, objective, currency).
    rank_by
        ``"cost"`` or ``"units"``.
    notes
        Sentences on what was and was not knocked out.
    currency
        ISO 4217 code of every money column.
    """

    table: pd.DataFrame
    base: dict[str, Any]
    plan: dict[str, Any]
    rank_by: str
    notes: tuple[str, ...]
    currency: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: ``base``, ``plan``, ``rank_by``, ``notes``, ``ranking`` rows."""
        return {
            "definition": ("Base plan solved once, first stage frozen (stock, opened "
                           "warehouses, signed contracts; budget 0); each knock-out "
                           "re-solves the second stage with the facility destroyed, or the "
                           "link (or, without links, the region pair) cut, in every "
                           "scenario."),
            "currency": self.currency,
            "rank_by": self.rank_by,
            "plan": self.plan,
            "base": self.base,
            "notes": list(self.notes),
            "ranking": records(self.table),
        }


def _second_stage_options(options: PlacementOptions) -> PlacementOptions:
    return dataclasses.replace(options, service_level=None, risk_weight=0.0, budget=0.0,
                               explain_infeasible=False)


def _prune_triples(data: PlacementData) -> PlacementData:
    """Drop lending triples that no flow candidate uses (exact: their lent amount is 0).

    The placement model has a lent variable per (triple, scenario) whether or not any flow
    can use it; a statewide alliance (Georgia: 100,536 triples) makes the LP mostly such
    columns. A triple whose (lender, borrower, commodity) carries no cross-region flow
    candidate is forced to 0 by its balance row and appears elsewhere only in its own
    share-cap row, which 0 satisfies; removing it changes no optimum.
    """
    if data.tri_k.size == 0:
        return data
    _, J, K = data.shape
    f_o = data.unit_owner[data.f_u]
    cross = f_o != data.f_j
    used = np.unique((f_o[cross] * J + data.f_j[cross]) * K + data.f_k[cross])
    keep = np.isin((data.tri_lender * J + data.tri_borrower) * K + data.tri_k, used)
    if keep.all():
        return data
    return dataclasses.replace(
        data, tri_agreement=data.tri_agreement[keep], tri_lender=data.tri_lender[keep],
        tri_borrower=data.tri_borrower[keep], tri_k=data.tri_k[keep],
        tri_cap_q=data.tri_cap_q[keep], tri_cap_share=data.tri_cap_share[keep],
        tri_protect=data.tri_protect[keep])


def _solve_data(data: PlacementData, options: PlacementOptions, solver: str,
                solver_options: SolverOptions | None) -> _Outcome:
    """Build and solve the frozen model on prepared data; read the expected shortage."""
    model, layout = build_model(data, options)
    res = solve(model, solver, solver_options)
    kid = [c.id for c in data.instance.commodities]
    if not res.has_solution or res.objective is None:
        return _Outcome(res.status.value, dict.fromkeys(kid, math.nan), math.nan, math.nan)
    w = np.maximum(res.value("short"), 0.0)
    pw = data.prob[layout.demand_s] * w
    per_k = np.bincount(layout.demand_k, weights=pw, minlength=len(kid))
    retainers = float(data.con_retainer.sum())  # every frozen contract is signed
    return _Outcome(
        res.status.value,
        {k: float(per_k[i]) for i, k in enumerate(kid)},
        float(pw @ data.penalty[layout.demand_k]),
        float(res.objective) - retainers,
        np.maximum(res.value("flow"), 0.0),
    )


def _pairs_carry(n: int) -> str:
    return "1 pair carries" if n == 1 else f"{n} pairs carry"


def _region_pairs_with_flow(data: PlacementData, base: _Outcome) -> list[tuple[str, str]]:
    """Unordered pairs of distinct regions joined by positive flow in the frozen base."""
    if base.flow is None:
        return []
    inst = data.instance
    src_region = np.array([inst.region_index[inst.facility(f).region]
                           for f in data.arcs.source_ids], dtype=np.int64)
    o = src_region[data.f_src]
    used = (base.flow > 1e-7) & (o != data.f_j)
    rid = [r.id for r in inst.regions]
    pairs = {tuple(sorted((rid[a], rid[b]))) for a, b in zip(o[used], data.f_j[used],
                                                             strict=True)}
    return sorted((a, b) for a, b in pairs)


def _link_pairs(instance: Instance) -> list[tuple[str, str]]:
    pairs = {tuple(sorted((lk.origin, lk.destination))) for lk in instance.links}
    return sorted((a, b) for a, b in pairs)


def _with_cut(instance: Instance, a: str, b: str) -> Instance:
    bld = InstanceBuilder.from_instance(instance)
    pair = {a, b}
    done: set[str] = set()
    for row in bld.rows["outages"]:  # one outage row per scenario and pair: cut it there
        if {row["from"], row["to"]} == pair:
            row["speed_factor"] = 0.0
            done.add(str(row["scenario"]))
    for sc in instance.scenarios:
        if sc.id not in done:
            bld.add_outage(sc.id, a, b, 0.0)
    return bld.build()


def knockout_ranking(
    instance: Instance,
    options: PlacementOptions | None = None,
    *,
    solver: str = "highs",
    solver_options: SolverOptions | None = None,
    plan: PlacementResult | None = None,
    facilities: Sequence[str] | None = None,
    links: bool = True,
    rank_by: RankBy = "cost",
) -> KnockoutRanking:
    """Rank single facility and link losses by how much they raise expected shortage.

    Parameters
    ----------
    instance
        The instance.
    options
        Placement options of the base plan (sharing, response time, ...); the knock-out
        re-solves use the same sharing and response-time rules, risk neutral, no floor.
    solver, solver_options
        Solver for the base plan and every re-solve.
    plan
        A base plan already solved on ``instance`` with ``options``; solved here when
        ``None``.
    facilities
        Facility ids to knock out; default every warehouse (existing or opened by the plan),
        enterprise reserve and production site, in id order.
    links
        Knock out connections too: each linked pair of the instance's links or, without a
        links table, each pair of regions the frozen base ships between.
    rank_by
        ``"cost"``: by the increase in the expected shortage penalty (currency), then units;
        ``"units"``: by the increase in expected shortage units summed over commodities,
        then cost.

    Returns
    -------
    KnockoutRanking

    Raises
    ------
    InputError
        On an unknown facility id, a facility that supplies nothing, a bad ``rank_by``, or
        a base plan without a solution.
    """
    if rank_by not in ("cost", "units"):
        raise InputError(f"rank_by={rank_by!r}: choose 'cost' or 'units'.")
    opts = options or PlacementOptions()
    if plan is None:
        plan = solve_placement(instance, opts, solver=solver, solver_options=solver_options)
    frozen = freeze_plan(instance, plan)
    ss_opts = _second_stage_options(opts)
    data = _prune_triples(prepare(frozen, ss_opts))
    base = _solve_data(data, ss_opts, solver, solver_options)
    if math.isnan(base.shortage_cost):
        raise ReserveOptError(f"The frozen base plan could not be re-solved ({base.status}); "
                              "try another solver or a longer time limit.")
    cur = instance.currency
    kid = [c.id for c in instance.commodities]
    notes: list[str] = []

    eligible = sorted(f.id for f in frozen.facilities if f.kind in KNOCKOUT_KINDS)
    if facilities is None:
        targets = eligible
    else:
        bad = [f for f in facilities if f not in frozen.facility_index]
        if bad:
            raise InputError(f"Unknown facility {bad[0]!r} to knock out; give ids from the "
                             "facilities table.")
        not_source = [f for f in facilities if f not in eligible]
        if not_source:
            raise InputError(f"Facility {not_source[0]!r} supplies nothing in the plan "
                             "(a distribution point or an unopened candidate); knock out a "
                             "warehouse, enterprise reserve or production site.")
        targets = sorted(set(facilities))
    unopened = sorted(f.id for f in instance.facilities
                      if f.is_candidate and f.id not in {o.facility for o in plan.opened})
    if unopened and facilities is None:
        notes.append("Candidate warehouses the plan does not open hold nothing and are not "
                     f"knocked out: {', '.join(unopened)}.")

    rows: list[dict[str, Any]] = []
    gov_pos = {g: i for i, g in enumerate(data.gov_ids)}
    for fid in targets:
        existing = data.existing
        if fid in gov_pos:
            existing = existing.copy()
            existing[gov_pos[fid], :] = 0.0
        lost = np.array([frozen.contracts[i].facility == fid for i in range(len(data.con_ids))],
                        dtype=bool)
        avail = data.con_avail
        if lost.any():
            avail = avail.copy()
            avail[:, lost] = 0.0
        ko = dataclasses.replace(data, existing=existing, con_avail=avail)
        out = _solve_data(ko, ss_opts, solver, solver_options)
        f = frozen.facility(fid)
        rows.append(_row("facility", fid, f.kind.value, f.region, out, base, kid, cur))

    if links and frozen.links:
        for a, b in _link_pairs(frozen):
            cut = _with_cut(frozen, a, b)
            out = _solve_data(_prune_triples(prepare(cut, ss_opts)), ss_opts, solver,
                              solver_options)
            rows.append(_row("link", f"{a}--{b}", "link", "", out, base, kid, cur))
    elif links:
        pairs = _region_pairs_with_flow(data, base)
        for a, b in pairs:
            cut = _with_cut(frozen, a, b)
            out = _solve_data(_prune_triples(prepare(cut, ss_opts)), ss_opts, solver,
                              solver_options)
            rows.append(_row("region_pair", f"{a}--{b}", "region pair", "", out, base, kid,
                             cur))
        notes.append(
            "The instance has no links table (distances are great circles x the detour "
            "factor), so connections are knocked out as region pairs: cutting a--b stops "
            "every source located in a from serving b and every source in b from serving a, "
            f"in every scenario. {_pairs_carry(len(pairs))} flow in the frozen base and "
            "were cut; cutting any other pair leaves the base solution optimal, so it adds "
            "no cost, and it is not listed.")

    table = _rank(pd.DataFrame(rows), rank_by, cur, kid)
    base_d = {
        "status": base.status,
        "expected_shortage_units": {**base.shortage_units,
                                    "total": float(sum(base.shortage_units.values()))},
        "expected_shortage_cost": base.shortage_cost,
        "expected_second_stage_cost": base.second_stage_cost,
    }
    plan_d = {"status": plan.status.value, "objective": plan.objective, "gap": plan.gap,
              "solver": plan.solver, "sharing": plan.sharing,
              "opened": [o.facility for o in plan.opened],
              "contracts_held": sorted(c.contract for c in plan.contracts if c.signed)}
    return KnockoutRanking(table, base_d, plan_d, rank_by, tuple(notes), cur)


def _row(target_type: str, target: str, kind: str, region: str, out: _Outcome, base: _Outcome,
         kid: list[str], cur: str) -> dict[str, Any]:
    units = float(sum(out.shortage_units.values()))
    base_units = float(sum(base.shortage_units.values()))
    row: dict[str, Any] = {
        "target_type": target_type,
        "target": target,
        "kind": kind,
        "region": region,
        "status": out.status,
        "expected_shortage_units": units,
        "shortage_increase_units": units - base_units,
        f"expected_shortage_cost_{cur}": out.shortage_cost,
        f"shortage_increase_cost_{cur}": out.shortage_cost - base.shortage_cost,
        f"expected_second_stage_cost_{cur}": out.second_stage_cost,
        f"second_stage_increase_{cur}": out.second_stage_cost - base.second_stage_cost,
    }
    for k in kid:
        row[f"expected_shortage_{k}_units"] = out.shortage_units[k]
    return row


def _rank(df: pd.DataFrame, rank_by: str, cur: str, kid: list[str]) -> pd.DataFrame:
    cols = ["rank", "target_type", "target", "kind", "region", "status",
            "expected_shortage_units", "shortage_increase_units",
            f"expected_shortage_cost_{cur}", f"shortage_increase_cost_{cur}",
            f"expected_second_stage_cost_{cur}", f"second_stage_increase_{cur}",
            *[f"expected_shortage_{k}_units" for k in kid]]
    if df.empty:
        return pd.DataFrame(columns=cols)
    # solver noise must not reorder: compare rounded to a few significant digits
    cost = [_sig(float(v)) for v in df[f"shortage_increase_cost_{cur}"]]
    units = [_sig(float(v)) for v in df["shortage_increase_units"]]
    first, second = (cost, units) if rank_by == "cost" else (units, cost)
    kinds = [str(v) for v in df["target_type"]]
    ids = [str(v) for v in df["target"]]
    # failed re-solves (NaN) go last
    order = sorted(range(len(df)), key=lambda i: (
        math.isnan(first[i]), -first[i] if not math.isnan(first[i]) else 0.0,
        -second[i] if not math.isnan(second[i]) else 0.0, kinds[i], ids[i]))
    out = df.iloc[order].reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out[cols]


def _sig(x: float) -> float:
    """``x`` rounded to :data:`_TIE_DIGITS` significant digits (absolute floor 1e-6)."""
    if math.isnan(x):
        return x
    if abs(x) < 1e-6:
        return 0.0
    return float(f"{x:.{_TIE_DIGITS}g}")
