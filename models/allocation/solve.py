"""The public entry point: prepare, solve level by level, read back, explain."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from reserve_opt.demand_points import point_first_arrivals
from reserve_opt.domain import (
    PARENT_AGREEMENT,
    POOLED_AGREEMENT,
    Instance,
    Scenario,
    resolve_sharing,
)
from reserve_opt.errors import InputError
from reserve_opt.solvers import (
    Block,
    MatrixModel,
    SolveResult,
    SolverOptions,
    SolveStatus,
    solve,
)
from reserve_opt.transport import TIME_SOURCES

from .data import OWN, PARENT, POOLED, AllocationData, prepare, total_cap_rows
from .event import event_instance
from .from_plan import StockInput, plan_inputs, stock_units
from .model import Layout, Level, build, route_cap_rows
from .options import AllocationOptions
from .result import (
    EXPLANATION_COLUMNS,
    FILL_COLUMNS,
    FLOW_COLUMNS,
    NOT_SOLVED,
    RESPONSE_COLUMNS,
    SETTLEMENT_COLUMNS,
    AllocationResult,
    LevelValue,
)

if TYPE_CHECKING:
    from reserve_opt.models.placement import PlacementResult

FloatArray = npt.NDArray[np.float64]


def _backlog(data: AllocationData, delivered: FloatArray) -> FloatArray:
    """Units still owed at the end of each period, (J, K, T), rounding noise removed.

    ``delivered`` is :func:`_delivered`'s units arriving per region, commodity and period.

    A backlog below 1e-9 of what is due by then (plus 1e-6 units) is what cumulative
    float sums leave behind, not a shortage.
    """
    cum_d = np.cumsum(data.demand, axis=2)
    short = np.maximum(cum_d - np.cumsum(delivered, axis=2), 0.0)
    short[short <= 1e-9 * cum_d + 1e-6] = 0.0
    return short


def _clean(x: FloatArray) -> FloatArray:
    """Drop solver dust: flows below 1e-6 units."""
    return np.where(x > 1e-6, x, 0.0)


#: Explain at most this many outages by re-solving.
MAX_OUTAGE_RESOLVES = 25
#: Relative room on the rows that keep earlier optima, tried in turn when a level is
#: reported infeasible (or HiGHS reports a contradiction, "primal feasible solution and
#: dual ray") only because the exact row sits at the solver's tolerance.
_SLACKS = (0.0, 1e-9, 1e-7)


def solve_allocation(
    instance: Instance,
    event: str | Scenario,
    options: AllocationOptions | None = None,
    solver: str = "highs",
    solver_options: SolverOptions | None = None,
    stock: StockInput | None = None,
    demand: FloatArray | None = None,
    *,
    plan: PlacementResult | None = None,
) -> AllocationResult:
    """Allocate supplies for one event, period by period, under the agreements.

    Levels are solved in order, each keeping the optimum of the ones before: fairness
    (optional, max), shortage by commodity priority class, tier use (3, then 2, then 1),
    then cost.

    Parameters
    ----------
    instance
        The instance.
    event
        A scenario id of the instance, or a scenario (e.g. from
        :func:`~reserve_opt.models.allocation.read_event`).
    options
        Model options; default :class:`AllocationOptions()` (3 days of 24 h).
    solver
        An LP solver: ``"highs"`` (default), ``"pulp-cbc"`` or ``"scip"`` (no duals).
    solver_options
        Time limit (over all levels), threads, seed.
    stock
        Warehouse stock to allocate, (facility id, commodity id) -> units, or a plan's
        ``plan.stock`` or ``plan.tables()["stock"]`` (see
        :func:`~reserve_opt.models.allocation.from_plan.stock_units`); default the
        instance's existing stock.
    demand
        Units needed per region, commodity and period, shape (J, K, periods), instead of
        the event's demand spread by ``options.demand_profile`` (a review replays the days
        on which requests actually came); every cell with demand must have it in the event.
    plan
        A placement result: its stock where it put it and its contracts signed (as
        ``allocate --plan``); not together with ``stock``.

    Returns
    -------
    AllocationResult

    Raises
    ------
    InputError
        ``plan`` holds no plan or does not fit the instance, or ``stock`` is in no form
        above.
    """
    if plan is not None:
        if stock is not None:
            raise InputError("solve_allocation: give the plan or the stock, not both (the "
                             "plan brings its own stock)")
        instance, stock = plan_inputs(plan, instance)
    elif stock is not None:
        stock = stock_units(stock)
    opts = options or AllocationOptions()
    sopts = solver_options or SolverOptions()
    inst, ev = event_instance(instance, event)
    data = _prepare(inst, ev, opts, stock, demand)
    model, layout = build(data)
    base = model.compile()
    started = _now()
    levels, res, dual_by_level = _lexicographic(base, layout, solver, sopts, started)
    status, gap, message = _outcome(levels, res)
    if res is None or res.x is None:
        return AllocationResult(
            status=status, event=ev.id, options=opts, solver=solver, currency=inst.currency,
            sharing=resolve_sharing(opts.sharing, inst.agreements),
            levels=tuple(levels), gap=None, solve_seconds=_now() - started,
            message=message,
            flows=pd.DataFrame(columns=FLOW_COLUMNS), fill=pd.DataFrame(columns=FILL_COLUMNS),
            settlement=pd.DataFrame(columns=SETTLEMENT_COLUMNS),
            response=pd.DataFrame(columns=RESPONSE_COLUMNS),
            explanations=pd.DataFrame(columns=EXPLANATION_COLUMNS))
    x = np.asarray(res.x)
    ship = _clean(x[layout.ship])
    flows = _flows(data, ship)
    fill = _fill(data, ship)
    explanations = (_explain(data, layout, base, ship, dual_by_level, solver, sopts, stock,
                             demand)
                    if opts.explain else pd.DataFrame(columns=EXPLANATION_COLUMNS))
    min_fill = (float(x[layout.min_fill]) if layout.min_fill >= 0 else None)
    return AllocationResult(
        status=status, event=ev.id, options=opts, solver=solver, currency=inst.currency,
        sharing=resolve_sharing(opts.sharing, inst.agreements),
        levels=tuple(levels), gap=gap, solve_seconds=_now() - started,
        flows=flows, fill=fill, settlement=_settlement(data, flows),
        response=_response(data, ship), explanations=explanations,
        min_fill_rate=min_fill, message=message,
        response_points=point_first_arrivals(inst, ev.id, flows[flows["quantity"] > 0]),
    )


#: The clock every level's share of the time limit is measured on (a test may slow it).
_now = time.perf_counter


def _prepare(inst: Instance, ev: Scenario, opts: AllocationOptions,
             stock: Mapping[tuple[str, str], float] | None,
             demand: FloatArray | None) -> AllocationData:
    """:func:`prepare`, with the per-period demand replaced when one is given."""
    data = prepare(inst, ev, opts, stock)
    if demand is None:
        return data
    if demand.shape != data.demand.shape:
        raise InputError(f"demand has shape {demand.shape}; give (regions, commodities, "
                         f"periods) = {data.demand.shape}")
    # channels are built for the cells the event needs: the replacement may not add any
    if bool(((demand.sum(axis=2) > 0) & ~(data.demand.sum(axis=2) > 0)).any()):
        raise InputError("demand has units where the event has none; give the event the "
                         "same regions and commodities with demand")
    return dataclasses.replace(data, demand=np.asarray(demand, dtype=np.float64))


def _outcome(levels: list[LevelValue], last: SolveResult | None,
             ) -> tuple[SolveStatus, float | None, str]:
    """Status, gap and message of the whole lexicographic solve.

    ``OPTIMAL`` with the last level's gap only when every level was solved to optimality.
    A solution that meets the earlier levels but not all is ``FEASIBLE`` with gap ``None``
    (how far the unsolved levels are from their optima is unknown); no solution at all keeps
    the first level's status (``NO_SOLUTION`` when the time ran out before it started).
    """
    optimal = [lv.name for lv in levels if lv.status == SolveStatus.OPTIMAL.value]
    if not levels:
        return SolveStatus.ERROR, None, "the model has no level to solve"
    if last is not None and len(optimal) == len(levels):
        return SolveStatus.OPTIMAL, last.gap, ""
    stop = next(lv for lv in levels if lv.status != SolveStatus.OPTIMAL.value)
    why = (f"the time limit ran out before level {stop.name} started"
           if stop.status == NOT_SOLVED else
           f"level {stop.name} ended {stop.status}"
           + (f" ({last.message})" if last is not None and last.message else ""))
    rest = [lv.name for lv in levels if lv.name not in optimal]
    message = (f"{why}; levels solved: {', '.join(optimal) or 'none'}; not solved: "
               f"{', '.join(rest)}")
    if last is None or last.x is None:
        status = SolveStatus.NO_SOLUTION if stop.status == NOT_SOLVED else SolveStatus(stop.status)
        return status, None, message
    return SolveStatus.FEASIBLE, None, message + "; the allocation meets the solved levels only"


def _with_level(base: MatrixModel, level: Level, kept: list[tuple[Level, float]],
                slack: float = 0.0) -> MatrixModel:
    """The base matrix with ``level``'s objective and one row per kept earlier optimum.

    Each kept row is scaled to coefficients <= 1 and may exceed the optimum by
    ``1e-9 + slack x max(1, |optimum|)``: the previous level's solution meets it exactly,
    and any more room lets later levels buy noise with it.
    """
    if not kept:
        return dataclasses.replace(base, c=level.c, sense=level.sense)  # type: ignore[arg-type]
    rows, lbs, ubs = [], [], []
    for lv, v in kept:
        s = float(np.abs(lv.c).max(initial=0.0)) or 1.0
        tol = 1e-9 + slack * max(abs(v) / s, 1.0)
        rows.append(sp.csr_matrix(lv.c / s))
        if lv.sense == "min":
            lbs.append(-np.inf)
            ubs.append(v / s + tol)
        else:
            lbs.append(v / s - tol)
            ubs.append(np.inf)
    n0 = base.num_constraints
    blocks = dict(base.con_blocks)
    blocks["keep_levels"] = Block("keep_levels", n0, n0 + len(rows), (len(rows),))
    a = sp.vstack([base.A, *rows], format="csr")
    a.eliminate_zeros()
    a.sort_indices()
    return dataclasses.replace(
        base, c=level.c, sense=level.sense, A=a,  # type: ignore[arg-type]
        row_lb=np.concatenate([base.row_lb, lbs]), row_ub=np.concatenate([base.row_ub, ubs]),
        con_blocks=blocks)


def _restrict(mm: MatrixModel, level: Level, res: SolveResult) -> MatrixModel | None:
    """The model cut down to ``level``'s optimal face, from its LP duals.

    Complementary slackness holds between every primal optimum and any dual optimum, so
    every optimal solution keeps a variable with a nonzero reduced cost at its bound and a
    row with a nonzero dual at its bound. Fixing those describes the optimal face exactly
    without a dense objective row (which solvers find hard, and which later levels fill
    with dust). ``None`` when the solve returned no duals.
    """
    if res.duals is None or res.x is None:
        return None
    sign = 1.0 if level.sense == "min" else -1.0
    y = sign * np.asarray(res.duals)
    d = sign * level.c - mm.A.T @ y
    tol = 1e-7 * max(1.0, float(np.abs(level.c).max(initial=0.0)))
    col_lb, col_ub = mm.col_lb.copy(), mm.col_ub.copy()
    at_lb, at_ub = d > tol, d < -tol
    col_ub[at_lb] = col_lb[at_lb]
    col_lb[at_ub] = col_ub[at_ub]
    row_lb, row_ub = mm.row_lb.copy(), mm.row_ub.copy()
    lo = (y > tol) & np.isfinite(row_lb)
    hi = (y < -tol) & np.isfinite(row_ub)
    row_ub[lo] = row_lb[lo]
    row_lb[hi] = row_ub[hi]
    if not (np.all(np.isfinite(col_ub[at_ub])) and np.all(np.isfinite(col_lb[at_lb]))):
        return None
    return dataclasses.replace(mm, col_lb=col_lb, col_ub=col_ub, row_lb=row_lb, row_ub=row_ub)


def _lexicographic(base: MatrixModel, layout: Layout, solver: str, sopts: SolverOptions,
                   started: float, stop_after: int | None = None,
                   ) -> tuple[list[LevelValue], SolveResult | None, dict[str, SolveResult]]:
    """Solve the levels in order; stop at the first that is not optimal.

    Each level gets the time left of ``sopts.time_limit_s`` (counted from ``started``); one
    that would start with none left is not started. Every level of ``layout`` is listed in
    the returned values, those not solved as :data:`NOT_SOLVED` or with their own status.

    With LP duals, each level's optimal face is kept by fixing bounds (:func:`_restrict`);
    without them, or if the fixed model fails, by rows that keep earlier optima.
    """
    kept: list[tuple[Level, float]] = []  # every level solved so far, with its optimum
    rows: list[tuple[Level, float]] = []  # those not captured by fixing bounds
    current = base
    out: list[LevelValue] = []
    last: SolveResult | None = None
    by_level: dict[str, SolveResult] = {}
    todo = layout.levels if stop_after is None else layout.levels[:stop_after]
    for lv in todo:
        opts = sopts
        if sopts.time_limit_s is not None:
            left = sopts.time_limit_s - (_now() - started)
            if left <= 0:
                break  # this level and the ones after it stay unsolved
            opts = dataclasses.replace(sopts, time_limit_s=left)
        res = solve(_with_level(current, lv, rows), solver, opts)
        if res.status in (SolveStatus.INFEASIBLE, SolveStatus.ERROR) and kept:
            # fall back on rows for every earlier optimum over the unfixed model, with a
            # little room if the exact rows trip the solver's tolerances
            current, rows = base, list(kept)
            for slack in _SLACKS:
                res = solve(_with_level(current, lv, rows, slack), solver, opts)
                if res.status not in (SolveStatus.INFEASIBLE, SolveStatus.ERROR):
                    break
        if res.x is None:
            out.append(LevelValue(lv.name, None, lv.unit, res.status.value))
            # keep the last good solution (its levels are met), with this level's message
            last = res if last is None else dataclasses.replace(last, message=res.message)
            break
        value = float(lv.c @ np.asarray(res.x))
        out.append(LevelValue(lv.name, value, lv.unit, res.status.value))
        by_level[lv.name] = res
        last = res
        if res.status is not SolveStatus.OPTIMAL:
            break
        kept.append((lv, value))
        restricted = _restrict(current, lv, res) if not rows else None
        if restricted is not None:
            current = restricted
        else:
            rows.append((lv, value))
    out += [LevelValue(lv.name, None, lv.unit, NOT_SOLVED) for lv in todo[len(out):]]
    return out, last, by_level


def _flows(data: AllocationData, ship: FloatArray) -> pd.DataFrame:
    inst = data.instance
    f = np.flatnonzero(ship > 0)
    u, h = data.f_u[f], data.f_h[f]
    agr = data.h_agreement[h]
    agr_ids = np.array([a.id for a in inst.agreements] + ["", PARENT_AGREEMENT,
                                                           POOLED_AGREEMENT], dtype=object)
    kinds = {fac.id: fac.kind.value for fac in inst.facilities}
    fac = np.array(data.u_facility, dtype=object)[u] if f.size else np.zeros(0, dtype=object)
    q = ship[f]
    return pd.DataFrame({
        "period": data.f_t[f] + 1,
        "arrival_period": data.f_arrival[f] + 1,
        "source": fac,
        "source_kind": [kinds[s] for s in fac],
        "contract": np.array(data.u_contract, dtype=object)[u] if f.size else fac,
        "lender": np.array([r.id for r in inst.regions], dtype=object)[data.h_owner[h]],
        "region": np.array([r.id for r in inst.regions], dtype=object)[data.h_region[h]],
        "commodity": np.array([c.id for c in inst.commodities], dtype=object)[data.u_k[u]],
        "tier": data.h_tier[h],
        "agreement": agr_ids[np.select([agr == OWN, agr == PARENT, agr == POOLED],
                                       [len(inst.agreements) + i for i in range(3)], agr)],
        "quantity": q,
        "distance_km": data.f_distance_km[f],
        "time_h": data.f_time_h[f],
        "time_source": np.asarray(TIME_SOURCES, dtype=object)[data.f_time_source[f]],
        "depart_h": data.f_depart_h[f],
        "arrive_h": data.f_arrive_h[f],
        "transport_cost": q * data.f_cost[f],
        "contract_cost": q * data.u_price[u],
        "compensation": q * data.h_compensation[h],
    }, columns=FLOW_COLUMNS)


def _delivered(data: AllocationData, ship: FloatArray) -> FloatArray:
    """Units arriving per (region, commodity, period)."""
    J, K, T = data.shape
    out = np.zeros((J, K, T))
    np.add.at(out, (data.f_j, data.f_k, data.f_arrival), ship)
    return out


def _fill(data: AllocationData, ship: FloatArray) -> pd.DataFrame:
    inst = data.instance
    T = data.shape[2]
    deliv = _delivered(data, ship)
    cum_d = np.cumsum(data.demand, axis=2)
    cum_x = np.cumsum(deliv, axis=2)
    short = _backlog(data, deliv)
    jj, kk = np.nonzero(data.demand.sum(axis=2) > 0)
    rows = []
    for t in range(T):
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = np.where(cum_d[jj, kk, t] > 0, 1.0 - short[jj, kk, t] / cum_d[jj, kk, t], 1.0)
        rows.append(pd.DataFrame({
            "period": t + 1,
            "region": [inst.regions[j].id for j in jj],
            "commodity": [inst.commodities[k].id for k in kk],
            "demand": data.demand[jj, kk, t],
            "delivered": deliv[jj, kk, t],
            "cum_demand": cum_d[jj, kk, t],
            "cum_delivered": cum_x[jj, kk, t],
            "shortage": short[jj, kk, t],
            "fill_rate": rate,
        }))
    if not rows:
        return pd.DataFrame(columns=FILL_COLUMNS)
    return pd.concat(rows, ignore_index=True)[FILL_COLUMNS]


def _settlement(data: AllocationData, flows: pd.DataFrame) -> pd.DataFrame:
    return settlement_ledger(data.instance, flows)


def settlement_ledger(inst: Instance, flows: pd.DataFrame) -> pd.DataFrame:
    """Who owes whom under the agreements' and contracts' terms for these flows.

    Parameters
    ----------
    inst
        The instance whose contracts name the owner region of each firm.
    flows
        Shipments with the columns ``tier, agreement, region, lender, commodity, quantity,
        compensation, contract, source, contract_cost`` (an allocation's flows, or what a
        review rebuilt from actual deliveries).

    Returns
    -------
    pandas.DataFrame
        The ledger (:data:`SETTLEMENT_COLUMNS`): borrowers owe lenders the agreed
        compensation; the owner region of a contract owes the firm its unit price.
    """
    parts = []
    lent = flows[(flows["tier"] > 0)
                 & ~flows["agreement"].isin([PARENT_AGREEMENT, POOLED_AGREEMENT])]
    if len(lent):
        g = lent.groupby(["region", "lender", "agreement", "commodity"], as_index=False,
                         sort=True)[["quantity", "compensation"]].sum()
        parts.append(pd.DataFrame({"debtor": g["region"], "creditor": g["lender"],
                                   "kind": "agreement", "reference": g["agreement"],
                                   "commodity": g["commodity"], "units": g["quantity"],
                                   "amount": g["compensation"]}))
    drawn = flows[flows["contract"] != ""]
    if len(drawn):
        owner = {c.id: inst.facility(c.facility).region for c in inst.contracts}
        g = drawn.groupby(["contract", "source", "commodity"], as_index=False, sort=True)[
            ["quantity", "contract_cost"]].sum()
        parts.append(pd.DataFrame({"debtor": [owner[c] for c in g["contract"]],
                                   "creditor": g["source"], "kind": "contract",
                                   "reference": g["contract"], "commodity": g["commodity"],
                                   "units": g["quantity"], "amount": g["contract_cost"]}))
    if not parts:
        return pd.DataFrame(columns=SETTLEMENT_COLUMNS)
    return pd.concat(parts, ignore_index=True)[SETTLEMENT_COLUMNS]


def _response(data: AllocationData, ship: FloatArray) -> pd.DataFrame:
    inst = data.instance
    J = len(inst.regions)
    need = data.demand.sum(axis=(1, 2)) > 0
    first = np.full(J, np.inf)
    fastest = np.full(J, np.inf)
    np.minimum.at(fastest, data.f_j, data.f_arrive_h)
    pos = ship > 0
    np.minimum.at(first, data.f_j[pos], data.f_arrive_h[pos])
    js = np.flatnonzero(need)
    std = np.array([inst.settings.response_h(inst.regions[j].level) for j in js])
    return pd.DataFrame({
        "region": [inst.regions[j].id for j in js],
        "level": [inst.regions[j].level for j in js],
        "standard_h": std,
        "first_arrival_h": first[js],
        "fastest_possible_h": fastest[js],
        "met": first[js] <= std + 1e-9,
    }, columns=RESPONSE_COLUMNS)


def _resource_names(data: AllocationData, block: str, rows: npt.NDArray[np.int64],
                    ) -> list[tuple[str, int | None]]:
    """What each constraint row limits, and its (1-based) period where it has one."""
    inst = data.instance
    K, T = len(inst.commodities), data.shape[2]
    kid = [c.id for c in inst.commodities]
    rid = [r.id for r in inst.regions]
    if block == "stock":
        units = np.flatnonzero(~data.u_production)[rows]
        return [(f"contract {data.u_contract[u]} ({kid[data.u_k[u]]} at "
                 f"{data.u_facility[u]})" if data.u_contract[u] else
                 f"stock of {kid[data.u_k[u]]} at {data.u_facility[u]}", None) for u in units]
    if block == "production":
        units = np.flatnonzero(data.u_production)
        return [(f"production of contract {data.u_contract[units[r // T]]} (cumulative)",
                 int(r % T + 1)) for r in rows]
    if block == "cap":
        hs = np.flatnonzero(np.isfinite(data.h_cap))[rows]
        return [(f"cap of agreement {inst.agreements[data.h_agreement[h]].id} on "
                 f"{rid[data.h_owner[h]]} -> {rid[data.h_region[h]]} ({kid[data.h_k[h]]})",
                 None) for h in hs]
    if block == "total_cap":
        th, t_row, _ = total_cap_rows(data)
        first = th[np.unique(t_row, return_index=True)[1]][rows]
        return [(f"total cap of agreement {inst.agreements[data.h_agreement[h]].id} on what "
                 f"{rid[data.h_owner[h]]} gives of {kid[data.h_k[h]]} to all its borrowers",
                 None) for h in first]
    if block == "protect_own":
        f_o = data.h_owner[data.f_h]
        fpro = data.h_protect[data.f_h] & (f_o != data.f_j)
        keys = np.unique(f_o[fpro] * K + data.f_k[fpro])[rows]
        return [(f"{rid[key // K]}'s surplus of {kid[key % K]} over its own need "
                 "(protect_own)", None) for key in keys]
    if block == "route_cap":
        caps = route_cap_rows(data)
        return [(f"trucks of {caps[r][0]} on the day's routes (route cap {caps[r][2]:,.0f} kg)",
                 caps[r][1]) for r in rows]
    # kg rows count load weight: weight, or volume x the trucks' kg per m3 if bulkier
    what = {"fleet_kg": "load weight x hours", "fleet_m3": "volume x hours",
            "fleet_load_kg": "load weight per trip x trips", "fleet_load_m3": "volume per trip x "
            "trips"}[block]
    return [(f"fleet at {data.depot_ids[r // T]} ({what})", int(r % T + 1)) for r in rows]


def _explain(data: AllocationData, layout: Layout, base: MatrixModel, ship: FloatArray,
             by_level: dict[str, SolveResult], solver: str, sopts: SolverOptions,
             stock: Mapping[tuple[str, str], float] | None,
             demand: FloatArray | None = None) -> pd.DataFrame:
    """Why each (region, commodity) is short: no route, too late, binding rows, outages."""
    inst = data.instance
    J, K, T = data.shape
    short = _backlog(data, _delivered(data, ship))
    periods = short.sum(axis=2)
    sj, sk = np.nonzero(periods > 0)
    if not sj.size:
        return pd.DataFrame(columns=EXPLANATION_COLUMNS)
    kid = [c.id for c in inst.commodities]
    rid = [r.id for r in inst.regions]
    recs: list[dict[str, object]] = []

    def add(j: int | np.integer, k: int | np.integer, reason: str, detail: str,
            worth: float | None, unit: str, method: str, period: int | None = None) -> None:
        recs.append({"region": rid[j], "commodity": kid[k], "shortage": short[j, k, T - 1],
                     "shortage_periods": periods[j, k], "reason": reason, "detail": detail,
                     "periods": "" if period is None else str(period), "worth": worth,
                     "worth_unit": unit, "method": method})

    # routes and timing
    has = np.zeros((J, K), dtype=bool)
    has[data.f_j, data.f_k] = True
    earliest = np.full((J, K), T, dtype=np.int64)
    np.minimum.at(earliest, (data.f_j, data.f_k), data.f_arrival)
    first_need = np.argmax(data.demand > 0, axis=2)
    held = data.held
    may = np.zeros((J, K), dtype=bool)  # some region holding k may serve j
    ok_h = held[data.h_owner, data.h_k] > 0
    may[data.h_region[ok_h], data.h_k[ok_h]] = True
    for j, k in zip(sj, sk, strict=True):
        if has[j, k]:
            pass
        elif held[:, k].sum() <= 0:
            add(j, k, "no_route", f"no stock, contract or production of {kid[k]} survived the "
                "event anywhere", None, "", "structure")
        elif not may[j, k]:
            add(j, k, "no_route", f"{rid[j]} holds no {kid[k]} and no agreement or parent "
                f"region lets a region holding it lend to {rid[j]}", None, "", "structure")
        elif (int(j), int(k)) in data.no_day:
            add(j, k, "no_day", data.no_day[(int(j), int(k))], None, "", "structure")
        else:
            add(j, k, "no_route", f"every source allowed to serve {rid[j]} with {kid[k]} is "
                f"cut off or cannot arrive within {T} periods after the event's outages",
                None, "", "structure")
    for j, k in zip(sj, sk, strict=True):
        if not has[j, k]:
            continue
        if earliest[j, k] > first_need[j, k]:
            add(j, k, "late", f"the earliest any source can arrive is period "
                f"{earliest[j, k] + 1} (travel, release and agreement delays), demand starts "
                f"in period {first_need[j, k] + 1}", None, "", "structure")

    # binding resources at each shortage level: what one more unit is worth (LP duals)
    ship0 = base.var_blocks["ship"].start
    for name, res in by_level.items():
        if not name.startswith("shortage") or res.duals is None:
            continue
        for block in layout.resource_blocks:
            b = base.con_blocks[block]
            d = np.asarray(res.duals[b.start:b.stop])
            live = np.flatnonzero(np.abs(d) > 1e-7)
            if not live.size:
                continue
            sub = base.A[b.start:b.stop][live][:, ship0:ship0 + data.f_u.size].tocoo()
            fj, fk = data.f_j[sub.col], data.f_k[sub.col]
            hit = periods[fj, fk] > 0
            if name.startswith("shortage_p"):  # this level prices its own class only
                hit &= data.priority[fk] == int(name.removeprefix("shortage_p"))
            pairs = pd.DataFrame({"row": sub.row[hit], "j": fj[hit], "k": fk[hit]})
            pairs = pairs.drop_duplicates()
            names = _resource_names(data, block, live)
            for r, j, k in pairs.itertuples(index=False):
                worth = -float(d[live[r]])  # the objective falls as the bound rises
                if block.startswith("fleet") or block == "route_cap":
                    per = {"fleet_kg": "kg x h", "fleet_m3": "m3 x h", "fleet_load_kg": "kg",
                           "fleet_load_m3": "m3", "route_cap": "kg"}[block]
                    unit = (f"shortage penalty x periods ({inst.currency} x periods) avoided "
                            f"per extra {per} of fleet capacity")
                else:
                    worth /= float(data.penalty[k]) or 1.0
                    unit = f"units x periods of {kid[k]} shortage avoided per extra unit"
                add(j, k, "binding", names[r][0], worth, unit, "dual", names[r][1])

    # outages: re-solve the shortage levels with each one repaired
    outs = list(dict.fromkeys((og.origin, og.destination) for og in data.event.outages
                              if og.speed_factor < 1.0))[:MAX_OUTAGE_RESOLVES]
    n_short = sum(1 for lv in layout.levels if lv.name.startswith(("fairness", "shortage")))
    for end_a, end_b in outs:
        ev = dataclasses.replace(data.event, outages=tuple(
            og for og in data.event.outages if (og.origin, og.destination) != (end_a, end_b)))
        inst2 = dataclasses.replace(inst, scenarios=(ev,))
        d2 = _prepare(inst2, ev, data.options, stock, demand)
        m2, l2 = build(d2)
        _, r2, _ = _lexicographic(m2.compile(), l2, solver, sopts, _now(),
                                  stop_after=n_short)
        if r2 is None or r2.x is None:
            continue
        s2 = np.asarray(r2.x)[l2.ship]
        short2 = _backlog(d2, _delivered(d2, _clean(s2))).sum(axis=2)
        for j, k in zip(sj, sk, strict=True):
            gain = periods[j, k] - short2[j, k]
            if gain > 1e-6 * max(1.0, periods[j, k]):
                add(j, k, "outage", f"link {end_a} - {end_b} cut or slowed in this event", gain,
                    f"units x periods of {kid[k]} shortage avoided if it were repaired",
                    "re-solve")
    if not recs:
        return pd.DataFrame(columns=EXPLANATION_COLUMNS)
    df = pd.DataFrame(recs, columns=EXPLANATION_COLUMNS)
    # one line per constraint: its periods listed, its largest worth kept
    key = ["region", "commodity", "reason", "detail", "method", "worth_unit"]
    df = (df.groupby(key, sort=False, dropna=False, as_index=False)
          .agg(shortage=("shortage", "first"), shortage_periods=("shortage_periods", "first"),
               periods=("periods", lambda p: ",".join(x for x in p if x)),
               worth=("worth", "max")))[EXPLANATION_COLUMNS]
    return df.sort_values(["region", "commodity", "method", "worth"],
                          ascending=[True, True, True, False], kind="stable",
                          na_position="last").reset_index(drop=True)
