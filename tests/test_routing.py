"""Routing core: tiny instances with known optima, splitting, unmet demand, determinism.

Every solve goes through the independent checker (``_solve``).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from pathlib import Path

import numpy as np
import pytest

from reserve_opt.errors import InputError
from reserve_opt.models.routing import (
    ENGINES,
    RoutingProblem,
    RoutingProblemBuilder,
    RoutingResult,
    Scaling,
    Status,
    check,
    read_solomon,
    solve,
    split_amount,
)

VRP = Path(__file__).resolve().parent / "data" / "vrp"
#: Iterations per engine (PyVRP iterations; OR-Tools solutions, see models/routing.md):
#: counts, not seconds, so every outcome asserted here is the same on any machine.
ITERATIONS = {"pyvrp": 2_000, "ortools": 100}
#: PyVRP finds the two-trip plan with a release (B waits for 30) only after many
#: iterations: every seed 0-9 from 100,000 (30% in the phase that needs every client).
RELEASE_ITERATIONS = {"pyvrp": 100_000, "ortools": 100}


def _solve(problem: RoutingProblem, engine: str, **kw: object) -> RoutingResult:
    kw.setdefault("max_iterations", ITERATIONS[engine])
    kw.setdefault("seed", 1)
    result = solve(problem, engine, **kw)  # type: ignore[arg-type]
    report = check(problem, result)
    assert report.ok, report.violations
    assert result.cost == pytest.approx(report.cost)
    return result


def _line() -> RoutingProblem:
    """Clients at 10 and 20 on both sides of the depot, two per vehicle.

    A vehicle carries two clients; the clients at +20 and -20 each need a route of at
    least 40, and one route through both costs 80, so the optimum is 80: two
    out-and-back routes, each serving one side.
    """
    b = RoutingProblemBuilder()
    b.add_depot("D", x=0, y=0)
    for name, y in [("n1", 10), ("n2", 20), ("s1", -10), ("s2", -20)]:
        b.add_client(name, x=0, y=y, demand=(1, 0))
    b.add_vehicle_type("van", depot=0, count=4, capacity=(2, 0))
    return b.build()


def _square_with_windows() -> RoutingProblem:
    """Windows force D-A-C-B-D on a 10 x 10 square: cost 20 + 2 sqrt(200) = 48.284.

    A (10,0) closes at 12, so A comes first; C (0,10) closes at 30, B (10,10) opens at
    35, so C comes before B. Splitting the clients over two vehicles costs at least
    54.14 (D-A-D plus D-C-B-D, or D-A-B-D plus D-C-D).
    """
    b = RoutingProblemBuilder(Scaling(distance=1000, time=1000))
    b.add_depot("D", x=0, y=0)
    b.add_client("A", x=10, y=0, demand=(1, 0), tw_late=12)
    b.add_client("B", x=10, y=10, demand=(1, 0), tw_early=35, tw_late=60)
    b.add_client("C", x=0, y=10, demand=(1, 0), tw_early=15, tw_late=30)
    b.add_vehicle_type("van", depot=0, count=2, capacity=(5, 0))
    return b.build()


def _brute_force_cvrp(problem: RoutingProblem) -> float:
    """Exact CVRP optimum by enumerating set partitions and visiting orders."""
    n = problem.n_clients
    cap = problem.vehicle_types[0].capacity[0]
    dist = problem.distances
    best_route: dict[frozenset[int], int] = {}
    for size in range(1, n + 1):
        for subset in itertools.combinations(range(n), size):
            if sum(problem.clients[i].demand[0] for i in subset) > cap:
                continue
            cost = min(
                int(dist[0, 1 + p[0]])
                + sum(int(dist[1 + a, 1 + b]) for a, b in itertools.pairwise(p))
                + int(dist[1 + p[-1], 0])
                for p in itertools.permutations(subset)
            )
            best_route[frozenset(subset)] = cost

    def partition(rest: frozenset[int]) -> float:
        if not rest:
            return 0
        first = min(rest)
        out = math.inf
        for route, cost in best_route.items():
            if first in route and route <= rest:
                out = min(out, cost + partition(rest - route))
        return out

    best: float = float(partition(frozenset(range(n)))) / problem.scaling.distance
    return best


@pytest.mark.parametrize("engine", ENGINES)
def test_line_optimum(engine: str) -> None:
    result = _solve(_line(), engine)
    assert result.status is Status.SOLVED
    assert result.cost == pytest.approx(80.0)
    assert result.vehicles_used == 2


@pytest.mark.parametrize("engine", ENGINES)
def test_time_windows_force_the_order(engine: str) -> None:
    problem = _square_with_windows()
    result = _solve(problem, engine)
    assert result.cost == pytest.approx(20 + 2 * 14.142)
    (route,) = result.routes
    assert [v.name for v in route.visits] == ["A", "C", "B"]
    assert route.visits[2].start == pytest.approx(35.0)  # waits for B to open


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("seed", [3, 11])
def test_random_small_cvrp_matches_brute_force(engine: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    b = RoutingProblemBuilder()
    b.add_depot("D", x=50, y=50)
    for i in range(6):
        x, y = rng.integers(0, 100, size=2)
        b.add_client(f"c{i}", x=float(x), y=float(y), demand=(int(rng.integers(1, 6)), 0))
    b.add_vehicle_type("van", depot=0, count=6, capacity=(9, 0))
    problem = b.build()
    result = _solve(problem, engine)
    assert result.cost == pytest.approx(_brute_force_cvrp(problem))


def test_split_amount_full_loads_plus_remainder() -> None:
    assert split_amount((250, 0), (100, 0)) == [(100, 0), (100, 0), (50, 0)]
    pieces = split_amount((250, 30), (100, 20))
    assert len(pieces) == 3
    assert tuple(map(sum, zip(*pieces, strict=True))) == (250, 30)
    assert all(w <= 100 and v <= 20 for w, v in pieces)
    assert split_amount((5, 5), (10, 10)) == [(5, 5)]


@pytest.mark.parametrize("engine", ENGINES)
def test_oversized_demand_is_split_and_fully_delivered(engine: str) -> None:
    b = RoutingProblemBuilder()
    b.add_depot("D", x=0, y=0)
    b.add_client("big", x=10, y=0, demand=(250, 30))
    b.add_client("small", x=0, y=10, demand=(30, 1))
    b.add_vehicle_type("truck", depot=0, count=4, capacity=(100, 20))
    problem = b.build()
    result = _solve(problem, engine)
    assert result.status is Status.SOLVED
    big = [v for r in result.routes for v in r.visits if v.name == "big"]
    assert len(big) == 3
    assert sum(v.delivered[0] for v in big) == 250
    assert sum(v.delivered[1] for v in big) == 30


@pytest.mark.parametrize("engine", ENGINES)
def test_several_trips_when_the_fleet_is_short(engine: str) -> None:
    b = RoutingProblemBuilder()
    b.add_depot("D", x=0, y=0, loading_time=1)
    for i, (x, y) in enumerate([(10, 0), (0, 10), (-10, 0)]):
        b.add_client(f"c{i}", x=x, y=y, demand=(8, 0), service_time=2)
    b.add_vehicle_type("van", depot=0, count=1, capacity=(10, 0), max_trips=3)
    problem = b.build()
    result = _solve(problem, engine)
    assert result.status is Status.SOLVED
    (route,) = result.routes
    assert len(route.trips) == 3
    assert result.cost == pytest.approx(60.0)
    # three loads of 1, three services of 2, 60 of driving
    assert route.duration == pytest.approx(69.0)


@pytest.mark.parametrize("engine", ENGINES)
def test_unmet_clients_carry_reasons(engine: str) -> None:
    b = RoutingProblemBuilder()
    b.add_depot("D", x=0, y=0, closes=100)
    b.add_client("late", x=60, y=0, demand=(1, 0), tw_late=50)
    b.add_client("forbidden", x=5, y=0, demand=(1, 0), allowed_vehicle_types=[1])
    b.add_client("a", x=0, y=5, demand=(8, 0))
    b.add_client("b", x=0, y=-5, demand=(8, 0))
    b.add_vehicle_type("van", depot=0, count=1, capacity=(10, 0))
    b.add_vehicle_type("spare", depot=0, count=0, capacity=(10, 0))
    problem = b.build()
    result = _solve(problem, engine)
    assert result.status is Status.PARTIAL
    reasons = {u.name: u.reason for u in result.unserved}
    assert set(reasons) == {"late", "forbidden", "a"} or set(reasons) == {"late", "forbidden", "b"}
    assert "window closes at 50" in reasons["late"]
    assert "not allowed" in reasons["forbidden"] and "no vehicles" in reasons["forbidden"]
    left = next(u for u in result.unserved if u.name in "ab")
    assert "fleet too small" in left.reason and left.missing == (8, 0)
    assert result.vehicles_used == 1


@pytest.mark.parametrize("engine", ENGINES)
def test_fleet_short_even_with_trips_serves_most(engine: str) -> None:
    b = RoutingProblemBuilder()
    b.add_depot("D", x=0, y=0)
    for i, q in enumerate([5, 5, 3, 3]):
        b.add_client(f"c{i}", x=10 * (i + 1), y=0, demand=(q, 0))
    b.add_vehicle_type("van", depot=0, count=1, capacity=(6, 0), max_trips=2)
    problem = b.build()
    result = _solve(problem, engine)
    # 16 units, 12 carried at most: the best is three clients in two trips (3+3, 5)
    assert result.status is Status.PARTIAL
    assert len(result.unserved) == 1
    assert result.unserved[0].name in {"c0", "c1"}


@pytest.mark.parametrize("engine", ENGINES)
def test_fleet_short_in_time_reports_the_left_out_client(engine: str) -> None:
    # both windows are [10, 12] and the clients are 20 apart: one vehicle serves one
    b = RoutingProblemBuilder()
    b.add_depot("D", x=0, y=0)
    b.add_client("e", x=10, y=0, demand=(1, 0), tw_early=10, tw_late=12)
    b.add_client("w", x=-10, y=0, demand=(1, 0), tw_early=10, tw_late=12)
    b.add_vehicle_type("van", depot=0, count=1, capacity=(10, 0))
    result = _solve(b.build(), engine)
    assert result.status is Status.PARTIAL
    (left,) = result.unserved
    assert "no vehicle had room left" in left.reason
    assert result.cost == pytest.approx(20.0)


@pytest.mark.parametrize("engine", ENGINES)
def test_restrictions_speeds_open_routes_and_costs(engine: str) -> None:
    b = RoutingProblemBuilder(Scaling(distance=10, time=10))
    b.add_depot("D", x=0, y=0, loading_time=0.5)
    b.add_client("a", x=10, y=0, demand=(1, 1), service_time=1)
    b.add_client("b", x=20, y=0, demand=(1, 1), service_time=1, allowed_vehicle_types=[1])
    b.add_client("c", x=-10, y=0, demand=(1, 1), service_time=1, tw_early=30, tw_late=40)
    b.add_vehicle_type(
        "bike",
        depot=0,
        count=2,
        capacity=(5, 5),
        speed=2,
        returns_to_depot=False,
        max_duration=12,
        fixed_cost=3,
        cost_per_distance=0.5,
    )
    b.add_vehicle_type(
        "car", depot=0, count=1, capacity=(5, 5), speed=1, fixed_cost=10, cost_per_distance=1.25
    )
    problem = b.build()
    assert len(problem.durations) == 2  # speeds 2 and 1 give two travel-time profiles
    result = _solve(problem, engine)
    # car: D-b-a-D (20 + 10 + 10) = 40 * 1.25 + 10 = 60; bike: D-c open, 10 * 0.5 + 3 = 8
    # (a bike cannot reach b; a bike serving a too costs more than the car's detour)
    assert result.cost == pytest.approx(68.0)
    by_type = {r.vehicle_type_name: r for r in result.routes}
    assert [v.name for v in by_type["bike"].visits] == ["c"]
    assert by_type["bike"].distance == pytest.approx(10.0)  # no way back
    assert by_type["bike"].visits[0].arrival >= 5.5  # 0.5 loading + 10 / speed 2


@pytest.mark.parametrize("engine", ENGINES)
def test_shift_length_needs_a_second_vehicle(engine: str) -> None:
    b = RoutingProblemBuilder()
    b.add_depot("D", x=0, y=0)
    b.add_client("e", x=10, y=0, demand=(1, 0))
    b.add_client("w", x=-10, y=0, demand=(1, 0))
    b.add_vehicle_type("van", depot=0, count=2, capacity=(10, 0), max_duration=25)
    result = _solve(b.build(), engine)
    assert result.vehicles_used == 2
    assert all(r.duration <= 25 for r in result.routes)


@pytest.mark.parametrize("engine", ENGINES)
def test_same_seed_same_plan(engine: str) -> None:
    problem = read_solomon(VRP / "vrptw/C101.txt")
    runs = [_solve(problem, engine, max_iterations=60) for _ in range(2)]
    assert runs[0].routes == runs[1].routes
    assert runs[0].cost == runs[1].cost


@pytest.mark.parametrize("engine", ENGINES)
def test_solomon_c101_both_engines(engine: str) -> None:
    problem = read_solomon(VRP / "vrptw/C101.txt")
    result = _solve(problem, engine)
    assert result.status is Status.SOLVED
    assert result.cost <= 827.3 * 1.02  # BKS 827.3


def test_checker_catches_tampering() -> None:
    problem = _square_with_windows()
    result = _solve(problem, "pyvrp")
    route = result.routes[0]
    trip = route.trips[0]
    # swap A and C: A is then served after its window closes
    swapped = dataclasses.replace(trip, visits=(trip.visits[1], trip.visits[0], trip.visits[2]))
    bad = dataclasses.replace(result, routes=(dataclasses.replace(route, trips=(swapped,)),))
    assert any("window closes" in v for v in check(problem, bad).violations)
    # drop a visit: the client is neither served nor listed
    short = dataclasses.replace(trip, visits=trip.visits[:2])
    bad = dataclasses.replace(result, routes=(dataclasses.replace(route, trips=(short,)),))
    assert any("neither visited" in v for v in check(problem, bad).violations)
    # misreport the cost
    bad = dataclasses.replace(result, cost=result.cost - 1)
    assert any("total cost" in v for v in check(problem, bad).violations)
    # overload
    heavy = dataclasses.replace(trip.visits[0], delivered=(9.0, 0.0))
    over = dataclasses.replace(trip, visits=(heavy, *trip.visits[1:]))
    bad = dataclasses.replace(result, routes=(dataclasses.replace(route, trips=(over,)),))
    assert any("capacity" in v for v in check(problem, bad).violations)


def test_problem_is_immutable_and_validated() -> None:
    problem = _line()
    with pytest.raises(ValueError):
        problem.distances[0, 1] = 3
    with pytest.raises(dataclasses.FrozenInstanceError):
        problem.name = "x"  # type: ignore[misc]
    b = RoutingProblemBuilder()
    b.add_depot("D", x=0, y=0)
    b.add_client("a", x=1, y=0, demand=(-1, 0))
    b.add_vehicle_type("van", depot=3, count=1, capacity=(1, 0))
    with pytest.raises(InputError) as err:
        b.build()
    assert len(err.value.problems) == 2
    with pytest.raises(InputError, match="Unknown routing engine"):
        solve(problem, "gurobi")


def test_scaling_is_carried_and_costs_are_real() -> None:
    b = RoutingProblemBuilder(Scaling(distance=1000, time=60, load=(10, 100)))
    b.add_depot("D", x=0, y=0, opens=0, closes=8)
    b.add_client("a", x=0.5, y=0.0, demand=(1.5, 0.25), tw_late=4)
    b.add_vehicle_type("van", depot=0, count=1, capacity=(2, 1.5), fixed_cost=2.5)
    problem = b.build()
    assert problem.distances[0, 1] == 500
    assert problem.clients[0].demand == (15, 25)
    assert problem.clients[0].tw_late == 240
    assert problem.depots[0].closes == 480
    result = _solve(problem, "pyvrp")
    assert result.distance == pytest.approx(1.0)
    assert result.cost == pytest.approx(3.5)
    assert result.routes[0].visits[0].delivered == (1.5, 0.25)


@pytest.mark.parametrize("engine", ENGINES)
def test_depot_without_vehicles_is_never_visited(engine: str) -> None:
    b = RoutingProblemBuilder()
    b.add_depot("home", x=0, y=0)
    b.add_depot("idle", x=1, y=0)
    b.add_client("a", x=5, y=0, demand=(1, 0))
    b.add_vehicle_type("van", depot=0, count=1, capacity=(10, 0))
    result = _solve(b.build(), engine)
    assert result.status is Status.SOLVED and result.cost == pytest.approx(10)


@pytest.mark.parametrize("engine", ENGINES)
def test_parts_served_by_separate_fleets_are_solved_apart(engine: str) -> None:
    from reserve_opt.models.routing.solve import components

    b = RoutingProblemBuilder()
    b.add_depot("west", x=0, y=0)
    b.add_depot("east", x=100, y=0)
    for name, x, fleet in [("w1", 0, 0), ("w2", 10, 0), ("e1", 100, 1), ("e2", 90, 1),
                           ("nobody", 50, None)]:
        b.add_client(name, x=x, y=10, demand=(1, 0),
                     allowed_vehicle_types=[] if fleet is None else [fleet])
    b.add_vehicle_type("west van", depot=0, count=1, capacity=(10, 0))
    b.add_vehicle_type("east van", depot=1, count=1, capacity=(10, 0))
    problem = b.build()
    assert components(problem) == [([0], [0, 1, 4]), ([1], [2, 3])]
    result = _solve(problem, engine)
    # each van makes its own loop: 10 + 10 + round(sqrt(200)) on each side (scale 1)
    assert result.cost == pytest.approx(2 * (10 + 10 + 14))
    assert [u.name for u in result.unserved] == ["nobody"]
    assert {r.vehicle_type_name: r.depot for r in result.routes} == {"west van": 0,
                                                                      "east van": 1}


def _released(release: float, *, count: int, max_trips: int) -> RoutingProblem:
    """A at (10, 0) due by 15; B at (10, 1) released at ``release`` (time = distance).

    Without a release one route D-A-B-D costs 10 + 1 + sqrt(101) = 21.050. With B
    released at 30, A (due by 15) and B cannot share a trip: D-A-D plus D-B-D cost
    20 + 2 sqrt(101) = 40.100, on two vehicles or on two trips of one.
    """
    b = RoutingProblemBuilder(Scaling(distance=1000, time=1000))
    b.add_depot("D", x=0, y=0)
    b.add_client("A", x=10, y=0, demand=(1, 0), tw_late=15)
    b.add_client("B", x=10, y=1, demand=(1, 0), release_time=release)
    b.add_vehicle_type("van", depot=0, count=count, capacity=(2, 0), max_trips=max_trips)
    return b.build()


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("count", "max_trips"), [(2, 1), (1, 2)])
def test_release_time_forces_a_later_departure(engine: str, count: int, max_trips: int) -> None:
    iterations = RELEASE_ITERATIONS[engine]
    free = _solve(_released(0, count=count, max_trips=max_trips), engine, max_iterations=iterations)
    assert free.cost == pytest.approx(10 + 1 + math.sqrt(101), abs=1e-3)
    problem = _released(30, count=count, max_trips=max_trips)
    assert problem.clients[1].release_time == 30_000  # scaled like the windows
    result = _solve(problem, engine, max_iterations=iterations)
    assert result.status is Status.SOLVED
    assert result.cost == pytest.approx(20 + 2 * math.sqrt(101), abs=1e-3)
    trips = [trip for route in result.routes for trip in route.trips]
    assert sorted(len(trip.visits) for trip in trips) == [1, 1]
    (b_trip,) = [trip for trip in trips if trip.visits[0].name == "B"]
    (a_trip,) = [trip for trip in trips if trip.visits[0].name == "A"]
    assert b_trip.departure >= 30 - 1e-9
    assert a_trip.visits[0].start <= 15
    assert b_trip.visits[0].arrival == pytest.approx(b_trip.departure + math.sqrt(101), abs=1e-3)


def test_checker_rejects_a_trip_leaving_before_its_release() -> None:
    # the plan made without the release leaves at 0 with B on board
    early = _solve(_released(0, count=2, max_trips=1), "ortools")
    assert [r.start for r in early.routes] == [0.0]
    report = check(_released(30, count=2, max_trips=1), early)
    assert report.violations == (
        "route 0 trip 0: leaves its depot at 0, before the goods of 'B' are released at 30.",
    )
    # a later trip too: move the second trip of a two-trip plan 10 earlier
    late = _solve(_released(30, count=1, max_trips=2), "pyvrp",
                  max_iterations=RELEASE_ITERATIONS["pyvrp"])
    (route,) = late.routes
    second = route.trips[1]
    shifted = dataclasses.replace(second, departure=second.departure - 10, visits=tuple(
        dataclasses.replace(v, arrival=v.arrival - 10, start=v.start - 10) for v in second.visits
    ))
    tampered = dataclasses.replace(
        late, routes=(dataclasses.replace(route, trips=(route.trips[0], shifted)),)
    )
    violations = check(_released(30, count=1, max_trips=2), tampered).violations
    assert "route 0 trip 1: leaves its depot at 20, before the goods of 'B' are released at 30." \
        in violations


@pytest.mark.parametrize("engine", ENGINES)
def test_release_after_the_window_is_unmet_with_the_reason(engine: str) -> None:
    b = RoutingProblemBuilder(Scaling(distance=1000, time=1000))
    b.add_depot("D", x=0, y=0)
    b.add_client("A", x=10, y=0, demand=(1, 0))
    b.add_client("B", x=10, y=1, demand=(1, 0), release_time=30, tw_late=35)
    b.add_vehicle_type("van", depot=0, count=1, capacity=(2, 0))
    result = _solve(b.build(), engine)
    assert [(u.name, u.reason) for u in result.unserved] == [
        ("B", "no vehicle can serve it: van arrives at 40.05 at the earliest (its goods "
              "are released at 30), after the window closes at 35"),
    ]
    with pytest.raises(InputError, match="Client 'B' has release time -1000; give a finite"):
        b2 = RoutingProblemBuilder(Scaling(time=1000))
        b2.add_depot("D", x=0, y=0)
        b2.add_client("B", x=1, y=0, demand=(1, 0), release_time=-1)
        b2.add_vehicle_type("van", depot=0, count=1, capacity=(2, 0))
        b2.build()


def test_ortools_iterations_end_a_search_without_new_solutions() -> None:
    # Guided local search finds 12 solutions in 100,000 branches here: a solution limit
    # alone ran until the 10 s backstop; the branch count ends it, the same way each time.
    problem = _released(30, count=1, max_trips=2)
    runs = [solve(problem, "ortools", max_iterations=100) for _ in range(2)]
    assert runs[0].status is Status.SOLVED and runs[0].routes == runs[1].routes
    assert runs[0].cost == pytest.approx(20 + 2 * math.sqrt(101), abs=1e-3)
