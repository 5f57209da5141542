"""The routing problem: one immutable type, its builder, and the integer scaling.

Both engines work on integers. All conversion between real units (kilometres, hours,
tonnes, cubic metres, ...) and the integers the engines see happens in :class:`Scaling`,
and only there:

* a distance ``d`` becomes ``round(d * scaling.distance)``;
* a time or duration ``t`` becomes ``round(t * scaling.time)``;
* a load ``q`` in dimension ``k`` becomes ``round(q * scaling.load[k])``.

The builder applies these once, when the problem is built; :class:`RoutingProblem` keeps
the integers and the :class:`Scaling`, and every result is converted back to real units
through the same object, so costs are reported in the units the caller used. Readers
that follow a benchmark's own rounding convention (for example Solomon's truncation to
one decimal) compute the convention's exact values and pick a scale at which those are
integers, so no second rounding happens.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from reserve_opt.errors import InputError

IntMatrix = npt.NDArray[np.int64]
FloatMatrix = npt.NDArray[np.float64]

#: Integer used for "no limit" on times (shift ends, window ends, shift lengths).
UNBOUNDED = 2**53

#: Names of the two capacity dimensions, in order.
LOAD_DIMENSIONS: tuple[str, str] = ("weight", "volume")


@dataclass(frozen=True)
class Scaling:
    """Factors that turn real quantities into the integers the engines use.

    Parameters
    ----------
    distance
        Integer distance units per real distance unit.
    time
        Integer time units per real time unit.
    load
        Integer load units per real unit, for (weight, volume).
    """

    distance: float = 1.0
    time: float = 1.0
    load: tuple[float, float] = (1.0, 1.0)

    def __post_init__(self) -> None:
        values = (self.distance, self.time, *self.load)
        if any(not math.isfinite(v) or v <= 0 for v in values):
            raise InputError(f"Every scale factor must be positive and finite, got {self}.")

    def int_distance(self, value: float | FloatMatrix) -> IntMatrix:
        """Scale real distances to integers (array in, array out)."""
        return np.rint(np.asarray(value, dtype=np.float64) * self.distance).astype(np.int64)

    def int_time(self, value: float | None) -> int:
        """Scale one real time to an integer; ``None`` means unbounded."""
        if value is None or math.isinf(value):
            return UNBOUNDED
        return round(value * self.time)

    def int_time_matrix(self, value: FloatMatrix) -> IntMatrix:
        """Scale a real travel-time matrix to integers."""
        return np.rint(np.asarray(value, dtype=np.float64) * self.time).astype(np.int64)

    def int_load(self, value: Sequence[float]) -> tuple[int, int]:
        """Scale a (weight, volume) pair to integers."""
        return (round(value[0] * self.load[0]), round(value[1] * self.load[1]))

    def real_distance(self, value: int | float) -> float:
        """Convert an integer distance back to real units."""
        return float(value) / self.distance

    def real_time(self, value: int | float) -> float:
        """Convert an integer time back to real units (``inf`` if unbounded)."""
        return math.inf if value >= UNBOUNDED else float(value) / self.time

    def real_load(self, value: Sequence[int]) -> tuple[float, float]:
        """Convert an integer (weight, volume) pair back to real units."""
        return (value[0] / self.load[0], value[1] / self.load[1])


@dataclass(frozen=True)
class Depot:
    """A depot, in scaled integers.

    Attributes
    ----------
    name
        Label used in results and messages.
    opens, closes
        Opening hours (integer time); vehicles leave and return within them.
    loading_time
        Time to load a vehicle at the start of every trip from this depot.
    """

    name: str
    opens: int = 0
    closes: int = UNBOUNDED
    loading_time: int = 0


@dataclass(frozen=True)
class Client:
    """A client with a delivery demand, in scaled integers.

    Attributes
    ----------
    name
        Label used in results and messages.
    demand
        Delivery amount as (weight, volume).
    service_time
        Time spent at the client on every visit (each delivered piece is one visit).
    tw_early, tw_late
        Service must start within ``[tw_early, tw_late]``.
    allowed_vehicle_types
        Indices of the vehicle types that may serve the client; ``None`` means all.
    unmet_penalty
        Cost (real currency) charged when the client is left unserved; ``None`` lets the
        engine pick a penalty large enough that the client is served whenever possible.
    release_time
        Earliest time a vehicle may leave the depot (start loading) on a trip that
        visits this client, as in PyVRP: its goods are not ready before. 0: no release.
    """

    name: str
    demand: tuple[int, int]
    service_time: int = 0
    tw_early: int = 0
    tw_late: int = UNBOUNDED
    allowed_vehicle_types: frozenset[int] | None = None
    unmet_penalty: float | None = None
    release_time: int = 0


@dataclass(frozen=True)
class VehicleType:
    """A group of identical vehicles based at one depot, in scaled integers.

    Attributes
    ----------
    name
        Label used in results and messages.
    depot
        Index of the depot the vehicles start from (and return to, if they return).
    count
        Number of vehicles available.
    capacity
        Capacity as (weight, volume), per trip.
    fixed_cost
        Cost (real currency) of using one vehicle.
    cost_per_distance
        Cost (real currency) per real distance unit.
    profile
        Index of the travel-time matrix in :attr:`RoutingProblem.durations`.
    shift_start, shift_end
        Working hours (integer time): leave no earlier, be back (or finish) no later.
    max_duration
        Longest route, from leaving the depot to returning (or finishing).
    returns_to_depot
        Whether the route ends back at :attr:`depot`; if not, it ends at its last client.
    max_trips
        Trips per vehicle; between trips the vehicle reloads at its own depot.
    break_duration, break_after
        Driver break rule: the driver works (drives, loads, unloads, waits) at most
        ``break_after`` between breaks of at least ``break_duration``, counted from the
        start of the route to its end. ``break_after = UNBOUNDED`` means no rule. Only
        the OR-Tools engine plans breaks.
    working_day, night
        Overnight vehicles (:func:`reserve_opt.fleet.fleet_trips`): their times are
        *working* hours, a clock that stops at night. After each ``working_day`` of it
        the driver rests ``night`` (clock time) before the next working day; engines
        plan on the working clock (shift, windows and durations are given on it), and
        the clock time of working time ``w`` is ``w + (ceil(w / working_day) - 1) x
        night``. ``working_day = UNBOUNDED``: a one-day vehicle (the clocks agree).
    """

    name: str
    depot: int
    count: int
    capacity: tuple[int, int]
    fixed_cost: float = 0.0
    cost_per_distance: float = 1.0
    profile: int = 0
    shift_start: int = 0
    shift_end: int = UNBOUNDED
    max_duration: int = UNBOUNDED
    returns_to_depot: bool = True
    max_trips: int = 1
    break_duration: int = 0
    break_after: int = UNBOUNDED
    working_day: int = UNBOUNDED
    night: int = 0

    @property
    def has_breaks(self) -> bool:
        """Whether a driver break rule applies to this vehicle type."""
        return self.break_after < UNBOUNDED

    @property
    def overnight(self) -> bool:
        """Whether the vehicles' routes may span nights (working clock, see above)."""
        return self.working_day < UNBOUNDED


@dataclass(frozen=True, eq=False)
class RoutingProblem:
    """An immutable routing problem in scaled integers; build it with the builder.

    Locations are numbered depots first, then clients: the location of client ``i`` is
    ``n_depots + i``. ``distances[a, b]`` is the integer distance from location ``a`` to
    ``b``; ``durations[p][a, b]`` the integer travel time for vehicles of profile ``p``.

    Attributes
    ----------
    depots, clients, vehicle_types
        The problem's items.
    distances
        Integer distance matrix, shape ``(n_locations, n_locations)``.
    durations
        One integer travel-time matrix per profile.
    scaling
        The factors that produced the integers (see the module docstring).
    name
        Label of the instance.
    load_units
        Names of the real load units, e.g. ``("kg", "m3")``, used in messages.
    """

    depots: tuple[Depot, ...]
    clients: tuple[Client, ...]
    vehicle_types: tuple[VehicleType, ...]
    distances: IntMatrix
    durations: tuple[IntMatrix, ...]
    scaling: Scaling = field(default_factory=Scaling)
    name: str = ""
    load_units: tuple[str, str] = ("", "")

    def __post_init__(self) -> None:
        distances = np.array(self.distances, dtype=np.int64)
        distances.setflags(write=False)
        durations = tuple(np.array(m, dtype=np.int64) for m in self.durations)
        for matrix in durations:
            matrix.setflags(write=False)
        object.__setattr__(self, "distances", distances)
        object.__setattr__(self, "durations", durations)
        _validate(self)

    @property
    def n_depots(self) -> int:
        """Number of depots."""
        return len(self.depots)

    @property
    def n_clients(self) -> int:
        """Number of clients."""
        return len(self.clients)

    @property
    def n_locations(self) -> int:
        """Number of locations (depots then clients)."""
        return self.n_depots + self.n_clients

    def client_location(self, client: int) -> int:
        """Location index of client ``client``."""
        return self.n_depots + client

    def may_serve(self, vehicle_type: int, client: int) -> bool:
        """Whether vehicles of ``vehicle_type`` may serve ``client``."""
        allowed = self.clients[client].allowed_vehicle_types
        return allowed is None or vehicle_type in allowed

    @property
    def needs_breaks(self) -> bool:
        """Whether some vehicle type with vehicles has a driver break rule."""
        return any(vt.has_breaks and vt.count > 0 for vt in self.vehicle_types)

    @property
    def has_release_times(self) -> bool:
        """Whether some client has a release time after 0."""
        return any(c.release_time > 0 for c in self.clients)

    @property
    def has_restrictions(self) -> bool:
        """Whether some client may be served by only some vehicle types."""
        return any(c.allowed_vehicle_types is not None for c in self.clients)

    def real_cost(self, vehicle_type: int, distance: int) -> float:
        """Cost in real currency of one used vehicle driving ``distance`` (integer)."""
        vt = self.vehicle_types[vehicle_type]
        return vt.fixed_cost + vt.cost_per_distance * self.scaling.real_distance(distance)


def _validate(problem: RoutingProblem) -> None:
    errors: list[str] = []
    n = problem.n_locations
    # a problem without clients (nothing to deliver) needs neither depots nor vehicles
    if problem.n_depots == 0 and problem.n_clients:
        errors.append("The problem has no depot; add at least one depot.")
    if not problem.vehicle_types and problem.n_clients:
        errors.append("The problem has no vehicle type; add at least one.")
    if problem.distances.shape != (n, n):
        errors.append(
            f"The distance matrix is {problem.distances.shape}, expected ({n}, {n}) "
            "for the depots followed by the clients."
        )
    if not problem.durations:
        errors.append("The problem has no travel-time matrix.")
    for p, matrix in enumerate(problem.durations):
        if matrix.shape != (n, n):
            errors.append(f"Travel-time matrix {p} is {matrix.shape}, expected ({n}, {n}).")
    for matrix in (problem.distances, *problem.durations):
        if matrix.size and int(matrix.min()) < 0:
            errors.append("Distances and travel times must not be negative.")
            break
    for vt in problem.vehicle_types:
        if not 0 <= vt.depot < problem.n_depots:
            errors.append(f"Vehicle type {vt.name!r} names depot {vt.depot}, which does not exist.")
        if not 0 <= vt.profile < len(problem.durations):
            errors.append(f"Vehicle type {vt.name!r} names travel-time profile {vt.profile}.")
        if vt.count < 0 or vt.max_trips < 1:
            errors.append(f"Vehicle type {vt.name!r} needs count >= 0 and max_trips >= 1.")
        if min(vt.capacity) < 0 or vt.fixed_cost < 0 or vt.cost_per_distance < 0:
            errors.append(f"Vehicle type {vt.name!r} has a negative capacity or cost.")
        if vt.shift_start > vt.shift_end:
            errors.append(f"Vehicle type {vt.name!r} has a shift that ends before it starts.")
        if vt.has_breaks and (vt.break_after <= 0 or vt.break_duration <= 0):
            errors.append(
                f"Vehicle type {vt.name!r} has a break rule with a non-positive break length "
                "or working time between breaks; give both as positive times."
            )
    n_types = len(problem.vehicle_types)
    for c in problem.clients:
        if min(c.demand) < 0:
            errors.append(f"Client {c.name!r} has a negative demand {c.demand}.")
        if c.tw_early > c.tw_late:
            errors.append(f"Client {c.name!r} has a time window that ends before it starts.")
        if c.service_time < 0:
            errors.append(f"Client {c.name!r} has a negative service time.")
        if not 0 <= c.release_time < UNBOUNDED:
            errors.append(
                f"Client {c.name!r} has release time {c.release_time}; give a finite time >= 0."
            )
        if c.allowed_vehicle_types is not None and any(
            not 0 <= k < n_types for k in c.allowed_vehicle_types
        ):
            errors.append(f"Client {c.name!r} allows a vehicle type that does not exist.")
        if c.unmet_penalty is not None and c.unmet_penalty < 0:
            errors.append(f"Client {c.name!r} has a negative unmet penalty.")
    if errors:
        raise InputError(errors)


@dataclass
class _DepotSpec:
    name: str
    x: float | None
    y: float | None
    opens: float | None
    closes: float | None
    loading_time: float


@dataclass
class _ClientSpec:
    name: str
    x: float | None
    y: float | None
    demand: tuple[float, float]
    service_time: float
    tw_early: float | None
    tw_late: float | None
    allowed: tuple[int, ...] | None
    unmet_penalty: float | None
    release_time: float = 0.0


@dataclass
class _VehicleSpec:
    name: str
    depot: int
    count: int
    capacity: tuple[float, float]
    fixed_cost: float
    cost_per_distance: float
    speed: float | None
    durations: FloatMatrix | None
    shift_start: float | None
    shift_end: float | None
    max_duration: float | None
    returns_to_depot: bool
    max_trips: int
    break_duration: float | None = None
    break_after: float | None = None
    working_day: float | None = None
    night: float = 0.0


class RoutingProblemBuilder:
    """Mutable builder for :class:`RoutingProblem`, taking real units.

    Parameters
    ----------
    scaling
        How real distances, times and loads become integers (module docstring).
    name
        Label of the instance.
    load_units
        Names of the real load units (weight, volume), e.g. ``("kg", "m3")``, for messages.

    Examples
    --------
    >>> b = RoutingProblemBuilder()
    >>> d = b.add_depot("D", x=0, y=0)
    >>> _ = b.add_client("A", x=3, y=4, demand=(2, 0))
    >>> _ = b.add_vehicle_type("truck", depot=d, count=1, capacity=(10, 0))
    >>> int(b.build().distances[0, 1])
    5
    """

    def __init__(
        self,
        scaling: Scaling | None = None,
        name: str = "",
        load_units: tuple[str, str] = ("", ""),
    ) -> None:
        self.scaling = scaling or Scaling()
        self.name = name
        self.load_units = load_units
        self._depots: list[_DepotSpec] = []
        self._clients: list[_ClientSpec] = []
        self._vehicle_types: list[_VehicleSpec] = []
        self._distances: FloatMatrix | None = None
        self._int_distances: IntMatrix | None = None
        self._durations: FloatMatrix | None = None
        self._int_durations: IntMatrix | None = None

    def add_depot(
        self,
        name: str,
        *,
        x: float | None = None,
        y: float | None = None,
        opens: float | None = 0.0,
        closes: float | None = None,
        loading_time: float = 0.0,
    ) -> int:
        """Add a depot; return its index.

        Parameters
        ----------
        name
            Label of the depot.
        x, y
            Planar coordinates, used when no distance matrix is given.
        opens, closes
            Opening hours (real time; ``None`` for unbounded).
        loading_time
            Time to load a vehicle at the start of every trip.

        Returns
        -------
        int
            Index of the depot.
        """
        if self._clients:
            raise InputError("Add every depot before the first client, so locations stay sorted.")
        self._depots.append(_DepotSpec(name, x, y, opens, closes, loading_time))
        return len(self._depots) - 1

    def add_client(
        self,
        name: str,
        *,
        demand: tuple[float, float],
        x: float | None = None,
        y: float | None = None,
        service_time: float = 0.0,
        tw_early: float | None = 0.0,
        tw_late: float | None = None,
        allowed_vehicle_types: Sequence[int] | None = None,
        unmet_penalty: float | None = None,
        release_time: float = 0.0,
    ) -> int:
        """Add a client; return its index (0-based among clients).

        Parameters
        ----------
        name
            Label of the client.
        demand
            Delivery amount (weight, volume) in real units; split later if too large.
        x, y
            Planar coordinates, used when no distance matrix is given.
        service_time
            Time spent per visit.
        tw_early, tw_late
            Time window for the start of service (``None`` for unbounded).
        allowed_vehicle_types
            Vehicle type indices allowed to serve this client (``None``: all).
        unmet_penalty
            Cost of leaving the client unserved (``None``: large automatic penalty).
        release_time
            Earliest real time a vehicle may start loading at the depot for a trip that
            visits this client (its goods are ready then); 0 for no release.

        Returns
        -------
        int
            Index of the client.
        """
        allowed = None if allowed_vehicle_types is None else tuple(allowed_vehicle_types)
        self._clients.append(
            _ClientSpec(
                name,
                x,
                y,
                (demand[0], demand[1]),
                service_time,
                tw_early,
                tw_late,
                allowed,
                unmet_penalty,
                release_time,
            )
        )
        return len(self._clients) - 1

    def add_vehicle_type(
        self,
        name: str,
        *,
        depot: int,
        count: int,
        capacity: tuple[float, float],
        fixed_cost: float = 0.0,
        cost_per_distance: float = 1.0,
        speed: float | None = None,
        durations: FloatMatrix | None = None,
        shift_start: float | None = 0.0,
        shift_end: float | None = None,
        max_duration: float | None = None,
        returns_to_depot: bool = True,
        max_trips: int = 1,
        break_duration: float | None = None,
        break_after: float | None = None,
        working_day: float | None = None,
        night: float = 0.0,
    ) -> int:
        """Add a vehicle type; return its index.

        Parameters
        ----------
        name
            Label of the vehicle type.
        depot
            Index of its home depot.
        count
            Number of vehicles.
        capacity
            (weight, volume) per trip, in real units.
        fixed_cost
            Cost of using one vehicle.
        cost_per_distance
            Cost per real distance unit.
        speed
            Distance units per time unit; travel time = distance / speed. Mutually
            exclusive with ``durations``. Without either, the problem-wide travel-time
            matrix (:meth:`set_durations`) is used, or, without one, distance / 1.
        durations
            This vehicle type's own real travel-time matrix.
        shift_start, shift_end
            Working hours (``None`` for unbounded).
        max_duration
            Longest route duration (shift length; ``None`` for unbounded).
        returns_to_depot
            Whether routes end back at the depot.
        max_trips
            Trips per vehicle, reloading at the home depot in between.
        break_duration, break_after
            Driver break rule (real time): at most ``break_after`` of work between
            breaks of ``break_duration``. Give both or neither; only the OR-Tools engine
            plans breaks.
        working_day, night
            An overnight vehicle: times (shift, durations, windows) are working hours;
            after each ``working_day`` of them the driver rests ``night`` (see
            :class:`VehicleType`). ``None``: a one-day vehicle.

        Returns
        -------
        int
            Index of the vehicle type.
        """
        if (break_duration is None) != (break_after is None):
            raise InputError(
                f"Vehicle type {name!r}: give break_duration and break_after together, "
                "or neither."
            )
        if speed is not None and durations is not None:
            raise InputError(f"Vehicle type {name!r}: give speed or durations, not both.")
        if speed is not None and speed <= 0:
            raise InputError(f"Vehicle type {name!r}: speed must be positive, got {speed}.")
        self._vehicle_types.append(
            _VehicleSpec(
                name,
                depot,
                count,
                (capacity[0], capacity[1]),
                fixed_cost,
                cost_per_distance,
                speed,
                None if durations is None else np.asarray(durations, dtype=np.float64),
                shift_start,
                shift_end,
                max_duration,
                returns_to_depot,
                max_trips,
                break_duration,
                break_after,
                working_day,
                night,
            )
        )
        return len(self._vehicle_types) - 1

    def set_distances(self, matrix: FloatMatrix) -> None:
        """Set the real distance matrix (depots first, then clients)."""
        self._distances = np.asarray(matrix, dtype=np.float64)
        self._int_distances = None

    def set_int_distances(self, matrix: IntMatrix) -> None:
        """Set an already-scaled integer distance matrix (for readers with a convention)."""
        self._int_distances = np.asarray(matrix, dtype=np.int64)
        self._distances = None

    def set_durations(self, matrix: FloatMatrix) -> None:
        """Set the problem-wide real travel-time matrix."""
        self._durations = np.asarray(matrix, dtype=np.float64)
        self._int_durations = None

    def set_int_durations(self, matrix: IntMatrix) -> None:
        """Set an already-scaled problem-wide integer travel-time matrix."""
        self._int_durations = np.asarray(matrix, dtype=np.int64)
        self._durations = None

    def _coordinates(self) -> FloatMatrix:
        points = [(d.x, d.y) for d in self._depots] + [(c.x, c.y) for c in self._clients]
        if any(x is None or y is None for x, y in points):
            raise InputError(
                "Some locations have no coordinates and no distance matrix was set; "
                "call set_distances() or give x and y for every depot and client."
            )
        return np.array(points, dtype=np.float64)

    def build(self) -> RoutingProblem:
        """Scale everything to integers (the one place it happens) and return the problem.

        Returns
        -------
        RoutingProblem
            The immutable problem.
        """
        s = self.scaling
        real_distances: FloatMatrix
        if self._int_distances is not None:
            distances = self._int_distances
            real_distances = distances / s.distance
        else:
            if self._distances is not None:
                real_distances = self._distances
            else:
                xy = self._coordinates()
                real_distances = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2))
            distances = s.int_distance(real_distances)
        if self._int_durations is not None:
            base_durations = self._int_durations
        elif self._durations is not None:
            base_durations = s.int_time_matrix(self._durations)
        else:
            base_durations = s.int_time_matrix(real_distances)

        profiles: list[IntMatrix] = []

        def profile_of(matrix: IntMatrix) -> int:
            for p, other in enumerate(profiles):
                if other.shape == matrix.shape and np.array_equal(other, matrix):
                    return p
            profiles.append(matrix)
            return len(profiles) - 1

        profile_of(base_durations)
        depots = tuple(
            Depot(
                name=d.name,
                opens=0 if d.opens is None else s.int_time(d.opens),
                closes=s.int_time(d.closes),
                loading_time=s.int_time(d.loading_time),
            )
            for d in self._depots
        )
        clients = tuple(
            Client(
                name=c.name,
                demand=s.int_load(c.demand),
                service_time=s.int_time(c.service_time),
                tw_early=0 if c.tw_early is None else s.int_time(c.tw_early),
                tw_late=s.int_time(c.tw_late),
                allowed_vehicle_types=None if c.allowed is None else frozenset(c.allowed),
                unmet_penalty=c.unmet_penalty,
                release_time=s.int_time(c.release_time),
            )
            for c in self._clients
        )
        vehicle_types = []
        for v in self._vehicle_types:
            if v.speed is not None:
                profile = profile_of(s.int_time_matrix(real_distances / v.speed))
            elif v.durations is not None:
                profile = profile_of(s.int_time_matrix(v.durations))
            else:
                profile = 0
            vehicle_types.append(
                VehicleType(
                    name=v.name,
                    depot=v.depot,
                    count=v.count,
                    capacity=s.int_load(v.capacity),
                    fixed_cost=v.fixed_cost,
                    cost_per_distance=v.cost_per_distance,
                    profile=profile,
                    shift_start=0 if v.shift_start is None else s.int_time(v.shift_start),
                    shift_end=s.int_time(v.shift_end),
                    max_duration=s.int_time(v.max_duration),
                    returns_to_depot=v.returns_to_depot,
                    max_trips=v.max_trips,
                    break_duration=(
                        0 if v.break_duration is None else s.int_time(v.break_duration)
                    ),
                    break_after=s.int_time(v.break_after),
                    working_day=s.int_time(v.working_day),
                    night=s.int_time(v.night),
                )
            )
        return RoutingProblem(
            depots=depots,
            clients=clients,
            vehicle_types=tuple(vehicle_types),
            distances=np.array(distances, dtype=np.int64),
            durations=tuple(np.array(p, dtype=np.int64) for p in profiles),
            scaling=s,
            name=self.name,
            load_units=self.load_units,
        )
