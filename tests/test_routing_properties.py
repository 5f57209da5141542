"""Property test: on random small problems every engine's plan passes the checker."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reserve_opt.models.routing import ENGINES, RoutingProblem, RoutingProblemBuilder, check, solve


@st.composite
def problems(draw: st.DrawFn) -> RoutingProblem:
    coord = st.integers(0, 50)
    b = RoutingProblemBuilder()
    n_depots = draw(st.integers(1, 2))
    for d in range(n_depots):
        b.add_depot(
            f"D{d}",
            x=draw(coord),
            y=draw(coord),
            closes=draw(st.sampled_from([None, 400])),
            loading_time=draw(st.integers(0, 3)),
        )
    n_types = draw(st.integers(1, 3))
    n_clients = draw(st.integers(1, 8))
    for i in range(n_clients):
        early = draw(st.integers(0, 150))
        restricted = draw(st.booleans()) and n_types > 1
        b.add_client(
            f"c{i}",
            x=draw(coord),
            y=draw(coord),
            demand=(draw(st.integers(0, 30)), draw(st.integers(0, 30))),
            service_time=draw(st.integers(0, 10)),
            tw_early=early,
            tw_late=early + draw(st.sampled_from([20, 60, 300])),
            allowed_vehicle_types=[draw(st.integers(0, n_types - 1))] if restricted else None,
            release_time=draw(st.sampled_from([0, 0, 40, 120])),
        )
    for k in range(n_types):
        b.add_vehicle_type(
            f"v{k}",
            depot=draw(st.integers(0, n_depots - 1)),
            count=draw(st.integers(0, 2)),
            capacity=(draw(st.integers(5, 40)), draw(st.integers(5, 40))),
            fixed_cost=draw(st.integers(0, 20)),
            cost_per_distance=draw(st.sampled_from([0.5, 1.0, 2.0])),
            speed=draw(st.sampled_from([0.5, 1.0, 2.0])),
            max_duration=draw(st.sampled_from([None, 150])),
            shift_end=draw(st.sampled_from([None, 300])),
            returns_to_depot=draw(st.booleans()),
            max_trips=draw(st.integers(1, 3)),
        )
    return b.build()


@pytest.mark.parametrize("engine", ENGINES)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=problems())
def test_every_plan_passes_the_checker(engine: str, problem: RoutingProblem) -> None:
    result = solve(problem, engine, seed=0, max_iterations=100)
    report = check(problem, result)
    assert report.ok, report.violations
    served = {v.client for r in result.routes for v in r.visits}
    unserved = {u.client for u in result.unserved}
    assert served | unserved == set(range(problem.n_clients))
