"""The frozen result of a routing solve, in real units, and its assembly from engines.

Engines hand back, per used vehicle, its vehicle type, its departure time and its trips
as lists of pieces; :func:`assemble` turns that into :class:`RoutingResult` with arrival
times, loads, distances and costs computed from the problem (times: earliest schedule
from the engine's departure). :mod:`models.routing.check` re-derives all of it
independently.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from .prepare import Piece, Prepared
from .problem import RoutingProblem

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "UNSERVED_COLUMNS",
    "VISIT_COLUMNS",
    "Break",
    "EngineRoute",
    "Route",
    "RoutingResult",
    "Status",
    "Trip",
    "Unserved",
    "Visit",
    "assemble",
]


class Status(StrEnum):
    """Outcome of a solve."""

    #: Every client's demand is delivered.
    SOLVED = "solved"
    #: A plan was found but some demand is unmet (see ``unserved``).
    PARTIAL = "partial"
    #: The engine returned no plan at all.
    NO_SOLUTION = "no_solution"


@dataclass(frozen=True)
class Visit:
    """One stop at a client (real units).

    Attributes
    ----------
    client
        Client index in the problem.
    name
        Client name.
    arrival
        Time the vehicle arrives.
    start
        Time service starts (``max(arrival, window start)``).
    delivered
        (weight, volume) delivered at this stop.
    load_on_arrival
        (weight, volume) on board when arriving.
    """

    client: int
    name: str
    arrival: float
    start: float
    delivered: tuple[float, float]
    load_on_arrival: tuple[float, float]


@dataclass(frozen=True)
class Trip:
    """One loop from the depot: load, deliver, return (or finish, on an open route).

    Attributes
    ----------
    departure
        Time the vehicle starts loading at the depot for this trip.
    visits
        The stops, in order.
    load
        (weight, volume) loaded for this trip.
    end
        Time back at the depot, or the end of the last service on an open route.
    """

    departure: float
    visits: tuple[Visit, ...]
    load: tuple[float, float]
    end: float


@dataclass(frozen=True)
class Break:
    """A driver break (real units).

    Attributes
    ----------
    start
        Time the break starts.
    duration
        Its length.
    """

    start: float
    duration: float

    @property
    def end(self) -> float:
        """Time the break ends."""
        return self.start + self.duration


@dataclass(frozen=True)
class Route:
    """The work of one vehicle (real units).

    Attributes
    ----------
    vehicle_type
        Vehicle type index.
    vehicle_type_name
        Vehicle type name.
    vehicle
        Index of the vehicle within its type (0-based).
    depot
        Home depot index.
    trips
        The trips, in order.
    start, end
        When the route starts (first loading) and ends.
    distance
        Distance driven.
    cost
        Fixed cost plus distance cost.
    breaks
        Driver breaks, in time order (travel pauses during a break).
    """

    vehicle_type: int
    vehicle_type_name: str
    vehicle: int
    depot: int
    trips: tuple[Trip, ...]
    start: float
    end: float
    distance: float
    cost: float
    breaks: tuple[Break, ...] = ()

    @property
    def visits(self) -> tuple[Visit, ...]:
        """All stops of all trips, in order."""
        return tuple(v for trip in self.trips for v in trip.visits)

    @property
    def duration(self) -> float:
        """Time from start to end."""
        return self.end - self.start


@dataclass(frozen=True)
class Unserved:
    """Demand that is not delivered, and why.

    Attributes
    ----------
    client
        Client index.
    name
        Client name.
    missing
        (weight, volume) not delivered.
    reason
        One sentence.
    """

    client: int
    name: str
    missing: tuple[float, float]
    reason: str


@dataclass(frozen=True)
class RoutingResult:
    """Frozen outcome of :func:`models.routing.solve` (real units).

    Units are the problem's: for an instance's deliveries
    (:func:`~reserve_opt.models.routing.from_allocation`) times are hours from the day's
    dispatch order, distances km, loads kg and m3 and costs the instance's currency; a
    benchmark file's are its own. :meth:`tables` gives the visits and the unserved demand
    as DataFrames, as every model's result gives its tables.

    Attributes
    ----------
    engine
        ``"pyvrp"`` or ``"ortools"``.
    status
        See :class:`Status`.
    cost
        Total fixed plus distance cost of the routes (unmet penalties excluded).
    distance
        Total distance.
    vehicles_used
        Number of routes.
    routes
        One per used vehicle.
    unserved
        Unmet demand with reasons.
    runtime_s
        Wall-clock seconds spent in the engine.
    seed
        Seed passed to the engine.
    """

    engine: str
    status: Status
    cost: float
    distance: float
    vehicles_used: int
    routes: tuple[Route, ...]
    unserved: tuple[Unserved, ...]
    runtime_s: float
    seed: int

    def tables(self) -> dict[str, pd.DataFrame]:
        """The routes as tables, as every model's result gives them.

        Returns
        -------
        dict of str to pandas.DataFrame
            ``routes``: a row per stop: ``route`` (0-based), ``vehicle_type`` (name),
            ``vehicle``, ``depot`` (index), ``trip`` and ``stop`` (1-based), ``client``
            (name), ``departure`` (the trip's loading start), ``arrival``, ``start``,
            ``delivered_weight``, ``delivered_volume``. ``unmet``: ``client``,
            ``missing_weight``, ``missing_volume``, ``reason``. In the problem's units:
            hours, kg and m3 for an instance's deliveries
            (:func:`~reserve_opt.models.routing.from_allocation`).
        """
        import pandas as pd

        visits = pd.DataFrame(
            [{"route": r_no, "vehicle_type": route.vehicle_type_name,
              "vehicle": route.vehicle, "depot": route.depot, "trip": t_no, "stop": s_no,
              "client": v.name, "departure": trip.departure, "arrival": v.arrival,
              "start": v.start, "delivered_weight": v.delivered[0],
              "delivered_volume": v.delivered[1]}
             for r_no, route in enumerate(self.routes)
             for t_no, trip in enumerate(route.trips, start=1)
             for s_no, v in enumerate(trip.visits, start=1)],
            columns=VISIT_COLUMNS)
        unserved = pd.DataFrame(
            [{"client": u.name, "missing_weight": u.missing[0],
              "missing_volume": u.missing[1], "reason": u.reason} for u in self.unserved],
            columns=UNSERVED_COLUMNS)
        return {"routes": visits, "unmet": unserved}


#: Columns of ``RoutingResult.tables()["routes"]``.
VISIT_COLUMNS = ["route", "vehicle_type", "vehicle", "depot", "trip", "stop", "client",
                 "departure", "arrival", "start", "delivered_weight", "delivered_volume"]
#: Columns of ``RoutingResult.tables()["unmet"]``.
UNSERVED_COLUMNS = ["client", "missing_weight", "missing_volume", "reason"]


@dataclass(frozen=True)
class EngineRoute:
    """What an engine reports for one vehicle (integers).

    Attributes
    ----------
    vehicle_type
        Vehicle type index.
    departure
        Integer time the route starts (loading for the first trip starts).
    trips
        Piece indices per trip.
    starts
        Service start per visit (all trips, in order), when the engine fixes the
        schedule itself (OR-Tools with breaks); ``None``: earliest schedule.
    trip_departures
        Loading start of every trip after the first (with ``starts``).
    breaks
        Driver breaks as (start, duration).
    """

    vehicle_type: int
    departure: int
    trips: tuple[tuple[int, ...], ...]
    starts: tuple[int, ...] | None = None
    trip_departures: tuple[int, ...] = ()
    breaks: tuple[tuple[int, int], ...] = ()


def _arrive(leave: int, travel: int, breaks: Sequence[tuple[int, int]]) -> int:
    """Arrival after ``travel`` from ``leave``; a break starting on the way pauses it."""
    arrival = leave + travel
    for b_start, b_len in breaks:
        if leave <= b_start < arrival:
            arrival += b_len
    return arrival


def assemble(
    problem: RoutingProblem,
    prepared: Prepared,
    engine_routes: Sequence[EngineRoute],
    *,
    engine: str,
    runtime_s: float,
    seed: int,
    left_out_reason: str,
    found: bool = True,
) -> RoutingResult:
    """Build the result from the engine's routes.

    Parameters
    ----------
    problem
        The problem.
    prepared
        Its pieces and unservable clients.
    engine_routes
        One per used vehicle.
    engine
        Engine name.
    runtime_s
        Seconds spent.
    seed
        Seed used.
    left_out_reason
        Reason given for pieces the engine left out.
    found
        False when the engine returned no plan.

    Returns
    -------
    RoutingResult
        The result, in real units.
    """
    s = problem.scaling
    pieces = prepared.pieces
    routes: list[Route] = []
    served: set[int] = set()
    per_type: dict[int, int] = defaultdict(int)
    total_cost = 0.0
    total_distance = 0
    for er in engine_routes:
        trips_idx = [t for t in er.trips if t]
        if not trips_idx:
            continue
        k = er.vehicle_type
        vt = problem.vehicle_types[k]
        depot = problem.depots[vt.depot]
        travel = problem.durations[vt.profile]
        dist = problem.distances
        t = er.departure
        distance = 0
        trips: list[Trip] = []
        brk = sorted(er.breaks)
        fixed = list(er.starts) if er.starts is not None else None
        visit_no = 0
        for n, trip in enumerate(trips_idx):
            last_trip = n == len(trips_idx) - 1
            if n > 0:
                # a later trip waits for the depot to open and for its goods' release
                release = max(problem.clients[pieces[p].client].release_time for p in trip)
                t = max(t, depot.opens, release)
                if fixed is not None:
                    t = max(t, er.trip_departures[n - 1])
            departure = t
            t += depot.loading_time
            load = [sum(pieces[p].demand[d] for p in trip) for d in (0, 1)]
            on_board = list(load)
            prev = vt.depot
            visits: list[Visit] = []
            for p in trip:
                piece: Piece = pieces[p]
                served.add(p)
                c = problem.clients[piece.client]
                loc = problem.client_location(piece.client)
                arrival = _arrive(t, int(travel[prev, loc]), brk)
                distance += int(dist[prev, loc])
                start = max(arrival, c.tw_early)
                if fixed is not None:
                    start = max(start, fixed[visit_no])
                visit_no += 1
                visits.append(
                    Visit(
                        client=piece.client,
                        name=c.name,
                        arrival=s.real_time(arrival),
                        start=s.real_time(start),
                        delivered=s.real_load(piece.demand),
                        load_on_arrival=s.real_load(on_board),
                    )
                )
                on_board = [on_board[0] - piece.demand[0], on_board[1] - piece.demand[1]]
                t = start + c.service_time
                prev = loc
            if vt.returns_to_depot or not last_trip:
                t = _arrive(t, int(travel[prev, vt.depot]), brk)
                distance += int(dist[prev, vt.depot])
            trips.append(
                Trip(
                    departure=s.real_time(departure),
                    visits=tuple(visits),
                    load=s.real_load(load),
                    end=s.real_time(t),
                )
            )
        cost = problem.real_cost(k, distance)
        total_cost += cost
        total_distance += distance
        routes.append(
            Route(
                vehicle_type=k,
                vehicle_type_name=vt.name,
                vehicle=per_type[k],
                depot=vt.depot,
                trips=tuple(trips),
                start=s.real_time(er.departure),
                end=s.real_time(t),
                distance=s.real_distance(distance),
                cost=cost,
                breaks=tuple(
                    Break(s.real_time(b0), s.real_time(b1))
                    for b0, b1 in brk
                    if er.departure <= b0 and b0 + b1 <= t
                ),
            )
        )
        per_type[k] += 1

    missing: dict[int, list[int]] = {}
    for p, piece in enumerate(pieces):
        if p not in served:
            m = missing.setdefault(piece.client, [0, 0])
            m[0] += piece.demand[0]
            m[1] += piece.demand[1]
    unserved = [
        Unserved(i, problem.clients[i].name, s.real_load(problem.clients[i].demand), reason)
        for i, reason in prepared.unservable.items()
    ]
    unserved += [
        Unserved(i, problem.clients[i].name, s.real_load(m), left_out_reason)
        for i, m in missing.items()
    ]
    unserved.sort(key=lambda u: u.client)
    if not found:
        status = Status.NO_SOLUTION
    elif unserved:
        status = Status.PARTIAL
    else:
        status = Status.SOLVED
    return RoutingResult(
        engine=engine,
        status=status,
        cost=total_cost,
        distance=s.real_distance(total_distance),
        vehicles_used=len(routes),
        routes=tuple(routes),
        unserved=tuple(unserved),
        runtime_s=runtime_s,
        seed=seed,
    )
