"""One entry point for both engines: :func:`solve`."""

from __future__ import annotations

import time
from typing import Literal

from reserve_opt.errors import InputError

from .prepare import Prepared, prepare
from .problem import LOAD_DIMENSIONS, RoutingProblem
from .result import RoutingResult, assemble

__all__ = ["ENGINES", "Engine", "solve"]

Engine = Literal["pyvrp", "ortools"]
#: Names accepted by :func:`solve`.
ENGINES: tuple[str, ...] = ("pyvrp", "ortools")


def _left_out_reason(problem: RoutingProblem, prepared: Prepared) -> str:
    """Reason given for pieces an engine leaves out; names a capacity shortfall if any."""
    s = problem.scaling
    total = [0, 0]
    for piece in prepared.pieces:
        total[0] += piece.demand[0]
        total[1] += piece.demand[1]
    fleet = [0, 0]
    for vt in problem.vehicle_types:
        for d in (0, 1):
            fleet[d] += max(0, vt.count) * vt.max_trips * vt.capacity[d]
    for d, name in enumerate(LOAD_DIMENSIONS):
        if total[d] > fleet[d]:
            have, need = s.real_load(fleet), s.real_load(total)
            return (
                f"fleet too small: the servable demand needs {need[d]:,.6g} {name} but all "
                f"vehicles on all their trips carry {have[d]:,.6g}"
            )
    return (
        "fleet too small for it: no vehicle had room left (capacity, working hours or "
        "time windows) in the plan found; more vehicles, trips or time would be needed"
    )


def pyvrp_breaks_message(problem: RoutingProblem) -> str:
    """The error for a problem with driver breaks sent to PyVRP (it has no breaks)."""
    s = problem.scaling
    vt = next(v for v in problem.vehicle_types if v.has_breaks and v.count > 0)
    return (
        f"Driver breaks (vehicle type {vt.name!r}: a break of {s.real_time(vt.break_duration):g} "
        f"after at most {s.real_time(vt.break_after):g} of work) are not supported by the "
        "pyvrp engine; use the ortools engine (--engine ortools)."
    )


def solve(
    problem: RoutingProblem,
    engine: Engine | str = "pyvrp",
    time_limit_s: float = 10.0,
    seed: int = 0,
    *,
    max_iterations: int | None = None,
) -> RoutingResult:
    """Plan routes for ``problem``.

    Demands larger than a vehicle are split into vehicle-sized pieces first; clients no
    vehicle can serve, and pieces the engine cannot fit, are reported in
    ``RoutingResult.unserved`` with a reason.

    Parameters
    ----------
    problem
        The problem.
    engine
        ``"pyvrp"`` (default) or ``"ortools"``.
    time_limit_s
        Wall-clock budget in seconds.
    seed
        Random seed (PyVRP); OR-Tools routing is deterministic and has none.
    max_iterations
        Stop after this many iterations (PyVRP) or solutions (OR-Tools) instead of after
        ``time_limit_s``, which makes a run reproducible on any machine. With only a
        time limit, a run is reproducible for a seed as long as it gets as far.

    Returns
    -------
    RoutingResult
        The frozen result, in real units.

    Raises
    ------
    InputError
        For an unknown engine, a non-positive time limit, or driver breaks with the
        ``pyvrp`` engine (PyVRP 0.14 has no breaks; vehicle-client restrictions work with
        both engines).
    """
    if engine not in ENGINES:
        raise InputError(f"Unknown routing engine {engine!r}; use one of {', '.join(ENGINES)}.")
    if not time_limit_s > 0:
        raise InputError(f"time_limit_s must be positive, got {time_limit_s}.")
    if max_iterations is not None and max_iterations < 1:
        raise InputError(f"max_iterations must be at least 1, got {max_iterations}.")
    if engine == "pyvrp" and problem.needs_breaks:
        raise InputError(pyvrp_breaks_message(problem))
    prepared = prepare(problem)
    start = time.perf_counter()
    if engine == "pyvrp":
        from .engine_pyvrp import solve_pyvrp

        routes, found = solve_pyvrp(
            problem, prepared, time_limit_s=time_limit_s, seed=seed, max_iterations=max_iterations
        )
    else:
        from .engine_ortools import solve_ortools

        routes, found = solve_ortools(
            problem, prepared, time_limit_s=time_limit_s, seed=seed, max_iterations=max_iterations
        )
    runtime = time.perf_counter() - start
    reason = (
        _left_out_reason(problem, prepared)
        if found
        else f"{engine} found no plan within {time_limit_s:g} s"
    )
    return assemble(
        problem,
        prepared,
        routes,
        engine=str(engine),
        runtime_s=runtime,
        seed=seed,
        left_out_reason=reason,
        found=found,
    )
