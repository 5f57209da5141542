"""Options of the event allocation model."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from reserve_opt.domain import SHARING_MODES, Sharing
from reserve_opt.errors import InputError

DemandProfile = Literal["auto", "even", "first-day"]


@dataclass(frozen=True, slots=True)
class AllocationOptions:
    """What the allocation model includes.

    Parameters
    ----------
    periods
        Number of periods (days by default) in the horizon.
    period_h
        Length of one period, hours.
    fairness
        Before anything else, maximise the lowest end-of-horizon fill rate among the
        (region, commodity) pairs that some source can reach (max-min), then keep it.
    tiers
        Enforce the agreement tiers lexicographically after shortage: first use as little
        higher-level (tier 3) supply as possible, then alliance (2), then neighbour (1), so
        own stock is drawn first. ``False`` lets cost alone choose among sources.
    priorities
        Minimise shortage one commodity priority class at a time (1 first: water before
        quilts). ``False`` puts every commodity in one class, weighted by its penalty.
    parent_serves
        A region's parent (and its ancestors) may serve it from their own stock at tier 3
        (higher level), with no agreement, cap or compensation.
    fleet_limits
        Limit what leaves a facility per period by its fleet's kg x hours and m3 x hours
        (vehicle-hours of round trips) and by ``max_trips`` loads per vehicle. A facility
        without vehicles shares the nearest fleet of its region (as routing borrows it);
        with no fleet in its region it is not limited. Each load is charged the
        working-day hours of the whole round trips a vehicle can make after its release;
        a load no round trip fits after its release goes the next day.
    handling_h
        Loading and unloading time added to each round trip, hours.
    max_trips
        Most trips one vehicle makes per period: what leaves a depot per period weighs at
        most its vehicles' kg capacity x this (and fills at most their m3 x this). Routing
        uses the same default, so a day's allocation fits its trucks.
    demand_profile
        How an event's demand is spread over the periods: ``"even"`` over its ``days``,
        ``"first-day"`` all in period 1, ``"auto"`` (default): consumables (a per-person
        daily need > 0) evenly over the event's days, durable goods in period 1.
    max_arc_time_h
        Ignore arcs slower than this, hours (``None``: keep every arc that arrives within
        the horizon).
    explain
        Explain each shortage: binding constraints and their duals, and outages by re-solve.
    sharing
        ``"agreements"``: a region is served by its own stock, its sharing agreements and
        its parent regions. ``"pooled"``: a central planner moves any region's stock to any
        region (tier :attr:`~reserve_opt.domain.Tier.POOLED`, after own stock; no agreement,
        cap or compensation), as placement plans when there are no agreements. ``"auto"``
        (default): agreements when the instance has any, else pooled, the rule placement
        follows, so a plan is allocated under the rules it was made by.
    route_caps_kg
        Extra caps from routing, ``(source facility, period, kg)``: what leaves that
        facility in that (1-based) dispatch period weighs at most ``kg``. The closed loop
        (:func:`~reserve_opt.models.allocation.loop.allocate_and_route`) sets them to
        what the day's routes actually carried from the source.
    """

    periods: int = 3
    period_h: float = 24.0
    fairness: bool = False
    tiers: bool = True
    priorities: bool = True
    parent_serves: bool = True
    fleet_limits: bool = True
    handling_h: float = 1.0
    max_trips: int = 3
    demand_profile: DemandProfile = "auto"
    max_arc_time_h: float | None = None
    explain: bool = True
    sharing: Sharing = "auto"
    route_caps_kg: tuple[tuple[str, int, float], ...] = ()

    def __post_init__(self) -> None:
        problems: list[str] = []
        if not (isinstance(self.periods, int) and 1 <= self.periods <= 366):
            problems.append(f"periods={self.periods!r} must be a whole number from 1 to 366.")
        if not (math.isfinite(self.period_h) and self.period_h > 0):
            problems.append(f"period_h={self.period_h!r} must be a positive number of hours.")
        if not (isinstance(self.max_trips, int) and self.max_trips >= 1):
            problems.append(f"max_trips={self.max_trips!r} must be a whole number >= 1.")
        if not (math.isfinite(self.handling_h) and self.handling_h >= 0):
            problems.append(f"handling_h={self.handling_h!r} must be >= 0 hours.")
        if self.demand_profile not in ("auto", "even", "first-day"):
            problems.append(f"demand_profile={self.demand_profile!r}: choose 'auto', 'even' "
                            "or 'first-day'.")
        if self.sharing not in SHARING_MODES:
            problems.append(f"sharing={self.sharing!r}: choose 'auto', 'pooled' or "
                            "'agreements'.")
        if self.max_arc_time_h is not None and not self.max_arc_time_h > 0:
            problems.append(f"max_arc_time_h={self.max_arc_time_h!r} must be > 0 or None.")
        # a result file gives lists; keep tuples so the options stay hashable
        object.__setattr__(self, "route_caps_kg",
                           tuple(tuple(c) for c in self.route_caps_kg))
        for source, period, kg in self.route_caps_kg:
            if not (isinstance(period, int) and 1 <= period <= self.periods
                    and math.isfinite(kg) and kg >= 0):
                problems.append(f"route_caps_kg ({source!r}, {period!r}, {kg!r}): give a "
                                f"period from 1 to {self.periods} and kg >= 0.")
        if problems:
            raise InputError(problems)

    @property
    def horizon_h(self) -> float:
        """Length of the horizon, hours."""
        return self.periods * self.period_h

    def to_dict(self) -> dict[str, object]:
        """The options as a JSON-ready dict."""
        return {
            "periods": self.periods,
            "period_h": self.period_h,
            "fairness": self.fairness,
            "tiers": self.tiers,
            "priorities": self.priorities,
            "parent_serves": self.parent_serves,
            "fleet_limits": self.fleet_limits,
            "handling_h": self.handling_h,
            "max_trips": self.max_trips,
            "demand_profile": self.demand_profile,
            "max_arc_time_h": self.max_arc_time_h,
            "explain": self.explain,
            "sharing": self.sharing,
            "route_caps_kg": [list(c) for c in self.route_caps_kg],
        }
