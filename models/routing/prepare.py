"""Work shared by both engines before solving: splitting, reachability, cost weights.

Neither PyVRP nor OR-Tools splits a delivery, so :func:`split_demands` cuts every
client's demand into vehicle-sized pieces first; each piece is visited once. A client no
vehicle can serve (not allowed, cannot carry it, cannot reach it within its window and
shift) gets a reason here and never reaches an engine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .problem import LOAD_DIMENSIONS, UNBOUNDED, RoutingProblem

__all__ = [
    "CostWeights",
    "Piece",
    "Prepared",
    "cost_weights",
    "prepare",
    "single_visit_infeasibility",
    "split_amount",
]


@dataclass(frozen=True)
class Piece:
    """One visit to make: a vehicle-sized part of a client's demand (integers)."""

    client: int
    demand: tuple[int, int]


@dataclass(frozen=True)
class Prepared:
    """The pieces to route and the clients that cannot be served at all.

    Attributes
    ----------
    pieces
        Pieces of the servable clients, grouped by client in client order.
    unservable
        Client index -> reason, for clients no vehicle type can serve.
    reachable_types
        Client index -> vehicle types that can serve a single visit to it.
    """

    pieces: tuple[Piece, ...]
    unservable: dict[int, str]
    reachable_types: dict[int, tuple[int, ...]]


def split_amount(demand: tuple[int, int], capacity: tuple[int, int]) -> list[tuple[int, int]]:
    """Cut ``demand`` into full loads of ``capacity`` plus one remainder.

    Each full piece fills the binding dimension exactly and carries the other dimension
    in proportion (rounded down); the remainder is what is left. Every piece fits.

    Parameters
    ----------
    demand
        Integer (weight, volume) to deliver.
    capacity
        Integer (weight, volume) of the vehicle the pieces are sized for; must be
        positive in every dimension where ``demand`` is.

    Returns
    -------
    list of tuple of int
        The pieces; they sum to ``demand``.
    """
    rest = [demand[0], demand[1]]
    pieces: list[tuple[int, int]] = []
    while rest[0] > capacity[0] or rest[1] > capacity[1]:
        # binding dimension b maximises rest_d / cap_d
        b = max((d for d in (0, 1) if rest[d] > 0), key=lambda d: rest[d] / capacity[d])
        piece = [min(rest[d], rest[d] * capacity[b] // rest[b]) for d in (0, 1)]
        piece[b] = capacity[b]
        pieces.append((piece[0], piece[1]))
        rest = [rest[0] - piece[0], rest[1] - piece[1]]
    pieces.append((rest[0], rest[1]))
    return pieces


def single_visit_infeasibility(
    problem: RoutingProblem, vehicle_type: int, client: int
) -> str | None:
    """Why a vehicle of ``vehicle_type`` cannot make a one-client trip to ``client``.

    Checks the exact one-visit schedule: leave as late as useful (to wait least) but not
    before the client's release time, load, drive, start service within the window, and
    be back (or finish) within the shift and the depot's hours and the longest route
    duration. Returns ``None`` when it works.

    Parameters
    ----------
    problem
        The problem.
    vehicle_type
        Index of the vehicle type.
    client
        Index of the client.

    Returns
    -------
    str or None
        A sentence with the reason, or ``None`` if the visit is possible.
    """
    vt = problem.vehicle_types[vehicle_type]
    c = problem.clients[client]
    depot = problem.depots[vt.depot]
    t = problem.durations[vt.profile]
    s = problem.scaling
    d, loc = vt.depot, problem.client_location(client)
    lead = depot.loading_time + int(t[d, loc])
    # the goods are not ready before the release time: no trip carrying them leaves earlier
    released = c.release_time > max(vt.shift_start, depot.opens)
    earliest_leave = max(vt.shift_start, depot.opens, c.release_time)
    why_late = f" (its goods are released at {s.real_time(c.release_time):g})" if released else ""
    leave = max(earliest_leave, c.tw_early - lead)
    start = max(leave + lead, c.tw_early)
    if start > c.tw_late:
        return (
            f"{vt.name} arrives at {s.real_time(earliest_leave + lead):g} at the earliest"
            f"{why_late}, after the window closes at {s.real_time(c.tw_late):g}"
        )
    end = start + c.service_time + (int(t[loc, d]) if vt.returns_to_depot else 0)
    if vt.has_breaks:
        # breaks the driver must take; waiting at the client can absorb them
        wait = start - (leave + lead)
        n_breaks = max(0, math.ceil((end - leave) / vt.break_after) - 1)
        end += max(0, n_breaks * vt.break_duration - wait)
    close = min(vt.shift_end, depot.closes) if vt.returns_to_depot else vt.shift_end
    if end > close:
        return (
            f"{vt.name} cannot finish before {s.real_time(end):g}{why_late}, after its "
            f"shift or depot closes at {s.real_time(close):g}"
        )
    if vt.max_duration < UNBOUNDED and end - leave > vt.max_duration:
        return (
            f"{vt.name} needs a route of {s.real_time(end - leave):g}, longer than its "
            f"shift length {s.real_time(vt.max_duration):g}"
        )
    return None


def _carry_problem(problem: RoutingProblem, vehicle_type: int, client: int) -> str | None:
    vt = problem.vehicle_types[vehicle_type]
    demand = problem.clients[client].demand
    for d, name in enumerate(LOAD_DIMENSIONS):
        if demand[d] > 0 and vt.capacity[d] <= 0:
            return f"{vt.name} has no {name} capacity"
    return None


def prepare(problem: RoutingProblem) -> Prepared:
    """Split demands into pieces and set aside clients that no vehicle can serve.

    For each client, the vehicle types that are allowed, available (count > 0), able to
    carry its kind of load and able to make a one-client trip in time are collected;
    the demand is split for the one of them that needs the fewest pieces (ties: the
    larger capacity).

    Parameters
    ----------
    problem
        The problem.

    Returns
    -------
    Prepared
        The pieces, the unservable clients with reasons, the usable vehicle types.
    """
    pieces: list[Piece] = []
    unservable: dict[int, str] = {}
    reachable: dict[int, tuple[int, ...]] = {}
    for i, client in enumerate(problem.clients):
        reasons: list[str] = []
        usable: list[int] = []
        barred: list[str] = []
        for k, vt in enumerate(problem.vehicle_types):
            if not problem.may_serve(k, i):
                barred.append(vt.name)
                continue
            why = (
                (f"{vt.name} has no vehicles" if vt.count <= 0 else None)
                or _carry_problem(problem, k, i)
                or single_visit_infeasibility(problem, k, i)
            )
            if why is None:
                usable.append(k)
            else:
                reasons.append(why)
        if not usable:
            if len(barred) > 3:
                reasons.append(f"the other {len(barred)} vehicle types are not allowed to serve it")
            elif barred:
                verb = "is" if len(barred) == 1 else "are"
                reasons.append(f"{' and '.join(barred)} {verb} not allowed to serve it")
            unservable[i] = "no vehicle can serve it: " + "; ".join(reasons)
            continue
        reachable[i] = tuple(usable)

        def n_loads(k: int, demand: tuple[int, int] = client.demand) -> tuple[int, int]:
            cap = problem.vehicle_types[k].capacity
            loads = max((math.ceil(demand[d] / cap[d]) for d in (0, 1) if demand[d] > 0), default=1)
            return (loads, -sum(cap))

        best = min(usable, key=n_loads)
        for amount in split_amount(client.demand, problem.vehicle_types[best].capacity):
            pieces.append(Piece(i, amount))
    return Prepared(tuple(pieces), unservable, reachable)


@dataclass(frozen=True)
class CostWeights:
    """Integer objective weights shared by both engines.

    The engine objective is ``fixed[k] + unit[k] * distance`` per used vehicle, which
    equals ``factor`` times the real cost (up to rounding of ``unit`` and ``fixed``).

    Attributes
    ----------
    factor
        Engine objective units per unit of real cost.
    unit
        Integer cost per integer distance unit, per vehicle type.
    fixed
        Integer fixed cost per vehicle type.
    """

    factor: float
    unit: tuple[int, ...]
    fixed: tuple[int, ...]

    def prize(self, problem: RoutingProblem, client: int, n_pieces: int) -> int:
        """Engine-unit penalty for leaving one piece of ``client`` unserved.

        A client's own ``unmet_penalty`` is used when set (split over its pieces);
        otherwise a penalty far above the cost of a dedicated vehicle for it, so the
        engine leaves it out only when it cannot fit it in.
        """
        penalty = problem.clients[client].unmet_penalty
        if penalty is not None:
            return max(1, round(penalty * self.factor / max(1, n_pieces)))
        return self.big_m(problem)

    def big_m(self, problem: RoutingProblem) -> int:
        """The automatic penalty for an unserved piece (see :meth:`prize`)."""
        longest = int(problem.distances.max(initial=0))
        dedicated = max(self.fixed, default=0) + max(self.unit, default=0) * 2 * longest
        n = max(1, len(problem.clients))
        cap = 2**60 // (4 * n * max(1, max(vt.max_trips for vt in problem.vehicle_types)))
        return int(min(max(10**6, 1000 * (dedicated + 1)), cap, 10**15))


def cost_weights(problem: RoutingProblem) -> CostWeights:
    """Integer objective weights for the engines (see :class:`CostWeights`).

    The per-distance costs are multiplied by the smallest power of ten (up to 10^4) that
    makes them all whole; fixed costs follow with the distance scale.

    Parameters
    ----------
    problem
        The problem.

    Returns
    -------
    CostWeights
        The weights.
    """
    rates = [vt.cost_per_distance for vt in problem.vehicle_types]
    k = 10_000
    for candidate in (1, 10, 100, 1000, 10_000):
        if all(abs(r * candidate - round(r * candidate)) < 1e-9 for r in rates):
            k = candidate
            break
    factor = k * problem.scaling.distance
    unit = tuple(round(r * k) for r in rates)
    fixed = tuple(round(vt.fixed_cost * factor) for vt in problem.vehicle_types)
    return CostWeights(factor=factor, unit=unit, fixed=fixed)
