"""Whatif and sweep runs of the allocation model (one event, day by day)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reserve_opt.domain import Instance
    from reserve_opt.models.allocation import AllocationResult
    from reserve_opt.solvers import SolverOptions
    from reserve_opt.variants.run import RunOptions

ALLOCATION_COST_TERMS = ("transport", "contract_prices", "compensation_transfer")
"""Cost terms of an allocation (currency); compensation is a transfer between regions."""

_UNITS_EPS = 0.5


def solve_event(inst: Instance, opts: RunOptions,
                solver_options: SolverOptions) -> AllocationResult:
    """Solve the allocation of ``opts.scenario`` on ``inst``."""
    from reserve_opt.models.allocation import AllocationOptions, solve_allocation

    aopts = AllocationOptions() if opts.periods is None else AllocationOptions(
        periods=opts.periods)
    assert opts.scenario is not None
    return solve_allocation(inst, opts.scenario, aopts, solver=opts.solver,
                            solver_options=solver_options)


def allocation_summary(inst: Instance, res: AllocationResult) -> dict[str, Any]:
    """The figures of one allocation run, in the shape of a plan summary.

    ``expected_demand`` / ``expected_shortage`` hold the event's demand and the units not
    delivered by the end of the horizon (no expectation: one event); ``shipped`` is units
    per source and commodity, ``lent`` units per agreement.
    """
    out: dict[str, Any] = {
        "status": res.status.value, "objective": res.objective, "gap": res.gap,
        "currency": inst.currency, "solve_seconds": res.solve_seconds,
        "cost_terms": list(ALLOCATION_COST_TERMS),
        "costs": None, "expected_demand": {}, "expected_shortage": {}, "fill_rate": {},
        "fill_rate_by_region": {}, "lowest_fill_rate": None, "shipped": {}, "lent": {},
    }
    if not res.has_plan:
        return out
    costs = res.costs()
    out["costs"] = {k: float(costs.get(k, 0.0)) for k in ALLOCATION_COST_TERMS}
    fin = res.final()
    for c in inst.commodities:
        g = fin[fin["commodity"] == c.id]
        demand = float(g["demand"].sum())
        short = float(g["shortage"].sum())
        out["expected_demand"][c.id] = demand
        out["expected_shortage"][c.id] = short
        out["fill_rate"][c.id] = 1.0 - short / demand if demand > 0 else None
    by_region: dict[str, dict[str, float]] = {}
    for r in fin.itertuples():
        if float(r.demand) > 0:
            by_region.setdefault(str(r.region), {})[str(r.commodity)] = float(r.fill_rate)
    out["fill_rate_by_region"] = by_region
    rates = [v for d in by_region.values() for v in d.values()]
    out["lowest_fill_rate"] = min(rates) if rates else None
    shipped: dict[str, dict[str, float]] = {}
    lent: dict[str, float] = {}
    for f in res.flows.itertuples():
        q = float(f.quantity)
        d = shipped.setdefault(str(f.source), {})
        d[str(f.commodity)] = d.get(str(f.commodity), 0.0) + q
        if getattr(f, "agreement", ""):
            lent[str(f.agreement)] = lent.get(str(f.agreement), 0.0) + q
    out["shipped"] = shipped
    out["lent"] = lent
    return out


def allocation_diff(base: dict[str, Any], variant: dict[str, Any]) -> dict[str, Any]:
    """What the variant's allocation does differently.

    Units shipped per source and lent per agreement, as records and sentences.
    """
    lines: list[str] = []
    shipped = []
    bs, vs = base.get("shipped") or {}, variant.get("shipped") or {}
    for s in sorted(set(bs) | set(vs)):
        for c in sorted(set(bs.get(s, {})) | set(vs.get(s, {}))):
            b, v = bs.get(s, {}).get(c, 0.0), vs.get(s, {}).get(c, 0.0)
            if abs(v - b) >= _UNITS_EPS:
                shipped.append({"source": s, "commodity": c, "base": b, "variant": v,
                                "change": v - b})
    for item in sorted(shipped, key=lambda x: -abs(x["change"]))[:8]:
        lines.append(f"{item['source']} ships {item['change']:+,.0f} units of "
                     f"{item['commodity']}")
    lent = []
    bl, vl = base.get("lent") or {}, variant.get("lent") or {}
    for a in sorted(set(bl) | set(vl)):
        b, v = bl.get(a, 0.0), vl.get(a, 0.0)
        if abs(v - b) >= _UNITS_EPS:
            lent.append({"agreement": a, "base": b, "variant": v, "change": v - b})
            lines.append(f"agreement {a}: {v - b:+,.0f} units lent")
    if not lines and base.get("costs") is not None and variant.get("costs") is not None:
        lines.append("same shipments as the base")
    return {"shipped": shipped, "lent": lent, "lines": lines}
