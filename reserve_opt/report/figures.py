"""The figures a report shows: a plan's (solved now, or read and checked) and an event's."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from reserve_opt.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

    from reserve_opt.models.placement.result import PlacementResult

#: Cost terms of a plan, in the order the report lists them (CostBreakdown's fields).
PLAN_COST_TERMS = ("fixed", "purchase", "retainer", "transport", "unit_prices", "holding",
                   "shortage", "expected_compensation")


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


def plan_figures(plan: PlacementResult) -> PlanFigures:
    """A plan's figures, from the plan itself.

    A plan read from a folder is rebuilt and checked first
    (:meth:`~reserve_opt.models.placement.result.PlacementResult.from_dict`, and the
    independent checker in :func:`~reserve_opt.models.allocation.read_plan`), so what is
    drawn here is what was checked.

    Parameters
    ----------
    plan
        A placement result with a plan.

    Returns
    -------
    PlanFigures
        The figures.

    Raises
    ------
    InputError
        When the result carries no plan.
    """
    if plan.costs is None or plan.objective is None:
        raise InputError(f"the plan holds no solution (status {plan.status.value}); give the "
                         "folder of a plan that found one")
    costs = plan.costs.to_dict()
    return PlanFigures(
        status=plan.status.value, solver=plan.solver, seconds=plan.solve_seconds,
        objective=plan.objective, costs={k: float(costs[k]) for k in PLAN_COST_TERMS},
        opened=[asdict(o) for o in plan.opened], stock=[asdict(o) for o in plan.stock],
        contracts=[asdict(o) for o in plan.contracts], fill=plan.expected_fill_rates(),
        settlement=[asdict(o) for o in plan.settlement])
