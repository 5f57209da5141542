"""Transport links and vehicles."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True, slots=True)
class Link:
    """An undirected transport link between two locations.

    Parameters
    ----------
    origin, destination
        Ids of regions or facilities.
    distance_km
        Road length, km; ``None`` takes the great-circle length of its ends.
    time_h
        Travel time, h; ``None`` takes length / ``speed_kmh`` (or the instance's speed).
    speed_kmh
        Speed on the link, km/h; ``None`` takes the instance's ``speed_kmh`` setting.
    oneway
        The link runs from ``origin`` to ``destination`` only.
    """

    origin: str
    destination: str
    distance_km: float | None = None
    time_h: float | None = None
    speed_kmh: float | None = None
    oneway: bool = False


@dataclass(frozen=True, eq=False)
class TravelTable:
    """Given origin -> destination travel as columns of numbers (rows in file order).

    Columnar, with places and scenarios as integer codes, so that a national matrix
    (millions of pairs) holds no Python object per row. A pair given here overrides roads,
    links and great circles (see :mod:`reserve_opt.transport`).

    Parameters
    ----------
    places
        The region or facility ids that ``origin`` and ``destination`` index.
    origin, destination
        Position of each row's ends in ``places``; one direction per row.
    distance_km
        Road length, km.
    time_h
        Travel time, h; NaN takes distance / the instance's ``speed_kmh``.
    scenarios
        The scenario ids that ``scenario`` indexes.
    scenario
        Position of each row's scenario in ``scenarios``; -1 for normal conditions, a
        scenario for the time after its damage.
    classes
        The vehicle class names that ``vehicle_class`` indexes.
    vehicle_class
        Position of each row's class in ``classes``; -1 (or an empty array: every row) for
        the class-free rows every model uses. A class's rows give its vehicles' times in
        routing only (:func:`reserve_opt.transport.class_times`).
    """

    places: tuple[str, ...] = ()
    origin: npt.NDArray[np.int32] = field(default_factory=lambda: _codes([]))
    destination: npt.NDArray[np.int32] = field(default_factory=lambda: _codes([]))
    distance_km: npt.NDArray[np.float64] = field(default_factory=lambda: _numbers([]))
    time_h: npt.NDArray[np.float64] = field(default_factory=lambda: _numbers([]))
    scenarios: tuple[str, ...] = ()
    scenario: npt.NDArray[np.int32] = field(default_factory=lambda: _codes([]))
    classes: tuple[str, ...] = ()
    vehicle_class: npt.NDArray[np.int32] = field(default_factory=lambda: _codes([]))

    def __post_init__(self) -> None:
        if not np.size(self.vehicle_class) and np.size(self.origin):
            object.__setattr__(self, "vehicle_class",
                               np.full(np.size(self.origin), -1, dtype=np.int32))
        for name, conv in (("origin", _codes), ("destination", _codes),
                           ("distance_km", _numbers), ("time_h", _numbers),
                           ("scenario", _codes), ("vehicle_class", _codes)):
            arr = conv(getattr(self, name))
            arr.flags.writeable = False  # the instance is immutable
            object.__setattr__(self, name, arr)
        sizes = {a.size for a in (self.origin, self.destination, self.distance_km,
                                  self.time_h, self.scenario, self.vehicle_class)}
        if len(sizes) > 1:
            raise ValueError(f"travel table columns differ in length: {sorted(sizes)}")

    def __len__(self) -> int:
        return int(self.origin.size)

    def rows(self) -> Iterator[tuple[str, str, float, float | None, str | None, str | None]]:
        """Each row as ``(from, to, distance_km, time_h, scenario, vehicle_class)``.

        An empty ``time_h``, scenario or class is ``None``.
        """
        for o, d, km, h, s, c in zip(self.origin.tolist(), self.destination.tolist(),
                                     self.distance_km.tolist(), self.time_h.tolist(),
                                     self.scenario.tolist(), self.vehicle_class.tolist(),
                                     strict=True):
            yield (self.places[o], self.places[d], km, None if math.isnan(h) else h,
                   None if s < 0 else self.scenarios[s], None if c < 0 else self.classes[c])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TravelTable):
            return NotImplemented
        return len(self) == len(other) and list(self.rows()) == list(other.rows())

    def __hash__(self) -> int:
        return hash(len(self))  # equal tables may code their places differently


def _codes(values: Any) -> npt.NDArray[np.int32]:
    return np.asarray(values, dtype=np.int32)


def _numbers(values: Any) -> npt.NDArray[np.float64]:
    return np.asarray(values, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class VehicleType:
    """Vehicles of one kind stationed at a depot.

    Parameters
    ----------
    id
        Unique vehicle type id.
    depot
        Id of the facility the vehicles start from.
    count
        Number of vehicles.
    capacity_kg, capacity_m3
        Load limits, kg and m3.
    speed_kmh
        Average speed, km/h.
    cost_per_km
        Running cost, currency per km.
    fixed_cost
        Cost of using one vehicle once, currency.
    max_hours
        Working hours per day, h.
    break_min
        Driver break length, minutes; ``None`` for no break rule.
    drive_h_before_break
        Most hours of work between two breaks, h; ``None`` for no break rule.
    overnight
        A round trip longer than the working day continues the next working day after
        the driver's night rest (:func:`reserve_opt.fleet.fleet_trips`); ``False``: such
        loads are not carried.
    provider
        The logistics firm whose trucks these are under a contract; ``None`` for the
        government's own vehicles.
    delay_h
        Hours from the event's start until the vehicles are at the depot (activation).
    retainer
        Fee for having them on call over the planning period, currency.
    signed
        ``False`` for a logistics contract the plan may choose to sign; only signed
        vehicles move goods in allocation and routing (:attr:`Instance.vehicles`).
    """

    id: str
    depot: str
    count: int
    capacity_kg: float
    capacity_m3: float
    speed_kmh: float = 60.0
    cost_per_km: float = 0.0
    fixed_cost: float = 0.0
    max_hours: float = 10.0
    break_min: float | None = None
    drive_h_before_break: float | None = None
    overnight: bool = True
    provider: str | None = None
    delay_h: float = 0.0
    retainer: float = 0.0
    signed: bool = True
    vehicle_class: str | None = None
