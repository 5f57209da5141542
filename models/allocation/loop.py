"""Allocation and routing that agree: route each day of an allocation, feed back, re-allocate.

:func:`route_days` routes every day of an :class:`AllocationResult` on the instance's fleet
(:func:`reserve_opt.models.routing.from_allocation`, as ``reserve-opt route --plan`` does
for one day) and counts, per day, the units promised and the units the trucks carry.
:func:`allocate_and_route` closes the loop: where a day's routes leave units unmet, the
weight each source's trucks actually carried that day becomes an extra cap on what the
allocation may send from that source on that day (``AllocationOptions.route_caps_kg``), and
the event is allocated again, until every day routes what it promises (within
``tolerance``) or ``rounds`` allocations have been made. A source with no truck of its own
or in its region is capped at 0 kg from the first round (routing has none for it), and a
later round routes again only the days whose deliveries changed. See
``models/allocation.md``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import pandas as pd

from reserve_opt.errors import InputError
from reserve_opt.fleet import home_fleets

from .options import AllocationOptions
from .solve import solve_allocation

if TYPE_CHECKING:
    from reserve_opt.domain import Instance
    from reserve_opt.models.routing import DeliveryProblem, RoutingResult
    from reserve_opt.solvers import SolverOptions

    from .result import AllocationResult

__all__ = ["DayRouting", "LoopResult", "allocate_and_route", "route_days"]

#: Most rounds (allocations) the loop may be asked for.
MAX_ROUNDS = 50


@dataclass(frozen=True, eq=False)
class DayRouting:
    """One day of an allocation on trucks.

    Attributes
    ----------
    period
        The day (1-based).
    plan, result
        The routing problem built from the day's deliveries and the engine's routes.
    report
        :func:`~reserve_opt.models.routing.delivery_report`: per delivery and point,
        ``quantity``, ``delivered`` and ``unmet`` units with the reason.
    promised_units
        Units the allocation sends that day.
    routed_units
        Units on the day's routes.
    routed_kg
        Source facility -> kg on its routes that day.
    seconds
        Time spent building and routing the day, s.
    """

    period: int
    plan: DeliveryProblem
    result: RoutingResult
    report: pd.DataFrame
    promised_units: float
    routed_units: float
    routed_kg: dict[str, float]
    seconds: float

    @property
    def unmet_units(self) -> float:
        """Units promised that day that no route carries."""
        return max(0.0, self.promised_units - self.routed_units)

    @property
    def unmet_share(self) -> float:
        """Unmet units as a share of the promised units (0 when nothing is promised)."""
        return self.unmet_units / self.promised_units if self.promised_units > 0 else 0.0


def route_days(
    instance: Instance,
    allocation: AllocationResult,
    *,
    engine: str = "pyvrp",
    max_iterations: int | None = 200,
    time_limit_s: float = 600.0,
    seed: int = 0,
    delivery_options: object | None = None,
    reuse: dict[int, tuple[pd.DataFrame, DayRouting]] | None = None,
) -> list[DayRouting]:
    """Route every day of an allocation on the instance's fleet.

    Parameters
    ----------
    instance
        The instance the allocation was made for.
    allocation
        The allocation.
    engine
        ``"pyvrp"`` or ``"ortools"``.
    max_iterations
        Iteration limit of the routing engine per day (reproducible on any machine).
    time_limit_s
        Wall-clock budget per day, s (a safety net behind ``max_iterations``).
    seed
        Routing seed.
    reuse
        Day -> (deliveries, routing) of an earlier allocation: a day whose deliveries are
        the same is not routed again. Filled with this call's days.
    delivery_options
        :class:`~reserve_opt.models.routing.DeliveryOptions`; default theirs, with the
        allocation's ``max_trips``.

    Returns
    -------
    list of DayRouting
        One per period with deliveries, in day order.

    Raises
    ------
    SolverError
        If the independent routing checker rejects a day's routes.
    """
    from reserve_opt.errors import SolverError
    from reserve_opt.models.routing import (
        DeliveryOptions,
        check_deliveries,
        delivery_report,
        from_allocation,
        solve,
        vehicles_away,
    )

    opts = delivery_options if isinstance(delivery_options, DeliveryOptions) else \
        DeliveryOptions(max_trips=allocation.options.max_trips)
    weight = {c.id: c.weight_kg for c in instance.commodities}
    days: list[DayRouting] = []
    # vehicles still out on earlier days' overnight trips, by day and fleet row
    away: dict[int, dict[str, list[float]]] = {}
    for period in range(1, allocation.options.periods + 1):
        table = allocation.deliveries(period)
        if table.empty:
            continue
        if (reuse is not None and period in reuse and reuse[period][0].equals(table)
                and dict(reuse[period][1].plan.away)
                == {k: tuple(v) for k, v in away.get(period, {}).items()}):
            days.append(reuse[period][1])
            _add_away(away, vehicles_away(days[-1].plan, days[-1].result))
            continue
        t0 = time.perf_counter()
        plan = from_allocation(instance, table, allocation.event, period=period,
                               options=replace(opts, away=away.get(period, {})))
        result = solve(plan.problem, engine, time_limit_s=time_limit_s, seed=seed,
                       max_iterations=max_iterations)
        verdict = check_deliveries(plan, result)
        if not verdict.ok:
            raise SolverError(f"day {period}: the independent routing checker rejected the "
                              "routes: " + "; ".join(verdict.violations))
        report = delivery_report(plan, result)
        kg = (report["delivered"] * report["commodity"].map(weight)).groupby(
            report["source"]).sum()
        days.append(DayRouting(
            period=period, plan=plan, result=result, report=report,
            promised_units=float(table["quantity"].sum()),
            routed_units=float(verdict.delivered),
            routed_kg={str(s): float(v) for s, v in kg.items()},
            seconds=time.perf_counter() - t0))
        _add_away(away, vehicles_away(plan, result))
        if reuse is not None:
            reuse[period] = (table, days[-1])
    return days


def _add_away(total: dict[int, dict[str, list[float]]],
              more: dict[int, dict[str, list[float]]]) -> None:
    """Join one day's :func:`vehicles_away` into the days' totals."""
    for day, rows in more.items():
        for row, hours in rows.items():
            total.setdefault(day, {}).setdefault(row, []).extend(hours)



@dataclass(frozen=True, eq=False)
class LoopResult:
    """What :func:`allocate_and_route` found.

    Attributes
    ----------
    allocation
        The last allocation (with every route cap fed back).
    days
        Its days on trucks.
    first
        The first allocation (no route caps but the zero caps of sources without trucks)
        and its days on trucks.
    rounds
        Allocations made (1 when the first one routes as promised).
    agree
        Whether every day's routes carry the promised units within ``tolerance``.
    tolerance
        Share of a day's promised units that may be left unmet by routing.
    caps
        Route caps fed back: (source facility, period, kg).
    seconds
        Wall time of the whole loop, s.
    """

    allocation: AllocationResult
    days: tuple[DayRouting, ...]
    first: tuple[AllocationResult, tuple[DayRouting, ...]]
    rounds: int
    agree: bool
    tolerance: float
    caps: tuple[tuple[str, int, float], ...]
    seconds: float

    @property
    def promised_units(self) -> float:
        """Units the last allocation sends over all days."""
        return sum(d.promised_units for d in self.days)

    @property
    def routed_units(self) -> float:
        """Units on the last allocation's routes over all days."""
        return sum(d.routed_units for d in self.days)

    @property
    def first_promised_units(self) -> float:
        """Units the first allocation (no route caps) sends over all days."""
        return sum(d.promised_units for d in self.first[1])


def check_rounds(rounds: object) -> int:
    """``rounds`` as a whole number from 1 to :data:`MAX_ROUNDS`, else an InputError."""
    if isinstance(rounds, bool) or not isinstance(rounds, int) or not 1 <= rounds <= MAX_ROUNDS:
        raise InputError(f"--rounds {rounds}: give a whole number of allocations from 1 to "
                         f"{MAX_ROUNDS}, e.g. 5.")
    return rounds


def _sources(instance: Instance, stock: object) -> list[str]:
    """Facilities that may ship: contract holders and those with stock.

    The stock is the instance's, or ``stock``'s; every facility but distribution points when
    ``stock`` is in another form (a plan's table).
    """
    from reserve_opt.domain import FacilityKind

    if isinstance(stock, dict):
        held = {str(fid) for fid, _ in stock}
    elif stock is None:
        held = {f.id for f in instance.facilities if f.stock}
    else:
        held = {f.id for f in instance.facilities
                if f.kind is not FacilityKind.DISTRIBUTION_POINT}
    return sorted(held | {c.facility for c in instance.contracts})


def _caps_from(days: list[DayRouting], caps: dict[tuple[str, int], float],
               tolerance: float, no_fleet: set[str], periods: int) -> bool:
    """Tighten ``caps`` where a day's routes left units unmet; whether any cap changed.

    A day within ``tolerance`` is left alone; on another day every source that ships is
    capped at the kg its trucks carried (never loosened): a short source loses what its
    trucks could not carry, and the others may not take on more than their routes
    showed they carry, so the next allocation does not move the excess onto them. A
    source in ``no_fleet`` (no vehicles of its own or in its region: routing has no truck
    for it on any day) is capped at 0 on every day at once.
    """
    changed = False
    for d in days:
        if d.unmet_share <= tolerance:
            continue
        for src in sorted(set(d.report["source"].astype(str))):
            kg = d.routed_kg.get(src, 0.0)
            for t in range(1, periods + 1) if src in no_fleet else (d.period,):
                if kg < caps.get((src, t), float("inf")) - 1e-6:
                    caps[(src, t)] = kg
                    changed = True
    return changed


def allocate_and_route(
    instance: Instance,
    scenario: str,
    options: AllocationOptions | None = None,
    *,
    rounds: int = 5,
    tolerance: float = 0.02,
    solver: str = "highs",
    solver_options: SolverOptions | None = None,
    stock: dict[tuple[str, str], float] | None = None,
    engine: str = "pyvrp",
    max_iterations: int | None = 200,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
    warm: bool = True,
) -> LoopResult:
    """Allocate an event and route each of its days until the two agree.

    Sources with no vehicles of their own and no fleet depot in their region are capped at
    0 kg on every day from the start (routing has no truck for them; with no fleet in the
    instance or ``fleet_limits`` off nothing is capped). Each round allocates (with the
    route caps found so far), routes every day whose deliveries changed, and, for
    each day whose routes leave more than ``tolerance`` of its promised units unmet,
    caps each short source's dispatch that day at the kg its trucks carried. It stops
    when every day is within ``tolerance`` (agree), when no cap changes, or after
    ``rounds`` allocations.

    Parameters
    ----------
    instance
        The instance.
    scenario
        Scenario id.
    options
        Allocation options (route caps given here are kept and tightened).
    rounds
        Most allocations, 1 to :data:`MAX_ROUNDS`.
    tolerance
        Share of a day's promised units routing may leave unmet (0.02 = 2%).
    solver, solver_options, stock
        As :func:`~reserve_opt.models.allocation.solve_allocation`.
    engine, max_iterations, seed
        Routing engine, its iteration limit per day, and seed.
    progress
        Called with a line per round (e.g. the CLI's progress printer).
    warm
        Route again only the days whose deliveries changed since an earlier round (their
        routes are reused: routing is deterministic for a seed and iteration limit, so
        the answer is the one a cold restart gives); ``False`` routes every day each round.

    Returns
    -------
    LoopResult

    Raises
    ------
    InputError
        On bad ``rounds`` or ``tolerance``.
    """
    check_rounds(rounds)
    if not 0 <= tolerance < 1:  # NaN fails too
        raise InputError(f"tolerance {tolerance!r}: give a share from 0 to below 1, e.g. 0.02.")
    t0 = time.perf_counter()
    base = options or AllocationOptions()
    caps: dict[tuple[str, int], float] = {}
    for src, t, kg in base.route_caps_kg:
        caps[(src, t)] = min(kg, caps.get((src, t), kg))
    # a source with no vehicles of its own and no fleet depot in its region has no truck in
    # routing on any day: capped at 0 kg from the first round, not learnt in a second one
    no_fleet = {s for s, home in home_fleets(instance, _sources(instance, stock)).items()
                if home is None} if instance.fleet and base.fleet_limits else set()
    for src in sorted(no_fleet):
        for t in range(1, base.periods + 1):
            caps[(src, t)] = 0.0
    first: tuple[AllocationResult, tuple[DayRouting, ...]] | None = None
    reuse: dict[int, tuple[pd.DataFrame, DayRouting]] | None = {} if warm else None
    n = 0
    while True:
        n += 1
        # explanations (outage re-solves, most of a solve's time) only for the allocation
        # that is kept, once the loop ends: explaining the first round too would pay them
        # twice whenever the loop takes more than one round
        opts = replace(base, explain=False,
                       route_caps_kg=tuple((s, t, kg) for (s, t), kg in sorted(caps.items())))
        alloc = solve_allocation(instance, scenario, opts, solver=solver,
                                 solver_options=solver_options, stock=stock)
        if str(alloc.status) not in ("optimal", "feasible"):
            raise InputError(f"the allocation for {scenario} is {alloc.status} in round {n}; "
                             "nothing to route.")
        days = route_days(instance, alloc, engine=engine, max_iterations=max_iterations,
                          seed=seed, reuse=reuse)
        if first is None:
            first = (alloc, tuple(days))
        agree = all(d.unmet_share <= tolerance for d in days)
        if progress is not None:
            progress(f"round {n}: " + ", ".join(
                f"day {d.period} {d.routed_units:,.0f} of {d.promised_units:,.0f} units routed"
                for d in days))
        if agree or n >= rounds or not _caps_from(days, caps, tolerance, no_fleet,
                                                  opts.periods):
            break
    if base.explain:
        # the same LP again, now explaining its shortages: the flows do not change
        alloc = solve_allocation(instance, scenario, replace(opts, explain=True),
                                 solver=solver, solver_options=solver_options, stock=stock)
    return LoopResult(allocation=alloc, days=tuple(days), first=first, rounds=n, agree=agree,
                      tolerance=tolerance, caps=alloc.options.route_caps_kg,
                      seconds=time.perf_counter() - t0)
