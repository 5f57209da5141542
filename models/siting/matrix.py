"""A user's cost matrix as a CSV file: clients in rows, sites in columns.

Layout::

    client,demand,S1,S2,S3
    t1,120,0.0,4.5,7.25
    t2,80,3.0,0.0,2.5

The first column names the clients (each once); a column headed ``demand`` (optional)
gives each client's demand or weight (default 1); every other column is a site, its
header the site's name, its cells the distance or cost from the client to that site.
Cells are finite numbers from 0 to :data:`MAX_CELL`; an empty cell is refused (there is
no silent default for a missing distance).
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from reserve_opt.errors import InputError

#: Largest distance, cost or demand in a cell (money's plausible maximum).
MAX_CELL = 1e15
#: Largest file read, bytes (a 5000 x 5000 matrix of 20-character numbers is ~500 MB).
MAX_BYTES = 512 * 1024 * 1024
#: The optional column of client demand.
DEMAND_COLUMN = "demand"

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True, eq=False)
class MatrixInstance:
    """A cost matrix read from a CSV file.

    Parameters
    ----------
    name
        File stem.
    client_ids, site_ids
        Row and column names, in file order.
    distance
        ``(n_clients, n_sites)`` distances or costs.
    demand
        Client demand from the ``demand`` column, or ``None`` when the file has none.
    """

    name: str
    client_ids: tuple[str, ...]
    site_ids: tuple[str, ...]
    distance: FloatArray
    demand: FloatArray | None


def _number(text: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{where}: {text.strip()[:40]!r} is not a number; give a distance "
                         "or demand from 0 up.") from None
    if not math.isfinite(value) or not 0 <= value <= MAX_CELL:
        raise InputError(f"{where}: {text.strip()[:40]} is outside 0 to {MAX_CELL:g}; give "
                         "a finite number from 0 up.")
    return value


def read_cost_matrix(path: str | Path) -> MatrixInstance:
    """Read a clients x sites cost matrix (see the module's layout).

    Parameters
    ----------
    path
        The CSV file.

    Returns
    -------
    MatrixInstance

    Raises
    ------
    InputError
        Naming the file, line and column of what is wrong: not UTF-8, too large, no site
        column, a row of the wrong length, a client or site named twice, a cell that is
        not a number from 0 to :data:`MAX_CELL`.
    """
    path = Path(path)
    label = path.name
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise InputError(f"{label}: is {size:,} bytes, more than the {MAX_BYTES:,} a cost "
                         "matrix may hold; give fewer clients or sites.")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{label}: is not UTF-8 text; save the matrix as UTF-8 CSV.") from None
    rows = list(csv.reader(io.StringIO(text)))
    lines = [i + 1 for i, r in enumerate(rows) if any(c.strip() for c in r)]
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise InputError(f"{label}: is empty; give a header 'client,S1,S2,...' and a row per "
                         "client.")
    header = [h.strip() for h in rows[0]]
    demand_col = header.index(DEMAND_COLUMN) if DEMAND_COLUMN in header[1:] else None
    site_cols = [k for k in range(1, len(header)) if k != demand_col]
    if not site_cols or len(rows) < 2:
        raise InputError(f"{label}: needs a header with at least one site column and a row "
                         "per client; give 'client,S1,S2,...' then the rows.")
    seen: set[str] = set()
    for k in site_cols:
        if not header[k]:
            raise InputError(f"{label} line {lines[0]}: column {k + 1} has no site name; "
                             "name every column.")
        if header[k] in seen:
            raise InputError(f"{label} line {lines[0]}: site {header[k]!r} is named twice; "
                             "name each column once.")
        seen.add(header[k])
    clients: list[str] = []
    dist = np.empty((len(rows) - 1, len(site_cols)))
    demand = np.ones(len(rows) - 1)
    for r, (line, row) in enumerate(zip(lines[1:], rows[1:], strict=True)):
        if len(row) != len(header):
            raise InputError(f"{label} line {line}: has {len(row)} cells, the header "
                             f"{len(header)}; give one cell per column.")
        cid = row[0].strip()
        if not cid:
            raise InputError(f"{label} line {line}: the client has no name; name it in the "
                             "first column.")
        if cid in clients:
            raise InputError(f"{label} line {line}: client {cid!r} is named twice; give each "
                             "client one row.")
        clients.append(cid)
        for s, k in enumerate(site_cols):
            dist[r, s] = _number(row[k], f"{label} line {line}, column {header[k]!r}")
        if demand_col is not None:
            demand[r] = _number(row[demand_col], f"{label} line {line}, column 'demand'")
    return MatrixInstance(
        name=path.stem,
        client_ids=tuple(clients),
        site_ids=tuple(header[k] for k in site_cols),
        distance=dist,
        demand=demand if demand_col is not None else None,
    )
