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
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reserve_opt.errors import InputError

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


def _euclid(xy: np.ndarray) -> np.ndarray:
    diff = xy[:, None, :] - xy[None, :, :]
    out: np.ndarray = np.sqrt((diff**2).sum(axis=2))
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
        One depot, one vehicle type (weight capacity only), scale 1.

    Raises
    ------
    InputError
        For an unsupported edge-weight type or a malformed file.
    """
    path = Path(path)
    header: dict[str, str] = {}
    sections: dict[str, list[list[str]]] = {}
    current: str | None = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line == "EOF":
            continue
        if line.endswith("_SECTION"):
            current = line
            sections[current] = []
        elif ":" in line and current is None:
            key, value = line.split(":", 1)
            header[key.strip().upper()] = value.strip().strip('"')
        elif current is not None:
            sections[current].append(line.split())
    if "EDGE_WEIGHT_TYPE" not in header:
        raise InputError(
            f"{path}: has no EDGE_WEIGHT_TYPE line; a VRPLIB file gives "
            "'EDGE_WEIGHT_TYPE : EUC_2D' in its header (or pass the right --input-format)."
        )
    if header["EDGE_WEIGHT_TYPE"] != "EUC_2D":
        raise InputError(
            f"{path}: only EDGE_WEIGHT_TYPE EUC_2D is supported, got "
            f"{header.get('EDGE_WEIGHT_TYPE')!r}."
        )
    try:
        coords = {int(r[0]): (float(r[1]), float(r[2])) for r in sections["NODE_COORD_SECTION"]}
        demand = {int(r[0]): int(r[1]) for r in sections["DEMAND_SECTION"]}
        depot_ids = [int(r[0]) for r in sections["DEPOT_SECTION"] if int(r[0]) != -1]
        capacity = int(header["CAPACITY"])
    except (KeyError, ValueError, IndexError) as exc:
        raise InputError(f"{path}: malformed VRPLIB file ({exc}).") from exc
    client_ids = [i for i in sorted(coords) if i not in depot_ids]
    order = depot_ids + client_ids
    xy = np.array([coords[i] for i in order])
    # TSPLIB nint: floor(d + 0.5)
    matrix: IntMatrix = np.floor(_euclid(xy) + 0.5).astype(np.int64)
    b = RoutingProblemBuilder(Scaling(), name=header.get("NAME", path.stem))
    for i in depot_ids:
        b.add_depot(str(i), x=coords[i][0], y=coords[i][1])
    for i in client_ids:
        b.add_client(str(i), x=coords[i][0], y=coords[i][1], demand=(demand[i], 0))
    count = int(header.get("VEHICLES", len(client_ids)))
    for d in range(len(depot_ids)):
        b.add_vehicle_type("vehicle", depot=d, count=count, capacity=(capacity, 0))
    b.set_int_distances(matrix)
    b.set_int_durations(matrix)
    return b.build()


def read_solomon(path: str | Path) -> RoutingProblem:
    """Read a Solomon VRPTW instance (DIMACS convention: truncate to one decimal).

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
        For a malformed file.
    """
    path = Path(path)
    lines = [ln.split() for ln in path.read_text().splitlines()]
    try:
        v_at = next(n for n, ln in enumerate(lines) if ln and ln[0].upper() == "VEHICLE")
        count, capacity = (int(x) for x in lines[v_at + 2][:2])
        rows = [ln for ln in lines[v_at + 3 :] if len(ln) == 7 and ln[0].isdigit()]
        data = np.array([[float(x) for x in r] for r in rows])
    except (StopIteration, ValueError, IndexError) as exc:
        raise InputError(f"{path}: malformed Solomon file ({exc}).") from exc
    if data.size == 0 or int(data[0, 0]) != 0:
        raise InputError(f"{path}: expected customer 0 (the depot) first.")
    xy = data[:, 1:3]
    if np.all(xy == np.round(xy)):
        sq = ((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2).astype(np.int64)
        matrix = np.array([[math.isqrt(100 * int(v)) for v in row] for row in sq], dtype=np.int64)
    else:
        matrix = np.floor(_euclid(xy) * 10 + 1e-9).astype(np.int64)
    b = RoutingProblemBuilder(Scaling(distance=10, time=10), name=lines[0][0] if lines[0] else "")
    depot = data[0]
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
    b.add_vehicle_type("vehicle", depot=0, count=count, capacity=(capacity, 0))
    b.set_int_distances(matrix)
    b.set_int_durations(matrix)
    return b.build()


def read_cordeau(path: str | Path, scale: float = CORDEAU_SCALE) -> RoutingProblem:
    """Read a Cordeau MDVRP instance (type 2): unrounded Euclidean distances.

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
    lines = [ln.split() for ln in path.read_text().splitlines() if ln.strip()]
    try:
        kind, m, n, t = (int(x) for x in lines[0][:4])
        limits = [(float(ln[0]), float(ln[1])) for ln in lines[1 : 1 + t]]
        customers = lines[1 + t : 1 + t + n]
        depots = lines[1 + t + n : 1 + t + n + t]
        if kind != 2:
            raise InputError(f"{path}: problem type {kind} is not MDVRP (type 2).")
        if len(depots) != t:
            raise ValueError("fewer depot lines than announced")
        b = RoutingProblemBuilder(Scaling(distance=scale, time=scale), name=path.stem)
        for d_row in depots:
            b.add_depot(d_row[0], x=float(d_row[1]), y=float(d_row[2]))
        for c in customers:
            b.add_client(
                c[0],
                x=float(c[1]),
                y=float(c[2]),
                service_time=float(c[3]),
                demand=(float(c[4]), 0),
            )
        for d, (duration, capacity) in enumerate(limits):
            b.add_vehicle_type(
                f"vehicle@{depots[d][0]}",
                depot=d,
                count=m,
                capacity=(capacity, 0),
                max_duration=duration if duration > 0 else None,
            )
    except (ValueError, IndexError) as exc:
        raise InputError(f"{path}: malformed Cordeau file ({exc}).") from exc
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
    """
    routes: list[tuple[int, ...]] = []
    cost = math.nan
    for line in Path(path).read_text().splitlines():
        if m := re.match(r"\s*Route\s*#\d+\s*:(.*)", line, re.IGNORECASE):
            routes.append(tuple(int(x) for x in m.group(1).split()))
        elif m := re.match(r"\s*Cost\s+([-+0-9.eE]+)", line, re.IGNORECASE):
            cost = float(m.group(1))
    return SolutionFile(tuple(routes), cost)


@dataclass(frozen=True)
class BKSEntry:
    """One row of ``BKS.csv``."""

    instance: str
    kind: str
    file: str
    n_customers: int
    n_depots: int
    bks: float
    bks_routes: int | None
    distance_convention: str


def read_bks(path: str | Path) -> dict[str, BKSEntry]:
    """Read ``BKS.csv`` into a dict keyed by instance name.

    Parameters
    ----------
    path
        The CSV file.

    Returns
    -------
    dict
        Instance name -> entry.
    """
    out: dict[str, BKSEntry] = {}
    with Path(path).open(newline="") as fh:
        for row in csv.DictReader(fh):
            out[row["instance"]] = BKSEntry(
                instance=row["instance"],
                kind=row["kind"],
                file=row["file"],
                n_customers=int(row["n_customers"]),
                n_depots=int(row["n_depots"]),
                bks=float(row["bks"]),
                bks_routes=int(row["bks_routes"]) if row.get("bks_routes") else None,
                distance_convention=row.get("distance_convention", ""),
            )
    return out
