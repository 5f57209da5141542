"""The public entry point: build, solve, read back, explain."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import numpy.typing as npt

from reserve_opt.domain import PARENT_AGREEMENT, Instance
from reserve_opt.solvers import (
    SolveResult,
    SolverOptions,
    SolveStatus,
    available_solvers,
    get_backend,
    solve,
)
from reserve_opt.transport import TIME_SOURCES

from .explain import explain_plan
from .heuristic import primal_start
from .model import PARENT, Layout, PlacementData, build_model, prepare
from .options import PlacementOptions
from .result import (
    ContractDecision,
    CostBreakdown,
    FlowLine,
    Infeasibility,
    OpenedWarehouse,
    PlacementResult,
    SettlementLine,
    ShortageLine,
    StockLine,
    VehicleDecision,
    cvar,
)

_EPS = 1e-7
FloatArray = npt.NDArray[np.float64]

#: Backends that take a MIP start (``MatrixModel.start``); placement computes one for them.
HINTED_SOLVERS = ("highs", "scip")
#: The primal heuristic may use this share of the time limit, and at most this many seconds.
HEURISTIC_SHARE = 0.25
HEURISTIC_MAX_S = 60.0
#: Above this many variables one LP of the dive costs about as much as HiGHS's whole
#: solve of the bundled instances (Georgia, 708k columns: LP 5.9 s, MIP 2.8 s), so no start.
HEURISTIC_MAX_COLUMNS = 250_000


def resolve_solver(solver: str) -> str:
    """The backend that ``solver`` stands for in placement.

    ``"auto"`` is HiGHS (which gets the primal start) when available, else the registry's
    first available MIP solver.
    """
    if solver != "auto":
        return solver
    return "highs" if "highs" in available_solvers() else get_backend("auto").name


def solve_placement(
    instance: Instance,
    options: PlacementOptions | None = None,
    solver: str = "highs",
    solver_options: SolverOptions | None = None,
    data: PlacementData | None = None,
) -> PlacementResult:
    """Plan where to open warehouses, what to stock and which contracts to sign.

    Parameters
    ----------
    instance
        The instance.
    options
        Model options; default :class:`PlacementOptions()` (sharing auto, no response-time
        limit, no service floor, risk neutral, the instance's budget).
    solver
        Solver registry name: ``"highs"`` (default), ``"scip"``, ``"pulp-cbc"``,
        ``"ortools-cbc"`` or ``"auto"``.
    solver_options
        Time limit, gap, threads, seed.
    data
        The arrays prepared from ``instance`` and ``options`` (:func:`prepare`), when the
        caller has them already (``plan`` does, choosing the method).

    Returns
    -------
    PlacementResult
        The plan with its cost breakdown; on a time limit the best plan and its gap; when
        infeasible, an :class:`~models.placement.result.Infeasibility` explanation.
    """
    opts = options or PlacementOptions()
    data = data if data is not None else prepare(instance, opts)
    model, layout = build_model(data, opts)
    compiled = model.compile()
    solver = resolve_solver(solver)
    sopts = solver_options or SolverOptions()
    start_s = 0.0
    message = ""
    if (opts.primal_heuristic and solver in HINTED_SOLVERS and data.size_gov.size
            and compiled.num_variables <= HEURISTIC_MAX_COLUMNS):
        t0 = time.perf_counter()
        limit = sopts.time_limit_s
        budget = HEURISTIC_SHARE * limit if limit is not None else HEURISTIC_MAX_S
        start, start_obj = primal_start(compiled, data, time_budget_s=min(budget,
                                                                          HEURISTIC_MAX_S))
        start_s = time.perf_counter() - t0
        if start is not None:
            compiled = dataclasses.replace(compiled, start=start)
            message = f"; primal start {start_obj:,.2f} from LP diving"
        if limit is not None:
            sopts = dataclasses.replace(sopts, time_limit_s=max(limit - start_s, 0.01))
    res = solve(compiled, solver, sopts)
    base = dict(
        status=res.status, objective=res.objective, bound=res.bound, gap=res.gap,
        mip_gap=sopts.mip_gap,
        solve_seconds=res.solve_seconds + start_s, solver=res.solver, sharing=data.sharing,
        options=opts, message=res.message + message,
        scenario_probabilities=tuple((s.id, s.probability) for s in instance.scenarios),
    )
    if res.has_solution:
        plan = _read_plan(data, layout, res, opts)
        if opts.explain_shortages:
            reasons, budget_use, note = explain_plan(data, layout, compiled, res, sopts)
            plan.update(reasons=reasons, budget_use=budget_use)
            if note:
                base["message"] = f"{base['message']}; {note}"
        return PlacementResult(**base, **plan)  # type: ignore[arg-type]
    infeas = None
    if res.status is SolveStatus.INFEASIBLE and opts.explain_infeasible:
        infeas = explain_infeasibility(data, opts, solver, solver_options)
    return PlacementResult(**base, infeasibility=infeas)  # type: ignore[arg-type]


def _read_plan(data: PlacementData, layout: Layout, res: SolveResult,
               opts: PlacementOptions) -> dict[str, object]:
    lent = res.value("lent") if "lent" in res.var_blocks else None
    return plan_lines(data, layout, opts, y=res.value("open"), buy=res.value("buy"),
                      u=res.value("sign"), x=res.value("flow"), z=res.value("unused"),
                      w=res.value("short"), lent=lent,
                      hire=res.value("hire") if "hire" in res.var_blocks else None)


def plan_lines(data: PlacementData, layout: Layout, opts: PlacementOptions, *,
               y: FloatArray, buy: FloatArray, u: FloatArray, x: FloatArray, z: FloatArray,
               w: FloatArray, lent: FloatArray | None,
               hire: FloatArray | None = None) -> dict[str, object]:
    """The plan's lines and costs from the model's values (extensive form or decomposition).

    Parameters
    ----------
    data, layout, opts
        The prepared data, where the demand pairs sit, the options.
    y, buy, u
        Sizes opened (L,), units added (G, K), contracts held (C,).
    x, z, w
        Flows (one per flow candidate), unused stock (S, G, K), shortage per demand pair.
    lent
        Units lent per scenario and lending triple (S, T), or ``None`` (pooled).
    hire
        Fleet rows held (V,), or ``None``: as the instance signs them.

    Returns
    -------
    dict
        The plan fields of :class:`PlacementResult`.
    """
    inst = data.instance
    S, _, K = data.shape
    G = data.n_gov
    P = data.prob
    kid = [c.id for c in inst.commodities]
    rid = [r.id for r in inst.regions]
    sid = [s.id for s in inst.scenarios]
    buy = np.maximum(buy, 0.0)
    x = np.maximum(x, 0.0)
    w = np.maximum(w, 0.0)

    opened = tuple(
        OpenedWarehouse(data.gov_ids[g], rid[data.gov_region[g]], data.size_label[i],
                        float(data.size_capacity[i]), float(data.size_cost[i]))
        for i, g in enumerate(data.size_gov) if y[i] > 0.5
    )
    stock = tuple(
        StockLine(data.gov_ids[g], kid[k], float(data.existing[g, k]), float(buy[g, k]),
                  float(data.existing[g, k] + buy[g, k]))
        for g in range(G) for k in range(K)
        if data.existing[g, k] + buy[g, k] > _EPS
    )
    contracts = tuple(
        ContractDecision(c.id, c.facility, c.commodity, c.signed, bool(u[i] > 0.5), c.retainer)
        for i, c in enumerate(inst.contracts)
    )
    if hire is None:
        hire = np.array([float(v.signed) for v in inst.fleet])
    vehicles = tuple(
        VehicleDecision(v.id, v.depot, v.provider, v.count, v.capacity_kg, v.signed,
                        bool(hire[i] > 0.5), v.retainer)
        for i, v in enumerate(inst.fleet))
    keep = np.flatnonzero(x > _EPS)
    src = data.arcs.source_ids
    fk = data.f_k
    con_of_unit = [None] * (G * K) + list(data.con_ids)
    flows = tuple(
        FlowLine(sid[data.f_s[f]], src[data.f_src[f]], con_of_unit[data.f_u[f]],
                 rid[data.f_j[f]], kid[fk[f]], float(x[f]), float(data.f_dist[f]),
                 float(data.f_time[f]), float(data.f_delay[f]), float(data.f_cost[f]),
                 float(data.f_price[f]), TIME_SOURCES[data.f_source[f]])
        for f in keep
    )
    shortages = tuple(
        ShortageLine(sid[s], rid[j], kid[k], float(q), float(wi), float(1.0 - wi / q))
        for s, j, k, q, wi in zip(layout.demand_s, layout.demand_j, layout.demand_k,
                                  layout.demand_q, w, strict=True)
    )
    settlement: list[SettlementLine] = []
    comp_total = 0.0
    if lent is not None:
        lent = np.maximum(lent, 0.0)
        exp = P @ lent
        agg: dict[tuple[int, int, int, int], float] = {}
        for t in range(exp.size):
            key = (int(data.tri_agreement[t]), int(data.tri_lender[t]),
                   int(data.tri_borrower[t]), int(data.tri_k[t]))
            agg[key] = agg.get(key, 0.0) + float(exp[t])
        for (a, o, j, k), q in agg.items():
            if q <= _EPS:
                continue
            if a == PARENT:  # a parent region's help is free
                settlement.append(SettlementLine(PARENT_AGREEMENT, rid[o], rid[j], kid[k], q,
                                                 0.0, 0.0))
                continue
            ag = inst.agreements[a]
            settlement.append(SettlementLine(ag.id, rid[o], rid[j], kid[k], q,
                                             ag.compensation, q * ag.compensation))
            comp_total += q * ag.compensation
    loss = np.bincount(layout.demand_s, weights=data.penalty[layout.demand_k] * w, minlength=S)
    second = loss + np.bincount(data.f_s, weights=(data.f_cost + data.f_price) * x,
                                minlength=S) + (z * data.holding[None, None, :]).sum(axis=(1, 2))
    costs = CostBreakdown(
        currency=inst.currency,
        fixed=float(data.size_cost @ y) if y.size else 0.0,
        purchase=float((buy * data.purchase[None, :]).sum()),
        retainer=(float(data.con_retainer @ u) if u.size else 0.0)
        + sum(d.retainer for d in vehicles if d.signed),
        transport=float((P[data.f_s] * data.f_cost * x).sum()),
        unit_prices=float((P[data.f_s] * data.f_price * x).sum()),
        holding=float((P[:, None, None] * data.holding[None, None, :] * z).sum()),
        shortage=float(P @ loss),
        cvar_shortage=cvar(loss, P, opts.cvar_level),
        cvar_second_stage=cvar(second, P, opts.cvar_level),
        expected_compensation=comp_total,
    )
    return dict(opened=opened, stock=stock, contracts=contracts, vehicles=vehicles, flows=flows,
                shortages=shortages, settlement=tuple(settlement), costs=costs)


def explain_infeasibility(data: PlacementData, options: PlacementOptions, solver: str,
                          solver_options: SolverOptions | None) -> Infeasibility:
    """Say which regions, budget or capacity make the model infeasible.

    The model is re-solved with nonnegative slacks on the space, budget and service-level
    rows, minimising their sum normalised by each row's scale (capacity, budget, expected
    demand); every slack left positive is a binding cause.

    Parameters
    ----------
    data, options
        The prepared model data and options.
    solver, solver_options
        As for :func:`solve_placement`.

    Returns
    -------
    Infeasibility
    """
    inst = data.instance
    method = "elastic re-solve: slacks on space, budget and service-level rows"
    model, layout = build_model(data, options, elastic=True)
    res = solve(model, solver, solver_options)
    if not res.has_solution:
        return Infeasibility(method, (
            f"The elastic re-solve ended {res.status.value!r} ({res.message}); the cause is "
            "outside the space, budget and service-level rows.",))
    msgs: list[str] = []
    S, J, K = data.shape
    rid = [r.id for r in inst.regions]
    kid = [c.id for c in inst.commodities]
    unserved: list[tuple[str, str, float, float, float]] = []
    if "slack_service" in res.var_blocks and options.service_level is not None:
        sl = res.value("slack_service")
        ed = np.einsum("s,sjk->jk", data.prob, data.demand)
        # reachability bound: demand in scenarios with at least one usable source
        reach = np.zeros((S, J, K), dtype=bool)
        reach[data.f_s, data.f_j, data.f_k] = True
        reach_ed = np.einsum("s,sjk->jk", data.prob, data.demand * reach)
        w = res.value("short")
        ew = np.zeros((J, K))
        np.add.at(ew, (layout.demand_j, layout.demand_k), data.prob[layout.demand_s] * w)
        for i in np.flatnonzero(sl > 1e-6 * np.maximum(ed[layout.sl_j, layout.sl_k], 1.0)):
            j, k = layout.sl_j[i], layout.sl_k[i]
            got = 1.0 - ew[j, k] / ed[j, k]
            bound = reach_ed[j, k] / ed[j, k]
            unserved.append((rid[j], kid[k], options.service_level, float(got), float(bound)))
            why = (f"no usable source reaches it in scenarios holding "
                   f"{100 * (1 - bound):.1f}% of its expected demand"
                   + (" within the response time" if options.response_time else "")
                   + (" under the agreements" if data.sharing == "agreements" else "")
                   if bound < options.service_level else
                   "budget or capacity does not allow enough stock")
            msgs.append(f"Region {rid[j]!r} cannot reach a {100 * options.service_level:.1f}% "
                        f"expected fill rate for {kid[k]!r} (best found "
                        f"{100 * got:.1f}%, reachability bound {100 * bound:.1f}%): {why}.")
    shortfall = None
    if "slack_budget" in res.var_blocks:
        b = float(res.value("slack_budget")[0])
        if b > 1e-6:
            shortfall = b
            msgs.append(f"The budget {data.budget:,.2f} {inst.currency} binds: the elastic "
                        f"plan needs {b:,.2f} more.")
    overflow: list[tuple[str, float]] = []
    if "slack_space" in res.var_blocks:
        sp = res.value("slack_space")
        sp_g = np.flatnonzero(data.gov_candidate | np.isfinite(data.gov_capacity))
        for i in np.flatnonzero(sp > 1e-6):
            g = sp_g[i]
            overflow.append((data.gov_ids[g], float(sp[i])))
            msgs.append(f"Warehouse {data.gov_ids[g]!r} lacks {sp[i]:,.3f} m3 of space "
                        "(existing stock over its capacity, or the largest size too small).")
    if not msgs:
        msgs.append("The elastic re-solve needed no slack; the solver's infeasibility verdict "
                    "may be numerical.")
    return Infeasibility(method, tuple(msgs), tuple(unserved), shortfall, tuple(overflow))
