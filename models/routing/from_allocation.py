"""Routing one period of an allocation: from "who ships what to whom" to a RoutingProblem.

:func:`from_allocation` takes one day's deliveries (``source, region, commodity,
quantity`` in units and ``ready_h``, as ``AllocationResult.deliveries(period)`` returns
them; a table without ``ready_h`` is ready at 0 h), the
instance and a scenario, and builds a :class:`~models.routing.problem.RoutingProblem`:

* **Depots** are the shipping facilities. **Clients** are the receiving points: the
  region's demand points (the ``demand_points`` table; its quantity split by their shares,
  as allocation splits its demand), else its ``distribution_point`` facilities, the
  quantity split across them in proportion to ``shelter_persons`` (equally when none is
  given); a region without either is served at its own lon/lat.
* **Loads.** Each (source, point) delivery is packed into vehicle-sized loads of whole
  units (priority-1 goods first, so the first load is the first batch), sized for the
  largest vehicle of that source allowed at the point. Every load is one client with an
  exact manifest (commodity -> units), so a routed or unmet load maps back to units
  exactly. Demand is in kg and m3 from the commodities' ``weight_kg``/``volume_m3``.
  A day of more than :data:`MAX_LOADS` loads is refused.
* **Fleet.** Vehicle types are the instance's fleet rows at the source. A shipping
  facility without a fleet borrows from the nearest fleet depot in its region
  (``fleetless="region"``, default), the nearest anywhere (``"nearest"``), or none
  (``"none"``). A borrowed vehicle drives empty from its home to the source and back:
  its shift starts after that drive and ends early enough to get home, and the empty
  kilometres are added to its fixed cost. A depot's vehicles are shared between itself
  and its borrowers in proportion to the weight each ships (at least one each while
  vehicles last). Loads that no vehicle can take are unmet with the reason.
* **Travel** follows the same network as :mod:`reserve_opt.transport` (the travel
  table, else the road layer, else the link graph with facilities joined to their
  region's node, else great circles x detour factor), with the scenario's outages: a
  cut makes the legs through it unusable, a slow-down divides the speed. A point the
  source cannot reach at all is unmet with the cut named. Travel time is scaled by the
  settings' speed over the vehicle's speed.
* **Time.** Time 0 is the dispatch order. Vehicles work ``max_hours`` from then, load
  ``load_h`` per trip and unload ``unload_h`` per visit; ``max_trips`` trips per vehicle
  where the fleet is short. In period 1 the first load of every (source, point) pair
  must arrive within the response standard of the point's region level
  (``Settings.response_h``: 6/8/10 h); when even a direct trip cannot make it, the load
  keeps the working-day window and a note says so (``strict_response=True`` makes it
  unmet instead).
* **Release.** Goods may not leave before ``ready_h`` (hours from the event's start: a
  contract's activation delay, an agreement's release delay, production done). On the
  day's clock, whose 0 h is ``(period - 1) x 24`` h after the start, a load's release
  is ``max(0, ready_h - (period - 1) x 24)`` h: no trip carrying it starts loading
  earlier (the client's ``release_time``). Goods with different releases go in
  different loads. A load released too late for any vehicle to load, deliver and be back
  within its working day is unmet with that reason; the response standard counts from
  the release (a first load that cannot make it is relaxed or unmet as above).
* **Driver breaks** come from the fleet table (``break_min``, ``drive_h_before_break``)
  or the options, and **vehicle-client restrictions** from ``max_vehicle_kg`` (a point
  only vehicles up to that capacity reach).

:func:`delivery_report` maps a :class:`~models.routing.result.RoutingResult` back to the
input deliveries and :func:`check_deliveries` asserts that every planned delivery is on a
route or listed as unmet with a reason (and runs the route checker).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from reserve_opt.domain import FacilityKind, Instance
from reserve_opt.domain.network import VehicleType as FleetRow
from reserve_opt.errors import InputError
from reserve_opt.fleet import Trips, fleet_trips, no_day_reason, on_clock
from reserve_opt.transport import class_times, travel_matrix
from reserve_opt.transport import region_of as transport_region_of

from .check import check
from .problem import RoutingProblem, RoutingProblemBuilder, Scaling
from .result import RoutingResult, Status

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = [
    "DELIVERY_COLUMNS",
    "DeliveryCheck",
    "DeliveryOptions",
    "DeliveryProblem",
    "check_deliveries",
    "check_vehicle_limits",
    "clock_h",
    "delivery_report",
    "from_allocation",
    "route_lines",
    "routed_status",
    "travel_matrices",
    "vehicles_away",
]

FloatMatrix = npt.NDArray[np.float64]

#: Columns of the deliveries table (quantity in the commodity's units).
DELIVERY_COLUMNS: tuple[str, ...] = ("source", "region", "commodity", "quantity")

#: Integer scaling used for allocation routing: metres, minutes, kg and litres.
SCALING = Scaling(distance=1000.0, time=60.0, load=(1.0, 1000.0))

Fleetless = Literal["region", "nearest", "none"]

_EPS = 1e-9
#: Most vehicle loads one routing problem takes (loads are the engines' clients, with
#: dense client-by-client matrices).
MAX_LOADS = 5000


@dataclass(frozen=True)
class DeliveryOptions:
    """How deliveries become a routing problem.

    Parameters
    ----------
    load_h
        Loading time at the depot per trip, h.
    unload_h
        Unloading time per visit at a distribution point, h.
    max_trips
        Most trips per vehicle in the period (used only where the fleet is short).
    response_deadline
        In period 1, the first load of each (source, point) must arrive within the
        response standard of the point's region level.
    strict_response
        A first load that cannot meet the standard even on a direct trip is unmet
        (``True``) or routed within the working day with a note (``False``).
    fleetless
        What a shipping facility without a fleet does: borrow from the nearest fleet
        depot in its region (``"region"``), the nearest anywhere (``"nearest"``), or
        nothing, its loads being unmet (``"none"``).
    break_min, drive_h_before_break
        Driver break rule for every vehicle (minutes, hours), overriding the fleet
        table; e.g. China: 20 min after 4 h. Needs the OR-Tools engine.
    max_vehicle_kg
        Stop id (a demand point, distribution point or region seat where a region receives
        goods) -> largest vehicle capacity (kg) that can reach it, e.g. a narrow road only
        small trucks take.
    away
        Fleet row id -> for each of its vehicles still out on an overnight trip that left
        on an earlier day (:func:`vehicles_away`), the hour of this day's clock it is back:
        from then it works the rest of its working day; back after the working day's end,
        it is not in this day's fleet.
    """

    load_h: float = 0.5
    unload_h: float = 0.25
    max_trips: int = 3
    response_deadline: bool = True
    strict_response: bool = False
    fleetless: Fleetless = "region"
    break_min: float | None = None
    drive_h_before_break: float | None = None
    max_vehicle_kg: Mapping[str, float] = field(default_factory=dict)
    away: Mapping[str, Sequence[float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not (0 <= self.load_h <= 24 and 0 <= self.unload_h <= 24):  # NaN fails too
            raise InputError("load_h and unload_h are hours and must be from 0 to 24.")
        if self.max_trips < 1:
            raise InputError(f"max_trips must be at least 1, got {self.max_trips}.")
        if self.fleetless not in ("region", "nearest", "none"):
            raise InputError(
                f"fleetless={self.fleetless!r} is not known; use region, nearest or none."
            )
        if (self.break_min is None) != (self.drive_h_before_break is None):
            raise InputError(
                "Give break_min and drive_h_before_break together (e.g. 20 and 4), or neither."
            )
        bad_away = [k for k, hours in self.away.items()
                    if not all(isinstance(h, (int, float)) and 0 <= h < math.inf
                               for h in hours)]
        if bad_away:
            raise InputError(f"away: {', '.join(map(str, bad_away))}: give the hour each "
                             "vehicle is back, a number >= 0 on the day's clock.")
        if self.break_min is not None and not (
            0 < self.break_min <= 24 * 60 and 0 < (self.drive_h_before_break or 0) <= 24
        ):  # written so that NaN fails too
            raise InputError("break_min and drive_h_before_break must be positive and within "
                             "a day (at most 1440 minutes and 24 hours).")


@dataclass(frozen=True, eq=False)
class DeliveryProblem:
    """A routing problem built from deliveries, and how to map its results back.

    Attributes
    ----------
    problem
        The routing problem (metres, minutes, kg, litres; see :data:`SCALING`).
    scenario, period
        The scenario id and period (day, 1-based) routed.
    deliveries
        The input deliveries with positive quantity, indexed by ``delivery`` (0-based).
    loads
        One row per client and commodity: ``client`` (problem client index),
        ``delivery``, ``source``, ``region``, ``point``, ``commodity``, ``quantity``
        (units), ``first`` (the first load of its pair, due by the standard),
        ``release_h`` (earliest loading on the day's clock, h).
    unrouted
        Parts of deliveries set aside before solving: ``delivery``, ``source``,
        ``region``, ``point``, ``commodity``, ``quantity`` (units), ``reason``.
    notes
        Sentences on what was assumed (borrowed vehicles, relaxed deadlines).
    location_ids
        Facility or region id of every problem location (depots, then clients).
    location_lonlat
        (lon, lat) degrees of every problem location.
    vehicle_homes
        Per vehicle type: (fleet row id, home depot id).
    currency
        The instance's currency.
    away
        When the vehicles of each fleet row out on earlier overnight trips are back
        (:attr:`DeliveryOptions.away`).
    """

    problem: RoutingProblem
    scenario: str
    period: int
    deliveries: pd.DataFrame
    loads: pd.DataFrame
    unrouted: pd.DataFrame
    notes: tuple[str, ...]
    location_ids: tuple[str, ...]
    location_lonlat: tuple[tuple[float, float], ...]
    vehicle_homes: tuple[tuple[str, str], ...]
    currency: str = ""
    away: Mapping[str, Sequence[float]] = field(default_factory=dict)


# --------------------------------------------------------------------------- travel


def travel_matrices(
    instance: Instance, scenario: str, ids: Sequence[str]
) -> tuple[FloatMatrix, FloatMatrix]:
    """Road distance (km) and travel time (h) between facilities or regions in a scenario.

    The rule of :func:`reserve_opt.transport.travel_matrix` (the travel table, else the
    road layer, else the link graph, else geodesic x detour factor, with the scenario's
    outages), so routes use the times allocation and planning use; ``inf`` where a cut
    leaves no path.

    Parameters
    ----------
    instance
        The instance.
    scenario
        Scenario id.
    ids
        Facility or region ids.

    Returns
    -------
    tuple of numpy.ndarray
        Distance (km) and time (h), each ``(len(ids), len(ids))``.
    """
    tm = travel_matrix(instance, scenario, ids, ids)
    return tm.distance_km, tm.time_h


# --------------------------------------------------------------------------- input


def _read_deliveries(inst: Instance, deliveries: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in DELIVERY_COLUMNS if c not in deliveries.columns]
    if missing:
        raise InputError(
            f"The deliveries table lacks columns {missing}; it needs "
            f"{', '.join(DELIVERY_COLUMNS)} (quantity in units)."
        )
    df = deliveries.loc[:, list(DELIVERY_COLUMNS)].copy()
    df["quantity"] = pd.to_numeric(df["quantity"], errors="coerce")
    # without a ready_h column (a hand-made deliveries file) everything is ready at 0 h
    df["ready_h"] = (
        pd.to_numeric(deliveries["ready_h"], errors="coerce")
        if "ready_h" in deliveries.columns
        else 0.0
    )
    problems: list[str] = []
    for n, rec in enumerate(df.to_dict("records")):
        source, region, commodity = rec["source"], rec["region"], rec["commodity"]
        where = f"Delivery row {n} ({source} -> {region}, {commodity})"
        if source not in inst.facility_index:
            problems.append(f"{where}: source {source!r} is not a facility of the instance.")
        elif inst.facility(str(source)).kind is FacilityKind.DISTRIBUTION_POINT:
            problems.append(f"{where}: source {source!r} is a distribution point, not a depot.")
        if region not in inst.region_index:
            problems.append(f"{where}: region {region!r} is not a region of the instance.")
        if commodity not in inst.commodity_index:
            problems.append(f"{where}: commodity {commodity!r} is not in the instance.")
        q = float(rec["quantity"])
        if not math.isfinite(q) or q < 0:
            problems.append(f"{where}: quantity {rec['quantity']!r} must be a number >= 0 "
                            "(units).")
        ready = float(rec["ready_h"])
        if not math.isfinite(ready) or ready < 0:
            problems.append(f"{where}: ready_h {rec['ready_h']!r} must be a number >= 0 "
                            "(hours from the event's start).")
    if problems:
        raise InputError(problems)
    df = df[df["quantity"] > 0].reset_index(drop=True)
    df.index.name = "delivery"
    return df


def check_vehicle_limits(instance: Instance, max_vehicle_kg: Mapping[str, float]) -> None:
    """Refuse a vehicle limit on a place where no region receives goods.

    Parameters
    ----------
    instance
        The instance.
    max_vehicle_kg
        Place id -> largest vehicle (kg), as :attr:`DeliveryOptions.max_vehicle_kg`.

    Raises
    ------
    InputError
        Naming the places that are no region's stop (see :func:`from_allocation`).
    """
    stops = {p for r in instance.regions for p, _ in _points(instance, r.id)}
    bad = [p for p in max_vehicle_kg if p not in stops]
    if bad:
        raise InputError(
            f"--max-vehicle-kg {', '.join(bad)}: no region receives goods there (a region "
            "with demand points is served at them, else at its distribution points, else at "
            "its seat); name one of those places")


def _points(inst: Instance, region: str) -> list[tuple[str, float]]:
    """Receiving points of a region and their shares (sum 1).

    Its demand points (the towns its demand is split over) when it has any, else its
    distribution points, else its seat.
    """
    if region in inst.point_shares:
        return [(p, w) for p, w in inst.point_shares[region] if w > 0]
    dps = [
        f
        for f in inst.facilities
        if f.region == region and f.kind is FacilityKind.DISTRIBUTION_POINT
    ]
    if not dps:
        return [(region, 1.0)]
    weights = [f.shelter_persons or 0.0 for f in dps]
    if sum(weights) <= 0:
        weights = [1.0] * len(dps)
    total = sum(weights)
    return [(f.id, w / total) for f, w in zip(dps, weights, strict=True) if w > 0]


def _split(quantity: float, shares: list[float]) -> list[float]:
    """Split ``quantity`` by ``shares``; whole quantities stay whole (largest remainder)."""
    if len(shares) == 1:
        return [quantity]
    if abs(quantity - round(quantity)) > _EPS:
        parts = [quantity * s for s in shares]
        parts[-1] = quantity - sum(parts[:-1])
        return parts
    whole = round(quantity)
    raw = [whole * s for s in shares]
    base = [math.floor(x) for x in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - base[i], reverse=True)
    for i in order[: whole - sum(base)]:
        base[i] += 1
    return [float(b) for b in base]


@dataclass
class _Load:
    items: dict[int, float]  # delivery index -> units
    weight: float = 0.0
    volume: float = 0.0
    release_h: float = 0.0  # earliest loading, hours on the day's clock


def _pack(
    items: list[tuple[int, float, float, float]], cap: tuple[float, float]
) -> tuple[list[_Load], list[tuple[int, float]]]:
    """Pack (delivery, units, kg/unit, m3/unit) into loads of at most ``cap``.

    Whole units go in while they fit; a fractional remainder below one unit is packed as
    it is. Returns the loads and the (delivery, units) whose single unit exceeds ``cap``.
    """
    needed = 0.0
    for delivery, units, w, v in items:
        if w > cap[0] + _EPS or v > cap[1] + _EPS:
            continue  # set aside below, whatever the quantity
        # counted before packing: 1e308 units would never finish (nor fit in memory)
        needed += units * max(w / cap[0] if cap[0] > 0 else 0.0,
                              v / cap[1] if cap[1] > 0 else 0.0)
        if needed > MAX_LOADS:
            raise InputError(f"Delivery row {delivery}: {units:g} units need more than "
                             f"{MAX_LOADS} vehicle loads; a day's routing takes at most "
                             f"{MAX_LOADS}: check the quantity, or route the day in parts.")
    loads: list[_Load] = []
    too_big: list[tuple[int, float]] = []
    cur = _Load({})
    for delivery, units, w, v in items:
        if w > cap[0] + _EPS or v > cap[1] + _EPS:
            too_big.append((delivery, units))
            continue
        rest = units
        while rest > _EPS:
            room = [
                math.inf if w <= 0 else (cap[0] - cur.weight) / w,
                math.inf if v <= 0 else (cap[1] - cur.volume) / v,
            ]
            fit = min(room)
            take = rest if rest <= fit + _EPS else float(math.floor(fit + _EPS))
            if take <= _EPS:
                loads.append(cur)
                cur = _Load({})
                continue
            cur.items[delivery] = cur.items.get(delivery, 0.0) + take
            cur.weight += take * w
            cur.volume += take * v
            rest -= take
    if cur.items:
        loads.append(cur)
    return loads, too_big


# --------------------------------------------------------------------------- build


def _trip(row: FleetRow, leave: float, travel_h: float, lead: float,
          opt: DeliveryOptions) -> Trips:
    """The fleet rule (:func:`reserve_opt.fleet.fleet_trips`) for one load on ``row``.

    Its working day is ``max_hours`` (at most 24 h); a borrowed vehicle's drive from its
    home and back (``lead`` each way) is work too.
    """
    return fleet_trips(np.array(min(row.max_hours, 24.0)), np.array(leave),
                       np.array(travel_h), opt.load_h + opt.unload_h + lead, 24.0,
                       row.overnight)


@dataclass
class _Borrow:
    home: str
    km: float
    h: float


def _fleet_sources(
    inst: Instance,
    sources: list[str],
    fleet_by_depot: dict[str, list[FleetRow]],
    time_h: FloatMatrix,
    dist_km: FloatMatrix,
    pos: dict[str, int],
    options: DeliveryOptions,
) -> tuple[dict[str, _Borrow], dict[str, str]]:
    """Where each fleetless source borrows from, and why the others cannot."""
    borrow: dict[str, _Borrow] = {}
    why: dict[str, str] = {}
    homes = list(fleet_by_depot)
    for s in sources:
        if s in fleet_by_depot:
            continue
        region = inst.facility(s).region
        if options.fleetless == "none":
            why[s] = (
                f"{s} has no vehicles in the fleet table (fleetless='none'); add fleet rows "
                f"for {s} or let it borrow"
            )
            continue
        candidates = (
            [h for h in homes if inst.facility(h).region == region]
            if options.fleetless == "region"
            else homes
        )
        reachable = [h for h in candidates if np.isfinite(time_h[pos[h], pos[s]])]
        if not reachable:
            where = f"in region {region}" if options.fleetless == "region" else "anywhere"
            cut = " that can reach it in this scenario" if candidates else ""
            why[s] = (
                f"{s} has no vehicles and there is no fleet depot {where}{cut} to borrow "
                f"from; add fleet rows for {s}"
                + (" or use fleetless='nearest'" if options.fleetless == "region" else "")
            )
            continue
        home = min(reachable, key=lambda h: (time_h[pos[h], pos[s]], h))
        borrow[s] = _Borrow(
            home, float(dist_km[pos[home], pos[s]]), float(time_h[pos[home], pos[s]])
        )
    return borrow, why


def _share(count: int, weights: dict[str, float], cap: dict[str, int],
           floor: Mapping[str, int] | None = None) -> dict[str, int]:
    """Share ``count`` vehicles among the sources using them, by their need (``weights``).

    First each source's ``floor`` (its overnight loads, a vehicle each), then one each
    (heaviest first) while they last, then the rest by largest remainder, never more than
    a source's number of loads.
    """
    users = sorted(weights, key=lambda u: (-weights[u], u))
    out = dict.fromkeys(users, 0)
    left = count
    for u in users:
        take = min(left, (floor or {}).get(u, 0), cap[u])
        out[u] += take
        left -= take
    for u in users:  # and one for the day's trips of a source that has some
        if left and cap[u] > out[u] and out[u] == min((floor or {}).get(u, 0), cap[u]):
            out[u] += 1
            left -= 1
    total = sum(weights.values()) or 1.0
    while left > 0:
        room = [u for u in users if out[u] < cap[u]]
        if not room:
            break
        u = max(room, key=lambda x: (weights[x] / total * count - out[x], -users.index(x)))
        out[u] += 1
        left -= 1
    return out


def from_allocation(
    instance: Instance,
    deliveries: pd.DataFrame,
    scenario: str,
    *,
    period: int = 1,
    options: DeliveryOptions | None = None,
) -> DeliveryProblem:
    """Build the routing problem for one period's deliveries (see the module docstring).

    Parameters
    ----------
    instance
        The instance (facilities, regions, commodities, fleet, settings, outages).
    deliveries
        Columns ``source`` (facility id), ``region`` (region id), ``commodity`` and
        ``quantity`` (units), and optionally ``ready_h`` (hours from the event's start
        when the goods may leave; 0 without the column), as
        ``AllocationResult.deliveries(period)`` returns.
    scenario
        Scenario id whose outages apply.
    period
        The day routed (1-based); the response deadline applies in period 1.
    options
        See :class:`DeliveryOptions`.

    Returns
    -------
    DeliveryProblem
        The routing problem and the tables that map results back to deliveries.

    Raises
    ------
    InputError
        On an unknown scenario, source, region or commodity, a bad quantity, a break
        rule given by half, or a ``max_vehicle_kg`` place where no region receives goods.
    """
    opt = options or DeliveryOptions()
    if scenario not in instance.scenario_index:
        raise InputError(
            f"No scenario {scenario!r} in {instance.name}; use one of "
            f"{', '.join(s.id for s in instance.scenarios)}."
        )
    if period < 1:
        raise InputError(f"period must be 1 or more (days are 1-based), got {period}.")
    check_vehicle_limits(instance, opt.max_vehicle_kg)
    table = _read_deliveries(instance, deliveries)
    for row in instance.fleet:
        if (row.break_min is None) != (row.drive_h_before_break is None):
            raise InputError(
                f"Fleet row {row.id!r}: give break_min and drive_h_before_break together, "
                "or leave both empty."
            )
    unrouted: list[dict[str, object]] = []
    notes: list[str] = []

    def set_aside(items: Iterable[tuple[int, float]], point: str, reason: str) -> None:
        # (delivery, units) pairs that will not be routed, each with the same reason
        for d, units in items:
            r = table.loc[d]
            unrouted.append({"delivery": d, "source": r["source"], "region": r["region"],
                             "point": point, "commodity": r["commodity"], "quantity": units,
                             "reason": reason})

    # split each delivery across the region's points
    pairs: dict[tuple[str, str], list[tuple[int, float]]] = {}
    for d, source_id, region_id, quantity in zip(
        table.index, table["source"], table["region"], table["quantity"], strict=True
    ):
        shares = _points(instance, str(region_id))
        parts = _split(float(quantity), [s for _, s in shares])
        for (point, _), units in zip(shares, parts, strict=True):
            if units > 0:
                pairs.setdefault((str(source_id), point), []).append((int(d), units))

    sources = list(dict.fromkeys(str(s) for s in table["source"]))
    points = list(dict.fromkeys(p for _, p in pairs))
    fleet_by_depot: dict[str, list[FleetRow]] = {}
    for row in instance.vehicles:  # own vehicles and signed logistics contracts
        if row.count > 0:
            fleet_by_depot.setdefault(row.depot, []).append(row)
    ids = list(dict.fromkeys([*sources, *fleet_by_depot, *points]))
    pos = {i: k for k, i in enumerate(ids)}
    dist_km, time_h = travel_matrices(instance, scenario, ids)
    # a fleet row's vehicle_class takes the class's own hours where the travel table gives
    # a pair; elsewhere the class-free hours scaled by its speed (distances stay shared)
    class_h = {c: class_times(instance, scenario, ids, ids, c)
               for c in {r.vehicle_class for r in instance.vehicles} if c is not None}

    def leg_h(row: FleetRow, a: str, b: str) -> float:
        """Hours ``row``'s vehicles take from ``a`` to ``b``."""
        own = np.nan if row.vehicle_class is None else class_h[row.vehicle_class][pos[a], pos[b]]
        if not np.isnan(own):
            return float(own)
        return float(time_h[pos[a], pos[b]]) * instance.settings.speed_kmh / max(
            row.speed_kmh, _EPS)
    borrow, no_fleet = _fleet_sources(instance, sources, fleet_by_depot, time_h, dist_km, pos, opt)
    for s, lend in borrow.items():
        notes.append(
            f"{s} has no fleet: it borrows vehicles from {lend.home} ({lend.km:.1f} km, "
            f"{lend.h:.2f} h away; the empty drive there and back is costed and taken off "
            "the working day)."
        )

    def rows_of(source: str) -> list[FleetRow]:
        if source in fleet_by_depot:
            return fleet_by_depot[source]
        if source in borrow:
            return fleet_by_depot[borrow[source].home]
        return []

    outage_text = ", ".join(
        f"{o.origin}-{o.destination} {'cut' if o.speed_factor == 0 else f'x{o.speed_factor:g}'}"
        for o in instance.scenario(scenario).outages
    ) or "none"
    level_of = {r.id: r.level for r in instance.regions}
    region_of = transport_region_of(instance)
    order = {c.id: (c.priority, k) for k, c in enumerate(instance.commodities)}
    # release on the day's clock: hour 0 of period p is (p - 1) x 24 h after the start
    day_start_h = (period - 1) * 24.0
    release_of = {int(d): max(0.0, float(h) - day_start_h)
                  for d, h in zip(table.index, table["ready_h"], strict=True)}

    # loads per (source, point)
    built: list[tuple[str, str, _Load, bool]] = []  # source, point, load, first
    for (source, point), items in pairs.items():
        rows = rows_of(source)
        if not rows:
            set_aside(items, point, no_fleet[source])
            continue
        if not np.isfinite(time_h[pos[source], pos[point]]):
            reason = (
                f"no road from {source} to {point} in scenario {scenario}: the outages "
                f"({outage_text}) cut every path"
            )
            set_aside(items, point, reason)
            continue
        limit = opt.max_vehicle_kg.get(point, math.inf)
        fitting = [r for r in rows if r.capacity_kg <= limit + _EPS]
        if not fitting:
            reason = (
                f"only vehicles up to {limit:g} kg reach {point}, and {source}'s largest "
                f"is {max(r.capacity_kg for r in rows):g} kg"
            )
            set_aside(items, point, reason)
            continue
        big = max(fitting, key=lambda r: (r.capacity_kg, r.capacity_m3))
        # goods released at different hours go in different loads, earliest first, so
        # ready goods never wait for later ones; the pair's first load is its first batch
        by_release: dict[float, list[tuple[int, float]]] = {}
        for d, units in items:
            by_release.setdefault(release_of[d], []).append((d, units))
        n_pair = 0
        for release in sorted(by_release):
            goods = sorted(by_release[release],
                           key=lambda it: order[str(table.loc[it[0], "commodity"])])
            spec = []
            for d, units in goods:
                c = instance.commodity(str(table.loc[d, "commodity"]))
                spec.append((d, units, c.weight_kg, c.volume_m3))
            loads, too_big = _pack(spec, (big.capacity_kg, big.capacity_m3))
            for d, units in too_big:
                c = instance.commodity(str(table.loc[d, "commodity"]))
                set_aside([(d, units)], point,
                          f"one unit of {c.id} ({c.weight_kg:g} kg, {c.volume_m3:g} m3) does not "
                          f"fit the largest vehicle of {source} that reaches {point} ({big.id}: "
                          f"{big.capacity_kg:g} kg, {big.capacity_m3:g} m3)")
            for load in loads:
                load.release_h = release
                built.append((source, point, load, n_pair == 0))
                n_pair += 1
    if len(built) > MAX_LOADS:
        raise InputError(f"The day's deliveries make {len(built)} vehicle loads; a day's routing "
                         f"takes at most {MAX_LOADS}: route the day in parts (fewer rows per "
                         "--deliveries file).")

    # vehicle types: own rows, and shares of home rows for borrowers
    # a source's need of vehicles: the share of a vehicle's working day each load takes by
    # the fleet rule (whole round trips after its release; an overnight load, all of it)
    weight_at: dict[str, float] = {}
    loads_at: dict[str, int] = {}
    night_at: dict[str, int] = {}  # loads no round trip of the day fits: a vehicle each
    for source, point, load, _ in built:
        loads_at[source] = loads_at.get(source, 0) + 1
        lead = borrow[source].h if source in borrow else 0.0
        if not rows_of(source):
            continue
        big = max(rows_of(source), key=lambda r: (r.capacity_kg, r.capacity_m3))
        trip = _trip(big, max(lead, load.release_h),
                     (leg_h(big, source, point) + leg_h(big, point, source)) / 2, lead, opt)
        day = min(big.max_hours, 24.0)
        need = float(trip.charge_h) / day if np.isfinite(trip.charge_h) and day > 0 else 0.0
        weight_at[source] = weight_at.get(source, 0.0) + max(need, _EPS)
        if bool(trip.overnight):
            night_at[source] = night_at.get(source, 0) + 1
    depots = [s for s in sources if s in loads_at]
    users_of: dict[str, list[str]] = {}
    for s in depots:
        users_of.setdefault(borrow[s].home if s in borrow else s, []).append(s)
    counts: dict[tuple[str, str], int] = {}
    # vehicles back from an earlier day's overnight trip during this working day (hours
    # of the day's clock), by (row, user): the home depot's first, then the heaviest
    late: dict[tuple[str, str], list[float]] = {}
    for home, users in users_of.items():
        for row in fleet_by_depot[home]:
            back = sorted(h for h in opt.away.get(row.id, ()) if h < row.max_hours - _EPS)
            out = len(opt.away.get(row.id, ())) - len(back)  # away all this working day
            share = _share(max(row.count - out, 0), {u: weight_at[u] for u in users},
                           {u: loads_at[u] for u in users}, night_at)
            for u, n in share.items():
                counts[(row.id, u)] = n
            for u in sorted(users, key=lambda x: (x != home, -share[x], x)):
                late[(row.id, u)], back = back[:share[u]], back[share[u]:]
            given = {u: n for u, n in share.items() if u != home and n}
            if given:
                notes.append(
                    f"{row.id} ({row.count} vehicles at {home}) is shared: "
                    + ", ".join(f"{n} to {u}" for u, n in share.items()) + "."
                )

    def arrives(row: FleetRow) -> float:
        """Hour of the day a logistics contract's vehicles are at their depot (0: own)."""
        return max(0.0, row.delay_h - day_start_h)

    def usable_rows(source: str) -> list[FleetRow]:
        return [r for r in rows_of(source) if counts.get((r.id, source), 0) > 0
                and r.max_hours - 2 * (borrow[source].h if source in borrow else 0.0)
                - arrives(r) > 0]

    # the first load of each pair is due by the response standard (period 1)
    kept: list[tuple[str, str, _Load, bool, float | None, bool]] = []
    night_loads: dict[str, list[int]] = {}  # source -> days each overnight load takes
    for source, point, load, first in built:
        tw_late: float | None = None
        limit = opt.max_vehicle_kg.get(point, math.inf)
        rows = [r for r in usable_rows(source) if r.capacity_kg <= limit + _EPS]
        if not rows:
            lent = borrow.get(source)
            if lent and all(r.max_hours <= 2 * lent.h for r in rows_of(source)):
                reason = (f"the empty drive from {lent.home} to {source} and back "
                          f"({2 * lent.h:.2f} h) leaves its vehicles no working time")
            else:
                home = lent.home if lent else source
                reason = (f"no vehicle of {home} is left for {source}: "
                          f"{home}'s vehicles go to the sources that ship more")
            set_aside(load.items.items(), point, reason)
            continue
        lead = borrow[source].h if source in borrow else 0.0
        leave = max(lead, load.release_h)
        out_h = {r.id: leg_h(r, source, point) for r in rows}
        both_h = {r.id: out_h[r.id] + leg_h(r, point, source) for r in rows}
        night = not any(leave + opt.load_h + opt.unload_h + both_h[r.id]
                        <= r.max_hours - lead + _EPS for r in rows)
        if night:
            # no round trip fits the rest of the working day: by the fleet rule
            # (reserve_opt.fleet.fleet_trips) it rides overnight, waits for the next day
            # (not this day's load), or no day can carry it
            trip_of = {r.id: _trip(r, leave, both_h[r.id] / 2, lead, opt) for r in rows}
            long = [r for r in rows if bool(trip_of[r.id].overnight)]
            if long:
                night_loads.setdefault(source, []).append(
                    max(int(trip_of[r.id].days) for r in long))
            elif load.release_h > lead and any(
                    opt.load_h + opt.unload_h + both_h[r.id] + 2 * lead
                    <= min(r.max_hours, 24.0) + _EPS for r in rows):
                ready = load.release_h + day_start_h
                ends = max(r.max_hours for r in rows) - lead
                set_aside(load.items.items(), point,
                          f"not ready until {load.release_h:g} h of day {period} ({ready:g} h "
                          f"after the event's start): no vehicle of {source} can then load, "
                          f"reach {point} and be back before its working day ends at "
                          f"{ends:.2f} h")
                continue
            else:
                quick = min(rows, key=lambda r: both_h[r.id])
                set_aside(load.items.items(), point, f"{source} -> {point}: " + no_day_reason(
                    min(quick.max_hours, 24.0) - 2 * lead, both_h[quick.id] / 2,
                    opt.load_h + opt.unload_h, False, source))
                continue
            rows = long
        if first and period == 1 and opt.response_deadline and rows:
            level = level_of[region_of[point]]
            deadline = instance.settings.response_h(level)
            # clock time of arrival: after the night's rest when the trip spans one
            fastest = min(
                float(on_clock(np.array(leave + opt.load_h + out_h[r.id]),
                               np.array(min(r.max_hours, 24.0)), 24.0)) if night
                else leave + opt.load_h + out_h[r.id]
                for r in rows
            )
            held = (f" (its goods are ready at {load.release_h:g} h)"
                    if load.release_h > lead else "")
            if fastest <= deadline + _EPS:
                # on an overnight vehicle's working clock a deadline within day 1 but
                # after the working day's end is that end
                tw_late = min(deadline, max(r.max_hours for r in rows)) if night else deadline
            elif opt.strict_response:
                reason = (
                    f"first batch cannot reach {point} within the {deadline:g} h standard for "
                    f"{level} regions: the fastest direct trip from {source} arrives after "
                    f"{fastest:.2f} h{held}"
                )
                set_aside(load.items.items(), point, reason)
                continue
            elif night:
                notes.append(
                    f"{source} -> {point}: the round trip is longer than a working day; the "
                    f"driver rests the night ({24 - max(r.max_hours for r in rows):g} h) and "
                    f"arrives at {fastest:.2f} h{held}, later than the {deadline:g} h "
                    f"standard for {level} regions; routed overnight instead."
                )
            else:
                notes.append(
                    f"{source} -> {point}: a direct trip arrives at {fastest:.2f} h{held}, "
                    f"later than the {deadline:g} h standard for {level} regions; routed "
                    "within the working day instead."
                )
        kept.append((source, point, load, first, tw_late, night))

    b = RoutingProblemBuilder(SCALING, name=f"{instance.name} {scenario} day {period}",
                              load_units=("kg", "m3"))
    depot_index = {s: b.add_depot(s, loading_time=opt.load_h) for s in depots}
    loc_ids = [*depots, *(p for _, p, _, _, _, _ in kept)]
    idx = np.array([pos[i] for i in loc_ids], dtype=np.int64)
    sub_d = dist_km[np.ix_(idx, idx)]
    sub_t = time_h[np.ix_(idx, idx)]
    # Unusable legs get a finite stand-in longer than any working day, so no plan uses
    # them and engines keep integers. Each client is restricted to its own source's
    # vehicles, which reach it, so only legs between clients can be stand-ins.
    finite_d = sub_d[np.isfinite(sub_d)]
    finite_t = sub_t[np.isfinite(sub_t)]
    longest_day = max((r.max_hours for r in instance.vehicles), default=24.0)
    sub_d = np.where(np.isfinite(sub_d), sub_d, 2 * float(finite_d.max(initial=0)) + 1)
    stand_in_h = 10 * longest_day + 2 * float(finite_t.max(initial=0)) + 1
    sub_t = np.where(np.isfinite(sub_t), sub_t, stand_in_h)
    b.set_distances(sub_d)

    def durations(row: FleetRow) -> FloatMatrix:
        """``row``'s hours between the problem's places (:func:`leg_h` as a matrix)."""
        scaled = sub_t * (instance.settings.speed_kmh / max(row.speed_kmh, _EPS))
        if row.vehicle_class is None:
            return scaled
        own = class_h[row.vehicle_class][np.ix_(idx, idx)]
        return np.where(np.isnan(own), scaled, np.where(np.isfinite(own), own, stand_in_h))

    types_of: dict[str, list[tuple[int, FleetRow]]] = {}
    night_types_of: dict[str, list[tuple[int, FleetRow]]] = {}
    homes: list[tuple[str, str]] = []
    for s in depots:
        rows = usable_rows(s)
        total_n = sum(counts[(r.id, s)] for r in rows)
        # an overnight load takes a vehicle of its own for the days it is away; the
        # others make the day's trips
        nights = sorted(night_loads.get(s, []), reverse=True)
        n_loads = loads_at[s] - len(nights)
        # the day's trips are made by the vehicles the overnight loads leave
        total_n -= min(len(nights), sum(counts[(r.id, s)] for r in rows if r.overnight))
        for row in rows:
            lent = borrow.get(s)
            lead = lent.h if lent else 0.0
            # when each vehicle can start: at once, or once back from an earlier day's
            # overnight trip (DeliveryOptions.away)
            at_once = lead + arrives(row)
            back = late.get((row.id, s), [])
            starts = sorted([at_once] * (counts[(row.id, s)] - len(back))
                            + [max(at_once, h) for h in back])
            n_night = min(len(nights), len(starts)) if row.overnight else 0
            taken, nights = nights[:n_night], nights[n_night:]
            trips = 1 if n_loads <= total_n else min(opt.max_trips,
                                                     math.ceil(n_loads / max(total_n, 1)))
            rule = (opt.break_min, opt.drive_h_before_break) if opt.break_min is not None \
                else (row.break_min, row.drive_h_before_break)
            name = row.id if not lent else f"{row.id}@{s}"
            # an overnight vehicle plans on its working clock, which stops at night
            # (VehicleType.working_day): it may work max(taken) working days
            day = min(row.max_hours, 24.0)
            groups = [(start, overnight) for overnight, part in
                      ((True, starts[:n_night]), (False, starts[n_night:])) for start in part]
            for (start, overnight), members in itertools.groupby(groups):
                n = len(list(members))
                # (one working day more for a vehicle that starts late, back from an
                # earlier trip: the rule counted days from the goods' release)
                ends = ((max(taken) + (start > at_once + _EPS)) * day if overnight
                        else row.max_hours)
                label = f"{name} overnight" if overnight else name
                if start > at_once + _EPS:
                    label += f" back at {start:.2f} h"
                    if ends - lead - start <= 0:
                        continue
                k = b.add_vehicle_type(
                    label,
                    depot=depot_index[s],
                    count=n,
                    capacity=(row.capacity_kg, row.capacity_m3),
                    fixed_cost=row.fixed_cost + row.cost_per_km * (2 * lent.km if lent else 0.0),
                    cost_per_distance=row.cost_per_km,
                    durations=durations(row),
                    shift_start=start,
                    shift_end=ends - lead,
                    max_duration=ends - lead - start,
                    max_trips=trips,
                    break_duration=None if rule[0] is None else rule[0] / 60.0,
                    break_after=rule[1],
                    working_day=day if overnight else None,
                    night=24.0 - day if overnight else 0.0,
                )
                (night_types_of if overnight else types_of).setdefault(s, []).append((k, row))
                homes.append((row.id, lent.home if lent else s))

    load_rows: list[dict[str, object]] = []
    for n_client, (source, point, load, _, tw_late, night) in enumerate(kept):
        limit = opt.max_vehicle_kg.get(point, math.inf)
        # an overnight vehicle may take day loads too, served within the first working day
        # (its working clock runs on past the day's end)
        pool = night_types_of.get(source, []) + ([] if night else types_of.get(source, []))
        types = [k for k, fr in pool if fr.capacity_kg <= limit + _EPS]
        due = tw_late
        if not night and night_types_of.get(source):
            lead = borrow[source].h if source in borrow else 0.0
            day_end = max(fr.max_hours for _, fr in night_types_of[source]) - lead
            due = day_end if tw_late is None else min(tw_late, day_end)
        client = b.add_client(
            f"{source}>{point}#{n_client}",
            demand=(load.weight, load.volume),
            service_time=opt.unload_h,
            tw_late=due,
            allowed_vehicle_types=types,
            release_time=load.release_h,
        )
        for d, units in load.items.items():
            load_rows.append({"client": client, "delivery": d, "source": source,
                              "region": table.loc[d, "region"], "point": point,
                              "commodity": table.loc[d, "commodity"], "quantity": units,
                              "first": tw_late is not None, "release_h": load.release_h})
    problem = b.build()
    locs = instance.locations()
    location_ids = tuple(loc_ids)
    cols = ["delivery", "source", "region", "point", "commodity", "quantity", "reason"]
    return DeliveryProblem(
        problem=problem,
        scenario=scenario,
        period=period,
        deliveries=table,
        loads=pd.DataFrame(load_rows, columns=["client", "delivery", "source", "region",
                                               "point", "commodity", "quantity", "first",
                                               "release_h"]),
        unrouted=pd.DataFrame(unrouted, columns=cols),
        notes=tuple(notes),
        location_ids=location_ids,
        location_lonlat=tuple(locs[i] for i in location_ids),
        vehicle_homes=tuple(homes),
        currency=instance.currency,
        away={k: tuple(v) for k, v in opt.away.items()},
    )


# --------------------------------------------------------------------------- results


def delivery_report(plan: DeliveryProblem, result: RoutingResult) -> pd.DataFrame:
    """Every planned delivery, per receiving point: delivered and unmet units, and why.

    A load is delivered when its client is visited. If the engine left only part of a
    client's demand unserved (it was cut into smaller pieces than its load), the
    commodities are counted unmet in the same share as its weight (volume when it has
    no weight).

    Parameters
    ----------
    plan
        What :func:`from_allocation` built.
    result
        The solve of ``plan.problem``.

    Returns
    -------
    pandas.DataFrame
        Columns ``delivery, source, region, point, commodity, quantity, delivered,
        unmet`` (units), ``vehicles`` (route labels ``vehicle type#n``) and ``reason``.
    """
    problem = plan.problem
    missing = {u.client: u for u in result.unserved}
    carried: dict[int, set[str]] = {}
    for route in result.routes:
        label = f"{route.vehicle_type_name}#{route.vehicle}"
        for visit in route.visits:
            carried.setdefault(visit.client, set()).add(label)
    rows: list[dict[str, object]] = []
    for r in plan.loads.to_dict("records"):
        c = int(r["client"])
        demand = problem.clients[c].demand
        share = 0.0
        reason = ""
        if c in missing:
            u = missing[c]
            dim = 0 if demand[0] > 0 else 1
            whole = demand[dim] / problem.scaling.load[dim]
            share = 1.0 if whole <= 0 else min(1.0, u.missing[dim] / whole)
            reason = u.reason
        q = float(r["quantity"])
        rows.append({"delivery": r["delivery"], "source": r["source"], "region": r["region"],
                     "point": r["point"], "commodity": r["commodity"], "quantity": q,
                     "delivered": q * (1 - share), "unmet": q * share,
                     "vehicles": " ".join(sorted(carried.get(c, set()))), "reason": reason})
    for r in plan.unrouted.to_dict("records"):
        rows.append({**{str(k): v for k, v in r.items()},
                     "quantity": float(r["quantity"]), "delivered": 0.0,
                     "unmet": float(r["quantity"]), "vehicles": ""})
    cols = ["delivery", "source", "region", "point", "commodity", "quantity", "delivered",
            "unmet", "vehicles", "reason"]
    out = pd.DataFrame(rows, columns=cols)
    grouped = out.groupby(["delivery", "point", "reason", "vehicles"], as_index=False, sort=True)
    return grouped.agg({"source": "first", "region": "first", "commodity": "first",
                        "quantity": "sum", "delivered": "sum", "unmet": "sum"})[cols]


@dataclass(frozen=True)
class DeliveryCheck:
    """What :func:`check_deliveries` found.

    Attributes
    ----------
    violations
        One sentence per problem; empty when every delivery is accounted for and the
        routes pass :func:`models.routing.check`.
    delivered, unmet
        Total units delivered and unmet, over all commodities.
    """

    violations: tuple[str, ...]
    delivered: float
    unmet: float

    @property
    def ok(self) -> bool:
        """Whether nothing is wrong."""
        return not self.violations


def check_deliveries(plan: DeliveryProblem, result: RoutingResult) -> DeliveryCheck:
    """Check that every planned delivery is on a route or listed as unmet with a reason.

    Runs the route checker on ``plan.problem``, then adds up, for every input delivery,
    the units on visited loads and the units unmet (set aside before solving or left
    out by the engine) and compares them with the planned quantity.

    Parameters
    ----------
    plan
        What :func:`from_allocation` built.
    result
        The solve of ``plan.problem``.

    Returns
    -------
    DeliveryCheck
        The violations and the totals.
    """
    bad = list(check(plan.problem, result).violations)
    report = delivery_report(plan, result)
    for r in report.to_dict("records"):
        if float(r["unmet"]) > _EPS and not str(r["reason"]).strip():
            bad.append(f"delivery {r['delivery']} to {r['point']}: {float(r['unmet']):g} units "
                       "unmet without a reason.")
    sums = report.groupby("delivery")[["delivered", "unmet"]].sum()
    accounted = {int(str(d)): float(v) for d, v in (sums["delivered"] + sums["unmet"]).items()}
    for d, r in zip(plan.deliveries.index, plan.deliveries.to_dict("records"), strict=True):
        planned = float(r["quantity"])
        total = accounted.get(int(str(d)), 0.0)
        if not math.isclose(total, planned, rel_tol=1e-9, abs_tol=1e-6):
            bad.append(f"delivery {d} ({r['source']} -> {r['region']}, {r['commodity']}): "
                       f"{planned:g} units planned but {total:g} routed or listed as unmet.")
    return DeliveryCheck(tuple(bad), float(report["delivered"].sum()),
                         float(report["unmet"].sum()))


def route_lines(plan: DeliveryProblem, result: RoutingResult,
                instance: Instance | None = None) -> gpd.GeoDataFrame:
    """The routes as lines in EPSG:4326 (lon/lat), one per vehicle.

    Each line runs depot -> stops -> depot for every trip in order. With ``instance``,
    each leg follows the path its travel time was measured on
    (:func:`reserve_opt.path_lines.pair_lines`) and ``path_kind`` says how the route was
    drawn: the ``+``-joined kinds of its legs among ``links``, ``geodesic`` (straight, no
    path known) and ``table``; without it the legs are straight (``geodesic``). A route
    that never leaves its depot's position is that point, with ``path_kind`` ``none``.

    Parameters
    ----------
    plan
        What :func:`from_allocation` built.
    result
        The solve of ``plan.problem``.
    instance
        The instance ``plan`` was built from, to draw the legs along their paths.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``route`` (label), ``vehicle_type``, ``vehicle``, ``home`` (fleet depot),
        ``depot``, ``trips``, ``stops``, ``distance_km``, ``cost``, ``start_h``,
        ``end_h`` (clock time of the day: after the nights' rests for an overnight route,
        so beyond 24 h when it ends on a later day), ``delivered_kg``, ``delivered_m3``,
        ``path_kind`` and the geometry.
    """
    import geopandas as gpd
    from shapely.geometry import LineString, Point

    from reserve_opt.path_lines import pair_lines

    problem = plan.problem
    lonlat = plan.location_lonlat
    ids = plan.location_ids
    stops_of: list[list[int]] = []
    for route in result.routes:
        vt = problem.vehicle_types[route.vehicle_type]
        stops = [route.depot]
        for trip in route.trips:
            stops += [problem.client_location(v.client) for v in trip.visits]
            if vt.returns_to_depot:
                stops.append(route.depot)
        stops_of.append(stops)
    legs = {(ids[a], ids[b]) for stops in stops_of
            for a, b in itertools.pairwise(stops) if lonlat[a] != lonlat[b]}
    drawn = (pair_lines(instance, plan.scenario, legs) if instance is not None else
             {(a, b): ([lonlat[ids.index(a)], lonlat[ids.index(b)]], "geodesic")
              for a, b in legs})
    order = ("links", "geodesic", "table")
    rows: list[dict[str, object]] = []
    for route, stops in zip(result.routes, stops_of, strict=True):
        points: list[tuple[float, float]] = [lonlat[stops[0]]]
        kinds: set[str] = set()
        for a, b in itertools.pairwise(stops):
            leg = drawn.get((ids[a], ids[b]))
            if leg is None:
                continue
            points += [c for c in leg[0] if c != points[-1]]
            kinds.update(leg[1].split("+"))
        geometry = LineString(points) if len(points) >= 2 else Point(points[0])
        rows.append({
            "route": f"{route.vehicle_type_name}#{route.vehicle}",
            "vehicle_type": route.vehicle_type_name,
            "vehicle": route.vehicle,
            "home": plan.vehicle_homes[route.vehicle_type][1],
            "depot": plan.location_ids[route.depot],
            "trips": len(route.trips),
            "stops": len(route.visits),
            "distance_km": route.distance,
            "cost": route.cost,
            "start_h": clock_h(plan, route.vehicle_type, route.start),
            "end_h": clock_h(plan, route.vehicle_type, route.end),
            "delivered_kg": sum(v.delivered[0] for v in route.visits),
            "delivered_m3": sum(v.delivered[1] for v in route.visits),
            "path_kind": "+".join(k for k in order if k in kinds) or "none",
            "geometry": geometry,
        })
    if not rows:
        return gpd.GeoDataFrame({"route": []}, geometry=[], crs="EPSG:4326")
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")


def clock_h(plan: DeliveryProblem, vehicle_type: int, working_h: float) -> float:
    """Clock time (hours of the day's clock) of a vehicle's time ``working_h``.

    The same for a one-day vehicle; for an overnight one, whose times are working hours,
    the nights' rests are added (:func:`reserve_opt.fleet.on_clock`).
    """
    vt = plan.problem.vehicle_types[vehicle_type]
    if not vt.overnight:
        return working_h
    s = plan.problem.scaling
    return float(on_clock(np.array(working_h), np.array(s.real_time(vt.working_day)),
                          s.real_time(vt.working_day + vt.night)))


def vehicles_away(plan: DeliveryProblem,
                  result: RoutingResult) -> dict[int, dict[str, list[float]]]:
    """Vehicles still out on this day's overnight trips on later days, and when back.

    A route of an overnight vehicle holds it until it is back: on each later day it has
    not ended by that day's start, the hour of that day's clock it ends (more than a day:
    out all day). Pass a day's map as :attr:`DeliveryOptions.away` (joined over earlier
    days) when routing that day.

    Returns
    -------
    dict
        Day (1-based) -> fleet row id -> the hour each of its vehicles is back.
    """
    out: dict[int, dict[str, list[float]]] = {}
    for route in result.routes:
        vt = plan.problem.vehicle_types[route.vehicle_type]
        if not vt.overnight:
            continue
        period_h = plan.problem.scaling.real_time(vt.working_day + vt.night)
        end = clock_h(plan, route.vehicle_type, route.end)
        row = plan.vehicle_homes[route.vehicle_type][0]
        later = 1
        while end > later * period_h + 1e-9:
            out.setdefault(plan.period + later, {}).setdefault(row, []).append(
                end - later * period_h)
            later += 1
    return out


def routed_status(plan: DeliveryProblem, result: RoutingResult) -> Status:
    """The status of routing ``plan``'s deliveries, not only of the engine's solve.

    Deliveries set aside before solving (``plan.unrouted``) are unmet too, so a solve
    that served every load it was given is ``partial`` when any were set aside.
    """
    if len(plan.unrouted) and result.status is Status.SOLVED:
        return Status.PARTIAL
    return result.status
