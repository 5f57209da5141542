"""Routing core: plan delivery routes with PyVRP or OR-Tools behind one interface.

Build a :class:`RoutingProblem` with :class:`RoutingProblemBuilder` (or a reader), call
:func:`solve`, and check the :class:`RoutingResult` with :func:`check`. See
``models/routing.md`` for the scaling convention and each engine's mapping.
"""

from .check import CheckReport, check
from .from_allocation import (
    DeliveryCheck,
    DeliveryOptions,
    DeliveryProblem,
    check_deliveries,
    check_vehicle_limits,
    clock_h,
    delivery_report,
    from_allocation,
    route_lines,
    routed_status,
    travel_matrices,
    vehicles_away,
)
from .prepare import Piece, prepare, split_amount
from .problem import (
    LOAD_DIMENSIONS,
    UNBOUNDED,
    Client,
    Depot,
    RoutingProblem,
    RoutingProblemBuilder,
    Scaling,
    VehicleType,
)
from .readers import (
    BKSEntry,
    SolutionFile,
    read_bks,
    read_cordeau,
    read_solomon,
    read_solution,
    read_vrplib,
)
from .result import Break, Route, RoutingResult, Status, Trip, Unserved, Visit
from .solve import ENGINES, Engine, solve

__all__ = [
    "ENGINES",
    "LOAD_DIMENSIONS",
    "UNBOUNDED",
    "BKSEntry",
    "Break",
    "CheckReport",
    "Client",
    "DeliveryCheck",
    "DeliveryOptions",
    "DeliveryProblem",
    "Depot",
    "Engine",
    "Piece",
    "Route",
    "RoutingProblem",
    "RoutingProblemBuilder",
    "RoutingResult",
    "Scaling",
    "SolutionFile",
    "Status",
    "Trip",
    "Unserved",
    "VehicleType",
    "Visit",
    "check",
    "check_deliveries",
    "check_vehicle_limits",
    "clock_h",
    "delivery_report",
    "from_allocation",
    "prepare",
    "read_bks",
    "read_cordeau",
    "read_solomon",
    "read_solution",
    "read_vrplib",
    "route_lines",
    "routed_status",
    "solve",
    "split_amount",
    "travel_matrices",
    "vehicles_away",
]
