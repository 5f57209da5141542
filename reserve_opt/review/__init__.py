"""After the event: review what happened against the plan, and learn from it.

:func:`read_actuals` reads and checks an event's actuals (``actuals.py``);
:func:`review` compares them with the plan (``compare.py``) and with the allocation the
engine would have made with what is known now (``hindsight.py``), and returns a
:class:`Review` of plain tables (pandas DataFrames) that a report can lay out;
:func:`learn` recalibrates the instance from one or more reviewed events and
:func:`variant_text` writes that as a variant file (``learn.py``). See ``models/review.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from reserve_opt.domain import FacilityKind, Instance
from reserve_opt.errors import InputError
from reserve_opt.solvers import SolverOptions

from .actuals import ACTUAL_TABLES, ACTUALS_FORMAT, CHANNELS, Actuals, read_actuals
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
    settlement_table,
    stock_use,
    usable_stock,
)
from .hindsight import Hindsight, hindsight
from .learn import Learning, learn, variant_text

__all__ = [
    "ACTUALS_FORMAT",
    "ACTUAL_TABLES",
    "CHANNELS",
    "Actuals",
    "Hindsight",
    "Learning",
    "Review",
    "held_stock",
    "learn",
    "read_actuals",
    "review",
    "variant_text",
]


@dataclass(frozen=True, eq=False)
class Review:
    """One event reviewed: every table of plan vs actual and of hindsight.

    Quantities are in each commodity's own unit, money in ``currency``, times in hours after
    the event's start, days 1-based (day 1 = the first 24 h).

    Attributes
    ----------
    event, name, scenario
        The event, its display name and the instance scenario it resembles (or ``None``).
    currency
        ISO 4217 code of money columns.
    days
        Days the review covers.
    notes
        What is missing from the actuals and what follows from it; what stood in for it.
    fill
        Requested, delivered and owed per day, region and commodity.
    by_commodity
        Totals per commodity: requested, delivered, never delivered, late (units x days),
        fill rate.
    response
        First arrival per region against its 6/8/10 h standard.
    stock_use, contract_use, agreement_use
        Pre-positioned stock, contracts and agreements: held, drawn, within caps.
    settlement
        Due under the terms next to what was paid.
    paid
        Money paid per kind (``costs.csv``).
    hindsight
        The engine's allocation with what is known now, or ``None`` when it found none.
    """

    event: str
    name: str
    scenario: str | None
    currency: str
    days: int
    notes: tuple[str, ...]
    fill: pd.DataFrame = field(repr=False)
    by_commodity: pd.DataFrame = field(repr=False)
    response: pd.DataFrame = field(repr=False)
    stock_use: pd.DataFrame = field(repr=False)
    contract_use: pd.DataFrame = field(repr=False)
    agreement_use: pd.DataFrame = field(repr=False)
    settlement: pd.DataFrame = field(repr=False)
    paid: dict[str, float] = field(default_factory=dict)
    hindsight: Hindsight | None = None

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table by file stem (hindsight ones prefixed ``hindsight_``)."""
        out = {"fill": self.fill, "by_commodity": self.by_commodity,
               "response": self.response, "stock_use": self.stock_use,
               "contract_use": self.contract_use, "agreement_use": self.agreement_use,
               "settlement": self.settlement}
        h = self.hindsight
        if h is not None:
            out |= {"hindsight_savings": h.savings, "hindsight_costs": h.costs,
                    "hindsight_decisions": h.decisions, "hindsight_fill": h.fill,
                    "hindsight_response": h.response, "hindsight_flows": h.allocation.flows,
                    "hindsight_explanations": h.allocation.explanations}
        return out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary: every table as records (non-finite figures become null)."""
        h = self.hindsight
        return {
            "event": self.event, "name": self.name, "scenario": self.scenario,
            "currency": self.currency, "days": self.days, "notes": list(self.notes),
            "paid": self.paid,
            **{name: _records(df) for name, df in self.tables().items()
               if not name.startswith("hindsight_")},
            "hindsight": None if h is None else {
                "status": h.allocation.status.value, "notes": list(h.notes),
                "savings": _records(h.savings), "costs": _records(h.costs),
                "decisions": _records(h.decisions), "by_commodity": _records(h.by_commodity),
                "response": _records(h.response),
                "explanations": _records(h.allocation.explanations)},
        }


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for rec in df.to_dict(orient="records"):
        out.append({str(k): (v.item() if hasattr(v, "item") else v) for k, v in rec.items()})
    return out


def held_stock(instance: Instance) -> dict[tuple[str, str], float]:
    """The instance's government stock, (facility, commodity) -> units."""
    return {(f.id, c): q for f in instance.facilities
            if f.kind is FacilityKind.GOVERNMENT_WAREHOUSE for c, q in f.stock.items()}


def _check_damage(stock: Mapping[tuple[str, str], float], instance: Instance,
                  actuals: Actuals) -> None:
    held = dict(stock)
    for c in instance.contracts:
        if c.signed and c.kind.value == "stock":
            held[(c.facility, c.commodity)] = held.get((c.facility, c.commodity), 0.0) + \
                c.quantity
    problems = []
    for i, r in enumerate(actuals.damaged):
        q = held.get((r["facility"], r["commodity"]), 0.0)
        if r["quantity"] > q + 1e-6:
            problems.append(f"damaged.csv line {i + 2}: {r['quantity']:g} units of "
                            f"{r['commodity']} found damaged at {r['facility']}, which held "
                            f"{q:g}; give at most what it held (with --plan, the plan's stock)")
    if problems:
        raise InputError(problems)


def review(instance: Instance, actuals: Actuals,
           stock: Mapping[tuple[str, str], float] | None = None, *,
           with_hindsight: bool = True, solver: str = "highs",
           solver_options: SolverOptions | None = None) -> Review:
    """Review one event: plan vs actual, and the engine's allocation in hindsight.

    Parameters
    ----------
    instance
        The instance (with a plan's contracts signed, as
        :func:`reserve_opt.models.allocation.read_plan` returns it, to review a plan).
    actuals
        The event as it happened (:func:`read_actuals`).
    stock
        Government stock held when it struck, (facility, commodity) -> units; default the
        instance's stock.
    with_hindsight
        Also solve the hindsight allocation.
    solver, solver_options
        LP solver for the hindsight.

    Returns
    -------
    Review
    """
    held = held_stock(instance) if stock is None else dict(stock)
    _check_damage(held, instance, actuals)
    days = horizon_days(actuals)
    req = request_table(actuals)
    arr = arrivals(actuals)
    fill = fill_table(req, arr, days)
    per = by_commodity(instance, fill)
    notes = list(actuals.missing())
    if actuals.scenario is None:
        notes.append("no scenario named in actuals.toml: the hindsight takes damage and "
                     "outages only from the surveys, and nothing is learned about them")
    outside = arr[arr["channel"].isin(["donation", "purchase"])]
    if len(outside):
        notes.append(f"{len(outside)} deliver{'y' if len(outside) == 1 else 'ies'} came "
                     "from outside the plan (donations, purchases); they count in the fill "
                     "rates of both what was done and the hindsight")
    asked = set(zip(req.loc[req["quantity"] > 0, "region"],
                    req.loc[req["quantity"] > 0, "commodity"], strict=True))
    stray = arr[[(a, b) not in asked for a, b in zip(arr["region"], arr["commodity"],
                                                    strict=True)]]
    if len(stray):
        where = ", ".join(sorted(set(stray["region"] + " " + stray["commodity"])))
        notes.append(f"{len(stray)} deliveries ({where}) went where requests.csv lists no "
                     "request for that commodity; they count in no fill rate")
    h = None
    if with_hindsight:
        h = hindsight(instance, actuals, held, per, solver=solver,
                      solver_options=solver_options)
        if not h.allocation.has_plan:
            notes.append(f"hindsight: the engine found no allocation "
                         f"({h.allocation.status.value}: {h.allocation.message})")
            h = None
    return Review(
        event=actuals.event, name=actuals.name, scenario=actuals.scenario,
        currency=instance.currency, days=days, notes=tuple(notes), fill=fill,
        by_commodity=per, response=response_table(instance, req, arr),
        stock_use=stock_use(instance, held, actuals),
        contract_use=contract_use(instance, actuals),
        agreement_use=agreement_use(instance, usable_stock(instance, held, actuals), actuals),
        settlement=settlement_table(instance, actuals), paid=paid_by_kind(actuals),
        hindsight=h)


