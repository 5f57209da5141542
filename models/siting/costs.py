"""A user's own costs for siting: a long table, a wide matrix, or GeoDataFrames.

``reserve-opt site MODEL --costs FILE`` and the library read the same three inputs:

- a **long** table (CSV or Parquet) with columns ``client, site, cost`` and optionally
  ``weight`` (a client's demand; the same on each of its rows, default 1): one row per
  (client, site) pair, every pair given once (no silent default for a missing cost);
- a **wide** matrix (see :mod:`reserve_opt.models.siting.matrix`): a row per client, a
  column per site, an optional ``demand`` column; CSV, or Parquet whose first column
  names the clients;
- a **GeoDataFrame** of clients and one of sites, with a cost matrix (clients x sites) or
  without one (then geodesic km between their points), as spopt's ``from_cost_matrix``
  and ``from_geodataframe`` take them: :func:`from_geodataframes`.

Each gives a :class:`~reserve_opt.models.siting.matrix.MatrixInstance`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from reserve_opt.errors import InputError
from reserve_opt.models.siting.matrix import (
    DEMAND_COLUMN,
    MAX_BYTES,
    MAX_CELL,
    MatrixInstance,
    read_cost_matrix,
)
from reserve_opt.models.siting.matrix import _number as matrix_number  # one rule for cells

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["LONG_COLUMNS", "from_geodataframes", "read_costs"]

LONG_COLUMNS = ("client", "site", "cost")
"""Columns of a long cost table (``weight`` is optional)."""
WEIGHT_COLUMN = "weight"

FloatArray = npt.NDArray[np.float64]


def read_costs(path: str | Path) -> MatrixInstance:
    """Read a cost table: long (``client, site, cost[, weight]``) or a wide matrix.

    Parameters
    ----------
    path
        A ``.parquet`` file, or CSV text (any other name).

    Returns
    -------
    MatrixInstance
        Clients and sites in order of first appearance; ``demand`` from the ``weight``
        (long) or ``demand`` (wide) column, ``None`` without one.

    Raises
    ------
    InputError
        One sentence naming the file, line or row and what to fix.
    """
    path = Path(path)
    label = path.name
    if not path.is_file():
        raise InputError(f"--costs {path}: is not a file; give a CSV or Parquet cost table.")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise InputError(f"{label}: is {size:,} bytes, more than the {MAX_BYTES:,} a cost "
                         "table may hold; give fewer clients or sites.")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return _parquet(path)
    try:
        head = path.read_bytes().decode("utf-8-sig").splitlines()[:1]
    except UnicodeDecodeError:
        raise InputError(f"{label}: is not UTF-8 text; save the table as UTF-8 CSV.") from None
    header = [h.strip() for h in head[0].split(",")] if head else []
    if not set(LONG_COLUMNS) <= set(header):
        return read_cost_matrix(path)
    import csv

    with path.open(newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    header = [h.strip() for h in rows[0]]
    if len(set(header)) < len(header):
        dup = next(h for h in header if header.count(h) > 1)
        raise InputError(f"{label} line 1: column {dup!r} is named twice; name each column "
                         "once.")
    cells: dict[str, list[str]] = {h: [] for h in header}
    lines: list[int] = []
    for n, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise InputError(f"{label} line {n}: has {len(row)} cells, the header "
                             f"{len(header)}; give one cell per column.")
        for h, c in zip(header, row, strict=True):
            cells[h].append(c.strip())
        lines.append(n)
    return _long(label, cells, [f"{label} line {n}" for n in lines])


def _parquet(path: Path) -> MatrixInstance:
    import pandas as pd

    label = path.name
    try:
        df = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for a file that is not Parquet
        raise InputError(f"{label}: is not a readable Parquet file ({type(exc).__name__}); "
                         "give a Parquet table or a CSV.") from None
    names = [str(c) for c in df.columns]
    where = [f"{label} row {i + 1}" for i in range(len(df))]
    if set(LONG_COLUMNS) <= set(names):
        return _long(label, {str(c): ["" if v is None or (isinstance(v, float) and
                                                            math.isnan(v)) else str(v)
                                      for v in df[c].tolist()] for c in df.columns}, where)
    if len(names) < 2 or len(df) == 0:
        raise InputError(f"{label}: needs a client column, a column per site and a row per "
                         "client, or the columns client, site, cost; give one of these.")
    client = df.iloc[:, 0].astype(str).str.strip().tolist()
    demand_col = DEMAND_COLUMN if DEMAND_COLUMN in names[1:] else None
    sites = [c for c in names[1:] if c != demand_col]
    _unique(label, client, "client", where)
    dist = np.empty((len(df), len(sites)))
    for k, s in enumerate(sites):
        for i, v in enumerate(df[s].tolist()):
            dist[i, k] = _number(str(v), f"{where[i]}, column {s!r}")
    demand = None
    if demand_col is not None:
        demand = np.array([_number(str(v), f"{where[i]}, column 'demand'")
                           for i, v in enumerate(df[demand_col].tolist())])
    return MatrixInstance(path.stem, tuple(client), tuple(sites), dist, demand)


def _number(text: str, where: str) -> float:
    """A cell as a number (the matrix reader's rule), an empty one refused by name."""
    if not text:
        raise InputError(f"{where}: the cell is empty; give a number from 0 up (a missing "
                         "cost is never assumed).")
    return float(matrix_number(text, where))


def _unique(label: str, ids: list[str], what: str, where: list[str]) -> None:
    seen: set[str] = set()
    for i, x in enumerate(ids):
        if not x:
            raise InputError(f"{where[i]}: the {what} has no name; name it.")
        if x in seen:
            raise InputError(f"{where[i]}: {what} {x!r} is named twice; give each {what} one "
                             "row.")
        seen.add(x)


def _long(label: str, cells: dict[str, list[str]], where: list[str]) -> MatrixInstance:
    """A long table's columns (as text) into a matrix: every pair once, weights agreeing."""
    if not where:
        raise InputError(f"{label}: has no rows; give a row per client and site.")
    extra = [c for c in cells if c not in (*LONG_COLUMNS, WEIGHT_COLUMN)]
    if extra:
        raise InputError(f"{label}: column {extra[0]!r} is not known; a long cost table has "
                         "the columns client, site, cost and optionally weight.")
    clients = list(dict.fromkeys(cells["client"]))
    sites = list(dict.fromkeys(cells["site"]))
    ci = {c: i for i, c in enumerate(clients)}
    si = {s: j for j, s in enumerate(sites)}
    cost = np.full((len(clients), len(sites)), np.nan)
    weight = np.full(len(clients), np.nan) if WEIGHT_COLUMN in cells else None
    for r, at in enumerate(where):
        c, s = cells["client"][r], cells["site"][r]
        for name, value in (("client", c), ("site", s)):
            if not value:
                raise InputError(f"{at}: the {name} is empty; name the {name}.")
        i, j = ci[c], si[s]
        if not math.isnan(cost[i, j]):
            raise InputError(f"{at}: client {c!r} and site {s!r} are given twice; give "
                             "each pair one row.")
        cost[i, j] = _number(cells["cost"][r], f"{at}, column 'cost'")
        if weight is not None:
            w = _number(cells[WEIGHT_COLUMN][r], f"{at}, column 'weight'")
            if not math.isnan(weight[i]) and weight[i] != w:
                raise InputError(f"{at}: client {c!r} has weight {w:g} here and "
                                 f"{weight[i]:g} on an earlier row; give the client one "
                                 "weight.")
            weight[i] = w
    missing = np.argwhere(np.isnan(cost))
    if missing.size:
        i, j = (int(x) for x in missing[0])
        raise InputError(f"{label}: no cost from client {clients[i]!r} to site {sites[j]!r} "
                         f"({len(missing)} pairs missing); give a row for every client and "
                         "site (a missing cost is never assumed).")
    return MatrixInstance(Path(label).stem, tuple(clients), tuple(sites), cost, weight)


def from_geodataframes(clients: gpd.GeoDataFrame, sites: gpd.GeoDataFrame,
                       cost_matrix: Any = None, *, weight: str | None = None,
                       client_id: str | None = None,
                       site_id: str | None = None) -> MatrixInstance:
    """Clients and candidate sites as GeoDataFrames, with their costs (as spopt takes them).

    Parameters
    ----------
    clients, sites
        One row per client and per site, with point (or any) geometries and a CRS.
    cost_matrix
        ``(len(clients), len(sites))`` costs, finite and from 0; ``None`` measures the
        geodesic distance in km between the geometries' representative points (WGS84).
    weight
        Column of ``clients`` with each client's demand; ``None`` weighs every client 1.
    client_id, site_id
        Columns naming clients and sites; ``None`` takes the frames' index.

    Returns
    -------
    MatrixInstance
        Ready for :func:`~reserve_opt.models.siting.p_median` and the other models
        (``distance``, ``demand``).

    Raises
    ------
    InputError
        On a matrix of the wrong shape, a negative or non-finite cost or weight, a missing
        column or a frame without a CRS when distances are to be measured.
    """
    def ids(frame: gpd.GeoDataFrame, column: str | None, what: str) -> tuple[str, ...]:
        if column is not None and column not in frame.columns:
            raise InputError(f"{what}: no column {column!r}; name a column of the "
                             f"{what} frame.")
        out = tuple(str(x) for x in (frame.index if column is None else frame[column]))
        if len(set(out)) < len(out):
            raise InputError(f"{what}: ids are not unique; give each row its own id.")
        return out

    c_ids, s_ids = ids(clients, client_id, "clients"), ids(sites, site_id, "sites")
    if cost_matrix is None:
        from reserve_opt.geo import geodesic_matrix_km

        def lonlat(frame: gpd.GeoDataFrame, what: str) -> tuple[FloatArray, FloatArray]:
            if frame.crs is None:
                raise InputError(f"{what}: the frame has no CRS; set one (e.g. "
                                 "frame.set_crs('EPSG:4326')) so distances can be measured.")
            pts = frame.to_crs("EPSG:4326").geometry.representative_point()
            return np.asarray(pts.x, dtype=float), np.asarray(pts.y, dtype=float)

        (cx, cy), (sx, sy) = lonlat(clients, "clients"), lonlat(sites, "sites")
        cost = np.asarray(geodesic_matrix_km(cx, cy, sx, sy), dtype=float)
    else:
        cost = np.asarray(cost_matrix, dtype=float)
    if cost.shape != (len(c_ids), len(s_ids)):
        raise InputError(f"cost_matrix: has shape {cost.shape}, the clients and sites "
                         f"{(len(c_ids), len(s_ids))}; give one row per client and one "
                         "column per site.")
    bad = np.argwhere(~np.isfinite(cost) | (cost < 0) | (cost > MAX_CELL))
    if bad.size:
        i, j = (int(x) for x in bad[0])
        raise InputError(f"cost_matrix: the cost from client {c_ids[i]!r} to site "
                         f"{s_ids[j]!r} is {cost[i, j]:g}; give finite costs from 0 to "
                         f"{MAX_CELL:g}.")
    demand = None
    if weight is not None:
        if weight not in clients.columns:
            raise InputError(f"clients: no column {weight!r}; name the weight column of the "
                             "clients frame.")
        demand = np.asarray(clients[weight], dtype=float)
        if not np.all(np.isfinite(demand) & (demand >= 0)):
            k = int(np.flatnonzero(~(np.isfinite(demand) & (demand >= 0)))[0])
            raise InputError(f"clients: weight of {c_ids[k]!r} is {demand[k]:g}; give "
                             "finite weights from 0 up.")
    return MatrixInstance("geodataframes", c_ids, s_ids, cost, demand)
