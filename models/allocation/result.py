"""What an allocation returns: tables a planner reads and a JSON-ready summary."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from reserve_opt.demand_points import POINT_RESPONSE_COLUMNS
from reserve_opt.solvers import SolveStatus

from .options import AllocationOptions

FLOW_COLUMNS = [
    "period", "arrival_period", "source", "source_kind", "contract", "lender", "region",
    "commodity", "tier", "agreement", "quantity", "distance_km", "time_h", "time_source",
    "depart_h",
    "arrive_h", "transport_cost", "contract_cost", "compensation",
]
FILL_COLUMNS = ["period", "region", "commodity", "demand", "delivered", "cum_demand",
                "cum_delivered", "shortage", "fill_rate"]
SETTLEMENT_COLUMNS = ["debtor", "creditor", "kind", "reference", "commodity", "units",
                      "amount"]
RESPONSE_COLUMNS = ["region", "level", "standard_h", "first_arrival_h", "fastest_possible_h",
                    "met"]
EXPLANATION_COLUMNS = ["region", "commodity", "shortage", "shortage_periods", "reason",
                       "detail", "periods", "worth", "worth_unit", "method"]


#: Status of a level the solve never started (the time limit ran out, or an earlier level
#: ended without its optimum).
NOT_SOLVED = "not_solved"


@dataclass(frozen=True, eq=False)
class LevelValue:
    """The optimum of one lexicographic level.

    Attributes
    ----------
    name
        Level name (``fairness``, ``shortage_p1``, ``tier3``, ``cost``...).
    value
        Its optimal value (``None`` unless the level was solved with a solution).
    unit
        What it counts.
    status
        Solver status of that level, or :data:`NOT_SOLVED`.
    """

    name: str
    value: float | None
    unit: str
    status: str


@dataclass(frozen=True, eq=False)
class AllocationResult:
    """Who ships what to whom, day by day, and who owes whom afterwards.

    Quantities are in each commodity's own unit, money in ``currency``, times in hours
    from the start of the event, periods 1-based.

    Attributes
    ----------
    status
        ``optimal`` when every level was solved to optimality; ``feasible`` when the
        allocation meets the first levels' optima but a later level was not solved (the
        time limit ran out); otherwise the first level's status (no allocation).
    event
        Event (scenario) id.
    options
        Model options.
    solver
        Solver registry name.
    currency
        ISO 4217 code of money columns.
    levels
        Every lexicographic level in solve order, with its optimum and status (unsolved
        ones :data:`NOT_SOLVED`, value ``None``).
    gap
        Relative gap of the last level (LPs: 0 at optimum) when every level was solved;
        ``None`` otherwise (how far the unsolved levels are from their optima is unknown).
    solve_seconds
        Total solver time over every level, seconds.
    flows
        One row per shipment (see :data:`FLOW_COLUMNS`); ``period`` is the dispatch period.
    fill
        Demand, delivered, backlog (``shortage``) and cumulative fill rate per period,
        region and commodity.
    settlement
        Ledger: ``debtor`` owes ``creditor`` ``amount`` for ``units``; ``kind`` is
        ``agreement`` (compensation between regions) or ``contract`` (price paid to a firm).
    response
        Per region with demand: the response standard, when the first batch arrives (at all
        of its demand points, when it has some), and the earliest any source could arrive.
    response_points
        Per demand point of a region that received goods: when the first goods reach it
        (see :mod:`reserve_opt.demand_points`); empty without demand points.
    explanations
        Why each shortage happens: binding constraint (``periods`` where it binds) and what
        one more unit of it is worth (``method`` ``dual``, the largest over those periods),
        or an outage and the shortage its repair avoids (``re-solve``), or no route / too
        late (``structure``).
    message
        Solver messages when something went wrong.
    sharing
        ``"agreements"`` or ``"pooled"``: the sharing rules the allocation followed (what
        the options' ``"auto"`` resolved to).
    """

    status: SolveStatus
    event: str
    options: AllocationOptions
    solver: str
    currency: str
    levels: tuple[LevelValue, ...]
    gap: float | None
    solve_seconds: float
    flows: pd.DataFrame = field(repr=False)
    fill: pd.DataFrame = field(repr=False)
    settlement: pd.DataFrame = field(repr=False)
    response: pd.DataFrame = field(repr=False)
    explanations: pd.DataFrame = field(repr=False)
    min_fill_rate: float | None = None
    message: str = ""
    sharing: str = "agreements"
    response_points: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=POINT_RESPONSE_COLUMNS), repr=False)

    @property
    def has_plan(self) -> bool:
        """Whether flows were found."""
        return self.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)

    @property
    def solved_levels(self) -> tuple[str, ...]:
        """Names of the levels solved to optimality, in solve order."""
        return tuple(lv.name for lv in self.levels if lv.status == SolveStatus.OPTIMAL.value)

    @property
    def objective(self) -> float | None:
        """The last level's value: the cost of the allocation, currency."""
        return self.levels[-1].value if self.levels else None

    def costs(self) -> dict[str, float]:
        """Transport, contract prices and compensation (a transfer), currency."""
        f = self.flows
        return {
            "transport": float(f["transport_cost"].sum()) if len(f) else 0.0,
            "contract_prices": float(f["contract_cost"].sum()) if len(f) else 0.0,
            "compensation_transfer": float(f["compensation"].sum()) if len(f) else 0.0,
        }

    def final(self) -> pd.DataFrame:
        """Demand, delivered and shortage by region and commodity at the end of the horizon."""
        if self.fill.empty:
            return self.fill.copy()
        last = self.fill[self.fill["period"] == self.fill["period"].max()]
        out: pd.DataFrame = last[["region", "commodity", "cum_demand", "cum_delivered",
                                  "shortage", "fill_rate"]]
        return out.rename(columns={"cum_demand": "demand", "cum_delivered": "delivered"})

    def total_shortage(self) -> dict[str, float]:
        """Units never delivered within the horizon, by commodity."""
        fin = self.final()
        return {str(k): float(v) for k, v in fin.groupby("commodity", sort=False)["shortage"]
                .sum().items()} if len(fin) else {}

    def fill_rates(self) -> dict[str, float]:
        """Share of demand delivered within the horizon, by commodity."""
        fin = self.final()
        out: dict[str, float] = {}
        for k, g in fin.groupby("commodity", sort=False):
            dem = float(g["demand"].sum())
            out[str(k)] = 1.0 if dem <= 0 else 1.0 - float(g["shortage"].sum()) / dem
        return out

    @property
    def fill_rate(self) -> float:
        """Overall fill rate: the mean over commodities of each one's fill rate."""
        rates = self.fill_rates()
        return sum(rates.values()) / len(rates) if rates else 1.0

    def shortage_periods(self) -> dict[str, float]:
        """Units x periods short (late or never delivered), by commodity."""
        f = self.fill
        return {str(k): float(v) for k, v in f.groupby("commodity", sort=False)["shortage"]
                .sum().items()} if len(f) else {}

    def deliveries(self, period: int) -> pd.DataFrame:
        """What leaves each source for each region in one (1-based) dispatch period.

        Returns
        -------
        pandas.DataFrame
            Columns ``source, region, commodity, quantity`` (units, > 0) and ``ready_h``
            (hours from the event's start when the goods may leave: contract and
            agreement delays included).
        """
        f = self.flows[self.flows["period"] == period]
        out = (f.groupby(["source", "region", "commodity"], sort=True, as_index=False)
               .agg(quantity=("quantity", "sum"), ready_h=("depart_h", "min")))
        kept: pd.DataFrame = out[out["quantity"] > 0]
        return kept.reset_index(drop=True)

    def settlement_totals(self) -> list[dict[str, Any]]:
        """Money each debtor owes each creditor, summed over commodities and references."""
        s = self.settlement
        if s.empty:
            return []
        g = s.groupby(["debtor", "creditor", "kind"], sort=True, as_index=False)[
            ["units", "amount"]].sum()
        return [{"debtor": str(r["debtor"]), "creditor": str(r["creditor"]),
                 "kind": str(r["kind"]), "units": float(r["units"]),
                 "amount": float(r["amount"])} for r in g.to_dict(orient="records")]

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every result table by file stem."""
        out = {"flows": self.flows, "fill": self.fill, "settlement": self.settlement,
               "response": self.response, "explanations": self.explanations}
        if len(self.response_points):
            out["response_points"] = self.response_points
        return out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (tables as lists of records)."""

        def num(v: float | None) -> float | None:
            return None if v is None or not math.isfinite(v) else float(v)

        return {
            "status": self.status.value,
            "event": self.event,
            "solver": self.solver,
            "currency": self.currency,
            "sharing": self.sharing,
            "objective": num(self.objective),
            "objective_unit": self.levels[-1].unit if self.levels else "",
            "gap": num(self.gap),
            **({"gap_note": "unknown: levels not solved: " + ", ".join(
                lv.name for lv in self.levels if lv.name not in self.solved_levels)}
               if self.gap is None and self.levels else {}),
            "solve_seconds": self.solve_seconds,
            "levels": [{"name": lv.name, "value": num(lv.value), "unit": lv.unit,
                        "status": lv.status} for lv in self.levels],
            "solved_levels": list(self.solved_levels),
            "total_shortage": self.total_shortage(),
            "shortage_periods": self.shortage_periods(),
            "fill_rate": self.fill_rate,
            "fill_rate_by_commodity": self.fill_rates(),
            "min_fill_rate": num(self.min_fill_rate),
            "costs": self.costs(),
            "settlement": self.settlement_totals(),
            "response": _records(self.response),
            **({"response_points": _records(self.response_points)}
               if len(self.response_points) else {}),
            "explanations": _records(self.explanations),
            "flows": _records(self.flows),
            "options": self.options.to_dict(),
            "message": self.message,
        }


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for rec in df.to_dict(orient="records"):
        out.append({str(k): (None if isinstance(v, float) and not math.isfinite(v) else
                             v.item() if hasattr(v, "item") else v) for k, v in rec.items()})
    return out
