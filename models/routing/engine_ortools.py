"""OR-Tools engine: maps a prepared :class:`RoutingProblem` onto the routing library.

Mapping
-------
* Nodes: the depots, one node per piece, ``max_trips - 1`` reload nodes per vehicle that
  may make several trips (copies of its home depot, only that vehicle may visit them,
  skipping them is free), and one "end-of-route" node for vehicles that do not return
  (reached from anywhere at zero distance and time).
* Every vehicle of every type is one OR-Tools vehicle: start at its depot, end at its
  depot or at the end-of-route node; fixed cost and per-distance arc cost from
  :func:`~models.routing.prepare.cost_weights`.
* Loads: one dimension per load kind (weight, volume), capacity per vehicle. With reload
  nodes the cumul counts what has been delivered on the current trip: a reload node has
  demand ``-capacity`` and a free slack in ``[0, capacity]``, so the count restarts.
* Time: a dimension whose transit from a node is its service (loading time at depot and
  reload nodes) plus the travel time of the vehicle's profile; waiting is slack. Client
  windows and depot hours are cumul ranges, working hours bound the start and end
  cumuls, the shift length is a span upper bound. Finalizers start each route as late
  and end it as early as possible.
* Driver breaks (``break_after``/``break_duration``): per vehicle, optional fixed-length
  break intervals (as many as a full shift could need) given to
  ``SetBreakIntervalsOfVehicle`` with the node visit times (so no break overlaps
  loading or service) and ``SetBreakDistanceDurationOfVehicle(break_after,
  break_duration)``: between route start, breaks of at least that length and route end,
  no stretch of clock time is longer than ``break_after``. Travel pauses during a
  break; the engine's own schedule (service starts, reloads, breaks) is reported.
* Vehicle-client restrictions: the node's vehicle variable is limited to the allowed
  vehicles (and -1, unperformed); ``SetAllowedVehiclesForIndex`` does not accept a
  Python list in OR-Tools 9.15's bindings.
* Release times: a zero-transit "ready" dimension whose level may rise only at the
  route start and at reload nodes; a client's level is at least its release and the
  start or reload node's time at least the level of the trip it begins, so every trip
  starts loading no earlier than the releases of the clients it visits (exact).
* Unserved: every piece sits in a disjunction whose penalty is its unmet penalty.

Search: first solutions from savings and from parallel cheapest insertion (each wins on
some benchmark instances, see :data:`FIRST_SOLUTIONS`); from the cheaper, rounds of
guided local search (see :data:`ROUND_STALL_SHARE`): each round starts from the best plan
with a seeded random cluster of visits taken out (:func:`_ruin`) and ends after a
share of ``stall_iterations`` solutions without beating its own best. The search ends at
the time limit, the iteration limit, or ``stall_iterations`` solutions in a row without a
better plan. A problem with no time bound, release or break gets no time dimension at
all (every order is on time; the dimension's per-vehicle finalizers only slowed the
search). OR-Tools routing has no random seed; the seed only picks the clusters, so with
``max_iterations`` (a limit on solutions found and on search branches) a run is exactly
reproducible on any machine, and only the wall-clock limit can make two runs differ.
"""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from .prepare import Prepared, cost_weights
from .problem import UNBOUNDED, IntMatrix, RoutingProblem
from .result import EngineRoute

__all__ = ["solve_ortools"]

#: With ``max_iterations`` N, the search also stops after this many x N branches (search
#: decisions): guided local search on a small problem can go on without new solutions.
BRANCHES_PER_ITERATION = 1000

#: First-solution strategies tried; guided local search starts from the cheaper plan.
#: Measured on bench/routing_bks.py: savings wins on X-n101 (31,871 vs 38,604) and R101,
#: parallel cheapest insertion on X-n157 and the multi-depot p04 (13.3 M vs 16.5 M
#: engine units), so neither alone; together they cost two constructions.
FIRST_SOLUTIONS = (
    routing_enums_pb2.FirstSolutionStrategy.SAVINGS,
    routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION,
)
#: Guided local search's penalty weight (OR-Tools' default 0.1): 0.3 measured better on
#: X-n101, X-n157 and p04 at 10 s.
GLS_LAMBDA = 0.3
#: The search runs in rounds of guided local search; a round ends after this share of
#: the stall limit (at least ROUND_STALL_MIN solutions) without beating its own best,
#: and the next starts from the best plan with a cluster of visits taken out. A single
#: long search sat on plateaus (X-n101: no gain from solution 141 to past 800); rounds
#: of 50 solutions (2,000-solution stall limit) measured best of 25, 50 and 100.
ROUND_STALL_SHARE = 0.025
ROUND_STALL_MIN = 10
#: Share of the served visits a round's start leaves out (at most RUIN_MAX): 10%
#: measured better than 20% on X-n101, X-n157 and p04.
RUIN_SHARE = 0.1
RUIN_MAX = 30


class _Stall:
    """At-solution callback: the stall rule, over the whole search and per round.

    Counts solutions (deterministic), not seconds. The search ends (``stalled``) after
    ``limit`` solutions in a row without a better plan than the best so far; a round
    (one guided local search from a perturbed start, see :func:`_ruin`) ends after
    ``round_limit`` solutions without beating that round's own best. ``solutions`` is
    how many the search found over all rounds, the number reported as its iterations.
    """

    def __init__(self, routing: pywrapcp.RoutingModel, limit: int | None,
                 round_limit: int | None) -> None:
        self._routing = routing
        self._limit = limit
        self._round_limit = round_limit
        self._best: int | None = None
        self._round_best: int | None = None
        self._round_at = 0
        self.solutions = 0
        self.best_at = 0
        self.stalled = False
        self.round_over = False

    def new_round(self) -> None:
        """Start counting a new round (its own best starts over)."""
        self._round_best, self._round_at = None, self.solutions
        self.round_over = False

    def __call__(self) -> None:
        self.solutions += 1
        cost = int(self._routing.CostVar().Value())
        if self._best is None or cost < self._best:
            self._best, self.best_at = cost, self.solutions
        if self._round_best is None or cost < self._round_best:
            self._round_best, self._round_at = cost, self.solutions
        if self._limit is not None and self.solutions - self.best_at >= self._limit:
            self.stalled = True
            self._routing.solver().FinishCurrentSearch()
        elif (self._round_limit is not None
              and self.solutions - self._round_at >= self._round_limit):
            self.round_over = True
            self._routing.solver().FinishCurrentSearch()


#: Without time bounds, a vehicle type gets at most this many times the vehicles that
#: first-fit decreasing needs to carry every piece it may serve (plus one).
FLEET_MARGIN = 1.5


def _vehicles(problem: RoutingProblem, prepared: Prepared, k: int, timed: bool) -> int:
    """OR-Tools vehicles for type ``k``: its count, capped where time cannot bind.

    Every vehicle is a start and an end node to OR-Tools, and the search slows with their
    number (benchmark CVRPs come with one vehicle per client). Without time bounds and
    with single trips, a route's only limit is capacity, so plans need about as many
    vehicles as a bin packing of the loads: the cap keeps a margin above first-fit
    decreasing, which alone is a feasible packing. A heuristic bound, as the search is.
    """
    vt = problem.vehicle_types[k]
    count = max(0, vt.count)
    if timed or vt.max_trips > 1 or count == 0:
        return count
    loads = sorted(
        (
            p.demand
            for p in prepared.pieces
            if k in prepared.reachable_types[p.client]
            and p.demand[0] <= vt.capacity[0]
            and p.demand[1] <= vt.capacity[1]
        ),
        reverse=True,
    )
    bins: list[list[int]] = []
    for load in loads:
        for room in bins:
            if load[0] <= room[0] and load[1] <= room[1]:
                room[0] -= load[0]
                room[1] -= load[1]
                break
        else:
            bins.append([vt.capacity[0] - load[0], vt.capacity[1] - load[1]])
    return min(count, math.ceil(FLEET_MARGIN * len(bins)) + 1)


def _time_matters(problem: RoutingProblem) -> bool:
    """Whether any time bound, release or break can make an order of visits infeasible."""
    return (
        any(c.tw_late < UNBOUNDED or c.release_time > 0 for c in problem.clients)
        or any(d.closes < UNBOUNDED for d in problem.depots)
        or any(
            vt.shift_end < UNBOUNDED or vt.max_duration < UNBOUNDED or vt.has_breaks
            for vt in problem.vehicle_types
        )
    )


def _add_release_times(
    problem: RoutingProblem,
    prepared: Prepared,
    routing: pywrapcp.RoutingModel,
    manager: pywrapcp.RoutingIndexManager,
    time_dim: pywrapcp.RoutingDimension,
    first_piece: int,
    reload_owner: list[int],
) -> None:
    """No trip leaves (starts loading) before the release time of a client it visits.

    A "ready" dimension with no transit carries, along the route, the release level of
    the current trip: it may rise only through the slack of the route start and of the
    reload nodes (client slack is 0), each client's cumul is at least its release, and
    the time at a start or reload node is at least the level it sets for the trip that
    follows (cumul + slack). Trips leave in time order, so a level that never falls
    loses no plan: the rule holds exactly per trip.
    """
    releases = [problem.clients[p.client].release_time for p in prepared.pieces]
    if not any(r > 0 for r in releases):
        return
    top = max(releases)
    zero = routing.RegisterUnaryTransitVector([0] * manager.GetNumberOfNodes())
    routing.AddDimension(zero, top, top, False, "ready")
    ready = routing.GetDimensionOrDie("ready")
    solver = routing.solver()
    for n, release in enumerate(releases, start=first_piece):
        idx = manager.NodeToIndex(n)
        ready.SlackVar(idx).SetValue(0)
        if release > 0:
            ready.CumulVar(idx).SetMin(release)
    for v in range(routing.vehicles()):
        start = routing.Start(v)
        ready.CumulVar(start).SetValue(0)
        solver.Add(time_dim.CumulVar(start) >= ready.SlackVar(start))
    first_reload = first_piece + len(releases)
    for r in range(len(reload_owner)):
        idx = manager.NodeToIndex(first_reload + r)
        solver.Add(time_dim.CumulVar(idx) >= ready.CumulVar(idx) + ready.SlackVar(idx))


def _ruin(
    routing: pywrapcp.RoutingModel,
    manager: pywrapcp.RoutingIndexManager,
    solution: pywrapcp.Assignment,
    rng: np.random.Generator,
    dist: IntMatrix,
    piece_loc: np.ndarray,
    first_piece: int,
) -> pywrapcp.Assignment:
    """``solution`` with a random visit and its nearest served neighbours left out.

    The visits nearest (by distance between locations) to a random one, about
    :data:`RUIN_SHARE` of them (at most :data:`RUIN_MAX`), become unperformed; the
    routes keep the order of the rest. Where OR-Tools cannot read those routes back
    (a time window no longer met, say), ``solution`` itself.
    """
    routes: list[list[int]] = []
    served: list[int] = []
    for v in range(routing.vehicles()):
        route: list[int] = []
        idx = solution.Value(routing.NextVar(routing.Start(v)))
        while not routing.IsEnd(idx):
            route.append(idx)
            node = manager.IndexToNode(idx)
            if first_piece <= node < first_piece + len(piece_loc):
                served.append(node - first_piece)
            idx = solution.Value(routing.NextVar(idx))
        routes.append(route)
    if len(served) < 2:
        return solution
    size = max(2, min(RUIN_MAX, round(RUIN_SHARE * len(served))))
    centre = piece_loc[served[int(rng.integers(len(served)))]]
    near = np.argsort(dist[centre, piece_loc[served]], kind="stable")[:size]
    out = {manager.NodeToIndex(first_piece + served[i]) for i in near}
    ruined = routing.ReadAssignmentFromRoutes(
        [[i for i in r if i not in out] for r in routes], True)
    return solution if ruined is None else ruined


def solve_ortools(
    problem: RoutingProblem,
    prepared: Prepared,
    *,
    time_limit_s: float,
    seed: int,
    max_iterations: int | None = None,
    stall_iterations: int | None = None,
) -> tuple[list[EngineRoute], bool, int]:
    """Solve with OR-Tools routing (savings or cheapest insertion, guided local search).

    Parameters
    ----------
    problem
        The problem.
    prepared
        Its pieces (see :func:`models.routing.prepare.prepare`).
    time_limit_s
        Wall-clock budget in seconds.
    seed
        Seeds the choice of the visits each round's start leaves out (OR-Tools routing
        itself has no seed).
    max_iterations
        Stop after this many solutions (OR-Tools' ``solution_limit``) or
        :data:`BRANCHES_PER_ITERATION` times as many search branches, whichever comes
        first; both are counts, so the run is the same on any machine. (Solutions alone:
        guided local search on a small problem stops finding new ones, and such runs went
        on until the backstop.) A backstop of ``max(10, 10 * time_limit_s)`` seconds stays.
    stall_iterations
        End the search after this many solutions in a row without a better one
        (``None``: only the limits above end it).

    Returns
    -------
    tuple
        The engine routes, whether a plan was found, and how many solutions the search
        found (its iterations).
    """
    pieces = prepared.pieces
    if not pieces:
        return [], True, 0
    weights = cost_weights(problem)
    n_dep = problem.n_depots

    # vehicles
    timed = _time_matters(problem)
    vehicle_type_of: list[int] = []
    for k in range(len(problem.vehicle_types)):
        vehicle_type_of.extend([k] * _vehicles(problem, prepared, k, timed))
    n_veh = len(vehicle_type_of)
    if n_veh == 0:
        return [], True, 0

    # nodes: depots, pieces, reload nodes, sink
    node_loc: list[int] = list(range(n_dep))
    node_service: list[int] = [d.loading_time for d in problem.depots]
    node_demand: list[list[int]] = [[0] * n_dep, [0] * n_dep]
    first_piece = len(node_loc)
    for piece in pieces:
        node_loc.append(problem.client_location(piece.client))
        node_service.append(problem.clients[piece.client].service_time)
        node_demand[0].append(piece.demand[0])
        node_demand[1].append(piece.demand[1])
    first_reload = len(node_loc)
    reload_owner: list[int] = []
    for v, k in enumerate(vehicle_type_of):
        vt = problem.vehicle_types[k]
        for _ in range(vt.max_trips - 1):
            node_loc.append(vt.depot)
            node_service.append(problem.depots[vt.depot].loading_time)
            node_demand[0].append(-vt.capacity[0])
            node_demand[1].append(-vt.capacity[1])
            reload_owner.append(v)
    has_reload = bool(reload_owner)
    sink = -1
    # only as an end node: a sink no vehicle ends at would be a free shortcut mid-route
    if any(not problem.vehicle_types[k].returns_to_depot for k in vehicle_type_of):
        sink = len(node_loc)
        node_loc.append(0)
        node_service.append(0)
        node_demand[0].append(0)
        node_demand[1].append(0)
    n_nodes = len(node_loc)

    starts = [problem.vehicle_types[k].depot for k in vehicle_type_of]
    ends = [
        problem.vehicle_types[k].depot if problem.vehicle_types[k].returns_to_depot else sink
        for k in vehicle_type_of
    ]
    manager = pywrapcp.RoutingIndexManager(n_nodes, n_veh, starts, ends)
    routing = pywrapcp.RoutingModel(manager)

    dist = problem.distances

    loc_idx = np.array(node_loc, dtype=np.int64)

    def node_matrix(matrix: IntMatrix, scale: int, add: list[int]) -> list[list[int]]:
        """Node-indexed ``scale * matrix[loc, loc] + add[from]``; the sink costs nothing."""
        out = scale * matrix[np.ix_(loc_idx, loc_idx)] + np.asarray(add, dtype=np.int64)[:, None]
        if sink >= 0:
            out[:, sink] = np.asarray(add, dtype=np.int64)
            out[sink, :] = 0
        rows: list[list[int]] = out.tolist()
        return rows

    no_service = [0] * n_nodes

    def arc_matrix(scale: int) -> list[list[int]]:
        return node_matrix(dist, scale, no_service)

    cost_callbacks: dict[int, int] = {}
    for v, k in enumerate(vehicle_type_of):
        unit = weights.unit[k]
        if unit not in cost_callbacks:
            cost_callbacks[unit] = routing.RegisterTransitMatrix(arc_matrix(unit))
        routing.SetArcCostEvaluatorOfVehicle(cost_callbacks[unit], v)
        routing.SetFixedCostOfVehicle(weights.fixed[k], v)

    # time
    finite = [
        t
        for t in (
            *(d.closes for d in problem.depots),
            *(vt.shift_end for vt in problem.vehicle_types),
            *(c.tw_late for c in problem.clients),
            *(c.tw_early for c in problem.clients),
            *(c.release_time for c in problem.clients),
        )
        if t < UNBOUNDED
    ]
    longest_leg = max(int(m.max(initial=0)) for m in problem.durations) + max(node_service)
    horizon = max(finite, default=0) + (n_nodes + 2) * (longest_leg + 1)

    # Without any upper time bound (windows, hours, shift length, breaks) or release, every
    # order is on time: the time dimension would only slow the search (its finalizers run
    # per vehicle), so it is left out.

    time_dim: pywrapcp.RoutingDimension | None = None
    breaks_of: dict[int, list[pywrapcp.IntervalVar]] = {}
    solver = routing.solver()
    if timed:
        time_callbacks: dict[int, int] = {}
        for p, travel in enumerate(problem.durations):
            time_callbacks[p] = routing.RegisterTransitMatrix(node_matrix(travel, 1, node_service))
        routing.AddDimensionWithVehicleTransits(
            [time_callbacks[problem.vehicle_types[k].profile] for k in vehicle_type_of],
            horizon,
            horizon,
            False,
            "time",
        )
        time_dim = routing.GetDimensionOrDie("time")

        for n in range(first_piece, first_reload):
            c = problem.clients[pieces[n - first_piece].client]
            time_dim.CumulVar(manager.NodeToIndex(n)).SetRange(c.tw_early, min(c.tw_late, horizon))
        for r in range(len(reload_owner)):
            depot = problem.depots[node_loc[first_reload + r]]
            idx = manager.NodeToIndex(first_reload + r)
            time_dim.CumulVar(idx).SetRange(depot.opens, min(depot.closes, horizon))
        for v, k in enumerate(vehicle_type_of):
            vt = problem.vehicle_types[k]
            depot = problem.depots[vt.depot]
            start_lo = max(vt.shift_start, depot.opens)
            start_hi = min(vt.shift_end, depot.closes, horizon)
            time_dim.CumulVar(routing.Start(v)).SetRange(start_lo, start_hi)
            end_hi = min(vt.shift_end, depot.closes if vt.returns_to_depot else UNBOUNDED, horizon)
            time_dim.CumulVar(routing.End(v)).SetRange(start_lo, end_hi)
            if vt.max_duration < UNBOUNDED:
                time_dim.SetSpanUpperBoundForVehicle(vt.max_duration, v)

        _add_release_times(problem, prepared, routing, manager, time_dim, first_piece, reload_owner)

        # Driver breaks: optional fixed-length intervals per vehicle, as many as a full
        # shift could need; OR-Tools keeps them off node visits (loading, service) and
        # forces enough of them that no stretch between breaks exceeds ``break_after``.
        for v, k in enumerate(vehicle_type_of):
            vt = problem.vehicle_types[k]
            if not vt.has_breaks:
                continue
            start_lo = max(vt.shift_start, problem.depots[vt.depot].opens)
            span = min(vt.max_duration, min(vt.shift_end, horizon) - start_lo, horizon)
            n_breaks = max(1, min(50, -(-span // vt.break_after)))
            intervals = [
                solver.FixedDurationIntervalVar(
                    start_lo, horizon, vt.break_duration, True, f"break {v}.{b}"
                )
                for b in range(n_breaks)
            ]
            for a, b in itertools.pairwise(intervals):
                # symmetry: breaks in order
                solver.Add(b.SafeStartExpr(horizon) >= a.SafeEndExpr(0))
            time_dim.SetBreakIntervalsOfVehicle(intervals, v, node_service)
            time_dim.SetBreakDistanceDurationOfVehicle(vt.break_after, vt.break_duration, v)
            breaks_of[v] = intervals

        # Finish each route as early as possible, then start it as late as that allows.
        for v in range(n_veh):
            routing.AddVariableMinimizedByFinalizer(time_dim.CumulVar(routing.End(v)))
        for v in range(n_veh):
            routing.AddVariableMaximizedByFinalizer(time_dim.CumulVar(routing.Start(v)))

    # loads
    for d, name in enumerate(("weight", "volume")):
        if not any(x > 0 for x in node_demand[d]):
            continue
        caps = [problem.vehicle_types[k].capacity[d] for k in vehicle_type_of]
        demand_cb = routing.RegisterUnaryTransitVector(node_demand[d])
        slack = max(caps) if has_reload else 0
        routing.AddDimensionWithVehicleCapacity(demand_cb, slack, caps, True, name)
        if has_reload:
            dim = routing.GetDimensionOrDie(name)
            for n in range(first_piece, first_reload):
                dim.SlackVar(manager.NodeToIndex(n)).SetValue(0)

    # restrictions and disjunctions
    per_client: dict[int, int] = {}
    for piece in pieces:
        per_client[piece.client] = per_client.get(piece.client, 0) + 1
    for n in range(first_piece, first_reload):
        piece = pieces[n - first_piece]
        usable = set(prepared.reachable_types[piece.client])
        allowed = [
            v
            for v, k in enumerate(vehicle_type_of)
            if k in usable
            and all(piece.demand[d] <= problem.vehicle_types[k].capacity[d] for d in (0, 1))
        ]
        idx = manager.NodeToIndex(n)
        if len(allowed) < n_veh:
            routing.VehicleVar(idx).SetValues([-1, *allowed])
        routing.AddDisjunction(
            [idx], weights.prize(problem, piece.client, per_client[piece.client])
        )
    # a depot no vehicle starts or ends at is an ordinary node to OR-Tools: keep it out
    for d in set(range(n_dep)) - set(starts) - set(ends):
        idx = manager.NodeToIndex(d)
        routing.VehicleVar(idx).SetValues([-1])
        routing.AddDisjunction([idx], 0)
    for r, v in enumerate(reload_owner):
        idx = manager.NodeToIndex(first_reload + r)
        routing.VehicleVar(idx).SetValues([-1, v])
        routing.AddDisjunction([idx], 0)

    params = pywrapcp.DefaultRoutingSearchParameters()
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    params.guided_local_search_lambda_coefficient = GLS_LAMBDA
    if max_iterations is not None:
        params.solution_limit = max_iterations
        # counted in C++: a Python search monitor would slow every search step down
        routing.AddSearchMonitor(solver.BranchesLimit(BRANCHES_PER_ITERATION * max_iterations))
        # backstop only: the counts end every search long before it
        params.time_limit.FromMilliseconds(round(max(10.0, 10.0 * time_limit_s) * 1000))
        # large-neighbourhood moves otherwise stop after 0.1 s of wall time each, which
        # made the result depend on the machine's load
        params.lns_time_limit.CopyFrom(params.time_limit)
    else:
        params.time_limit.FromMilliseconds(max(1, round(time_limit_s * 1000)))
    round_limit = None if stall_iterations is None else min(
        stall_iterations, max(ROUND_STALL_MIN, round(ROUND_STALL_SHARE * stall_iterations)))
    stall = _Stall(routing, stall_iterations, round_limit)
    # called once per solution (not per move), so it costs little
    routing.AddAtSolutionCallback(stall)
    begun = time.perf_counter()
    start: pywrapcp.Assignment | None = None
    for strategy in FIRST_SOLUTIONS:
        construct = pywrapcp.DefaultRoutingSearchParameters()
        construct.CopyFrom(params)
        construct.first_solution_strategy = strategy
        construct.solution_limit = 1  # the construction alone
        first = routing.SolveWithParameters(construct)
        if first is not None and (start is None or first.ObjectiveValue() < start.ObjectiveValue()):
            start = solver.Assignment(first)  # a copy: the next solve reuses its own
    stall.new_round()
    rng = np.random.default_rng(seed)
    piece_loc = loc_idx[first_piece:first_reload]
    solution: pywrapcp.Assignment | None = None
    while start is not None:
        if max_iterations is None:
            left = time_limit_s - (time.perf_counter() - begun)
            if left <= 0.01:
                break
            params.time_limit.FromMilliseconds(max(1, round(left * 1000)))
        else:
            if stall.solutions >= max_iterations:
                break
            params.solution_limit = max_iterations - stall.solutions
        found = routing.SolveFromAssignmentWithParameters(start, params)
        if found is not None and (
            solution is None or found.ObjectiveValue() < solution.ObjectiveValue()
        ):
            solution = solver.Assignment(found)
        # only a round that ended on its own stall count goes on: the time, solution
        # or branch limit (or the whole search's stall rule) ends everything
        if found is None or not stall.round_over:
            break
        # next round: guided local search afresh (its penalties reset) from the best
        # plan with a cluster of nearby visits taken out, which the search puts back
        assert solution is not None
        start = _ruin(routing, manager, solution, rng, dist, piece_loc, first_piece)
        stall.new_round()
    if solution is None:
        return [], False, stall.solutions

    def time_at(index: int, v: int) -> int:
        """The time at ``index``; untimed routes leave as early as they may."""
        if time_dim is None:
            vt = problem.vehicle_types[vehicle_type_of[v]]
            return max(vt.shift_start, problem.depots[vt.depot].opens)
        return int(solution.Value(time_dim.CumulVar(index)))

    out: list[EngineRoute] = []
    for v, k in enumerate(vehicle_type_of):
        if not routing.IsVehicleUsed(solution, v):
            continue
        trips: list[list[int]] = [[]]
        # loading start of every trip: the route start, then each reload node
        trip_starts = [time_at(routing.Start(v), v)]
        idx = solution.Value(routing.NextVar(routing.Start(v)))
        while not routing.IsEnd(idx):
            node = manager.IndexToNode(idx)
            if first_piece <= node < first_reload:
                trips[-1].append(node - first_piece)
            elif node >= first_reload and node != sink:
                trips.append([])
                trip_starts.append(time_at(idx, v))
            idx = solution.Value(routing.NextVar(idx))
        # the route starts with its first trip that carries something: a reload before
        # it (an empty trip) may wait there, e.g. for a release time
        departure = next((at for at, t in zip(trip_starts, trips, strict=True) if t),
                         trip_starts[0])
        if v not in breaks_of:
            out.append(
                EngineRoute(
                    vehicle_type=k,
                    departure=int(departure),
                    trips=tuple(tuple(t) for t in trips if t),
                )
            )
            continue
        # with breaks, keep OR-Tools' own schedule: the breaks were placed against it
        service_starts: list[int] = []
        reloads: list[int] = []
        idx = solution.Value(routing.NextVar(routing.Start(v)))
        while not routing.IsEnd(idx):
            node = manager.IndexToNode(idx)
            assert time_dim is not None  # breaks need the time dimension
            at = int(solution.Value(time_dim.CumulVar(idx)))
            if first_piece <= node < first_reload:
                service_starts.append(at)
            elif node >= first_reload and node != sink:
                reloads.append(at)
            idx = solution.Value(routing.NextVar(idx))
        # reload nodes between empty trips are dropped with the trips
        kept = [at for at, trip in zip(reloads, trips[1:], strict=True) if trip]
        if not trips[0]:
            kept = kept[1:]
        breaks = tuple(
            (int(solution.StartValue(b)), int(solution.DurationValue(b)))
            for b in breaks_of[v]
            if solution.PerformedValue(b)
        )
        out.append(
            EngineRoute(
                vehicle_type=k,
                departure=int(departure),
                trips=tuple(tuple(t) for t in trips if t),
                starts=tuple(service_starts),
                trip_departures=tuple(kept),
                breaks=breaks,
            )
        )
    return out, True, stall.solutions
