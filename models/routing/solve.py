"""One entry point for both engines: :func:`solve`."""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Literal

import numpy as np

from reserve_opt.errors import InputError

from .prepare import Prepared, prepare
from .problem import LOAD_DIMENSIONS, RoutingProblem
from .result import Route, RoutingResult, Status, Unserved, assemble

__all__ = [
    "ENGINES",
    "MAX_SEED",
    "Engine",
    "check_seed",
    "components",
    "default_stall",
    "solve",
]

Engine = Literal["pyvrp", "ortools"]
#: Names accepted by :func:`solve`.
ENGINES: tuple[str, ...] = ("pyvrp", "ortools")
STALL_PYVRP_MIN, STALL_PYVRP_PER = 2_000, 100
STALL_ORTOOLS_MIN, STALL_ORTOOLS_PER = 100, 20


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
            unit = problem.load_units[d]
            what = f"{unit} ({name})" if unit else name
            return (
                f"fleet too small: the servable demand needs {need[d]:,.6g} {what} but all "
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


#: Improvement-stall rule, per engine: iterations in a row without a better plan before a
#: search ends, ``max(minimum, per_piece * pieces)``. PyVRP iterations are cheap (tens of
#: thousands a second on small problems); OR-Tools counts solutions (tens to hundreds a
#: second). Chosen on bench/routing_bks.py so the 10 s benchmark runs keep their gaps
#: while small problems end well under a second (see models/routing.md).
STALL_RULE: dict[str, tuple[int, int]] = {"pyvrp": (STALL_PYVRP_MIN, STALL_PYVRP_PER),
                                          "ortools": (STALL_ORTOOLS_MIN, STALL_ORTOOLS_PER)}


def default_stall(engine: str, pieces: int) -> int:
    """The default improvement-stall limit of ``engine`` for ``pieces`` visits.

    Parameters
    ----------
    engine
        ``"pyvrp"`` or ``"ortools"``.
    pieces
        Number of client visits (pieces) of the problem.

    Returns
    -------
    int
        Iterations (PyVRP) or solutions (OR-Tools) without improvement that end a search.
    """
    minimum, per_piece = STALL_RULE[engine]
    return max(minimum, per_piece * pieces)


#: Largest random seed PyVRP takes (an unsigned 32-bit integer).
MAX_SEED = 2**32 - 1


def check_seed(seed: int, name: str = "seed") -> None:
    """Refuse a seed PyVRP cannot take (it is an unsigned 32-bit integer).

    Raises
    ------
    InputError
        Naming ``name`` (e.g. the command-line flag) if ``seed`` is out of range.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise InputError(f"{name} {seed}: give a whole number from 0 to {MAX_SEED}.")


def solve(
    problem: RoutingProblem,
    engine: Engine | str = "pyvrp",
    time_limit_s: float = 10.0,
    seed: int = 0,
    *,
    max_iterations: int | None = None,
    stall_iterations: int | Literal["auto"] | None = "auto",
) -> RoutingResult:
    """Plan routes for ``problem``.

    Demands larger than a vehicle are split into vehicle-sized pieces first; clients no
    vehicle can serve, and pieces the engine cannot fit, are reported in
    ``RoutingResult.unserved`` with a reason. A problem whose clients fall into groups
    served by disjoint sets of vehicle types (see :func:`components`) is solved group
    by group, the time limit shared in proportion to the clients.

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
        Stop after this many iterations instead of after ``time_limit_s``, which makes a
        run reproducible on any machine: PyVRP's iterations (a perturbation and a local
        search each; tens of thousands a second on small problems), or OR-Tools'
        solutions (or 1,000 search branches per iteration, whichever comes first; tens
        to hundreds of solutions a second). With only a
        time limit, a run is reproducible for a seed as long as it gets as far.
    stall_iterations
        End the search after this many iterations (as counted for ``max_iterations``)
        in a row without a better plan; ``"auto"`` (default) uses
        :func:`default_stall`, ``None`` turns the rule off. A count, so with
        ``max_iterations`` the run stays reproducible.

    Returns
    -------
    RoutingResult
        The frozen result, in real units.

    Raises
    ------
    InputError
        For an unknown engine, a time limit that is not a positive finite number, a seed
        outside 0 .. :data:`MAX_SEED`, or driver breaks with the
        ``pyvrp`` engine (PyVRP 0.14 has no breaks; vehicle-client restrictions work with
        both engines).
    """
    if engine not in ENGINES:
        raise InputError(f"Unknown routing engine {engine!r}; use one of {', '.join(ENGINES)}.")
    if not (math.isfinite(time_limit_s) and time_limit_s > 0):
        raise InputError(f"time_limit_s must be a positive number of seconds, got {time_limit_s}.")
    if max_iterations is not None and max_iterations < 1:
        raise InputError(f"max_iterations must be at least 1, got {max_iterations}.")
    if isinstance(stall_iterations, int) and stall_iterations < 1:
        raise InputError(f"stall_iterations must be at least 1, got {stall_iterations}.")
    check_seed(seed)
    if engine == "pyvrp" and problem.needs_breaks:
        raise InputError(pyvrp_breaks_message(problem))
    parts = components(problem)
    if len(parts) > 1:
        return _solve_parts(problem, parts, str(engine), time_limit_s, seed, max_iterations,
                            stall_iterations)
    return _solve_one(problem, str(engine), time_limit_s, seed, max_iterations, stall_iterations)


def components(problem: RoutingProblem) -> list[tuple[list[int], list[int]]]:
    """Independent parts of ``problem``: (vehicle types, clients) that share no vehicle.

    Clients are joined to the vehicle types allowed to serve them; each connected group
    is a routing problem of its own (e.g. the loads of each depot when every load may
    only go on its own depot's vehicles). Clients no type may serve join the largest
    part, where they are reported as unservable. Types that serve no client are dropped.

    Parameters
    ----------
    problem
        The problem.

    Returns
    -------
    list of tuple
        Vehicle type indices and client indices of each part, in client order.
    """
    n_types = len(problem.vehicle_types)
    parent = list(range(n_types + problem.n_clients))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    loose: list[int] = []
    for i, c in enumerate(problem.clients):
        allowed = range(n_types) if c.allowed_vehicle_types is None else c.allowed_vehicle_types
        if not allowed:
            loose.append(i)
        for k in allowed:
            parent[find(n_types + i)] = find(k)
    groups: dict[int, tuple[list[int], list[int]]] = {}
    for i in range(problem.n_clients):
        if i not in loose:
            groups.setdefault(find(n_types + i), ([], []))[1].append(i)
    for k in range(n_types):
        if find(k) in groups:
            groups[find(k)][0].append(k)
    parts = sorted(groups.values(), key=lambda g: g[1][0])
    if loose:
        if not parts:
            return [(list(range(n_types)), list(range(problem.n_clients)))]
        biggest = max(parts, key=lambda g: len(g[1]))
        biggest[1].extend(loose)
        biggest[1].sort()
    return parts


def _solve_parts(
    problem: RoutingProblem,
    parts: list[tuple[list[int], list[int]]],
    engine: str,
    time_limit_s: float,
    seed: int,
    max_iterations: int | None,
    stall_iterations: int | Literal["auto"] | None,
) -> RoutingResult:
    """Solve each independent part alone (time shared by clients) and merge the plans."""
    n_dep = problem.n_depots
    routes: list[Route] = []
    unserved: list[Unserved] = []
    runtime = 0.0
    found_any = False
    for types, clients in parts:
        type_new = {k: n for n, k in enumerate(types)}
        locs = np.array([*range(n_dep), *(n_dep + i for i in clients)], dtype=np.int64)
        sub_clients = []
        for i in clients:
            allowed = problem.clients[i].allowed_vehicle_types
            if allowed is not None:
                allowed = frozenset(type_new[k] for k in allowed if k in type_new)
            sub_clients.append(
                dataclasses.replace(problem.clients[i], allowed_vehicle_types=allowed)
            )
        sub = RoutingProblem(
            depots=problem.depots,
            clients=tuple(sub_clients),
            vehicle_types=tuple(problem.vehicle_types[k] for k in types),
            distances=problem.distances[np.ix_(locs, locs)],
            durations=tuple(m[np.ix_(locs, locs)] for m in problem.durations),
            scaling=problem.scaling,
            name=problem.name,
            load_units=problem.load_units,
        )
        budget = max(0.1, time_limit_s * len(clients) / problem.n_clients)
        part = _solve_one(sub, engine, budget, seed, max_iterations, stall_iterations)
        runtime += part.runtime_s
        found_any = found_any or part.status is not Status.NO_SOLUTION
        for r in part.routes:
            trips = tuple(
                dataclasses.replace(
                    t,
                    visits=tuple(
                        dataclasses.replace(v, client=clients[v.client]) for v in t.visits
                    ),
                )
                for t in r.trips
            )
            routes.append(dataclasses.replace(r, vehicle_type=types[r.vehicle_type], trips=trips))
        unserved += [dataclasses.replace(u, client=clients[u.client]) for u in part.unserved]
    unserved.sort(key=lambda u: u.client)
    status = Status.PARTIAL if unserved else Status.SOLVED
    if not found_any:
        status = Status.NO_SOLUTION
    return RoutingResult(
        engine=engine,
        status=status,
        cost=sum(r.cost for r in routes),
        distance=sum(r.distance for r in routes),
        vehicles_used=len(routes),
        routes=tuple(routes),
        unserved=tuple(unserved),
        runtime_s=runtime,
        seed=seed,
    )


def _solve_one(
    problem: RoutingProblem,
    engine: str,
    time_limit_s: float,
    seed: int,
    max_iterations: int | None,
    stall_iterations: int | Literal["auto"] | None,
) -> RoutingResult:
    prepared = prepare(problem)
    stall = (
        default_stall(engine, len(prepared.pieces))
        if stall_iterations == "auto"
        else stall_iterations
    )
    start = time.perf_counter()
    if engine == "pyvrp":
        from .engine_pyvrp import solve_pyvrp

        routes, found, _ = solve_pyvrp(
            problem, prepared, time_limit_s=time_limit_s, seed=seed,
            max_iterations=max_iterations, stall_iterations=stall,
        )
    else:
        from .engine_ortools import solve_ortools

        routes, found, _ = solve_ortools(
            problem, prepared, time_limit_s=time_limit_s, seed=seed,
            max_iterations=max_iterations, stall_iterations=stall,
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
