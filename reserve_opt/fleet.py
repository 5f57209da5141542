"""The fleet rules every model shares: whose vehicles carry a source's goods, and how much.

A depot's vehicles work ``min(max_hours, window)`` hours in each window (a day, by default)
and make at most ``max_trips`` loaded trips each. What leaves a source costs its fleet
``weight x (2 x travel time + handling)`` kg-hours (and the same in m3-hours): a round trip.
Allocation applies this per period, placement per scenario over the event's days.

Vehicles under a logistics contract (``provider``) arrive ``delay_h`` after the event
starts: in a window they work the share of it that lies after their arrival. Only signed
rows move goods (:attr:`Instance.vehicles`); an unsigned offer is a choice for placement.
Every fleet row, signed or not, makes its facility a depot (a source ships on the nearest
depot of its region); a region with no fleet row at all is not limited.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from reserve_opt.domain import Instance, VehicleType

FloatArray = npt.NDArray[np.float64]

__all__ = ["DepotCapacity", "charged_trip_h", "depot_capacity", "depot_shift_h", "home_fleets",
           "vehicle_capacity"]


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


def vehicle_capacity(vehicle: VehicleType, window_h: float, max_trips: int,
                     start_h: float = 0.0) -> DepotCapacity:
    """What one fleet row can move in the window ``[start_h, start_h + window_h)``.

    Its vehicles work ``min(max_hours, window_h)`` hours and ``max_trips`` trips, each
    scaled by the share of the window after they arrive (``delay_h``).
    """
    share = min(1.0, max(0.0, (start_h + window_h - vehicle.delay_h) / window_h))
    hours = min(vehicle.max_hours, window_h) * share
    trips = max_trips * share
    n = vehicle.count
    return DepotCapacity(n * vehicle.capacity_kg * hours, n * vehicle.capacity_m3 * hours,
                         n * trips * vehicle.capacity_kg, n * trips * vehicle.capacity_m3)


def depot_capacity(instance: Instance, window_h: float, max_trips: int,
                   start_h: float = 0.0) -> dict[str, DepotCapacity]:
    """Each depot's capacity from its signed vehicles in a window of ``window_h`` hours.

    Parameters
    ----------
    instance
        The instance (its ``fleet`` table).
    window_h
        Length of the window, hours (a period; 24 for a day).
    max_trips
        Most loaded trips one vehicle makes in the window.
    start_h
        When the window starts, hours after the event's start (vehicles arriving later
        than the window's start work only the rest of it).

    Returns
    -------
    dict of str to DepotCapacity
        By depot id, every depot of the fleet table in its order (a depot whose vehicles
        are all unsigned offers has zero capacity).
    """
    acc: dict[str, list[float]] = {v.depot: [0.0, 0.0, 0.0, 0.0] for v in instance.fleet}
    for v in instance.vehicles:
        c = vehicle_capacity(v, window_h, max_trips, start_h)
        acc[v.depot] = [a + b for a, b in zip(acc[v.depot], (c.kg_h, c.m3_h, c.kg, c.m3),
                                               strict=True)]
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


def charged_trip_h(shift_h: FloatArray, offset_h: FloatArray, travel_h: FloatArray,
                   handling_h: float) -> FloatArray:
    """Vehicle-hours a load uses of its depot's working day, per unit of capacity.

    A vehicle starts its working day of ``shift_h`` hours when the period starts; goods
    released ``offset_h`` hours into it leave then. It makes ``n = floor((shift_h -
    offset_h) / (2 travel_h + handling_h))`` whole round trips after the release, so each
    load is charged ``shift_h / n`` hours of the day: whole trips, not the fluid
    ``2 travel_h + handling_h``, are what the trucks can route. ``inf`` when no round trip
    fits after the release: the load waits for the next day, and a round trip longer than
    the whole working day is never carried (no overnight trips yet; see
    ``models/allocation.md``).
    """
    trip = 2.0 * np.asarray(travel_h, dtype=np.float64) + handling_h
    shift = np.asarray(shift_h, dtype=np.float64)
    left = shift - np.asarray(offset_h, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        n = np.floor(left / np.maximum(trip, 1e-12) + 1e-9)
        out: FloatArray = np.where(n >= 1, shift / np.maximum(n, 1.0), np.inf)
    return out


def depot_shift_h(instance: Instance, depots: tuple[str, ...], window_h: float = 24.0,
                  offers: bool = False) -> FloatArray:
    """Each depot's working day: the longest ``min(max_hours, window_h)`` of its vehicles.

    Only signed vehicles count unless ``offers`` (placement, which may sign them); a depot
    with none has a working day of 0 (it carries nothing).
    """
    rows = instance.fleet if offers else instance.vehicles
    return np.array([max((min(v.max_hours, window_h) for v in rows if v.depot == d),
                         default=0.0) for d in depots], dtype=np.float64)
