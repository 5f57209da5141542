"""The improvement-stall rule of both routing engines, asserted by iteration counts.

A search ends after ``stall_iterations`` iterations (PyVRP iterations, OR-Tools
solutions) in a row without a better plan; without the rule it runs to
``max_iterations``. Counts, never seconds, so every outcome holds on any machine.
"""

from __future__ import annotations

import numpy as np
import pytest

from reserve_opt.errors import InputError
from reserve_opt.models.routing import RoutingProblem, RoutingProblemBuilder, check, solve
from reserve_opt.models.routing.engine_ortools import solve_ortools
from reserve_opt.models.routing.engine_pyvrp import solve_pyvrp
from reserve_opt.models.routing.prepare import prepare
from reserve_opt.models.routing.solve import default_stall

ENGINE = {"pyvrp": solve_pyvrp, "ortools": solve_ortools}
#: Far more iterations than a 10-load problem needs: only the stall rule ends the run.
HUGE = 10**7


def _ten_loads() -> RoutingProblem:
    rng = np.random.default_rng(3)
    b = RoutingProblemBuilder()
    b.add_depot("depot", x=0, y=0)
    for i, (x, y) in enumerate(rng.uniform(-20, 20, size=(10, 2))):
        b.add_client(f"load {i}", x=float(x), y=float(y), demand=(1, 0))
    b.add_vehicle_type("truck", depot=0, count=2, capacity=(5, 0))
    return b.build()


def _iterations(engine: str, problem: RoutingProblem, **kw: int | None) -> int:
    routes, found, iterations = ENGINE[engine](
        problem, prepare(problem), time_limit_s=1.0, seed=0, **kw)
    assert found and routes
    return int(iterations)


@pytest.mark.parametrize("engine", ["pyvrp", "ortools"])
def test_stall_rule_ends_the_search_and_is_reproducible(engine: str) -> None:
    problem = _ten_loads()
    stall = 50 if engine == "ortools" else 500
    runs = [_iterations(engine, problem, max_iterations=HUGE, stall_iterations=stall)
            for _ in range(2)]
    assert runs[0] == runs[1]  # counted, so the same on any machine
    assert stall < runs[0] < HUGE // 1000
    # a stricter rule ends sooner on the same search path
    assert _iterations(engine, problem, max_iterations=HUGE,
                       stall_iterations=stall // 5) < runs[0]


def test_pyvrp_without_the_rule_runs_every_iteration() -> None:
    problem = _ten_loads()
    assert _iterations("pyvrp", problem, max_iterations=3000, stall_iterations=None) == 3000
    assert _iterations("pyvrp", problem, max_iterations=3000, stall_iterations=100) < 3000


@pytest.mark.parametrize("engine", ["pyvrp", "ortools"])
def test_default_stall_keeps_the_optimum_of_a_small_problem(engine: str) -> None:
    problem = _ten_loads()
    ruled = solve(problem, engine, seed=0, max_iterations=HUGE)
    assert check(problem, ruled).ok and not ruled.unserved
    full = solve(problem, engine, seed=0, max_iterations=3000 if engine == "pyvrp" else 300,
                 stall_iterations=None)
    assert ruled.cost == pytest.approx(full.cost)


def test_default_stall_grows_with_the_problem() -> None:
    assert default_stall("pyvrp", 10) == 2_000
    assert default_stall("pyvrp", 200) == 20_000
    assert default_stall("ortools", 3) == 100
    assert default_stall("ortools", 10) == 200
    assert default_stall("ortools", 200) == 4_000


def test_a_stall_limit_below_one_is_refused() -> None:
    with pytest.raises(InputError) as err:
        solve(_ten_loads(), "pyvrp", stall_iterations=0)
    assert err.value.problems == ("stall_iterations must be at least 1, got 0.",)


def _forty_loads() -> RoutingProblem:
    rng = np.random.default_rng(11)
    b = RoutingProblemBuilder()
    b.add_depot("depot", x=0, y=0)
    for i, (x, y) in enumerate(rng.uniform(-50, 50, size=(40, 2))):
        b.add_client(f"load {i}", x=float(x), y=float(y), demand=(int(rng.integers(1, 4)), 0))
    b.add_vehicle_type("truck", depot=0, count=8, capacity=(12, 0))
    return b.build()


def test_ortools_rounds_are_reproducible_per_seed() -> None:
    # Rounds end after 2.5% of the stall limit (at least 10 solutions) without a gain;
    # the search then restarts from the best plan with a seeded cluster left out.
    problem = _forty_loads()
    prepared = prepare(problem)
    runs = [solve_ortools(problem, prepared, time_limit_s=1.0, seed=5, max_iterations=HUGE,
                          stall_iterations=100) for _ in range(2)]
    assert runs[0] == runs[1]  # same seed, same counts: the same plan and iterations
    routes, found, iterations = runs[0]
    assert found and iterations < HUGE // 1000
    # rounds of 10 solutions without a gain; the search ends on its stall rule of 100,
    # long before the limits, and serves every load once
    assert iterations > 100
    served = sorted(c for r in routes for t in r.trips for c in t)
    assert served == list(range(40))
    assert check(problem, solve(problem, "ortools", seed=5, max_iterations=HUGE,
                                stall_iterations=100)).ok
