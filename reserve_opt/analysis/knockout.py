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

``method="fast"`` (the default) gets the same figures without rebuilding a model per
knock-out: facility and region-pair knock-outs become bound changes of one reduced LP in
independent blocks; a block whose base solution stays feasible is screened (exactly: it
stays optimal), the others are re-solved warm by GLOP, in parallel on Dask when there are
many (see :mod:`reserve_opt.analysis.knockout_fast`). Link cuts (they change travel
distances) and region pairs under scenario rows of a travel table are re-solved plainly.
``method="plain"`` re-solves every knock-out from scratch.
"""

from __future__ import annotations

import dataclasses
import math
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from reserve_opt.analysis import knockout_fast as fast
from reserve_opt.analysis._records import records
from reserve_opt.builder import InstanceBuilder
from reserve_opt.domain import FacilityKind, Instance
from reserve_opt.errors import InputError, ReserveOptError
from reserve_opt.models.placement import PlacementOptions, PlacementResult, solve_placement
from reserve_opt.models.placement.model import Layout, PlacementData, build_model, prepare
from reserve_opt.solvers import SolveResult, SolverOptions, SolveStatus, solve

__all__ = [
    "KNOCKOUT_KINDS",
    "KnockoutInterrupted",
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
Method = Literal["fast", "plain"]
#: Below this many knock-outs to re-solve, the fast method stays in this process: starting
#: a Dask cluster (a few seconds) would cost more than it saves.
DASK_MIN_KNOCKOUTS = 200


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
    # trucks: the fleet rows the plan holds (own and logistics contracts it signs) stay
    hired = {d.vehicle: d.signed for d in plan.vehicles}
    b.rows["fleet"] = [dict(r, signed=True) for r in b.rows.get("fleet", [])
                       if hired.get(r["id"], bool(r.get("signed", True)))]
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
        tri_protect=data.tri_protect[keep], tri_total_q=data.tri_total_q[keep],
        tri_total_share=data.tri_total_share[keep], tri_delay=data.tri_delay[keep])


def _solve_data(data: PlacementData, options: PlacementOptions, solver: str,
                solver_options: SolverOptions | None) -> _Outcome:
    """Build and solve the frozen model on prepared data; read the expected shortage."""
    model, layout = build_model(data, options)
    res = solve(model, solver, solver_options)
    return _outcome(data, layout, res)


def _outcome(data: PlacementData, layout: Layout, res: SolveResult) -> _Outcome:
    """Expected shortage and second-stage cost of a solved frozen model."""
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


class KnockoutInterrupted(KeyboardInterrupt):
    """Ctrl-C during the knock-outs; :attr:`partial` ranks the knock-outs finished by then.

    Attributes
    ----------
    partial
        The ranking of the finished knock-outs (their ranks are among themselves).
    total
        Knock-outs there were to do.
    """

    def __init__(self, partial: KnockoutRanking, total: int) -> None:
        super().__init__(f"{len(partial.table)} of {total} knock-outs finished")
        self.partial = partial
        self.total = total


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
    method: Method = "fast",
    workers: int | None = None,
    scheduler: str | None = None,
    trust_scheduler: bool = False,
    on_start: Callable[[int], None] | None = None,
    on_done: Callable[[], None] | None = None,
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
        Solver for the base plan, the frozen base and every plain re-solve (``fast``
        re-solves blocks with GLOP); the time limit applies to each solve.
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
    method
        ``"fast"``: screened and warm-started block re-solves (same figures; see
        :mod:`reserve_opt.analysis.knockout_fast`); ``"plain"``: one full re-solve each.
    workers
        Processes of the embedded Dask cluster for the fast re-solves; 1 runs them in this
        process; default: the machine's cores when there are at least
        :data:`DASK_MIN_KNOCKOUTS` knock-outs, else this process.
    scheduler, trust_scheduler
        An existing Dask scheduler instead, under the rules of ``sweep`` (see
        :func:`reserve_opt.variants.sweep.checked_scheduler`).
    on_start, on_done
        Progress callbacks: the number of knock-outs, then once per finished knock-out.

    Returns
    -------
    KnockoutRanking

    Raises
    ------
    InputError
        On an unknown facility id, a facility that supplies nothing, a bad ``rank_by`` or
        ``method``, or a base plan without a solution.
    KnockoutInterrupted
        On Ctrl-C during the knock-outs, with the ranking of those finished.
    """
    if rank_by not in ("cost", "units"):
        raise InputError(f"rank_by={rank_by!r}: choose 'cost' or 'units'.")
    if method not in ("fast", "plain"):
        raise InputError(f"method={method!r}: choose 'fast' or 'plain'.")
    opts = options or PlacementOptions()
    if plan is None:
        plan = solve_placement(instance, opts, solver=solver, solver_options=solver_options)
    frozen = freeze_plan(instance, plan)
    ss_opts = _second_stage_options(opts)
    data = _prune_triples(prepare(frozen, ss_opts))
    model, layout = build_model(data, ss_opts)
    compiled = model.compile()
    base_res = solve(compiled, solver, solver_options)
    base = _outcome(data, layout, base_res)
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

    gov_pos = {g: i for i, g in enumerate(data.gov_ids)}
    jobs: list[fast.Knockout] = []
    for fid in targets:
        lost = tuple(i for i in range(len(data.con_ids))
                     if frozen.contracts[i].facility == fid)
        jobs.append(fast.Knockout("facility", fid, gov_pos.get(fid, -1), lost))
    link_pairs: list[tuple[str, str]] = []
    if links and frozen.links:
        link_pairs = _link_pairs(frozen)
    elif links:
        pairs = _region_pairs_with_flow(data, base)
        jobs += [fast.Knockout("region_pair", f"{a}--{b}", pair=(a, b)) for a, b in pairs]
        notes.append(
            "The instance has no links table (distances are great circles x the detour "
            "factor), so connections are knocked out as region pairs: cutting a--b stops "
            "every source located in a from serving b and every source in b from serving a, "
            f"in every scenario. {_pairs_carry(len(pairs))} flow in the frozen base and "
            "were cut; cutting any other pair leaves the base solution optimal, so it adds "
            "no cost, and it is not listed.")

    lp = None
    if method == "fast" and base_res.status is SolveStatus.OPTIMAL and base_res.x is not None:
        lp = fast.frozen_lp(data, compiled, layout, base_res.x,
                            solver_options.time_limit_s if solver_options else None)
    # scenario rows of a travel table ignore outages, so a cut pair keeps those arcs
    fixed_rows = bool((frozen.travel.scenario >= 0).any())
    plain_jobs = [j for j in jobs if lp is None or (j.pair is not None and fixed_rows)]
    fast_jobs = [j for j in jobs if j not in plain_jobs]

    total = len(jobs) + len(link_pairs)
    if on_start:
        on_start(total)
    rows: list[dict[str, Any]] = []
    facility = {f.id: f for f in frozen.facilities}

    def add(row: dict[str, Any]) -> None:
        rows.append(row)
        if on_done:
            on_done()
        if ctrl_c.is_set():
            raise KeyboardInterrupt

    def plain(job: fast.Knockout) -> _Outcome:
        if job.pair is not None:
            cut = _with_cut(frozen, *job.pair)
            return _solve_data(_prune_triples(prepare(cut, ss_opts)), ss_opts, solver,
                               solver_options)
        existing = data.existing
        if job.gov >= 0:
            existing = existing.copy()
            existing[job.gov, :] = 0.0
        avail = data.con_avail
        if job.contracts:
            avail = avail.copy()
            avail[:, list(job.contracts)] = 0.0
        ko = dataclasses.replace(data, existing=existing, con_avail=avail)
        return _solve_data(ko, ss_opts, solver, solver_options)

    def describe(job: fast.Knockout) -> tuple[str, str]:
        if job.pair is not None:
            return "region pair", ""
        f = facility[job.target]
        return f.kind.value, f.region

    def run_jobs() -> None:
        for job in plain_jobs:
            add(_row(job.target_type, job.target, *describe(job), plain(job), base, kid,
                     cur, "re-solve"))
        for a, b in link_pairs:
            cut = _with_cut(frozen, a, b)
            out = _solve_data(_prune_triples(prepare(cut, ss_opts)), ss_opts, solver,
                              solver_options)
            add(_row("link", f"{a}--{b}", "link", "", out, base, kid, cur, "re-solve"))
        if lp is not None and fast_jobs:
            by_target = {(j.target_type, j.target): j for j in fast_jobs}
            in_process = scheduler is None and (
                workers == 1 or (workers is None and len(fast_jobs) < DASK_MIN_KNOCKOUTS))

            def done(res: fast.FastOutcome) -> None:
                job = by_target[(res.target_type, res.target)]
                add(_row(job.target_type, job.target, *describe(job),
                         _shifted(base, res, kid), base, kid, cur, res.solved_by))

            fast.run_all(lp, fast_jobs, workers=workers, scheduler=scheduler,
                         trust_scheduler=trust_scheduler, in_process=in_process,
                         on_done=done)
            screened = sum(1 for r in rows if r["solved_by"] == "screen")
            notes.append(
                f"{screened} of {len(fast_jobs)} knock-outs were screened: the base solution "
                "stays feasible without the lost supply or connection, so it stays optimal "
                "and the loss adds no shortage; the others were re-solved warm (GLOP, only "
                "the independent blocks of the LP they change"
                + (")." if in_process else ", in parallel on Dask)."))

    ctrl_c = threading.Event()
    try:
        with _noting_sigint(ctrl_c):
            run_jobs()
    except KeyboardInterrupt:
        partial = _ranking(rows, base, plan, rank_by, notes, cur, kid)
        raise KnockoutInterrupted(partial, total) from None
    return _ranking(rows, base, plan, rank_by, notes, cur, kid)


@contextmanager
def _noting_sigint(flag: threading.Event) -> Iterator[None]:
    """Ctrl-C sets ``flag`` instead of raising, for as long as this block runs.

    The loop checks the flag after each knock-out and stops there. An exception raised by
    the default handler is lost when the signal is handled inside a solver call (OR-Tools'
    bindings check for signals during a solve and clear the error): about one Ctrl-C in
    three during plain re-solves did nothing. Only the main thread may set handlers;
    elsewhere the default handling stays.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGINT, lambda *_: flag.set())
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


def _shifted(base: _Outcome, res: fast.FastOutcome, kid: list[str]) -> _Outcome:
    """The frozen base moved by a fast knock-out's changes."""
    return _Outcome(res.status,
                    {k: base.shortage_units[k] + res.d_short[i] for i, k in enumerate(kid)},
                    base.shortage_cost + res.d_short_cost,
                    base.second_stage_cost + res.d_cost)


def _ranking(rows: list[dict[str, Any]], base: _Outcome, plan: PlacementResult,
             rank_by: str, notes: list[str], cur: str, kid: list[str]) -> KnockoutRanking:
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
         kid: list[str], cur: str, solved_by: str) -> dict[str, Any]:
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
    row["solved_by"] = solved_by
    return row


def _rank(df: pd.DataFrame, rank_by: str, cur: str, kid: list[str]) -> pd.DataFrame:
    cols = ["rank", "target_type", "target", "kind", "region", "status",
            "expected_shortage_units", "shortage_increase_units",
            f"expected_shortage_cost_{cur}", f"shortage_increase_cost_{cur}",
            f"expected_second_stage_cost_{cur}", f"second_stage_increase_{cur}",
            *[f"expected_shortage_{k}_units" for k in kid], "solved_by"]
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
