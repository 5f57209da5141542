"""Independent route checker: recomputes a result from the problem alone.

It shares no code with the engines or with :func:`models.routing.result.assemble`: from
the problem's matrices and each route's vehicle type, start time and visit order it
recomputes loads per trip in both dimensions, the schedule (time windows, depot hours,
working hours, shift length; no trip leaving its depot before the largest release time
of the clients it visits; driver breaks inside the route, never during loading or
service, never more than the allowed working time without one), the distance and cost,
and checks that every client's demand is delivered exactly (or listed as unmet, with a
reason). An overnight vehicle (``VehicleType.working_day``) is checked on its working
clock, as the engines plan it (the nights' rests are not on it), and must start within its
first working day: a later start is a later day's route.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from reserve_opt.errors import SolverError

from .problem import UNBOUNDED, RoutingProblem, VehicleType
from .result import RoutingResult, Status

__all__ = ["CheckReport", "check"]


@dataclass(frozen=True)
class CheckReport:
    """What :func:`check` found.

    Attributes
    ----------
    violations
        One sentence per problem found; empty when the result is valid.
    distance
        Recomputed total distance (real units).
    cost
        Recomputed total cost (real units).
    """

    violations: tuple[str, ...]
    distance: float
    cost: float

    @property
    def ok(self) -> bool:
        """Whether no violation was found."""
        return not self.violations

    def raise_if_invalid(self) -> None:
        """Raise :class:`~reserve_opt.errors.SolverError` listing the violations."""
        if self.violations:
            raise SolverError("Invalid routing result:\n" + "\n".join(self.violations))


def _close(a: float, b: float, tol: float = 1e-6) -> bool:
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


def _drive(leave: int, travel: int, pauses: list[tuple[int, int]]) -> int:
    """When a vehicle leaving at ``leave`` arrives.

    The clock runs on during a break, the journey does not: a break that starts on the
    way adds its length.
    """
    remaining = travel
    clock = leave
    for b0, b1 in pauses:
        if b1 <= clock or b0 < leave:
            continue
        if b0 >= clock + remaining:
            break
        remaining -= b0 - clock
        clock = b1
    return clock + remaining


def _reported(reported: int, earliest: int, bad: list[str], too_early: str) -> int:
    """An engine-fixed time (with breaks): later than ``earliest`` is fine, earlier is not.

    One tick of slack absorbs rounding; ``too_early`` is the violation to add otherwise.
    """
    if reported < earliest - 1:
        bad.append(too_early)
    return max(earliest, reported)


def _check_breaks(
    tag: str,
    vt: VehicleType,
    pauses: list[tuple[int, int]],
    busy: list[tuple[int, int, str]],
    start: int,
    end: int,
    real: Callable[[int], float],
) -> list[str]:
    """Breaks lie inside the route, overlap no loading or service, and obey the rule."""
    bad: list[str] = []
    for b0, b1 in pauses:
        if b0 < start or b1 > end:
            bad.append(f"{tag}: break at {real(b0):g}-{real(b1):g} lies outside the route.")
        for a0, a1, what in busy:
            if b0 < a1 and a0 < b1:
                bad.append(f"{tag}: break at {real(b0):g}-{real(b1):g} overlaps {what}.")
        if vt.has_breaks and b1 - b0 < vt.break_duration:
            bad.append(
                f"{tag}: break at {real(b0):g} lasts {real(b1 - b0):g}, less than the "
                f"{real(vt.break_duration):g} {vt.name} needs."
            )
    if not vt.has_breaks:
        return bad
    rested = start
    for b0, b1 in pauses:
        if b1 - b0 < vt.break_duration:
            continue
        if b0 - rested > vt.break_after:
            bad.append(
                f"{tag}: works {real(b0 - rested):g} from {real(rested):g} without a break, "
                f"more than the {real(vt.break_after):g} allowed for {vt.name}."
            )
        rested = max(rested, b1)
    if end - rested > vt.break_after:
        bad.append(
            f"{tag}: works {real(end - rested):g} from {real(rested):g} to the end without a "
            f"break, more than the {real(vt.break_after):g} allowed for {vt.name}."
        )
    return bad


def check(problem: RoutingProblem, result: RoutingResult) -> CheckReport:
    """Check ``result`` against ``problem``.

    Parameters
    ----------
    problem
        The problem that was solved.
    result
        The result to check.

    Returns
    -------
    CheckReport
        Violations found, and the recomputed distance and cost.
    """
    s = problem.scaling
    bad: list[str] = []
    n_clients = problem.n_clients
    delivered = [[0, 0] for _ in range(n_clients)]
    visits = [0] * n_clients
    used = [0] * len(problem.vehicle_types)
    total_distance = 0
    total_cost = 0.0

    def to_time(x: float) -> int:
        return UNBOUNDED if math.isinf(x) else round(x * s.time)

    for r_no, route in enumerate(result.routes):
        tag = f"route {r_no}"
        k = route.vehicle_type
        if not 0 <= k < len(problem.vehicle_types):
            bad.append(f"{tag}: unknown vehicle type {k}.")
            continue
        vt = problem.vehicle_types[k]
        used[k] += 1
        if route.depot != vt.depot:
            bad.append(f"{tag}: depot {route.depot} is not the home depot {vt.depot} of {vt.name}.")
        if not route.trips or any(not trip.visits for trip in route.trips):
            bad.append(f"{tag}: a route or trip without visits is listed.")
        if len(route.trips) > vt.max_trips:
            bad.append(f"{tag}: {len(route.trips)} trips, {vt.name} allows {vt.max_trips}.")
        depot = problem.depots[vt.depot]
        travel = problem.durations[vt.profile]
        home = vt.depot
        now = to_time(route.start)
        if now < vt.shift_start or now < depot.opens:
            bad.append(f"{tag}: starts at {route.start:g}, before the shift or depot opening.")
        route_start = now
        if vt.overnight and not (vt.working_day > 0 and vt.night >= 0):
            bad.append(f"{tag}: {vt.name} has a working day of {s.real_time(vt.working_day):g} "
                       f"and nights of {s.real_time(vt.night):g}; both must be positive.")
        elif vt.overnight and now >= vt.working_day:
            # its times are working hours (nights left out): a start on a later working
            # day is a later day's route, which that day's fleet must carry
            bad.append(f"{tag}: {vt.name} starts at {route.start:g} h of work, after its "
                       f"first working day ({s.real_time(vt.working_day):g} h) ends.")
        dist = 0
        # With breaks the engine fixes the schedule: reported times may be later than
        # the earliest ones, but never earlier than the vehicle can be there.
        flexible = vt.has_breaks or bool(route.breaks)
        pauses = sorted((to_time(b.start), to_time(b.start + b.duration)) for b in route.breaks)
        busy: list[tuple[int, int, str]] = []
        for t_no, trip in enumerate(route.trips):
            is_last = t_no == len(route.trips) - 1
            # the trip may not start loading before the goods of every client it visits
            # are released: check the reported departure (and the route start)
            released = [
                (problem.clients[v.client].release_time, problem.clients[v.client].name)
                for v in trip.visits
                if 0 <= v.client < n_clients
            ]
            release, latest = max(released, default=(0, ""))
            leaves = min(to_time(trip.departure), now) if t_no == 0 else to_time(trip.departure)
            if leaves < release - 1:
                bad.append(
                    f"{tag} trip {t_no}: leaves its depot at {s.real_time(leaves):g}, before "
                    f"the goods of {latest!r} are released at {s.real_time(release):g}."
                )
            if t_no > 0:
                now = max(now, release)
                if flexible:
                    now = _reported(
                        to_time(trip.departure), now, bad,
                        f"{tag} trip {t_no}: reloads at {trip.departure:g}, before it is "
                        f"back at {s.real_time(now):g}.",
                    )
                if now > depot.closes:
                    bad.append(f"{tag} trip {t_no}: reloads after the depot closes.")
                now = max(now, depot.opens)
            busy.append((now, now + depot.loading_time, f"loading for trip {t_no}"))
            now += depot.loading_time
            load = [0, 0]
            here = home
            for visit in trip.visits:
                i = visit.client
                if not 0 <= i < n_clients:
                    bad.append(f"{tag}: unknown client {i}.")
                    continue
                c = problem.clients[i]
                if c.allowed_vehicle_types is not None and k not in c.allowed_vehicle_types:
                    bad.append(f"{tag}: {vt.name} may not serve client {c.name!r}.")
                amount = (
                    round(visit.delivered[0] * s.load[0]),
                    round(visit.delivered[1] * s.load[1]),
                )
                for d in (0, 1):
                    load[d] += amount[d]
                    delivered[i][d] += amount[d]
                visits[i] += 1
                there = problem.n_depots + i
                dist += int(problem.distances[here, there])
                arrive = _drive(now, int(travel[here, there]), pauses)
                begin = max(arrive, c.tw_early)
                if flexible:
                    begin = _reported(
                        to_time(visit.start), begin, bad,
                        f"{tag}: service at {c.name!r} reported at {visit.start:g}, "
                        f"before the vehicle can start it at {s.real_time(begin):g}.",
                    )
                if begin > c.tw_late:
                    bad.append(
                        f"{tag}: service at {c.name!r} starts at {s.real_time(begin):g}, "
                        f"after its window closes at {s.real_time(c.tw_late):g}."
                    )
                if (
                    abs(to_time(visit.start) - begin) > 1
                    or abs(to_time(visit.arrival) - arrive) > 1
                ):
                    bad.append(
                        f"{tag}: reported times at {c.name!r} ({visit.arrival:g}, "
                        f"{visit.start:g}) differ from the recomputed ({s.real_time(arrive):g}, "
                        f"{s.real_time(begin):g})."
                    )
                busy.append((begin, begin + c.service_time, f"service at {c.name!r}"))
                now = begin + c.service_time
                here = there
            cap = vt.capacity
            for d, name in enumerate(("weight", "volume")):
                if load[d] > cap[d]:
                    bad.append(
                        f"{tag} trip {t_no}: carries {s.real_load(load)[d]:g} {name}, "
                        f"capacity {s.real_load(cap)[d]:g}."
                    )
            if vt.returns_to_depot or not is_last:
                dist += int(problem.distances[here, home])
                now = _drive(now, int(travel[here, home]), pauses)
        bad.extend(_check_breaks(tag, vt, pauses, busy, route_start, now, s.real_time))
        closes = min(vt.shift_end, depot.closes) if vt.returns_to_depot else vt.shift_end
        if now > closes:
            bad.append(f"{tag}: ends at {s.real_time(now):g}, after {s.real_time(closes):g}.")
        if now - route_start > vt.max_duration:
            bad.append(
                f"{tag}: lasts {s.real_time(now - route_start):g}, longer than the shift "
                f"length {s.real_time(vt.max_duration):g}."
            )
        real_dist = dist / s.distance
        cost = vt.fixed_cost + vt.cost_per_distance * real_dist
        if not _close(route.distance, real_dist):
            bad.append(f"{tag}: distance {route.distance:g}, recomputed {real_dist:g}.")
        if not _close(route.cost, cost):
            bad.append(f"{tag}: cost {route.cost:g}, recomputed {cost:g}.")
        total_distance += dist
        total_cost += cost

    for k, vt in enumerate(problem.vehicle_types):
        if used[k] > vt.count:
            bad.append(f"{used[k]} routes use {vt.name}, which has {vt.count} vehicles.")

    missing = [[0, 0] for _ in range(n_clients)]
    listed = [0] * n_clients
    for u in result.unserved:
        if not 0 <= u.client < n_clients:
            bad.append(f"unserved entry for unknown client {u.client}.")
            continue
        listed[u.client] += 1
        if not u.reason.strip():
            bad.append(f"client {u.name!r} is unserved without a reason.")
        missing[u.client] = [round(u.missing[0] * s.load[0]), round(u.missing[1] * s.load[1])]
    for i, c in enumerate(problem.clients):
        if listed[i] > 1:
            bad.append(f"client {c.name!r} is listed as unserved {listed[i]} times.")
        got = (delivered[i][0] + missing[i][0], delivered[i][1] + missing[i][1])
        if got != c.demand:
            bad.append(
                f"client {c.name!r}: delivered {s.real_load(delivered[i])} plus unmet "
                f"{s.real_load(missing[i])} is not its demand {s.real_load(c.demand)}."
            )
        if visits[i] == 0 and listed[i] == 0:
            bad.append(f"client {c.name!r} is neither visited nor listed as unserved.")

    real_total = total_distance / s.distance
    if not _close(result.distance, real_total):
        bad.append(f"total distance {result.distance:g}, recomputed {real_total:g}.")
    if not _close(result.cost, total_cost):
        bad.append(f"total cost {result.cost:g}, recomputed {total_cost:g}.")
    if result.vehicles_used != len(result.routes):
        bad.append(f"vehicles_used {result.vehicles_used} but {len(result.routes)} routes.")
    expected = Status.PARTIAL if result.unserved else Status.SOLVED
    if result.status != Status.NO_SOLUTION and result.status != expected:
        bad.append(f"status {result.status} but {len(result.unserved)} clients are unserved.")
    return CheckReport(tuple(bad), real_total, total_cost)
