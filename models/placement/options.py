"""Options of the placement model."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from reserve_opt.domain import Sharing
from reserve_opt.errors import InputError


@dataclass(frozen=True, slots=True)
class PlacementOptions:
    """What the placement model includes.

    Parameters
    ----------
    sharing
        ``"pooled"``: a central planner, any source may serve any region (Rawls & Turnquist).
        ``"agreements"``: a source owned by region o serves region j only if o == j or a
        sharing agreement covering the commodity lets o lend to j, within its caps.
        ``"auto"`` (default): agreements when the instance has any, else pooled.
    response_time
        Keep only arcs whose travel time + source delay (+ agreement delay when lent) is
        within the region's response standard (settings: 6/8/10 h by level).
    service_level
        Floor alpha in [0, 1] on every region's expected fill rate per commodity,
        ``sum_s P_s served / sum_s P_s demand >= alpha``; ``None`` for none.
    risk_weight
        lambda in [0, 1]: minimise ``E[cost] + lambda CVaR_beta(Q_s)``, Q_s the scenario's
        second-stage cost (transport, contract unit prices, holding, shortage penalty);
        the first stage is counted once, in E[cost]. 0 (default) is risk neutral.
    cvar_level
        beta in [0, 1): the CVaR confidence level (0.9 = mean of the worst 10%).
    budget
        Most spent on new first-stage decisions (fixed costs of opened candidates, purchases
        of stock additions, retainers of contracts signed now), currency. ``"instance"``
        (default) uses ``settings.budget``; ``None`` means no budget.
    parent_serves
        With agreements: a region's parent (and its ancestors) may also serve it from their
        own stock, without agreement, cap or compensation (the higher-level tier 3, as in
        allocation).
    max_arc_time_h
        Drop arcs slower than this many hours before modelling (``None`` keeps all).
    explain_infeasible
        When the model is infeasible, re-solve it with elastic slacks on the service-level,
        budget and space rows to say which regions, budget or capacity bind.
    fleet_limits
        Limit what leaves each source in a scenario by its fleet's round trips over the
        event's days (kg x h, m3 x h and ``max_trips`` loads a day per vehicle, the rules
        allocation applies per day; :func:`models.placement.model.fleet_rows`). Sources
        whose region has no fleet are not limited.
    handling_h
        Loading and unloading time added to each round trip, hours.
    max_trips
        Most loaded trips one vehicle makes a day.
    explain_shortages
        Say why each region and commodity with expected shortage is short, and whether the
        budget binds, by pricing the plan: its integer decisions fixed, an LP re-solve gives
        the duals (:mod:`models.placement.explain`; only when the plan has shortage or
        spends its budget).
    primal_heuristic
        For solvers that take a MIP start (HiGHS, SCIP), first find a plan by LP diving
        and a size local search (:mod:`models.placement.heuristic`) and hand it over.
    """

    sharing: Sharing = "auto"
    response_time: bool = False
    service_level: float | None = None
    risk_weight: float = 0.0
    cvar_level: float = 0.9
    budget: float | Literal["instance"] | None = "instance"
    max_arc_time_h: float | None = None
    explain_infeasible: bool = True
    parent_serves: bool = True
    primal_heuristic: bool = True
    explain_shortages: bool = True
    fleet_limits: bool = True
    handling_h: float = 1.0
    max_trips: int = 3

    def __post_init__(self) -> None:
        problems: list[str] = []
        if self.sharing not in ("auto", "pooled", "agreements"):
            problems.append(f"sharing={self.sharing!r}: choose 'auto', 'pooled' or 'agreements'.")
        if self.service_level is not None and not 0.0 <= self.service_level <= 1.0:
            problems.append(f"service_level={self.service_level!r} must be in [0, 1] or None.")
        if not 0.0 <= self.risk_weight <= 1.0:
            problems.append(f"risk_weight={self.risk_weight!r} must be in [0, 1].")
        if not 0.0 <= self.cvar_level < 1.0:
            problems.append(f"cvar_level={self.cvar_level!r} must be in [0, 1).")
        if self.budget not in (None, "instance") and not (
            isinstance(self.budget, int | float) and math.isfinite(self.budget)
            and self.budget >= 0
        ):
            problems.append(f"budget={self.budget!r} must be >= 0, None or 'instance'.")
        if not (math.isfinite(self.handling_h) and self.handling_h >= 0):
            problems.append(f"handling_h={self.handling_h!r} must be >= 0 hours.")
        if not (isinstance(self.max_trips, int) and self.max_trips >= 1):
            problems.append(f"max_trips={self.max_trips!r} must be a whole number >= 1.")
        if self.max_arc_time_h is not None and not self.max_arc_time_h > 0:
            problems.append(f"max_arc_time_h={self.max_arc_time_h!r} must be > 0 or None.")
        if problems:
            raise InputError(problems)

    def to_dict(self) -> dict[str, object]:
        """The options as a JSON-ready dict."""
        return {
            "sharing": self.sharing,
            "response_time": self.response_time,
            "service_level": self.service_level,
            "risk_weight": self.risk_weight,
            "cvar_level": self.cvar_level,
            "budget": self.budget,
            "max_arc_time_h": self.max_arc_time_h,
            "parent_serves": self.parent_serves,
            "explain_infeasible": self.explain_infeasible,
            "primal_heuristic": self.primal_heuristic,
            "explain_shortages": self.explain_shortages,
            "fleet_limits": self.fleet_limits,
            "handling_h": self.handling_h,
            "max_trips": self.max_trips,
        }
