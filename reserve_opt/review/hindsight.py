"""Hindsight: the allocation the engine would have made with what is known now.

The event is rebuilt from the actuals: the requests per region, commodity and day as
demand (day by day, not spread by a profile), the government stock held less what was found
damaged, the damage of firms' stock, and the roads found cut. Without a damage survey or a
road survey the matched scenario's damage or outages stand in (the review says so). The
engine's allocation (:func:`reserve_opt.models.allocation.solve_allocation`, explained as
``allocate`` explains) is then scored by the same rules as what was done, with the
deliveries from outside the plan (donations, purchases) added to both: they happened either
way. The engine does not know of them, so the savings are a conservative figure.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from reserve_opt.domain import FacilityKind, Instance, Outage, Scenario
from reserve_opt.models.allocation import AllocationOptions, AllocationResult, solve_allocation
from reserve_opt.solvers import SolverOptions

from .actuals import PLANNED_CHANNELS, Actuals
from .compare import (
    agreement_use,
    arrivals,
    by_commodity,
    contract_use,
    fill_table,
    horizon_days,
    paid_by_kind,
    request_table,
    response_table,
    surviving_shares,
    usable_stock,
)

__all__ = ["Hindsight", "hindsight", "known_event"]


@dataclass(frozen=True, eq=False)
class Hindsight:
    """The engine's allocation with what is known now, against what was done.

    Attributes
    ----------
    allocation
        The engine's allocation (flows, explanations, status).
    fill
        Its fill per day, region and commodity (outside-plan deliveries included).
    by_commodity
        Its totals per commodity.
    response
        Its first arrivals against the standards.
    savings
        Per commodity: never delivered, late (units x days) and fill rate, actual and
        hindsight, and what better coordination would have saved.
    costs
        Money terms (currency): actual, hindsight, saved.
    decisions
        Where the engine's shipments differ from what was done, largest first.
    notes
        What stood in for missing actuals.
    """

    allocation: AllocationResult
    fill: pd.DataFrame = field(repr=False)
    by_commodity: pd.DataFrame = field(repr=False)
    response: pd.DataFrame = field(repr=False)
    savings: pd.DataFrame = field(repr=False)
    costs: pd.DataFrame = field(repr=False)
    decisions: pd.DataFrame = field(repr=False)
    notes: tuple[str, ...] = ()


def known_event(instance: Instance, actuals: Actuals,
                stock: Mapping[tuple[str, str], float],
                ) -> tuple[Scenario, dict[tuple[str, str], float], list[str]]:
    """The event as known now, the stock to allocate, and what stood in for missing data.

    Returns
    -------
    tuple
        The scenario (demand = total requests), the government stock less the damage found
        (when surveyed), and notes.
    """
    notes: list[str] = []
    base = instance.scenario(actuals.scenario) if actuals.scenario else None
    demand: dict[tuple[str, str], float] = {}
    for r in actuals.requests:
        key = (r["region"], r["commodity"])
        demand[key] = demand.get(key, 0.0) + float(r["quantity"])
    if "damaged" in actuals.present:
        # government stock: less the units found damaged (exact per commodity); firms'
        # stock contracts: their facility's surviving share
        damage = {f: v for f, v in surviving_shares(instance, stock, actuals).items()
                  if instance.facility(f).kind is not FacilityKind.GOVERNMENT_WAREHOUSE
                  and v < 1.0}
        left = usable_stock(instance, stock, actuals)
    else:
        damage = dict(base.damage) if base else {}
        left = dict(stock)
        notes.append(f"damage: scenario {base.id}'s, no survey" if base else
                     "damage: none known (no survey, no scenario)")
    if "cuts" in actuals.present:
        outages = tuple(Outage(c["from"], c["to"], float(c["speed_factor"]))
                        for c in actuals.cuts)
    else:
        outages = base.outages if base else ()
        notes.append(f"outages: scenario {base.id}'s, no road survey" if base else
                     "outages: none known (no road survey, no scenario)")
    ev = Scenario(id=actuals.event, name=actuals.name, probability=1.0,
                  hazard=base.hazard if base else "", days=actuals.days,
                  demand={k: q for k, q in demand.items() if q > 0}, damage=damage,
                  outages=outages)
    return ev, left, notes


def _period_demand(instance: Instance, actuals: Actuals, days: int) -> np.ndarray:
    out = np.zeros((len(instance.regions), len(instance.commodities), days))
    for r in actuals.requests:
        out[instance.region_index[r["region"]], instance.commodity_index[r["commodity"]],
            int(r["day"]) - 1] += float(r["quantity"])
    return out


def _planned_by_route(actuals: Actuals) -> pd.DataFrame:
    d = arrivals(actuals, PLANNED_CHANNELS)
    return (d.groupby(["source", "region", "commodity"], as_index=False)
            .agg(units=("quantity", "sum"), first_h=("arrive_h", "min")))


def _decisions(actual: pd.DataFrame, engine: pd.DataFrame) -> pd.DataFrame:
    cols = ["source", "region", "commodity", "actual_units", "hindsight_units",
            "difference_units", "actual_first_arrive_h", "hindsight_first_arrive_h", "detail"]
    eng = (engine.groupby(["source", "region", "commodity"], as_index=False)
           .agg(units=("quantity", "sum"), first_h=("arrive_h", "min")))
    m = actual.merge(eng, on=["source", "region", "commodity"], how="outer",
                     suffixes=("_a", "_h"))
    rows = []
    for r in m.to_dict(orient="records"):
        a = 0.0 if pd.isna(r["units_a"]) else float(r["units_a"])
        h = 0.0 if pd.isna(r["units_h"]) else float(r["units_h"])
        fa = math.inf if pd.isna(r["first_h_a"]) else float(r["first_h_a"])
        fh = math.inf if pd.isna(r["first_h_h"]) else float(r["first_h_h"])
        diff = h - a
        if abs(diff) <= 1e-6 and abs(fa - fh) <= 1e-6:
            continue
        route = f"{r['commodity']} from {r['source']} to {r['region']}"
        if a <= 1e-6:
            detail = f"the engine sends {h:,.0f} {route} (none was sent)"
        elif h <= 1e-6:
            detail = f"the engine sends no {route} ({a:,.0f} were sent)"
        elif abs(diff) > 1e-6:
            detail = (f"the engine sends {abs(diff):,.0f} {'more' if diff > 0 else 'fewer'} "
                      f"{route} ({h:,.0f} instead of {a:,.0f})")
        else:
            detail = f"the engine sends the same {h:,.0f} {route}"
        if math.isfinite(fa) and math.isfinite(fh) and abs(fa - fh) > 1e-6:
            detail += f", first arriving at {fh:.1f} h instead of {fa:.1f} h"
        rows.append({"source": r["source"], "region": r["region"],
                     "commodity": r["commodity"], "actual_units": a, "hindsight_units": h,
                     "difference_units": diff, "actual_first_arrive_h": fa,
                     "hindsight_first_arrive_h": fh, "detail": detail})
    out = pd.DataFrame(rows, columns=cols)
    if out.empty:
        return out
    order = out["difference_units"].abs().sort_values(ascending=False, kind="stable").index
    return out.loc[order].reset_index(drop=True)


def hindsight(instance: Instance, actuals: Actuals, stock: Mapping[tuple[str, str], float],
              actual_by_commodity: pd.DataFrame, *, solver: str = "highs",
              solver_options: SolverOptions | None = None) -> Hindsight:
    """Allocate the event as known now and compare it with what was done.

    Parameters
    ----------
    instance
        The instance (with a plan's contracts signed when reviewing a plan).
    actuals
        What happened.
    stock
        Government stock held when the event struck, (facility, commodity) -> units.
    actual_by_commodity
        What was done, per commodity (:func:`~reserve_opt.review.compare.by_commodity`).
    solver, solver_options
        The LP solver and its limits.

    Returns
    -------
    Hindsight
    """
    days = horizon_days(actuals)
    ev, left, notes = known_event(instance, actuals, stock)
    opts = AllocationOptions(periods=days, period_h=24.0)
    res = solve_allocation(instance, ev, opts, solver=solver, solver_options=solver_options,
                           stock=left, demand=_period_demand(instance, actuals, days))
    outside = arrivals(actuals, ["donation", "purchase"])
    flows = res.flows
    engine = flows[["region", "commodity", "quantity", "arrive_h"]]
    both = pd.concat([engine, outside[["region", "commodity", "quantity", "arrive_h"]]],
                     ignore_index=True) if len(outside) else engine
    req = request_table(actuals)
    fill = fill_table(req, both, days)
    per = by_commodity(instance, fill)
    resp = response_table(instance, req, both)
    act = actual_by_commodity.set_index("commodity")
    hin = per.set_index("commodity")
    rows = []
    for k in act.index:
        a, h = act.loc[k], hin.loc[k]
        rows.append({"commodity": k, "unit": a["unit"],
                     "never_delivered_actual": a["never_delivered"],
                     "never_delivered_hindsight": h["never_delivered"],
                     "never_delivered_saved": a["never_delivered"] - h["never_delivered"],
                     "late_unit_days_actual": a["late_unit_days"],
                     "late_unit_days_hindsight": h["late_unit_days"],
                     "late_unit_days_saved": a["late_unit_days"] - h["late_unit_days"],
                     "fill_rate_actual": a["fill_rate"], "fill_rate_hindsight": h["fill_rate"]})
    savings = pd.DataFrame(rows)
    c = res.costs()
    paid = paid_by_kind(actuals)
    known = "costs" in actuals.present
    due_contracts = float(contract_use(instance, actuals)["due"].sum())
    nan = math.nan
    purchases = paid.get("purchase", 0.0) if known else nan
    transport = paid.get("transport", 0.0) if known else nan
    terms = [
        ("contract unit prices (due under the terms)", due_contracts, c["contract_prices"]),
        ("transport", transport, c["transport"]),
        ("purchases outside the plan (kept in hindsight)", purchases, purchases),
    ]
    spent_a = sum(t[1] for t in terms)
    spent_h = sum(t[2] for t in terms)
    terms.append(("money spent", spent_a, spent_h))
    comp_due = float(agreement_use(instance, usable_stock(instance, stock, actuals),
                                   actuals)["due"].sum())
    terms.append(("(transfer) compensation between regions", comp_due,
                  c["compensation_transfer"]))
    costs = pd.DataFrame([{"term": t, "actual": a, "hindsight": h, "saved": a - h}
                          for t, a, h in terms],
                         columns=["term", "actual", "hindsight", "saved"])
    if not known:
        notes.append("money: transport and purchases unknown (no costs.csv), so money spent "
                     "is not compared")
    return Hindsight(allocation=res, fill=fill, by_commodity=per, response=resp,
                     savings=savings, costs=costs,
                     decisions=_decisions(_planned_by_route(actuals), flows),
                     notes=tuple(notes))
