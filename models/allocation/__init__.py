"""Event allocation: who ships what to whom, day by day, under the sharing agreements.

:func:`solve_allocation` takes an instance and one event (a scenario id, or a scenario read
from an event file with :func:`read_event`) and returns an :class:`AllocationResult`: flows
by source, tier and agreement; demand, delivered and shortage per region, commodity and day;
the settlement ledger; the response-time check; and why each shortage happens.
:func:`check_allocation` verifies a result without the solver. See ``models/allocation.md``.
"""

from .check import CheckReport, check_allocation
from .data import AllocationData, period_demand, prepare
from .event import event_instance, read_event
from .from_plan import apply_plan, plan_inputs, read_plan, stock_units
from .options import AllocationOptions
from .result import AllocationResult, LevelValue
from .solve import settlement_ledger, solve_allocation

__all__ = [
    "AllocationData",
    "AllocationOptions",
    "AllocationResult",
    "CheckReport",
    "LevelValue",
    "apply_plan",
    "check_allocation",
    "event_instance",
    "period_demand",
    "plan_inputs",
    "prepare",
    "read_event",
    "read_plan",
    "settlement_ledger",
    "solve_allocation",
    "stock_units",
]
