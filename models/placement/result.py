"""The frozen answer of the placement model."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from reserve_opt.errors import InputError
from reserve_opt.io.records import record, records
from reserve_opt.solvers import SolveStatus

from .options import PlacementOptions


def cvar(losses: npt.ArrayLike, probs: npt.ArrayLike, beta: float) -> float:
    """Conditional value at risk of a discrete loss: mean of the worst ``1 - beta`` tail.

    Parameters
    ----------
    losses
        Loss of each scenario.
    probs
        Probability of each scenario (sums to 1).
    beta
        Confidence level in [0, 1).

    Returns
    -------
    float
        ``min_eta eta + E[(loss - eta)+] / (1 - beta)`` (Rockafellar-Uryasev).
    """
    loss = np.asarray(losses, dtype=np.float64)
    p = np.asarray(probs, dtype=np.float64)
    if loss.size == 0:
        return 0.0
    # the minimum over eta is attained at a scenario loss: try each
    cand = loss[:, None]
    vals = cand[:, 0] + (p[None, :] * np.maximum(loss[None, :] - cand, 0.0)).sum(1) / (1 - beta)
    return float(vals.min())


@dataclass(frozen=True, slots=True)
class CostBreakdown:
    """Cost terms of a plan, all in ``currency``.

    Attributes
    ----------
    currency
        ISO 4217 code.
    fixed
        Fixed costs of opened candidate warehouses.
    purchase
        Purchase of stock added to government warehouses (existing stock is not bought).
    retainer
        Retainers of every contract held (already signed and signed now): enterprise
        contracts and logistics contracts for trucks.
    transport
        Expected transport cost, sum_s P_s sum c x.
    unit_prices
        Expected price paid for units drawn from enterprise contracts.
    holding
        Expected holding cost of unused government stock.
    shortage
        Expected shortage penalty.
    cvar_shortage
        CVaR at the options' level of the scenario shortage penalty (reported always).
    cvar_second_stage
        CVaR at the options' level of the scenario second-stage cost (transport, unit
        prices, holding, shortage): the risk term, ``objective = total + lambda x this``
        (reported always).
    expected_compensation
        Expected compensation paid between regions under agreements: a transfer, not in the
        system objective.
    """

    currency: str
    fixed: float
    purchase: float
    retainer: float
    transport: float
    unit_prices: float
    holding: float
    shortage: float
    cvar_shortage: float
    cvar_second_stage: float
    expected_compensation: float

    @property
    def first_stage(self) -> float:
        """Fixed + purchase + retainer."""
        return self.fixed + self.purchase + self.retainer

    @property
    def expected_second_stage(self) -> float:
        """Expected transport + unit prices + holding + shortage."""
        return self.transport + self.unit_prices + self.holding + self.shortage

    @property
    def total(self) -> float:
        """Expected total cost (the objective when risk neutral)."""
        return self.first_stage + self.expected_second_stage

    def objective(self, risk_weight: float) -> float:
        """The placement objective: ``total + risk_weight x cvar_second_stage``."""
        return self.total + risk_weight * self.cvar_second_stage

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict, with the first-stage, second-stage and total sums."""
        d = asdict(self)
        d.update(first_stage=self.first_stage, expected_second_stage=self.expected_second_stage,
                 total=self.total)
        return d


@dataclass(frozen=True, slots=True)
class OpenedWarehouse:
    """A candidate warehouse opened at one size.

    Attributes
    ----------
    facility, region, size
        The warehouse, its region and the size option chosen (ids).
    capacity_m3
        Storage volume of that size, m3.
    fixed_cost
        Its fixed cost (building, annualised), currency.
    """

    facility: str
    region: str
    size: str
    capacity_m3: float
    fixed_cost: float


@dataclass(frozen=True, slots=True)
class StockLine:
    """Stock of one commodity at one government warehouse.

    Attributes
    ----------
    facility, commodity
        The warehouse and commodity (ids).
    existing
        Units held before the plan, the commodity's unit.
    added
        Units the plan buys, the commodity's unit.
    total
        Units held after the plan (existing + added), the commodity's unit.
    """

    facility: str
    commodity: str
    existing: float
    added: float
    total: float


@dataclass(frozen=True, slots=True)
class ContractDecision:
    """Whether a contract is held after the plan.

    Attributes
    ----------
    contract, facility, commodity
        The contract, the firm's facility and the commodity (ids).
    signed_before
        Whether it was in force before the plan.
    signed
        Whether it is held after the plan.
    retainer
        Its retainer (paid whether or not it is drawn on), currency.
    """

    contract: str
    facility: str
    commodity: str
    signed_before: bool
    signed: bool
    retainer: float


@dataclass(frozen=True, slots=True)
class VehicleDecision:
    """Whether a fleet row is held after the plan: own vehicles, or a logistics contract.

    ``provider`` is the logistics firm (``None`` for the government's own vehicles);
    ``count`` vehicles of ``capacity_kg`` kg each report at ``depot``; ``retainer`` is
    the fee for having them on call (currency).
    """

    vehicle: str
    depot: str
    provider: str | None
    count: int
    capacity_kg: float
    signed_before: bool
    signed: bool
    retainer: float


@dataclass(frozen=True, slots=True)
class FlowLine:
    """Units shipped in one scenario from a source to a region.

    Attributes
    ----------
    scenario, source, region, commodity
        Ids.
    contract
        The enterprise contract drawn on, or ``None`` for government stock.
    quantity
        Units shipped, the commodity's unit.
    distance_km, time_h, delay_h
        Travel distance (km), travel time and the source's release delay (hours).
    unit_cost
        Transport cost, currency per unit.
    unit_price
        The contract's price, currency per unit (0 for government stock).
    time_source
        Where the arc's time came from (``table``, ``road``, ``links``,
        ``geodesic``: :data:`reserve_opt.transport.TIME_SOURCES`).
    """

    scenario: str
    source: str
    contract: str | None
    region: str
    commodity: str
    quantity: float
    distance_km: float
    time_h: float
    delay_h: float
    unit_cost: float
    unit_price: float
    time_source: str


@dataclass(frozen=True, slots=True)
class ShortageLine:
    """Demand, shortage and fill rate of one region and commodity in one scenario.

    Attributes
    ----------
    scenario, region, commodity
        Ids.
    demand, shortage
        Units needed and units not delivered, the commodity's unit.
    fill_rate
        Share of demand delivered, a fraction 0-1 (1 - shortage / demand).
    """

    scenario: str
    region: str
    commodity: str
    demand: float
    shortage: float
    fill_rate: float


@dataclass(frozen=True, slots=True)
class SettlementLine:
    """Expected units lent under an agreement and the compensation owed (borrower -> lender).

    Attributes
    ----------
    agreement, lender, borrower, commodity
        Ids (``(parent region)`` for a parent's lending outside any agreement).
    expected_units
        Units lent, weighted by scenario probability, the commodity's unit.
    compensation_per_unit
        Currency per unit lent.
    expected_compensation
        Expected currency the borrower owes the lender: a transfer between regions, not
        money spent.
    """

    agreement: str
    lender: str
    borrower: str
    commodity: str
    expected_units: float
    compensation_per_unit: float
    expected_compensation: float


@dataclass(frozen=True, slots=True)
class ShortageReason:
    """One reason why a region is expected to be short of a commodity.

    ``reason`` is ``structure`` (no source can reach it in some scenarios), ``binding`` (a
    constraint binds: the budget, a warehouse's space) or ``cost`` (holding more costs more
    than the expected penalty it avoids); ``worth`` is what one more unit of the binding
    resource lowers the expected cost by, in ``worth_unit`` (``None`` for structure).
    ``expected_shortage`` is in the commodity's unit.
    """

    region: str
    commodity: str
    expected_shortage: float
    reason: str
    detail: str
    worth: float | None
    worth_unit: str


@dataclass(frozen=True, slots=True)
class BudgetUse:
    """New first-stage spending against the budget (currency).

    ``binding`` when the budget is spent (or its dual is nonzero); ``worth`` is how much
    the expected cost falls per unit of currency added to the budget (0 when not binding).
    """

    budget: float
    spent: float
    binding: bool
    worth: float


@dataclass(frozen=True, slots=True)
class Infeasibility:
    """Why a plan does not exist, found by an elastic re-solve.

    Attributes
    ----------
    method
        How it was found (``"elastic re-solve: ..."``).
    messages
        One sentence per binding cause.
    unserved
        (region, commodity, required fill rate, fill rate reached in the elastic solve,
        upper bound from reachability alone).
    budget_shortfall
        Extra budget the elastic solve needed, currency, or ``None``.
    space_overflow
        (facility, m3 over capacity) pairs.
    """

    method: str
    messages: tuple[str, ...]
    unserved: tuple[tuple[str, str, float, float, float], ...] = ()
    budget_shortfall: float | None = None
    space_overflow: tuple[tuple[str, float], ...] = ()


def _records(items: tuple[Any, ...], cls: type) -> pd.DataFrame:
    cols = [f.name for f in fields(cls)]
    return pd.DataFrame([asdict(i) for i in items], columns=cols)


def expected_fill(shortages: pd.DataFrame, probabilities: dict[str, float]) -> pd.DataFrame:
    """Expected fill rate per region and commodity: sum_s P_s served / sum_s P_s demand.

    Parameters
    ----------
    shortages
        One row per scenario, region and commodity: ``demand`` and ``shortage`` (units).
    probabilities
        Scenario id -> probability.

    Returns
    -------
    pandas.DataFrame
        ``region, commodity, expected_demand, expected_shortage`` (units), ``fill_rate``.
    """
    if shortages.empty:
        return pd.DataFrame(columns=["region", "commodity", "expected_demand",
                                     "expected_shortage", "fill_rate"])
    w = shortages["scenario"].map(probabilities)
    g = (shortages.assign(ed=shortages["demand"] * w, es=shortages["shortage"] * w)
         .groupby(["region", "commodity"], as_index=False)[["ed", "es"]].sum())
    g["fill_rate"] = 1.0 - g["es"] / g["ed"]
    return g.rename(columns={"ed": "expected_demand", "es": "expected_shortage"})


@dataclass(frozen=True, slots=True, eq=False)
class PlacementResult:
    """The answer of :func:`~reserve_opt.models.placement.solve_placement`.

    Money is in the instance's currency, quantities in each commodity's own unit, times in
    hours. Every table is also a pandas DataFrame: :meth:`tables` gives them by name (as
    every model's result does; the CSV files of ``plan --out`` are these tables). A plan
    feeds an allocation directly: ``solve_allocation(inst, event, plan=result)`` (its stock
    and contracts) or ``stock=result.stock``.

    Attributes
    ----------
    status
        Normalised solver status; a plan exists for ``optimal`` and ``feasible`` (time limit:
        the best plan found, with its gap).
    objective, bound, gap
        Solver objective (expected total cost, plus lambda x CVaR of the second-stage
        cost when risk averse; currency), best bound (currency) and relative gap
        ``(objective - bound) / |objective|`` (a fraction); ``None`` without a plan. The
        objective includes the shortage penalty, a weight and not money: ``costs`` splits
        it.
    mip_gap
        The relative gap the solver was asked for (``optimal`` means ``gap`` within it);
        ``None`` when unknown.
    solve_seconds
        Wall-clock seconds in the solver.
    solver
        Backend name.
    sharing
        ``"pooled"`` or ``"agreements"`` (what ``"auto"`` resolved to).
    options
        The options used.
    costs
        Cost breakdown (currency), or ``None`` without a plan.
    opened, stock, contracts, vehicles, flows, shortages, settlement
        The plan; see the line types (``vehicles``: every fleet row, own or contracted,
        and whether the plan holds it). ``shortages`` has one line per scenario, region and
        commodity with positive demand.
    infeasibility
        Explanation when the model is infeasible, else ``None``.
    reasons
        Why each region and commodity with expected shortage is short, strongest reason
        first (:mod:`models.placement.explain`).
    budget_use
        The budget and what the plan spends of it, or ``None`` without a budget.
    message
        Solver message.
    """

    status: SolveStatus
    objective: float | None
    bound: float | None
    gap: float | None
    solve_seconds: float
    solver: str
    sharing: str
    options: PlacementOptions
    costs: CostBreakdown | None = None
    opened: tuple[OpenedWarehouse, ...] = ()
    stock: tuple[StockLine, ...] = ()
    contracts: tuple[ContractDecision, ...] = ()
    vehicles: tuple[VehicleDecision, ...] = ()
    flows: tuple[FlowLine, ...] = ()
    shortages: tuple[ShortageLine, ...] = ()
    settlement: tuple[SettlementLine, ...] = ()
    mip_gap: float | None = None
    scenario_probabilities: tuple[tuple[str, float], ...] = ()
    infeasibility: Infeasibility | None = None
    message: str = ""
    reasons: tuple[ShortageReason, ...] = ()
    budget_use: BudgetUse | None = None

    @property
    def has_plan(self) -> bool:
        """Whether the result carries a plan."""
        return self.costs is not None

    def stock_totals(self) -> dict[str, float]:
        """Total stock per commodity over every government warehouse, units."""
        out: dict[str, float] = {}
        for s in self.stock:
            out[s.commodity] = out.get(s.commodity, 0.0) + s.total
        return out

    def expected_fill_rates(self) -> pd.DataFrame:
        """Expected fill rate per region and commodity: sum_s P_s served / sum_s P_s demand."""
        return expected_fill(self.tables()["shortages"], dict(self.scenario_probabilities))

    def tables(self) -> dict[str, pd.DataFrame]:
        """The plan as tables for CSV / GeoPackage output.

        Returns
        -------
        dict of str to pandas.DataFrame
            ``opened, stock, contracts, flows, shortages, settlement`` (a row per line,
            columns the line types' attributes, with their units) and ``costs`` (one row
            of :class:`CostBreakdown`, currency).
        """
        costs = (pd.DataFrame([self.costs.to_dict()]) if self.costs is not None
                 else pd.DataFrame())
        return {
            "opened": _records(self.opened, OpenedWarehouse),
            "stock": _records(self.stock, StockLine),
            "contracts": _records(self.contracts, ContractDecision),
            "vehicles": _records(self.vehicles, VehicleDecision),
            "flows": _records(self.flows, FlowLine),
            "shortages": _records(self.shortages, ShortageLine),
            "settlement": _records(self.settlement, SettlementLine),
            "reasons": _records(self.reasons, ShortageReason),
            "costs": costs,
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of the whole result."""
        return {
            "status": self.status.value,
            "objective": self.objective,
            "bound": self.bound,
            "gap": self.gap,
            "mip_gap": self.mip_gap,
            "solve_seconds": self.solve_seconds,
            "solver": self.solver,
            "sharing": self.sharing,
            "options": self.options.to_dict(),
            "costs": None if self.costs is None else self.costs.to_dict(),
            "opened": [asdict(o) for o in self.opened],
            "stock": [asdict(o) for o in self.stock],
            "contracts": [asdict(o) for o in self.contracts],
            "vehicles": [asdict(o) for o in self.vehicles],
            "flows": [asdict(o) for o in self.flows],
            "shortages": [asdict(o) for o in self.shortages],
            "settlement": [asdict(o) for o in self.settlement],
            "scenario_probabilities": dict(self.scenario_probabilities),
            "infeasibility": None if self.infeasibility is None
            else asdict(self.infeasibility),
            "message": self.message,
            "reasons": [asdict(o) for o in self.reasons],
            "budget_use": None if self.budget_use is None else asdict(self.budget_use),
        }

    @classmethod
    def from_dict(cls, doc: Any, where: str = "solution.json") -> PlacementResult:
        """Rebuild a result from :meth:`to_dict`'s document (a plan's ``solution.json``).

        Parameters
        ----------
        doc
            The parsed JSON document.
        where
            The file's name, for messages.

        Returns
        -------
        PlacementResult

        Raises
        ------
        InputError
            Naming the first field or line that is missing or of the wrong type.
        """
        fix = "give the solution.json that 'reserve-opt plan --out DIR' wrote."
        if not isinstance(doc, dict):
            raise InputError(f"{where} is not a JSON object; {fix}")
        try:
            status = SolveStatus(str(doc.get("status")))
        except ValueError:
            raise InputError(f"{where} has status {doc.get('status')!r}; it must be one of "
                             + ", ".join(s.value for s in SolveStatus) + f"; {fix}") from None
        head = record(_Head, {k: doc.get(k) for k in _HEAD}, where, fix)
        opts = doc.get("options")
        if not isinstance(opts, dict) or set(opts) - _OPTION_NAMES:
            extra = sorted(set(opts) - _OPTION_NAMES) if isinstance(opts, dict) else []
            raise InputError(f"{where} has options {', '.join(extra) or 'that are not an object'}"
                             f" unknown to placement; {fix}")
        try:
            options = PlacementOptions(**opts)
        except (InputError, TypeError) as err:
            raise InputError(f"{where}: options: {err}; {fix}") from None
        probs = doc.get("scenario_probabilities")
        if not isinstance(probs, dict) or not all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in probs.values()):
            raise InputError(f"{where} has no 'scenario_probabilities' object of numbers; {fix}")
        costs = doc.get("costs")
        cost_names = {f.name for f in fields(CostBreakdown)}
        return cls(
            status=status, objective=head.objective, bound=head.bound, gap=head.gap,
            mip_gap=head.mip_gap, solve_seconds=head.solve_seconds, solver=head.solver,
            sharing=head.sharing, options=options, message=head.message,
            costs=None if costs is None else record(
                CostBreakdown, {k: v for k, v in costs.items() if k in cost_names}
                if isinstance(costs, dict) else costs, f"{where}: costs", fix),
            opened=records(OpenedWarehouse, doc, "opened", where, fix),
            stock=records(StockLine, doc, "stock", where, fix),
            contracts=records(ContractDecision, doc, "contracts", where, fix),
            vehicles=records(VehicleDecision, doc, "vehicles", where, fix)
            if "vehicles" in doc else (),
            flows=records(FlowLine, doc, "flows", where, fix),
            shortages=records(ShortageLine, doc, "shortages", where, fix),
            settlement=records(SettlementLine, doc, "settlement", where, fix),
            scenario_probabilities=tuple((str(k), float(v)) for k, v in probs.items()),
            infeasibility=_infeasibility(doc.get("infeasibility"), where, fix),
            reasons=records(ShortageReason, doc, "reasons", where, fix)
            if "reasons" in doc else (),
            budget_use=None if doc.get("budget_use") is None
            else record(BudgetUse, doc["budget_use"], f"{where}: budget_use", fix),
        )


@dataclass(frozen=True, slots=True)
class _Head:
    """The scalar fields of a result document, checked by :func:`record`."""

    objective: float | None
    bound: float | None
    gap: float | None
    mip_gap: float | None
    solve_seconds: float
    solver: str
    sharing: str
    message: str


_HEAD = [f.name for f in fields(_Head)]
_OPTION_NAMES = {f.name for f in fields(PlacementOptions)}


def _infeasibility(doc: Any, where: str, fix: str) -> Infeasibility | None:
    if doc is None:
        return None
    ok = (isinstance(doc, dict) and isinstance(doc.get("method"), str)
          and isinstance(doc.get("messages"), list)
          and all(isinstance(m, str) for m in doc["messages"]))
    if not ok:
        raise InputError(f"{where} has an 'infeasibility' without method and messages; {fix}")
    try:
        return Infeasibility(
            method=doc["method"], messages=tuple(doc["messages"]),
            unserved=tuple((str(a), str(b), float(c), float(d), float(e))
                           for a, b, c, d, e in doc.get("unserved", [])),
            budget_shortfall=None if doc.get("budget_shortfall") is None
            else float(doc["budget_shortfall"]),
            space_overflow=tuple((str(a), float(b)) for a, b in doc.get("space_overflow", [])))
    except (TypeError, ValueError):
        raise InputError(f"{where} has an 'infeasibility' whose lines are not as written; "
                         f"{fix}") from None
