"""Transport links and vehicles."""

from __future__ import annotations

from dataclasses import dataclass


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


@dataclass(frozen=True, slots=True)
class TravelTable:
    """Given origin -> destination travel, one tuple per column (rows in file order).

    Columnar so a national matrix (millions of pairs) stays small. A pair given here
    overrides links and great circles (see :mod:`reserve_opt.transport`).

    Parameters
    ----------
    origin, destination
        Region or facility ids; one direction per row.
    distance_km
        Road length, km.
    time_h
        Travel time, h; ``None`` takes distance / the instance's ``speed_kmh``.
    scenario
        ``None`` for normal conditions; a scenario id for the time after its damage.
    """

    origin: tuple[str, ...] = ()
    destination: tuple[str, ...] = ()
    distance_km: tuple[float, ...] = ()
    time_h: tuple[float | None, ...] = ()
    scenario: tuple[str | None, ...] = ()

    def __len__(self) -> int:
        return len(self.origin)


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
