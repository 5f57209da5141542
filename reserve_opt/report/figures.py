"""The figures a report shows, read from a plan's JSON and an event's results.

A plan reaches the report as the JSON ``reserve-opt plan`` writes (``solution.json``, or
``PlacementResult.to_dict()`` of a plan solved now): one path for both, checked here so a
folder edited by hand is refused in one line rather than drawn wrong.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reserve_opt.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

    from reserve_opt.domain import Instance

#: Cost terms of a plan, in the order the report lists them (CostBreakdown's fields).
PLAN_COST_TERMS = ("fixed", "purchase", "retainer", "transport", "unit_prices", "holding",
                   "shortage", "expected_compensation")
_FIX = "give the solution.json that 'reserve-opt plan --out DIR' wrote"


def percent(fraction: float | None) -> str | None:
    """A share (0-1) as a percentage with one decimal: 0.9671 -> ``96.7%``.

    A share just below 1 shows ``99.9%``, never a rounded ``100.0%`` that hides a shortage.

    Parameters
    ----------
    fraction
        The share, or ``None``/NaN for none.

    Returns
    -------
    str or None
        The text, or ``None`` without a share.
    """
    if fraction is None or (isinstance(fraction, float) and math.isnan(fraction)):
        return None
    # 1e-9: solver noise on a full delivery is not a shortage
    short = fraction < 1 - 1e-9
    value = math.floor(fraction * 1000 + 1e-6) / 10 if short else round(fraction * 100, 1)
    return f"{value:.1f}%"


def money(value: float | None, currency: str = "") -> str:
    """Money rounded to the currency unit, ``1,234 CNY``; empty without a value."""
    if value is None or not math.isfinite(value):
        return ""
    text = f"{round(value) + 0.0:,.0f}"  # + 0.0: a -0.3 rounds to 0, not "-0"
    return f"{text} {currency}".rstrip()


def units(value: float | None) -> str:
    """Goods to the unit, ``12,345``; empty without a value."""
    return money(value)


def hours(value: float | None) -> str:
    """Hours with one decimal; ``inf`` as the word ``never`` is the caller's (None here)."""
    if value is None or not math.isfinite(value):
        return ""
    return f"{max(value, 0.0):,.1f}"


@dataclass(frozen=True)
class PlanFigures:
    """What a report shows of a plan (all checked numbers).

    Attributes
    ----------
    status, solver
        The solve's status and solver.
    seconds
        Solve time, seconds.
    objective
        Money + penalty (+ risk term), currency.
    costs
        Each of :data:`PLAN_COST_TERMS`, currency.
    opened
        Warehouses to open: facility, region, size, capacity_m3, fixed_cost.
    stock
        Government stock lines: facility, commodity, existing, added, total (units).
    contracts
        Contract decisions: contract, facility, commodity, signed_before, signed, retainer.
    fill
        Expected demand, shortage (units) and fill rate per region and commodity.
    settlement
        Expected compensation per agreement line.
    """

    status: str
    solver: str
    seconds: float
    objective: float
    costs: dict[str, float]
    opened: list[dict[str, Any]] = field(default_factory=list)
    stock: list[dict[str, Any]] = field(default_factory=list)
    contracts: list[dict[str, Any]] = field(default_factory=list)
    fill: pd.DataFrame | None = None
    settlement: list[dict[str, Any]] = field(default_factory=list)

    @property
    def money_spent(self) -> float:
        """Fixed + purchase + retainers + expected transport, unit prices and holding."""
        return sum(self.costs[k] for k in PLAN_COST_TERMS[:6])

    @property
    def risk_term(self) -> float:
        """Objective beyond money + penalty: lambda x CVaR (0 when risk neutral)."""
        return self.objective - self.money_spent - self.costs["shortage"]

    def region_fill(self) -> dict[str, float]:
        """Region -> its lowest expected fill rate over commodities (fraction)."""
        if self.fill is None or self.fill.empty:
            return {}
        return {str(k): float(v) for k, v in self.fill.groupby("region")["fill_rate"].min()
                .items()}

    def overall_fill(self) -> float | None:
        """Expected units delivered over expected demand, over every region and commodity."""
        if self.fill is None or self.fill.empty:
            return None
        demand = float(self.fill["expected_demand"].sum())
        return None if demand <= 0 else 1.0 - float(self.fill["expected_shortage"].sum()) / demand


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        shown = repr(value)
        shown = shown if len(shown) <= 40 else shown[:37] + "..."
        raise InputError(f"{where} is {shown}, not a finite number; {_FIX}")
    return float(value)


def _rows(doc: dict[str, Any], key: str, source: str, names: dict[str, set[str]],
          numbers: tuple[str, ...]) -> list[dict[str, Any]]:
    """``doc[key]`` as a list of objects whose ids are known and whose numbers are finite."""
    rows = doc.get(key, [])
    if not isinstance(rows, list):
        raise InputError(f"{source}: '{key}' is not a list; {_FIX}")
    out = []
    for i, row in enumerate(rows, start=1):
        where = f"{source}: {key} line {i}"
        if not isinstance(row, dict):
            raise InputError(f"{where} is not an object; {_FIX}")
        for col, known in names.items():
            if row.get(col) not in known:
                shown = repr(row.get(col))
                shown = shown if len(shown) <= 40 else shown[:37] + "..."
                raise InputError(f"{where} names {col} {shown}, which the instance does not "
                                 "have; was the plan made for another instance?")
        out.append({**row, **{n: _number(row.get(n), f"{where}: {n}") for n in numbers}})
    return out


def plan_figures(doc: Any, source: str, inst: Instance) -> PlanFigures:
    """A plan's figures from its JSON, every field the report uses checked.

    Parameters
    ----------
    doc
        The plan's JSON (``solution.json`` or ``PlacementResult.to_dict()``).
    source
        How messages name it (the file).
    inst
        The instance it was made for (ids are checked against it).

    Returns
    -------
    PlanFigures
        The figures.

    Raises
    ------
    InputError
        One line naming the file and the field: a plan without a solution, a number that
        is not finite, an id the instance does not have.
    """
    import pandas as pd

    if not isinstance(doc, dict):
        raise InputError(f"{source}: is not a JSON object; {_FIX}")
    costs = doc.get("costs")
    if costs is None:
        raise InputError(f"{source}: holds no plan (status {doc.get('status')!s:.40}); give "
                         "the folder of a plan that found one")
    if not isinstance(costs, dict):
        raise InputError(f"{source}: 'costs' is not an object; {_FIX}")
    terms = {k: _number(costs.get(k), f"{source}: costs.{k}") for k in PLAN_COST_TERMS}
    objective = _number(doc.get("objective"), f"{source}: objective")
    seconds = doc.get("solve_seconds", 0.0)
    regions = {r.id for r in inst.regions}
    commodities = {c.id for c in inst.commodities}
    facilities = {f.id for f in inst.facilities}
    scenarios = {s.id for s in inst.scenarios}
    opened = _rows(doc, "opened", source, {"facility": facilities},
                   ("capacity_m3", "fixed_cost"))
    stock = _rows(doc, "stock", source, {"facility": facilities, "commodity": commodities},
                  ("existing", "added", "total"))
    contracts = _rows(doc, "contracts", source,
                      {"contract": {c.id for c in inst.contracts}}, ("retainer",))
    shortages = _rows(doc, "shortages", source, {"scenario": scenarios, "region": regions,
                                                 "commodity": commodities},
                      ("demand", "shortage"))
    settlement = _rows(doc, "settlement", source, {"lender": regions, "borrower": regions},
                       ("expected_units", "expected_compensation"))
    probs = doc.get("scenario_probabilities", {})
    if not isinstance(probs, dict):
        raise InputError(f"{source}: 'scenario_probabilities' is not an object; {_FIX}")
    p = {str(k): _number(v, f"{source}: scenario_probabilities.{k}") for k, v in probs.items()}
    missing = sorted({str(r["scenario"]) for r in shortages} - set(p))
    if missing:
        raise InputError(f"{source}: scenario_probabilities has no {missing[0]}; {_FIX}")
    from reserve_opt.models.placement.result import expected_fill

    fill = expected_fill(pd.DataFrame(shortages, columns=["scenario", "region", "commodity",
                                                          "demand", "shortage"]), p)
    return PlanFigures(status=str(doc.get("status", "")), solver=str(doc.get("solver", "")),
                       seconds=seconds if isinstance(seconds, int | float) else 0.0,
                       objective=objective, costs=terms, opened=opened, stock=stock,
                       contracts=contracts, fill=fill, settlement=settlement)
