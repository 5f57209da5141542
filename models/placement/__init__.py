"""Placement: where to hold what, under uncertainty (two-stage stochastic MILP).

Start from :func:`solve_placement`; the formulation is in ``models/placement.md``.
"""

from .check import CheckReport, check_placement
from .options import PlacementOptions
from .result import (
    ContractDecision,
    CostBreakdown,
    FlowLine,
    Infeasibility,
    OpenedWarehouse,
    PlacementResult,
    SettlementLine,
    ShortageLine,
    StockLine,
)
from .solve import solve_placement

__all__ = [
    "CheckReport",
    "ContractDecision",
    "CostBreakdown",
    "FlowLine",
    "Infeasibility",
    "OpenedWarehouse",
    "PlacementOptions",
    "PlacementResult",
    "SettlementLine",
    "ShortageLine",
    "StockLine",
    "check_placement",
    "solve_placement",
]
