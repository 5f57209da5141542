"""Readers for benchmark routing instances, each with its own distance convention.

* CVRPLIB / VRPLIB (``.vrp``, e.g. the X set): TSPLIB ``EUC_2D``, Euclidean distance
  rounded to the nearest integer; fleet unlimited (one vehicle per client) unless the
  file says otherwise. Scale 1.
* Solomon VRPTW (``.txt``): Euclidean distance and travel time truncated to one decimal
  (the DIMACS convention); objective = total distance. Scale 10, so truncated values
  are exact integers.
* Cordeau MDVRP (type 2): unrounded Euclidean distance; each vehicle returns to its own
  depot; ``m`` vehicles per depot, optional route duration limit. Scale 10^4.
* ``.sol`` files (``Route #k: ...`` lines and ``Cost ...``) and ``BKS.csv``.

In every reader, clients keep their file ids as names; depots come first.

The readers refuse, naming the file and line, whatever would make them solve another
problem than the file states: a node listed twice, a node without a demand, a depot that
is not a node, a count the rows do not match (a file cut short), a header key or section
they do not implement, a number that is not finite, not whole where it must be, negative,
or beyond :data:`~reserve_opt.models.benchtext.MAX_MAGNITUDE` once scaled. A fleet larger
than the number of clients is cut to one vehicle per client, which changes no solution
(every used vehicle serves a client).
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reserve_opt.errors import InputError
from reserve_opt.models.benchtext import MAX_MAGNITUDE, read_published_text, whole_number

from .problem import IntMatrix, RoutingProblem, RoutingProblemBuilder, Scaling

__all__ = [
    "BKSEntry",
    "SolutionFile",
    "read_bks",
    "read_cordeau",
    "read_solomon",
    "read_solution",
    "read_vrplib",
]

#: Distance scale used for Cordeau's unrounded Euclidean distances.
CORDEAU_SCALE = 10_000
#: Distance and time scale of Solomon files (one decimal, truncated).
SOLOMON_SCALE = 10
#: Header keys of a CVRP file this reader implements; any other key would change the
#: problem (``DISTANCE``, ``SERVICE_TIME``, ...) and is refused.
VRPLIB_KEYS = ("NAME", "COMMENT", "TYPE", "DIMENSION", "EDGE_WEIGHT_TYPE", "CAPACITY",
               "VEHICLES", "NODE_COORD_TYPE", "DISPLAY_DATA_TYPE")
#: Sections of a CVRP file this reader implements (display data is only for drawing).
VRPLIB_SECTIONS = ("NODE_COORD_SECTION", "DEMAND_SECTION", "DEPOT_SECTION",
                   "DISPLAY_DATA_SECTION")
#: Most locations (depots and clients) a benchmark file may hold: the readers build dense
#: n x n matrices (the largest published sets here, X and Homberger, have 1001).
MAX_LOCATIONS = 5000
SOLOMON_COLUMNS = ("customer", "x", "y", "demand", "ready time", "due date", "service time")
_SHOWN = 20  # characters of a bad token quoted in a message


def _euclid(xy: np.ndarray) -> np.ndarray:
    diff = xy[:, None, :] - xy[None, :, :]
    out: np.ndarray = np.sqrt((diff**2).sum(axis=2))
    return out


def _number(token: str, where: str, what: str, *, limit: float = MAX_MAGNITUDE,
            minimum: float | None = None, whole: bool = False) -> float:
    """``token`` as a finite number within ``limit`` (and ``minimum``, whole if asked)."""
    shown = token[:_SHOWN]
    try:
        value = float(token)
    except ValueError:
        raise InputError(f"{where}: {what} {shown!r} is not a number; fix the file.") from None
    if not math.isfinite(value) or abs(value) > limit:
        raise InputError(f"{where}: {what} {shown} is beyond {limit:g}, the largest this "
                         "reader takes; fix the file.")
    if whole and not whole_number(value):
        raise InputError(f"{where}: {what} {shown} is not a whole number; fix the file.")
    if minimum is not None and value < minimum:
        raise InputError(f"{where}: {what} {shown} must be at least {minimum:g}; fix the "
                         "file.")
    return value


def _whole(token: str, where: str, what: str, minimum: float | None = None) -> int:
    return int(_number(token, where, what, minimum=minimum, whole=True))


def _positive(token: str, where: str, what: str) -> float:
    # a best-known cost of 0 would make every gap a division by zero
    value = _number(token, where, what, minimum=0)
    if value == 0:
        raise InputError(f"{where}: {what} 0 must be above 0; fix the file.")
    return value


def _check_size(path: Path, locations: int, what: str) -> None:
    if locations > MAX_LOCATIONS:
        raise InputError(f"{path}: {what} {locations} locations (depots and clients); this reader "
                         f"takes at most {MAX_LOCATIONS}, as it builds dense distance "
                         "matrices.")


def _fleet(count: int, n_clients: int) -> int:
    # more vehicles than clients never changes a solution; engines allocate per vehicle
    return min(count, max(n_clients, 1))


def _node_rows(path: Path, rows: list[tuple[int, list[str]]], section: str,
               columns: tuple[str, ...]) -> dict[int, tuple[str, list[str]]]:
    """A VRPLIB section's rows by node id (each node once), with the place of each row."""
    out: dict[int, tuple[str, list[str]]] = {}
    first: dict[int, int] = {}
    for n, row in rows:
        where = f"{path} line {n}"
        if len(row) != len(columns):
            raise InputError(f"{where}: a {section} line holds {len(columns)} numbers "
                             f"({', '.join(columns)}), found {len(row)}; fix the line.")
        i = _whole(row[0], where, "node", 1)
        if i in first:
            raise InputError(f"{where}: node {i} is listed a second time in {section} (first on "
                             f"line {first[i]}); give each node once.")
        first[i] = n
        out[i] = (where, row)
    return out


def read_vrplib(path: str | Path) -> RoutingProblem:
    """Read a CVRPLIB/VRPLIB CVRP instance with ``EUC_2D`` distances (nint-rounded).

    Parameters
    ----------
    path
        The ``.vrp`` file.

    Returns
    -------
    RoutingProblem
        One vehicle type per depot (weight capacity only), scale 1; ``VEHICLES`` (one per
        client without it, and at most that) vehicles each.

    Raises
    ------
    InputError
        For an unsupported edge-weight type, header key or section, or a malformed file.
    """
    path = Path(path)
    header: dict[str, tuple[int, str]] = {}
    sections: dict[str, list[tuple[int, list[str]]]] = {}
    current: str | None = None
    for n, raw in enumerate(read_published_text(path).splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.upper() == "EOF":
            break
        first = line.split()[0].rstrip(":").upper()
        if first.endswith("_SECTION"):
            if first not in VRPLIB_SECTIONS:
                raise InputError(
                    f"{path} line {n}: {first[:40]} is not supported; this reader takes CVRP "
                    "files with NODE_COORD_SECTION, DEMAND_SECTION and DEPOT_SECTION.")
            if first in sections:
                raise InputError(f"{path} line {n}: {first} appears a second time; give each "
                                 "section once.")
            current = first
            sections[current] = []
        elif current is None:
            key, colon, value = line.partition(":")
            key = key.strip().upper()
            if not colon:
                raise InputError(f"{path} line {n}: is neither 'KEY : value' nor a section "
                                 "name; fix the header (or pass the right --input-format).")
            if key not in VRPLIB_KEYS:
                raise InputError(f"{path} line {n}: header key {key[:40]} is not supported; "
                                 f"this reader takes CVRP files ({', '.join(VRPLIB_KEYS[:7])}).")
            if key in header:
                raise InputError(f"{path} line {n}: {key} is given a second time (first on line "
                                 f"{header[key][0]}); keep one.")
            header[key] = (n, value.strip().strip('"').strip())
        else:
            sections[current].append((n, line.split()))
    if "EDGE_WEIGHT_TYPE" not in header:
        raise InputError(
            f"{path}: has no EDGE_WEIGHT_TYPE line; a VRPLIB file gives "
            "'EDGE_WEIGHT_TYPE : EUC_2D' in its header (or pass the right --input-format)."
        )
    if header["EDGE_WEIGHT_TYPE"][1].upper() != "EUC_2D":
        raise InputError(
            f"{path}: only EDGE_WEIGHT_TYPE EUC_2D is supported, got "
            f"{header['EDGE_WEIGHT_TYPE'][1][:_SHOWN]!r}."
        )
    if "TYPE" in header and header["TYPE"][1].upper() != "CVRP":
        raise InputError(f"{path}: TYPE {header['TYPE'][1][:_SHOWN]!r} is not supported; this "
                         "reader takes CVRP files.")
    for key in ("DIMENSION", "CAPACITY"):
        if key not in header:
            raise InputError(f"{path}: has no {key} line; a CVRP file gives '{key} : n' in its "
                             "header.")
    for section in VRPLIB_SECTIONS[:3]:
        if section not in sections:
            raise InputError(f"{path}: has no {section}; a CVRP file gives NODE_COORD_SECTION, "
                             "DEMAND_SECTION and DEPOT_SECTION (is it cut short?).")

    def head(key: str, minimum: float) -> int:
        line_no, value = header[key]
        return _whole(value, f"{path} line {line_no}", key, minimum)

    dimension = head("DIMENSION", 2)
    _check_size(path, dimension, "DIMENSION gives")
    capacity = head("CAPACITY", 1)
    coords = {i: (_number(row[1], where, "x"), _number(row[2], where, "y"))
              for i, (where, row) in _node_rows(path, sections["NODE_COORD_SECTION"],
                                                "NODE_COORD_SECTION", ("node", "x", "y")).items()}
    if len(coords) != dimension:
        raise InputError(f"{path}: DIMENSION is {dimension} but NODE_COORD_SECTION lists "
                         f"{len(coords)} nodes; the file is cut short or DIMENSION is wrong.")
    demand: dict[int, int] = {}
    for i, (where, row) in _node_rows(path, sections["DEMAND_SECTION"], "DEMAND_SECTION",
                                      ("node", "demand")).items():
        if i not in coords:
            raise InputError(f"{where}: node {i} has a demand but no line in "
                             "NODE_COORD_SECTION; give its coordinates or remove the line.")
        demand[i] = _whole(row[1], where, "demand", 0)
    missing = [i for i in coords if i not in demand]
    if missing:
        shown = ", ".join(str(i) for i in missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise InputError(f"{path}: node {shown} has no line in DEMAND_SECTION; give every node "
                         "its demand (0 for a depot).")
    depot_ids: list[int] = []
    closed = False
    for n, row in sections["DEPOT_SECTION"]:
        where = f"{path} line {n}"
        if closed:
            raise InputError(f"{where}: follows the -1 that ends DEPOT_SECTION; remove it.")
        if len(row) != 1:
            raise InputError(f"{where}: a DEPOT_SECTION line holds one node, found {len(row)} "
                             "values; fix the line.")
        i = _whole(row[0], where, "depot", -1)
        if i == -1:
            closed = True
        elif i not in coords:
            raise InputError(f"{where}: depot {i} is not a node of NODE_COORD_SECTION; name one "
                             "of its nodes.")
        elif i in depot_ids:
            raise InputError(f"{where}: depot {i} is listed a second time; give each depot once.")
        elif demand[i] != 0:
            raise InputError(f"{where}: depot {i} has demand {demand[i]} in DEMAND_SECTION; a "
                             "depot's demand is 0.")
        else:
            depot_ids.append(i)
    if not closed:
        raise InputError(f"{path}: DEPOT_SECTION does not end with -1; the file looks cut "
                         "short.")
    if not depot_ids:
        raise InputError(f"{path}: DEPOT_SECTION names no depot before its -1; name the depot "
                         "node.")
    client_ids = [i for i in sorted(coords) if i not in depot_ids]
    if not client_ids:
        raise InputError(f"{path}: every node is a depot; a CVRP file has clients to serve.")
    count = len(client_ids)
    if "VEHICLES" in header:
        count = _fleet(head("VEHICLES", 1), len(client_ids))
    order = depot_ids + client_ids
    xy = np.array([coords[i] for i in order])
    # TSPLIB nint: floor(d + 0.5)
    matrix: IntMatrix = np.floor(_euclid(xy) + 0.5).astype(np.int64)
    name = header["NAME"][1] if "NAME" in header else path.stem
    b = RoutingProblemBuilder(Scaling(), name=name)
    for i in depot_ids:
        b.add_depot(str(i), x=coords[i][0], y=coords[i][1])
    _fits_one_vehicle(path, ((str(i), demand[i]) for i in client_ids), capacity)
    for i in client_ids:
        b.add_client(str(i), x=coords[i][0], y=coords[i][1], demand=(demand[i], 0))
    for d in range(len(depot_ids)):
        b.add_vehicle_type("vehicle", depot=d, count=count, capacity=(capacity, 0))
    b.set_int_distances(matrix)
    b.set_int_durations(matrix)
    return b.build()


def _fits_one_vehicle(path: str | Path, demands: Iterable[tuple[str, float]],
                      capacity: float) -> None:
    """Refuse a client whose demand no vehicle of the file can carry.

    Benchmark VRPs serve each client with one vehicle; such a client would otherwise be
    split into as many loads as its demand needs (10^8 for a demand of 10^9).
    """
    for name, demand in demands:
        if demand > capacity:
            raise InputError(f"{path}: client {name} has demand {demand:g}, above the vehicle "
                             f"capacity {capacity:g}; one vehicle serves each client of this "
                             "format, so lower the demand or raise the capacity.")


def read_solomon(path: str | Path) -> RoutingProblem:
    """Read a Solomon VRPTW instance (DIMACS convention: truncate to one decimal).

    A Solomon file declares no customer count, so a file cut short is recognised by its
    last line: a customer line with fewer than its 7 numbers, or a last line without a
    line break (cut inside a number).

    Parameters
    ----------
    path
        The Solomon ``.txt`` file.

    Returns
    -------
    RoutingProblem
        One depot (open until its due date), one vehicle type, scale 10 for distance and
        time; travel time equals distance.

    Raises
    ------
    InputError
        For a malformed or truncated file.
    """
    path = Path(path)
    text = read_published_text(path)
    lines = [(n, ln.split()) for n, ln in enumerate(text.splitlines(), start=1) if ln.strip()]
    if not lines:
        raise InputError(f"{path}: is empty; give a Solomon file (name, VEHICLE, CUSTOMER "
                         "table).")
    if not text.endswith(("\n", "\r")):
        raise InputError(f"{path}: its last line ({lines[-1][0]}) has no line break, so the "
                         "file may be cut inside it; if the file is complete, end it with a "
                         "newline.")
    keys = [t[0].upper() for _, t in lines]
    if "VEHICLE" not in keys or "CUSTOMER" not in keys:
        raise InputError(f"{path}: has no VEHICLE and CUSTOMER lines; a Solomon file gives "
                         "VEHICLE, NUMBER CAPACITY and their values, then the CUSTOMER table "
                         "(or pass the right --input-format).")
    v_at, c_at = keys.index("VEHICLE"), keys.index("CUSTOMER")

    def numeric(row: list[str]) -> bool:
        return bool(re.fullmatch(r"[-+]?[0-9.]+", row[0]))

    fleet = [(n, t) for n, t in lines[v_at + 1 : c_at] if numeric(t)]
    if len(fleet) != 1 or len(fleet[0][1]) != 2:
        raise InputError(f"{path}: expected one line with two numbers (NUMBER CAPACITY) between "
                         "VEHICLE and CUSTOMER; fix the file.")
    n, (num, cap) = fleet[0]
    count = _whole(num, f"{path} line {n}", "vehicle NUMBER", 1)
    capacity = _whole(cap, f"{path} line {n}", "vehicle CAPACITY", 1)
    table = lines[c_at + 1 :]
    while table and not numeric(table[0][1]):
        table = table[1:]  # the column header line(s)
    _check_size(path, len(table), "the CUSTOMER table has")
    limit = MAX_MAGNITUDE / SOLOMON_SCALE
    rows: list[list[float]] = []
    for k, (n, row) in enumerate(table):
        where = f"{path} line {n}"
        if len(row) != len(SOLOMON_COLUMNS):
            if k == len(table) - 1 and len(row) < len(SOLOMON_COLUMNS):
                raise InputError(f"{where}: stops after {len(row)} of the 7 columns "
                                 f"({', '.join(SOLOMON_COLUMNS)}); the file looks cut short.")
            raise InputError(f"{where}: holds {len(row)} values; a customer line holds 7 "
                             f"({', '.join(SOLOMON_COLUMNS)}).")
        cust = _whole(row[0], where, "customer", 0)
        if cust < k:
            raise InputError(f"{where}: customer {cust} is listed a second time; give each "
                             "customer once.")
        if cust != k:
            raise InputError(f"{where}: customer {cust} stands where customer {k} belongs; "
                             "Solomon files number customers 0 (the depot), 1, 2, ... in order.")
        x, y = (_number(t, where, w, limit=limit) for t, w in zip(row[1:3], "xy", strict=True))
        dem = _whole(row[3], where, "demand", 0)
        ready, due, service = (_number(t, where, w, limit=limit, minimum=0)
                               for t, w in zip(row[4:], SOLOMON_COLUMNS[4:], strict=True))
        if ready > due:
            raise InputError(f"{where}: ready time {row[4]} is after due date {row[5]}; fix the "
                             "time window.")
        if k == 0 and dem != 0:
            raise InputError(f"{where}: the depot (customer 0) has demand {dem}; its demand is "
                             "0.")
        rows.append([cust, x, y, dem, ready, due, service])
    if len(rows) < 2:
        raise InputError(f"{path}: the CUSTOMER table lists no customer after the depot "
                         "(customer 0); the file looks cut short.")
    data = np.array(rows)
    xy = data[:, 1:3]
    if np.all(xy == np.round(xy)):
        sq = ((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2).astype(np.int64)
        matrix = np.array([[math.isqrt(100 * int(v)) for v in row] for row in sq], dtype=np.int64)
    else:
        matrix = np.floor(_euclid(xy) * SOLOMON_SCALE + 1e-9).astype(np.int64)
    b = RoutingProblemBuilder(Scaling(distance=SOLOMON_SCALE, time=SOLOMON_SCALE),
                              name=lines[0][1][0])
    depot = data[0]
    _fits_one_vehicle(path, ((str(int(r[0])), r[3]) for r in data[1:]), capacity)
    b.add_depot(str(int(depot[0])), x=depot[1], y=depot[2], opens=depot[4], closes=depot[5])
    for r in data[1:]:
        b.add_client(
            str(int(r[0])),
            x=r[1],
            y=r[2],
            demand=(r[3], 0),
            tw_early=r[4],
            tw_late=r[5],
            service_time=r[6],
        )
    b.add_vehicle_type("vehicle", depot=0, count=_fleet(count, len(rows) - 1),
                       capacity=(capacity, 0))
    b.set_int_distances(matrix)
    b.set_int_durations(matrix)
    return b.build()


def read_cordeau(path: str | Path, scale: float = CORDEAU_SCALE) -> RoutingProblem:
    """Read a Cordeau MDVRP instance (type 2): unrounded Euclidean distances.

    The first line is ``type m n t`` (vehicles per depot, customers, depots); then ``t``
    lines ``D Q`` (route duration limit, capacity), ``n`` customer lines
    ``i x y d q ...`` and ``t`` depot lines ``i x y ...``; the file must hold exactly
    these lines.

    Parameters
    ----------
    path
        The instance file (e.g. ``p01``).
    scale
        Integer distance (and time) units per unit; default 10^4.

    Returns
    -------
    RoutingProblem
        One vehicle type per depot, returning to its own depot; the route duration
        limit ``D`` (if non-zero) becomes the shift length; travel time equals distance.

    Raises
    ------
    InputError
        For another problem type or a malformed file.
    """
    path = Path(path)
    lines = [(n, ln.split()) for n, ln in
             enumerate(read_published_text(path).splitlines(), start=1) if ln.strip()]
    if not lines or len(lines[0][1]) < 4:
        raise InputError(f"{path}: the first line must be 'type m n t' (problem type, vehicles "
                         "per depot, customers, depots); fix the header (or pass the right "
                         "--input-format).")
    where = f"{path} line {lines[0][0]}"
    kind = _whole(lines[0][1][0], where, "problem type")
    if kind != 2:
        raise InputError(f"{path}: problem type {kind} is not MDVRP (type 2).")
    m, n_cust, t = (_whole(tok, where, what, 1) for tok, what in
                    zip(lines[0][1][1:4], ("m (vehicles per depot)", "n (customers)",
                                           "t (depots)"), strict=True))
    _check_size(path, n_cust + t, "the header announces")
    need = 1 + t + n_cust + t
    if len(lines) != need:
        raise InputError(
            f"{path}: the header announces {n_cust} customers and {t} depots, so {need} lines "
            f"(header, {t} limits, {n_cust} customers, {t} depots), but the file has "
            f"{len(lines)}; it is cut short or the header is wrong.")
    limit = MAX_MAGNITUDE / scale
    limits: list[tuple[float, int]] = []
    for n, row in lines[1 : 1 + t]:
        where = f"{path} line {n}"
        if len(row) < 2:
            raise InputError(f"{where}: a depot limits line holds 'D Q' (route duration, "
                             "capacity); fix the line.")
        limits.append((_number(row[0], where, "duration D", limit=limit, minimum=0),
                       _whole(row[1], where, "capacity Q", 1)))
    b = RoutingProblemBuilder(Scaling(distance=scale, time=scale), name=path.stem)
    seen: dict[int, int] = {}

    def node(n: int, row: list[str], fields: int, what: str) -> tuple[str, float, float]:
        where = f"{path} line {n}"
        if len(row) < fields:
            raise InputError(f"{where}: a {what} line holds at least {fields} values, found "
                             f"{len(row)}; the file looks cut short or damaged.")
        i = _whole(row[0], where, f"{what} id", 0)
        if i in seen:
            raise InputError(f"{where}: id {i} is used a second time (first on line {seen[i]}); "
                             "give each customer and depot its own id.")
        seen[i] = n
        return str(i), _number(row[1], where, "x", limit=limit), _number(row[2], where, "y",
                                                                          limit=limit)

    customers = []
    for n, row in lines[1 + t : 1 + t + n_cust]:
        where = f"{path} line {n}"
        c_name, x, y = node(n, row, 5, "customer")
        customers.append((c_name, x, y,
                          _number(row[3], where, "service duration", limit=limit, minimum=0),
                          _whole(row[4], where, "demand", 0)))
    depots = [node(n, row, 3, "depot") for n, row in lines[1 + t + n_cust :]]
    _fits_one_vehicle(path, ((c[0], c[4]) for c in customers),
                      max(capacity for _, capacity in limits))
    for d_name, x, y in depots:
        b.add_depot(d_name, x=x, y=y)
    for c_name, x, y, service, dem in customers:
        b.add_client(c_name, x=x, y=y, service_time=service, demand=(dem, 0))
    for d, (duration, capacity) in enumerate(limits):
        b.add_vehicle_type(
            f"vehicle@{depots[d][0]}",
            depot=d,
            count=_fleet(m, n_cust),
            capacity=(capacity, 0),
            max_duration=duration if duration > 0 else None,
        )
    return b.build()


@dataclass(frozen=True)
class SolutionFile:
    """A ``.sol`` file: routes as lists of client ids (file numbering) and the cost."""

    routes: tuple[tuple[int, ...], ...]
    cost: float


def read_solution(path: str | Path) -> SolutionFile:
    """Read a CVRPLIB-style ``.sol`` file.

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    SolutionFile
        Routes and cost.

    Raises
    ------
    InputError
        If a route names something other than client numbers, or the cost is missing or
        not a finite number >= 0.
    """
    path = Path(path)
    routes: list[tuple[int, ...]] = []
    cost: float | None = None
    for n, line in enumerate(read_published_text(path).splitlines(), start=1):
        if m := re.match(r"\s*Route\s*#\s*\d+\s*:(.*)", line, re.IGNORECASE):
            stops = m.group(1).split()
            bad = next((s for s in stops if not re.fullmatch(r"[0-9]+", s)), None)
            if bad is not None:
                raise InputError(f"{path} line {n}: route stop {bad[:_SHOWN]!r} is not a client "
                                 "number.")
            routes.append(tuple(int(s) for s in stops))
        elif m := re.match(r"\s*Cost\s*:?\s*(\S*)", line, re.IGNORECASE):
            cost = _positive(m.group(1), f"{path} line {n}", "cost")
    if cost is None:
        raise InputError(f"{path}: has no 'Cost' line; a .sol file ends with 'Cost <value>'.")
    return SolutionFile(tuple(routes), cost)


@dataclass(frozen=True)
class BKSEntry:
    """One row of ``BKS.csv``; counts are ``None`` where the table leaves them out."""

    instance: str
    kind: str
    file: str
    n_customers: int | None
    n_depots: int | None
    bks: float
    bks_routes: int | None
    distance_convention: str


#: Columns a ``BKS.csv`` must have; the others are optional.
BKS_COLUMNS = ("instance", "bks")


def read_bks(path: str | Path) -> dict[str, BKSEntry]:
    """Read ``BKS.csv`` into a dict keyed by instance name.

    Columns ``instance`` and ``bks`` are required; ``kind``, ``file``, ``n_customers``,
    ``n_depots``, ``bks_routes`` and ``distance_convention`` are read when present.

    Parameters
    ----------
    path
        The CSV file.

    Returns
    -------
    dict
        Instance name -> entry.

    Raises
    ------
    InputError
        For another layout (a required column missing), an instance listed twice, or a
        value that is not a number where one is needed.
    """
    path = Path(path)
    reader = csv.DictReader(io.StringIO(read_published_text(path), newline=""))
    try:
        columns = [c.strip() for c in reader.fieldnames or []]
        missing = [c for c in BKS_COLUMNS if c not in columns]
        if missing:
            raise InputError(f"{path}: has no column {', '.join(missing)}; a BKS.csv has "
                             "instance and bks columns (and optionally kind, file, n_customers, "
                             "n_depots, bks_routes, distance_convention).")
        out: dict[str, BKSEntry] = {}
        for raw in reader:
            row = {str(k).strip(): (v or "").strip() for k, v in raw.items()
                   if isinstance(v, str)}
            where = f"{path} line {reader.line_num}"

            def count(key: str, row: dict[str, str] = row, where: str = where) -> int | None:
                return _whole(row[key], where, key, 0) if row.get(key) else None

            name = row.get("instance", "")
            if not name:
                raise InputError(f"{where}: has no instance name; fill the instance column.")
            if name in out:
                raise InputError(f"{where}: instance {name[:40]!r} is listed a second time; "
                                 "keep one line per instance.")
            out[name] = BKSEntry(
                instance=name,
                kind=row.get("kind", ""),
                file=row.get("file", ""),
                n_customers=count("n_customers"),
                n_depots=count("n_depots"),
                bks=_positive(row.get("bks", ""), where, "bks"),
                bks_routes=count("bks_routes"),
                distance_convention=row.get("distance_convention", ""),
            )
    except csv.Error as err:
        raise InputError(f"{path}: is not valid CSV ({err}); fix the quoting.") from None
    return out
