"""The fleet rules every model shares: whose vehicles carry a source's goods, and how much.

A depot's vehicles work ``min(max_hours, window)`` hours in each window (a day, by default)
and make at most ``max_trips`` loaded trips each. What leaves a source costs its fleet
``weight x (2 x travel time + handling)`` kg-hours (and the same in m3-hours): a round trip.
Allocation applies this per period, placement per scenario over the event's days.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from reserve_opt.domain import Instance

__all__ = ["DepotCapacity", "depot_capacity", "home_fleets"]


@dataclass(frozen=True, slots=True)
class DepotCapacity:
    """What one depot's vehicles can move in one window.

    Attributes
    ----------
    kg_h, m3_h
        Capacity x working hours: the round trips' kg x h and m3 x h they can fly.
    kg, m3
        Load carried: vehicles x ``max_trips`` x capacity.
    """

    kg_h: float
    m3_h: float
    kg: float
    m3: float


def depot_capacity(instance: Instance, window_h: float, max_trips: int
                   ) -> dict[str, DepotCapacity]:
    """Each fleet depot's capacity in a window of ``window_h`` hours.

    Parameters
    ----------
    instance
        The instance (its ``fleet`` table).
    window_h
        Length of the window, hours (a period; 24 for a day).
    max_trips
        Most loaded trips one vehicle makes in the window.

    Returns
    -------
    dict of str to DepotCapacity
        By depot id, in the fleet table's order.
    """
    acc: dict[str, list[float]] = {}
    for v in instance.fleet:
        hours = min(v.max_hours, window_h)
        a = acc.setdefault(v.depot, [0.0, 0.0, 0.0, 0.0])
        a[0] += v.count * v.capacity_kg * hours
        a[1] += v.count * v.capacity_m3 * hours
        a[2] += v.count * max_trips * v.capacity_kg
        a[3] += v.count * max_trips * v.capacity_m3
    return {d: DepotCapacity(*a) for d, a in acc.items()}


def home_fleets(instance: Instance, sources: Iterable[str]) -> dict[str, str | None]:
    """The depot whose vehicles carry what each source ships.

    A facility with vehicles uses its own; one without uses the nearest fleet depot of its
    region (as routing borrows it); ``None`` when its region has no fleet.
    """
    depots = [instance.facility(d) for d in dict.fromkeys(v.depot for v in instance.fleet)]
    out: dict[str, str | None] = {}
    for src in sources:
        fac = instance.facility(src)
        if any(d.id == src for d in depots):
            out[src] = src
            continue
        near = [(math.hypot((d.lon - fac.lon) * math.cos(math.radians(fac.lat)),
                            d.lat - fac.lat), d.id) for d in depots if d.region == fac.region]
        out[src] = min(near)[1] if near else None
    return out
