"""Whatif runs of routing: one event's allocation, one day of it on vehicles.

A route run does what ``reserve-opt route PATH --scenario ID --period N`` does, through
the same library calls: solve the event's allocation over ``N`` days (or ``periods``),
take day ``N``'s deliveries, build the routing problem
(:func:`~reserve_opt.models.routing.from_allocation`), solve it with the routing engine
and a fixed seed, and check that every delivery is on a route or unmet with a reason
(:func:`~reserve_opt.models.routing.check_deliveries`). Its JSON result has the keys of
``reserve-opt route --format json`` (and the allocation's figures in the summary), so a
whatif run of a variant equals a ``route`` run of the patched instance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

    import pandas as pd

    from reserve_opt.domain import Instance
    from reserve_opt.models.allocation import AllocationResult
    from reserve_opt.models.routing import DeliveryCheck, DeliveryProblem, RoutingResult
    from reserve_opt.solvers import SolverOptions
    from reserve_opt.variants.run import RunOptions

_UNITS_EPS = 0.5
"""Load differences below half a unit are solver noise, not a change of plan."""

_EPS = 1e-9

_DEPOT_LINES = 8
"""Depot load changes shown as sentences, largest first (the JSON has every one)."""


@dataclass(frozen=True, eq=False)
class RouteRun:
    """One route run: the allocation and, when it has a plan, the routing of one day.

    Attributes
    ----------
    instance
        The instance routed (base or patched).
    scenario, period
        The event and the day routed (1-based).
    allocation
        The event's allocation.
    plan
        The routing problem built from the day's deliveries (``None`` without an
        allocation plan).
    result
        The routing engine's result (``None`` likewise).
    verdict
        The delivery checker's verdict: totals delivered and unmet (units).
    report
        Every delivery per receiving point: ``delivered`` and ``unmet`` units, ``reason``.
    """

    instance: Instance
    scenario: str
    period: int
    allocation: AllocationResult
    plan: DeliveryProblem | None = None
    result: RoutingResult | None = None
    verdict: DeliveryCheck | None = None
    report: pd.DataFrame | None = None

    @property
    def status(self) -> str:
        """Routing status: ``solved``, ``partial``, ``no_solution``.

        The allocation's solver status instead when it has no plan.
        """
        from reserve_opt.models.routing import routed_status

        if self.plan is None or self.result is None:
            return str(self.allocation.status.value)
        return str(routed_status(self.plan, self.result).value)

    def to_dict(self) -> dict[str, Any]:
        """The run as the keys of ``reserve-opt route --format json``.

        Routing cost (currency), distance (km), vehicles used, delivered and unmet units,
        every unmet delivery with its reason, notes; ``allocation_status`` besides.
        """
        inst = self.instance
        out: dict[str, Any] = {"status": self.status, "instance": inst.name,
                               "scenario": self.scenario, "period": self.period,
                               "currency": inst.currency,
                               "allocation_status": str(self.allocation.status.value)}
        if self.plan is None or self.result is None or self.verdict is None:
            return out
        assert self.report is not None
        res = self.result
        unmet = self.report[self.report["unmet"] > _EPS]
        out.update({
            "engine": res.engine, "cost": res.cost, "distance": res.distance,
            "vehicles_used": res.vehicles_used, "runtime_s": res.runtime_s, "seed": res.seed,
            "checked": True, "loads": self.plan.problem.n_clients,
            "deliveries": len(self.plan.deliveries),
            "delivered_units": self.verdict.delivered, "unmet_units": self.verdict.unmet,
            "unserved": [{"delivery": int(r["delivery"]), "source": r["source"],
                          "region": r["region"], "point": r["point"],
                          "commodity": r["commodity"], "unmet_units": float(r["unmet"]),
                          "reason": r["reason"]} for r in unmet.to_dict("records")],
            "notes": list(self.plan.notes),
        })
        return out

    def tables(self) -> dict[str, pd.DataFrame]:
        """Tables by file stem.

        The allocation's ``flows``, ``deliveries`` (per point, delivered and unmet units,
        reason), ``unmet`` (its unmet rows) and ``routes`` (one row per vehicle: km, cost,
        stops, kg and m3 delivered).
        """
        out = {"flows": self.allocation.flows}
        if self.plan is not None and self.result is not None and self.report is not None:
            from reserve_opt.models.routing import route_lines

            out["deliveries"] = self.report
            out["unmet"] = self.report[self.report["unmet"] > _EPS]
            out["routes"] = route_lines(self.plan, self.result).drop(columns="geometry")
        return out


def route_event(inst: Instance, opts: RunOptions, solver_options: SolverOptions, *,
                stock: Mapping[tuple[str, str], float] | None = None) -> RouteRun:
    """Allocate ``opts.scenario`` on ``inst`` and route day ``opts.period`` of it.

    The allocation covers ``opts.periods`` days, by default the routed day's
    (``reserve-opt route`` solves it so: day 1 of a one-day horizon, not of three). The
    routing uses the default :class:`~reserve_opt.models.routing.DeliveryOptions`,
    ``opts.engine``, ``opts.route_time_limit_s`` (or ``opts.route_max_iterations``) and
    ``opts.route_seed``. ``stock`` replaces the warehouses' stock (a plan's, as
    ``allocate --plan`` reads it).

    Raises
    ------
    SolverError
        When the independent delivery checker rejects the routes.
    """
    from reserve_opt.errors import SolverError
    from reserve_opt.models.allocation import AllocationOptions, solve_allocation
    from reserve_opt.models.routing import (
        DeliveryOptions,
        check_deliveries,
        delivery_report,
        from_allocation,
        solve,
    )

    assert opts.scenario is not None
    periods = opts.periods if opts.periods is not None else opts.period
    alloc = solve_allocation(inst, opts.scenario, AllocationOptions(periods=periods),
                             solver=opts.solver, solver_options=solver_options, stock=stock)
    if not alloc.has_plan:
        return RouteRun(inst, opts.scenario, opts.period, alloc)
    plan = from_allocation(inst, alloc.deliveries(opts.period), opts.scenario,
                           period=opts.period, options=DeliveryOptions())
    result = solve(plan.problem, opts.engine, time_limit_s=opts.route_time_limit_s,
                   seed=opts.route_seed, max_iterations=opts.route_max_iterations)
    verdict = check_deliveries(plan, result)
    if not verdict.ok:
        raise SolverError(f"{inst.name}: the independent checker rejected the routes: "
                          + "; ".join(verdict.violations))
    return RouteRun(inst, opts.scenario, opts.period, alloc, plan, result, verdict,
                    delivery_report(plan, result))


def route_summary(inst: Instance, run: RouteRun) -> dict[str, Any]:
    """The figures of one route run, in the shape of an allocation summary.

    ``objective`` is the routing cost (currency); ``costs`` is ``None`` when nothing was
    routed (no allocation plan, or no routing solution). Besides the allocation's
    ``expected_demand``, ``expected_shortage`` (units at the end of its horizon) and
    ``fill_rate`` (per commodity and region), it holds ``distance_km``,
    ``vehicles_used``, ``delivered_units`` and ``unmet_units`` (totals) with
    ``delivered_units_by_commodity`` and ``unmet_units_by_commodity``,
    ``unmet_deliveries`` (how many deliveries per point are unmet) and
    ``unmet_reasons`` (reason -> that count), and ``depot_units`` (shipping facility ->
    commodity -> units delivered on its routes).
    """
    from reserve_opt.variants.allocate import allocation_summary

    alloc = allocation_summary(inst, run.allocation)
    doc = run.to_dict()
    out: dict[str, Any] = {
        "status": run.status, "objective": doc.get("cost"), "gap": None,
        "currency": inst.currency,
        "solve_seconds": (alloc["solve_seconds"] or 0.0) + (doc.get("runtime_s") or 0.0),
        "cost_terms": [], "costs": None, "scenario": run.scenario, "period": run.period,
        "allocation_status": alloc["status"], "allocation_objective": alloc["objective"],
        "expected_demand": alloc["expected_demand"],
        "expected_shortage": alloc["expected_shortage"], "fill_rate": alloc["fill_rate"],
        "fill_rate_by_region": alloc["fill_rate_by_region"],
        "lowest_fill_rate": alloc["lowest_fill_rate"],
        "engine": doc.get("engine"), "distance_km": doc.get("distance"),
        "vehicles_used": doc.get("vehicles_used"), "loads": doc.get("loads"),
        "deliveries": doc.get("deliveries"), "delivered_units": doc.get("delivered_units"),
        "unmet_units": doc.get("unmet_units"), "delivered_units_by_commodity": {},
        "unmet_units_by_commodity": {}, "unmet_deliveries": 0, "unmet_reasons": {},
        "depot_units": {},
    }
    if run.report is None or run.result is None:
        return out
    if run.status != "no_solution":
        out["costs"] = {}
    report = run.report
    for c in inst.commodities:
        rows = report[report["commodity"] == c.id]
        out["delivered_units_by_commodity"][c.id] = float(rows["delivered"].sum())
        out["unmet_units_by_commodity"][c.id] = float(rows["unmet"].sum())
    unmet = doc["unserved"]
    out["unmet_deliveries"] = len(unmet)
    reasons: dict[str, int] = {}
    for u in unmet:
        reasons[u["reason"]] = reasons.get(u["reason"], 0) + 1
    out["unmet_reasons"] = reasons
    depots: dict[str, dict[str, float]] = {}
    for source, commodity, units in zip(report["source"], report["commodity"],
                                        report["delivered"], strict=True):
        if float(units) > _EPS:
            d = depots.setdefault(str(source), {})
            d[str(commodity)] = d.get(str(commodity), 0.0) + float(units)
    out["depot_units"] = depots
    return out


def route_diff(base: dict[str, Any], variant: dict[str, Any]) -> dict[str, Any]:
    """What the variant's routes do differently from the base's.

    Returns
    -------
    dict
        ``vehicles`` (base, variant, change), ``unmet_units`` (base, variant, change;
        units), ``cost`` (base, variant, change; currency), ``depots``: shipping
        facilities whose delivered units of a commodity differ by half a unit or more
        (``base``, ``variant``, ``change``), and ``lines``: the same in sentences (the
        largest depot changes only).
    """
    def change(key: str) -> dict[str, Any]:
        b, v = base.get(key), variant.get(key)
        return {"base": b, "variant": v,
                "change": None if b is None or v is None else v - b}

    vehicles, unmet, cost = (change("vehicles_used"), change("unmet_units"),
                             change("objective"))
    lines: list[str] = []
    if vehicles["change"]:
        lines.append(f"{vehicles['change']:+d} vehicles ({vehicles['variant']} in all)")
    if unmet["change"] is not None and abs(unmet["change"]) >= _UNITS_EPS:
        lines.append(f"{unmet['change']:+,.0f} units unmet ({unmet['variant']:,.0f} in all)")
    if cost["change"] is not None and abs(cost["change"]) >= 0.005:
        lines.append(f"routing cost {cost['change']:+,.2f} {variant.get('currency', '')}"
                     .rstrip())
    depots = []
    bd, vd = base.get("depot_units") or {}, variant.get("depot_units") or {}
    for f in sorted(set(bd) | set(vd)):
        for c in sorted(set(bd.get(f, {})) | set(vd.get(f, {}))):
            b, v = bd.get(f, {}).get(c, 0.0), vd.get(f, {}).get(c, 0.0)
            if abs(v - b) >= _UNITS_EPS:
                depots.append({"depot": f, "commodity": c, "base": b, "variant": v,
                               "change": v - b})
    moves = sorted(depots, key=lambda d: -abs(d["change"]))
    lines += [f"{d['depot']} loads {d['change']:+,.0f} units of {d['commodity']}"
              for d in moves[:_DEPOT_LINES]]
    if len(moves) > _DEPOT_LINES:
        lines.append(f"and {len(moves) - _DEPOT_LINES} more depot loads changed (all in the "
                     "JSON diff's depots)")
    if not lines and base.get("costs") is not None and variant.get("costs") is not None:
        lines.append("same vehicles, loads and unmet units as the base")
    return {"vehicles": vehicles, "unmet_units": unmet, "cost": cost, "depots": depots,
            "lines": lines}
