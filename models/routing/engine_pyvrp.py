"""PyVRP engine: maps a prepared :class:`RoutingProblem` onto ``pyvrp.ProblemData``.

Mapping
-------
* Locations: the problem's depots and clients in order; one extra "sink" depot when some
  vehicle type does not return (every location reaches it at zero distance and time).
* Each piece becomes a ``pyvrp.Client`` at its client's location, with its service time,
  window and a prize (the unmet penalty).
* Each vehicle type with vehicles becomes a ``pyvrp.VehicleType``: capacity in two load
  dimensions, shift window, ``shift_duration``, fixed and per-distance cost (integer
  weights from :func:`~models.routing.prepare.cost_weights`), reload at the home depot
  ``max_trips - 1`` times, and its own routing profile.
* Profiles carry the travel-time matrix of the vehicle type; vehicle-client restrictions
  are enforced with a profile whose arcs to forbidden clients are longer than the
  vehicle's ``max_distance``, so any route using them is infeasible.
* Depot loading time is PyVRP's depot ``service_duration`` (paid at the start of every
  trip).
* Release times are PyVRP's own ``release_time``: PyVRP 0.14 applies it per trip (the
  trip that visits the client starts its depot service, our loading, no earlier).

Search: PyVRP stops at the time or iteration limit, or after ``stall_iterations``
iterations in a row without a better feasible solution.
Clients without their own ``unmet_penalty`` are first required (PyVRP searches
best that way); if the fleet cannot carry everything, or PyVRP finds no feasible plan
within 30% of the budget, it continues with every piece optional and a large prize (and
a penalty cap raised above that prize, so infeasible plans never win), and reports what
it leaves out. PyVRP only opens a new trip for a client whose prize beats the current
load penalty, which is why the prize is large rather than just above a route's cost.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np
import pyvrp
from pyvrp import PenaltyParams, SolveParams
from pyvrp.exceptions import PenaltyBoundWarning
from pyvrp.stop import MaxIterations, MaxRuntime, MultipleCriteria, StoppingCriterion

from .prepare import CostWeights, Prepared, cost_weights
from .problem import UNBOUNDED, IntMatrix, RoutingProblem
from .result import EngineRoute

__all__ = ["solve_pyvrp"]

_INT64_MAX = int(np.iinfo(np.int64).max)


class _GiveUpIfInfeasible:
    """Stop once ``fraction`` of the budget is spent without a feasible solution."""

    def __init__(self, time_limit_s: float, max_iterations: int | None, fraction: float) -> None:
        self._time = time_limit_s * fraction
        self._iterations = None if max_iterations is None else int(max_iterations * fraction)
        self._start: float | None = None
        self._count = 0

    def __call__(self, best_cost: float) -> bool:
        if self._start is None:
            self._start = time.perf_counter()
        self._count += 1
        if best_cost < _INT64_MAX:  # feasible solution known: never give up
            return False
        if self._iterations is not None:
            return self._count > self._iterations
        return time.perf_counter() - self._start > self._time


class _Stall:
    """Stop after ``limit`` iterations in a row without a better feasible solution.

    Unlike PyVRP's ``NoImprovement`` it does not count while no feasible solution is
    known (that is :class:`_GiveUpIfInfeasible`'s business), nor while the best costs
    ``below`` or more: in the all-optional phase, a best that pays a prize leaves a
    client out, and serving it may take many iterations. ``iterations`` counts every
    call, one per PyVRP iteration.
    """

    def __init__(self, limit: int | None, below: int = _INT64_MAX) -> None:
        self._limit = limit
        self._below = below
        self._best = _INT64_MAX
        self.iterations = 0
        self.best_at = 0

    def __call__(self, best_cost: float) -> bool:
        self.iterations += 1
        if best_cost < self._best:
            self._best, self.best_at = int(best_cost), self.iterations
            return False
        if self._best >= self._below or self._limit is None:
            return False
        return self.iterations - self.best_at >= self._limit


def _stop(time_limit_s: float, max_iterations: int | None, stall: _Stall) -> StoppingCriterion:
    limit = MaxIterations(max_iterations) if max_iterations is not None else MaxRuntime(
        time_limit_s)
    return MultipleCriteria([limit, stall])


def _data(
    problem: RoutingProblem, prepared: Prepared, weights: CostWeights, *, required: bool
) -> tuple[pyvrp.ProblemData, list[int]]:
    n_dep = problem.n_depots
    n_loc = problem.n_locations
    has_sink = any(not vt.returns_to_depot for vt in problem.vehicle_types)
    sink = n_loc if has_sink else -1
    n_all = n_loc + (1 if has_sink else 0)
    pieces = prepared.pieces

    locations = [pyvrp.Location(0.0, 0.0) for _ in range(n_all)]
    depots = [
        pyvrp.Depot(
            location=d,
            tw_early=dep.opens,
            tw_late=dep.closes,
            service_duration=dep.loading_time,
            name=dep.name,
        )
        for d, dep in enumerate(problem.depots)
    ]
    if has_sink:
        depots.append(pyvrp.Depot(location=sink, name="end-of-route"))

    per_client: dict[int, int] = {}
    for piece in pieces:
        per_client[piece.client] = per_client.get(piece.client, 0) + 1
    clients = []
    for piece in pieces:
        c = problem.clients[piece.client]
        must = required and c.unmet_penalty is None
        clients.append(
            pyvrp.Client(
                location=problem.client_location(piece.client),
                delivery=list(piece.demand),
                service_duration=c.service_time,
                tw_early=c.tw_early,
                tw_late=c.tw_late,
                prize=0 if must else weights.prize(problem, piece.client, per_client[piece.client]),
                required=must,
                release_time=c.release_time,
                name=c.name,
            )
        )

    longest = int(problem.distances.max(initial=0))
    max_trips = max(vt.max_trips for vt in problem.vehicle_types)
    forbid = longest * (len(pieces) + 2 * max_trips + 2) + 1

    def extend(matrix: IntMatrix, sink_in: int) -> IntMatrix:
        if not has_sink:
            return np.array(matrix, dtype=np.int64)
        out = np.full((n_all, n_all), forbid, dtype=np.int64)
        out[:n_loc, :n_loc] = matrix
        out[:, sink] = sink_in
        return out

    profiles: dict[tuple[int, frozenset[int]], int] = {}
    distance_matrices: list[IntMatrix] = []
    duration_matrices: list[IntMatrix] = []
    vehicle_types: list[pyvrp.VehicleType] = []
    type_index: list[int] = []
    for k, vt in enumerate(problem.vehicle_types):
        if vt.count <= 0:
            continue
        banned = frozenset(
            i
            for i in per_client
            if not problem.may_serve(k, i) or k not in prepared.reachable_types[i]
        )
        key = (vt.profile, banned)
        if key not in profiles:
            dist = np.array(problem.distances, dtype=np.int64)
            dur = np.array(problem.durations[vt.profile], dtype=np.int64)
            for i in banned:
                loc = n_dep + i
                dist[loc, :] = forbid
                dist[:, loc] = forbid
                dist[loc, loc] = 0
            profiles[key] = len(distance_matrices)
            distance_matrices.append(extend(dist, 0))
            duration_matrices.append(extend(dur, 0))
        end_depot = n_dep if has_sink and not vt.returns_to_depot else vt.depot
        vehicle_types.append(
            pyvrp.VehicleType(
                num_available=vt.count,
                capacity=list(vt.capacity),
                start_depot=vt.depot,
                end_depot=end_depot,
                fixed_cost=weights.fixed[k],
                tw_early=vt.shift_start,
                tw_late=vt.shift_end,
                shift_duration=vt.max_duration,
                max_distance=forbid - 1 if banned else _INT64_MAX,
                unit_distance_cost=weights.unit[k],
                profile=profiles[key],
                reload_depots=[vt.depot] if vt.max_trips > 1 else [],
                max_reloads=max(0, vt.max_trips - 1),
                name=vt.name,
            )
        )
        type_index.append(k)
    # PyVRP's stubs annotate matrices as ``np.ndarray[int]``; ours are int64 arrays.
    matrices: tuple[Any, Any] = (distance_matrices, duration_matrices)
    data = pyvrp.ProblemData(locations, clients, depots, vehicle_types, *matrices)
    return data, type_index


def _fleet_can_carry(problem: RoutingProblem, prepared: Prepared) -> bool:
    """Whether all vehicles on all their trips could carry all pieces (a necessary test)."""
    for d in (0, 1):
        need = sum(piece.demand[d] for piece in prepared.pieces)
        have = sum(max(0, vt.count) * vt.max_trips * vt.capacity[d] for vt in problem.vehicle_types)
        if need > have:
            return False
    return True


def _max_penalty(problem: RoutingProblem, data: pyvrp.ProblemData) -> float:
    """Penalty cap for the all-optional phase: above every prize, below int64 overflow.

    PyVRP's default cap (10^5 per unit of excess load or time warp) is below our large
    prizes, so the search would keep every client on board infeasibly instead of leaving
    some out. Raising the cap above the largest prize fixes that; it stays low enough
    that penalty times the largest possible violation fits in an int64.
    """
    prize = max((c.prize for c in data.clients()), default=1)
    demand = sum(sum(c.delivery) for c in data.clients())
    finite = [t for t in (c.tw_late for c in problem.clients) if t < UNBOUNDED]
    longest = max(int(m.max(initial=0)) for m in problem.durations)
    service = sum(c.service_duration for c in data.clients())
    release = max((c.release_time for c in problem.clients), default=0)
    horizon = max(*finite, release, 0) + service + (data.num_clients + 2) * longest
    # a route's excess over max_distance can reach its whole length, and restricted
    # profiles carry very long arcs: bound it by the longest arc times the arcs in a route
    longest_arc = max((int(np.max(m)) for m in data.distance_matrices()), default=0)
    route_arcs = data.num_clients + 2 * (1 + max(vt.max_trips for vt in problem.vehicle_types))
    largest_violation = max(1, demand, horizon, longest_arc * route_arcs)
    safe = 2.0**62 / (4.0 * largest_violation)
    return float(max(100_000.0, min(10.0 * prize, safe)))


def _routes(solution: pyvrp.Solution, type_index: list[int]) -> list[EngineRoute]:
    out: list[EngineRoute] = []
    for route in solution.routes():
        trips: dict[int, list[int]] = {}
        loading: dict[int, int] = {}  # trip -> start of its depot service (loading)
        for activity in route.schedule():
            if activity.is_client():
                trips.setdefault(activity.trip, []).append(activity.idx)
            elif activity.is_depot():
                loading.setdefault(activity.trip, int(activity.start_time))
        # the route starts with its first trip that carries something
        first = min(trips, default=0)
        out.append(
            EngineRoute(
                vehicle_type=type_index[route.vehicle_type()],
                departure=loading.get(first, int(route.start_time())),
                trips=tuple(tuple(trips[t]) for t in sorted(trips)),
            )
        )
    return out


def solve_pyvrp(
    problem: RoutingProblem,
    prepared: Prepared,
    *,
    time_limit_s: float,
    seed: int,
    max_iterations: int | None = None,
    stall_iterations: int | None = None,
) -> tuple[list[EngineRoute], bool, int]:
    """Solve with PyVRP's iterated local search.

    Parameters
    ----------
    problem
        The problem.
    prepared
        Its pieces (see :func:`models.routing.prepare.prepare`).
    time_limit_s
        Wall-clock budget in seconds (ignored when ``max_iterations`` is given).
    seed
        Seed of PyVRP's random number generator.
    max_iterations
        Stop after this many iterations instead of after ``time_limit_s``; makes the
        run reproducible regardless of machine speed.
    stall_iterations
        Stop after this many iterations in a row without a better feasible solution, in
        each phase (``None``: only the limits above end it).

    Returns
    -------
    tuple
        The engine routes, whether a plan was found, and how many iterations ran.
    """
    if not prepared.pieces:
        return [], True, 0
    weights = cost_weights(problem)
    start = time.perf_counter()
    data, type_index = _data(problem, prepared, weights, required=True)
    any_required = any(c.required for c in data.clients())
    if any_required and _fleet_can_carry(problem, prepared):
        stall = _Stall(stall_iterations)
        stop = MultipleCriteria(
            [
                _stop(time_limit_s, max_iterations, stall),
                _GiveUpIfInfeasible(time_limit_s, max_iterations, 0.3),
            ]
        )
        with warnings.catch_warnings():
            # expected when the fleet is short; the all-optional phase below handles it
            warnings.simplefilter("ignore", PenaltyBoundWarning)
            result = pyvrp.solve(data, stop, seed=seed, collect_stats=False, display=False)
        if result.is_feasible():
            return _routes(result.best, type_index), True, stall.iterations
        done = stall.iterations
        spent = time.perf_counter() - start
        remaining_time = max(0.1, time_limit_s - spent)
        remaining_iter = None if max_iterations is None else max(1, int(max_iterations * 0.7))
        data, type_index = _data(problem, prepared, weights, required=False)
    else:
        data, type_index = _data(problem, prepared, weights, required=False)
        remaining_time, remaining_iter = time_limit_s, max_iterations
        done = 0
    params = SolveParams(penalty=PenaltyParams(max_penalty=_max_penalty(problem, data)))
    # a best costing the smallest prize or more may leave a piece out: the rule then waits
    stall = _Stall(stall_iterations, min((c.prize for c in data.clients()), default=0))
    result = pyvrp.solve(
        data,
        _stop(remaining_time, remaining_iter, stall),
        seed=seed,
        collect_stats=False,
        display=False,
        params=params,
    )
    if not result.is_feasible():
        return [], False, done + stall.iterations
    return _routes(result.best, type_index), True, done + stall.iterations
