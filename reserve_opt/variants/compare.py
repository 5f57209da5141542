"""Summaries of model runs and what changed between a base run and a variant run.

A *summary* is a JSON-ready dict of the figures a planner compares: status, objective,
cost terms (currency), expected demand and shortage per commodity (units), fill rates
(fractions) per commodity and per region, and the plan itself in a form that can be
diffed (warehouses opened, stock per warehouse, contracts held). :func:`summary_row`
flattens it to one table row, the row of ``whatif --format csv`` and of a sweep's table.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reserve_opt.domain import Instance
    from reserve_opt.models.placement import PlacementResult

COST_TERMS = ("fixed", "purchase", "retainer", "transport", "unit_prices", "holding",
              "shortage", "total", "expected_compensation")
"""Cost terms of a plan (currency), in the order they are shown."""

_UNITS_EPS = 0.5
"""Stock differences below half a unit are solver noise, not a change of plan."""


def _round(x: float) -> float:
    return float(round(x, 9))


def plan_summary(inst: Instance, result: PlacementResult) -> dict[str, Any]:
    """The figures of one placement run, JSON-ready.

    Parameters
    ----------
    inst
        The instance that was solved (base or patched).
    result
        Its placement result.

    Returns
    -------
    dict
        ``status, objective, gap, currency, costs`` (currency, or ``None`` without a plan),
        ``cost_terms`` (names of the cost terms), ``expected_demand`` and
        ``expected_shortage`` (units per commodity), ``fill_rate``
        (per commodity), ``fill_rate_by_region`` (region -> commodity -> fraction),
        ``lowest_fill_rate``, ``opened`` (facility -> size), ``stock`` (facility ->
        commodity -> units), ``contracts_held`` (contract -> bool).
    """
    out: dict[str, Any] = {
        "status": result.status.value, "objective": result.objective, "gap": result.gap,
        "currency": inst.currency, "solve_seconds": result.solve_seconds,
        "cost_terms": list(COST_TERMS), "costs": None, "expected_demand": {},
        "expected_shortage": {}, "fill_rate": {},
        "fill_rate_by_region": {}, "lowest_fill_rate": None, "opened": {}, "stock": {},
        "contracts_held": {},
    }
    if result.costs is None:
        return out
    costs = result.costs.to_dict()
    out["costs"] = {k: costs[k] for k in COST_TERMS}
    fill = result.expected_fill_rates()
    for c in inst.commodities:
        rows = fill[fill["commodity"] == c.id]
        demand = float(rows["expected_demand"].sum())
        short = float(rows["expected_shortage"].sum())
        out["expected_demand"][c.id] = _round(demand)
        out["expected_shortage"][c.id] = _round(short)
        out["fill_rate"][c.id] = _round(1.0 - short / demand) if demand > 0 else None
    by_region: dict[str, dict[str, float]] = {}
    for r in fill.itertuples():
        by_region.setdefault(str(r.region), {})[str(r.commodity)] = _round(float(r.fill_rate))
    out["fill_rate_by_region"] = by_region
    rates = [v for d in by_region.values() for v in d.values()]
    out["lowest_fill_rate"] = min(rates) if rates else None
    out["opened"] = {o.facility: o.size for o in result.opened}
    stock: dict[str, dict[str, float]] = {}
    for s in result.stock:
        stock.setdefault(s.facility, {})[s.commodity] = _round(s.total)
    out["stock"] = stock
    out["contracts_held"] = {d.contract: bool(d.signed) for d in result.contracts}
    return out


def summary_row(name: str, summary: dict[str, Any],
                commodities: Sequence[str]) -> dict[str, Any]:
    """One flat row of a summary: the columns of ``whatif --format csv`` and of sweeps.

    Money columns are in the row's ``currency``; ``expected_shortage_units_<c>`` in the
    commodity's unit; ``fill_rate_<c>`` and ``lowest_fill_rate`` are fractions 0-1. A
    route run's row (its ``objective`` is the routing cost) adds ``distance_km``,
    ``vehicles_used``, ``loads``, ``delivered_units`` and ``unmet_units`` (totals and
    ``_<c>`` per commodity, in its unit) and ``unmet_deliveries`` (a count).
    """
    costs = summary.get("costs") or {}
    row: dict[str, Any] = {
        "name": name, "status": summary["status"], "currency": summary.get("currency"),
        "objective": summary.get("objective"), "gap": summary.get("gap"),
    }
    for term in summary.get("cost_terms", COST_TERMS):
        row[f"cost_{term}"] = costs.get(term)
    for c in commodities:
        row[f"expected_shortage_units_{c}"] = summary["expected_shortage"].get(c)
    for c in commodities:
        row[f"fill_rate_{c}"] = summary["fill_rate"].get(c)
    row["lowest_fill_rate"] = summary.get("lowest_fill_rate")
    if "distance_km" in summary:
        for key in ("distance_km", "vehicles_used", "loads", "delivered_units",
                    "unmet_units"):
            row[key] = summary.get(key)
        for key in ("delivered_units", "unmet_units"):
            for c in commodities:
                row[f"{key}_{c}"] = (summary.get(f"{key}_by_commodity") or {}).get(c)
        row["unmet_deliveries"] = summary.get("unmet_deliveries")
    if "opened" in summary:
        row["warehouses_opened"] = len(summary.get("opened") or {})
        row["contracts_held"] = sum(bool(v) for v in
                                    (summary.get("contracts_held") or {}).values())
    row["solve_seconds"] = summary.get("solve_seconds")
    return row


def region_fill(summary: dict[str, Any]) -> dict[str, float]:
    """Region -> its lowest expected fill rate over commodities (fraction)."""
    return {r: min(d.values()) for r, d in (summary.get("fill_rate_by_region") or {}).items()
            if d}


def plan_diff(base: dict[str, Any], variant: dict[str, Any]) -> dict[str, Any]:
    """What the variant's plan does differently from the base plan.

    Returns
    -------
    dict
        ``opened``: facilities whose opening differs (``base``/``variant`` size or
        ``None``); ``stock``: warehouse and commodity totals that differ by half a unit
        or more (units); ``stock_by_commodity``: totals and change per commodity (units);
        ``contracts``: contracts held in one plan and not the other (``None`` where the
        contract does not exist); ``lines``: the same in sentences.
    """
    lines: list[str] = []
    opened = []
    bo, vo = base.get("opened") or {}, variant.get("opened") or {}
    for f in sorted(set(bo) | set(vo)):
        if bo.get(f) != vo.get(f):
            opened.append({"facility": f, "base": bo.get(f), "variant": vo.get(f)})
            if f not in bo:
                lines.append(f"opens {f} ({vo[f]})")
            elif f not in vo:
                lines.append(f"does not open {f} (base: {bo[f]})")
            else:
                lines.append(f"builds {f} {vo[f]} instead of {bo[f]}")
    stock = []
    bs, vs = base.get("stock") or {}, variant.get("stock") or {}
    by_commodity: dict[str, dict[str, float]] = {}
    for f in sorted(set(bs) | set(vs)):
        for c in sorted(set(bs.get(f, {})) | set(vs.get(f, {}))):
            b, v = bs.get(f, {}).get(c, 0.0), vs.get(f, {}).get(c, 0.0)
            t = by_commodity.setdefault(c, {"base": 0.0, "variant": 0.0})
            t["base"] += b
            t["variant"] += v
            if abs(v - b) >= _UNITS_EPS:
                stock.append({"facility": f, "commodity": c, "base": b, "variant": v,
                              "change": _round(v - b)})
    for c, t in by_commodity.items():
        t["change"] = _round(t["variant"] - t["base"])
        moves = sorted((s for s in stock if s["commodity"] == c),
                       key=lambda s: -abs(s["change"]))
        if moves:
            top = ", ".join(f"{s['facility']} {s['change']:+,.0f}" for s in moves[:3])
            more = f" and {len(moves) - 3} more" if len(moves) > 3 else ""
            lines.append(f"stock of {c}: {t['change']:+,.0f} units in all ({top}{more})")
    contracts = []
    bc, vc = base.get("contracts_held") or {}, variant.get("contracts_held") or {}
    for k in sorted(set(bc) | set(vc)):
        b_held, v_held = bc.get(k), vc.get(k)
        if bool(b_held) != bool(v_held):
            contracts.append({"contract": k, "base": b_held, "variant": v_held})
            lines.append(f"{'holds' if v_held else 'does not hold'} contract {k}"
                         + ("" if k in bc and k in vc else
                            " (added by the variant)" if k not in bc else
                            " (removed by the variant)"))
    if not lines and base.get("costs") is not None and variant.get("costs") is not None:
        lines.append("same warehouses, stock and contracts as the base")
    return {"opened": opened, "stock": stock, "stock_by_commodity": by_commodity,
            "contracts": contracts, "lines": lines}


def finite(x: Any) -> float | None:
    """``x`` as a float, or ``None`` when missing or not finite."""
    if x is None:
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None
