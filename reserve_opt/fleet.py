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

**Load weight.** Routing (``models/routing/from_allocation.py::_pack``) fills a vehicle with
one (source, point) pair's goods commodity after commodity, until its kg or its m3 is full.
Dense goods (water) fill a truck's kg before its m3, bulky ones (quilts, tents) its m3
before its kg, and a load of one commodity leaves the other dimension partly empty. Kg and
m3 rows that add up all commodities' kg and m3 separately assume every load is mixed to
fill both at once; the trucks then need more loads than the rows allow (Liaoning's
W_yingkou on quake_haicheng day 1: 87 loads of 10 t / 45 m3 for 71 t-loads of kg and 61
of m3, with 81 trips). So every model's kg rows (allocation per period, placement per
scenario) charge each unit its load weight (:func:`load_kg`): its weight, or its volume
times the depot's trucks' kg per m3 (:func:`depot_kg_per_m3`) where that is larger, the
share of a truck it takes, in kg. For a depot with one vehicle type this is exact for
loads of one commodity; mixed at the boundary between two commodities, a load is fuller
than this counts (the rows are then conservative by at most one load per (source, point)
pair and commodity change).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from reserve_opt.domain import Instance, VehicleType

FloatArray = npt.NDArray[np.float64]

__all__ = [
    "DepotCapacity",
    "Trips",
    "charged_trip_h",
    "depot_capacity",
    "depot_kg_per_m3",
    "depot_overnight",
    "depot_shift_h",
    "fleet_trips",
    "home_fleets",
    "load_kg",
    "no_day_reason",
    "on_clock",
    "trip_loads",
    "vehicle_capacity",
]


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


@dataclass(frozen=True, slots=True)
class Trips:
    """How each load travels on its depot's vehicles (:func:`fleet_trips`), arrays by load.

    Attributes
    ----------
    charge_h
        Working-day hours charged per unit of vehicle capacity on each day the trip
        occupies (``inf``: not carried on this day's clock).
    days
        Working days the vehicle is away: 1 for a trip within one working day, more for
        an overnight trip, 0 when not carried.
    arrive_h, back_h
        Hours from departure until the goods arrive and until the vehicle is back,
        night rests included (``inf`` when not carried).
    overnight
        Whether the trip spans a night (``days > 1``).
    """

    charge_h: FloatArray
    days: npt.NDArray[np.int64]
    arrive_h: FloatArray
    back_h: FloatArray
    overnight: npt.NDArray[np.bool_]


def on_clock(work_h: FloatArray, shift_h: FloatArray, period_h: float) -> FloatArray:
    """Clock hours after a working day's start at which ``work_h`` hours of work end.

    A vehicle works the first ``shift_h`` hours of each period; the driver rests the
    other ``period_h - shift_h`` (the night) and goes on when the next working day starts.
    Work ending exactly when a working day ends belongs to that day.
    """
    w = np.asarray(work_h, dtype=np.float64)
    s = np.maximum(np.asarray(shift_h, dtype=np.float64), 1e-12)
    nights = np.maximum(np.ceil(w / s - 1e-9) - 1.0, 0.0)
    out: FloatArray = w + nights * (period_h - s)
    return out


def fleet_trips(shift_h: FloatArray, offset_h: FloatArray, travel_h: FloatArray,
                handling_h: float, period_h: float = 24.0,
                overnight: npt.NDArray[np.bool_] | bool = True) -> Trips:
    """The fleet rule every model shares: how long a load's trip takes and what it costs.

    A vehicle's working day is the first ``shift_h`` hours of each period (``max_hours``);
    goods released ``offset_h`` hours into it leave then, on a round trip of ``2 travel_h
    + handling_h`` hours of work.

    * **Within the working day.** ``n = floor((shift_h - offset_h) / round trip)`` whole
      round trips fit after the release; each load is charged ``shift_h / n`` hours of the
      day: whole trips, not the fluid round trip, are what the trucks can route.
    * **Overnight.** A round trip that does not fit the rest of the working day (longer
      than a whole working day, or released late), on a fleet whose rows allow
      ``overnight`` trips (the fleet column, default true), leaves at the release, stops
      when the working day ends, rests the night (``period_h - shift_h`` hours: the driver
      keeps the same working hours each day) and goes on the next working day. The vehicle
      is away ``days = ceil((offset_h + round trip) / shift_h)`` working days and is
      charged its whole working day (``shift_h``) on each: no other load fits those days.
    * **Next day.** Without overnight trips, a round trip that fits a working day but not
      the rest of this one waits for the next day (``inf`` here: that day's load); one
      longer than a working day is never carried, nor is anything released after the
      working day's end (it leaves the next day).

    Parameters
    ----------
    shift_h
        The depot's working day, hours (0: no vehicles).
    offset_h
        Release of the goods, hours after the working day's start.
    travel_h
        One-way travel time, hours.
    handling_h
        Loading and unloading time of a round trip, hours.
    period_h
        Length of a period (a day), hours.
    overnight
        Whether the depot's vehicles make overnight trips.

    Returns
    -------
    Trips
        Charge, days away, arrival and return of each load.
    """
    travel = np.asarray(travel_h, dtype=np.float64)
    trip = 2.0 * travel + handling_h
    shift = np.asarray(shift_h, dtype=np.float64)
    offset = np.asarray(offset_h, dtype=np.float64)
    shift, offset, travel, trip = np.broadcast_arrays(shift, offset, travel, trip)
    night = np.broadcast_to(np.asarray(overnight, dtype=bool), shift.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        n = np.floor((shift - offset) / np.maximum(trip, 1e-12) + 1e-9)
        day = n >= 1
        long = ~day & night & (shift > 0) & (offset < shift - 1e-9)
        days = np.where(day, 1, np.where(long, np.ceil((offset + trip) / np.maximum(
            shift, 1e-12) - 1e-9), 0)).astype(np.int64)
        charge: FloatArray = np.where(day, shift / np.maximum(n, 1.0),
                                      np.where(long, shift, np.inf))
        start = on_clock(offset, shift, period_h)
        arrive: FloatArray = np.where(day, travel, np.where(
            long, on_clock(offset + travel, shift, period_h) - start, np.inf))
        back: FloatArray = np.where(day, trip, np.where(
            long, on_clock(offset + trip, shift, period_h) - start, np.inf))
    return Trips(charge, days, arrive, back, long)


def charged_trip_h(shift_h: FloatArray, offset_h: FloatArray, travel_h: FloatArray,
                   handling_h: float, period_h: float = 24.0,
                   overnight: npt.NDArray[np.bool_] | bool = True) -> FloatArray:
    """Vehicle-hours a load uses of its depot's working days in all, per unit of capacity.

    :func:`fleet_trips`' charge times its days away: ``shift_h / n`` for one of ``n``
    round trips in a working day, ``days x shift_h`` for an overnight trip, ``inf`` when
    not carried on this day's clock. Placement charges this over a scenario's days.
    """
    t = fleet_trips(shift_h, offset_h, travel_h, handling_h, period_h, overnight)
    out: FloatArray = np.where(t.days > 0, t.charge_h * np.maximum(t.days, 1), np.inf)
    return out


def trip_loads(days: npt.NDArray[np.int64], max_trips: int) -> FloatArray:
    """Loads (of ``max_trips`` a vehicle makes a day) a trip uses on each day it takes.

    One for a trip within a working day; all ``max_trips`` for an overnight trip, whose
    vehicle makes no other trip on those days (as routing gives it a vehicle of its own).
    """
    out: FloatArray = np.where(np.asarray(days) > 1, float(max_trips), 1.0)
    return out


def no_day_reason(shift_h: float, travel_h: float, handling_h: float,
                  overnight: bool, depot: str) -> str:
    """Why a load on ``depot``'s vehicles is carried on no day, or ``""`` when it can be.

    The one sentence allocation and routing give for such a load.
    """
    trip = 2.0 * travel_h + handling_h
    if shift_h <= 0:
        return f"{depot}'s vehicles have no working hours (max_hours 0), so no day can deliver it"
    if trip <= shift_h + 1e-9 or overnight:
        return ""
    return (f"a round trip of {trip:.2f} h from {depot} is longer than its vehicles' "
            f"{shift_h:g} h working day and its fleet rows make no overnight trips "
            "(overnight false), so no day of the event can deliver it; set overnight to "
            "true in fleet.csv to let trucks rest the night and go on")


def depot_overnight(instance: Instance, depots: tuple[str, ...],
                    offers: bool = False) -> npt.NDArray[np.bool_]:
    """Whether each depot's vehicles make overnight trips: any of its rows allows them.

    Only signed vehicles count unless ``offers`` (placement); a depot with none: ``False``.
    """
    rows = instance.fleet if offers else instance.vehicles
    return np.array([any(v.overnight for v in rows if v.depot == d) for d in depots],
                    dtype=bool)


def depot_shift_h(instance: Instance, depots: tuple[str, ...], window_h: float = 24.0,
                  offers: bool = False) -> FloatArray:
    """Each depot's working day: the longest ``min(max_hours, window_h)`` of its vehicles.

    Only signed vehicles count unless ``offers`` (placement, which may sign them); a depot
    with none has a working day of 0 (it carries nothing).
    """
    rows = instance.fleet if offers else instance.vehicles
    return np.array([max((min(v.max_hours, window_h) for v in rows if v.depot == d),
                         default=0.0) for d in depots], dtype=np.float64)


def depot_kg_per_m3(instance: Instance, depots: Sequence[str],
                    offers: bool = False) -> FloatArray:
    """Each depot's trucks' kg capacity per m3 of capacity (its vehicles together).

    Parameters
    ----------
    instance
        The instance (its ``fleet`` table).
    depots
        Depot ids.
    offers
        Count the unsigned offers too (placement, which may sign them, as
        :func:`depot_shift_h`); otherwise only signed vehicles (allocation, routing).

    Returns
    -------
    numpy.ndarray
        kg per m3 by depot; 0 for a depot with no such vehicle or no m3 capacity (its
        loads are then counted by weight alone, as routing packs them by kg).
    """
    rows = instance.fleet if offers else instance.vehicles
    out = np.zeros(len(depots), dtype=np.float64)
    for i, d in enumerate(depots):
        kg = sum(v.count * v.capacity_kg for v in rows if v.depot == d)
        m3 = sum(v.count * v.capacity_m3 for v in rows if v.depot == d)
        out[i] = kg / m3 if m3 > 0 else 0.0
    return out


def load_kg(weight_kg: FloatArray | float, volume_m3: FloatArray | float,
            kg_per_m3: FloatArray | float) -> FloatArray:
    """A unit's load weight on trucks of ``kg_per_m3``: ``max(weight, volume x kg_per_m3)``.

    Parameters
    ----------
    weight_kg, volume_m3
        The commodity's weight (kg) and volume (m3) per unit.
    kg_per_m3
        The trucks' kg capacity per m3 of capacity (:func:`depot_kg_per_m3`).

    Returns
    -------
    numpy.ndarray
        kg of truck capacity one unit takes.
    """
    out: FloatArray = np.maximum(np.asarray(weight_kg, dtype=np.float64),
                                 np.asarray(volume_m3, dtype=np.float64)
                                 * np.asarray(kg_per_m3, dtype=np.float64))
    return out
