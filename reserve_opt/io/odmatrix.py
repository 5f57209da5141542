"""Origin-destination matrices: the wide form of the travel table, as a GIS exports it.

A matrix holds one quantity, named by its manifest key under ``[tables]``::

    [tables]
    travel_distance_km = "od_km.csv"         # normal conditions
    travel_time_h = "od_hours.csv"
    "travel_time_h:typhoon" = "od_hours_typhoon.csv"   # after scenario typhoon's damage

The first column holds the origin ids (its header is free, e.g. ``from``), the header row the
destination ids, each cell the value from its row's origin to its column's destination; an
empty cell is no entry (partial matrices are allowed), and an empty or zero cell on the
diagonal (a place to itself) is skipped. Each matrix is read here, cell by cell as text or
Parquet scalars, into a long table of its non-empty cells whose rows are named by origin and
destination (``od_hours.csv row 'W_north' column 'dalian'``); validation checks the cells
with the long table's rules and merges the matrices into the one travel table
(:mod:`reserve_opt.validation.wide`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reserve_opt.errors import InputError, shown
from reserve_opt.io.paths import confined_path
from reserve_opt.io.raw import RawInstance, RawTable

QUANTITIES = {"travel_distance_km": "distance_km", "travel_time_h": "time_h"}
"""Manifest keys of the matrices and the travel column each fills."""


def matrix_key(key: str) -> tuple[str, str | None] | None:
    """``(column, scenario)`` for a ``[tables]`` key naming a matrix, else ``None``.

    ``travel_time_h`` -> ``("time_h", None)``; ``travel_time_h:typhoon`` ->
    ``("time_h", "typhoon")``; an empty scenario after the colon is ``("time_h", "")``.
    """
    base, colon, scenario = key.partition(":")
    if base not in QUANTITIES:
        return None
    return QUANTITIES[base], (scenario.strip() if colon else None)


def read_matrices(folder: Path, manifest: dict[str, Any], raw: RawInstance) -> None:
    """Read the matrices named under ``[tables]`` into ``raw.travel_matrices``.

    A long travel table and matrices in one instance are refused in one line (one form
    gives the travel); problems are appended to ``raw.problems``.
    """
    named = manifest.get("tables", {})
    if not isinstance(named, dict):
        return
    found = [(k, v) for k, v in named.items()
             if isinstance(k, str) and isinstance(v, str) and matrix_key(k) is not None]
    if not found:
        return
    where = raw.manifest_source
    if "travel" in raw.tables or "travel" in raw.unreadable:
        raw.problems.append(
            f"{where}: [tables] {found[0][0]} names an origin-destination matrix and "
            f"{raw.tables['travel'].source if 'travel' in raw.tables else 'a travel table'} "
            f"gives travel too; keep one form (the long travel table or the matrices)")
        return
    tables: list[RawTable] = []
    unread = False
    for key, name in found:
        column, scenario = matrix_key(key) or ("", None)
        if scenario == "":
            raw.problems.append(f"{where}: [tables] '{shown(key)}' names no scenario after "
                                f"the ':'; write e.g. \"{key.partition(':')[0]}:typhoon\"")
            unread = True
            continue
        known = _scenario_ids(raw)
        if scenario is not None and known is not None and scenario not in known:
            raw.problems.append(
                f"{where}: [tables] {key} names scenario '{shown(scenario, 40)}', which is not "
                f"in {raw.tables['scenarios'].source}; use a scenario id from there")
            unread = True
            continue
        try:
            path = confined_path(folder, name, f"{where}: [tables] {key}")
        except InputError as err:
            raw.problems += err.problems
            unread = True
            continue
        if not path.is_file():
            raw.problems.append(f"{where}: [tables] {key} names {shown(name)}, which is not a "
                                f"file in the instance folder; fix the file name")
            unread = True
            continue
        table = _read_matrix(path, column, scenario, raw.problems)
        if table is None:
            unread = True
        else:
            tables.append(table)
    if not unread:  # merging what could be read would add misleading follow-up problems
        raw.travel_matrices += tables


def _scenario_ids(raw: RawInstance) -> set[str] | None:
    """The scenario ids as read; ``None`` without a scenarios table.

    So that a matrix key naming another scenario is said once, not once per cell.
    """
    table = raw.tables.get("scenarios")
    if table is None or table.frame is not None:
        return None
    return {r["id"].strip() for r in table.rows if isinstance(r.get("id"), str)}


def _read_matrix(path: Path, column: str, scenario: str | None,
                 problems: list[str]) -> RawTable | None:
    """One matrix file as a long table of its non-empty cells (raw values)."""
    grid = _parquet_grid(path, problems) if path.suffix.lower() == ".parquet" else \
        _csv_grid(path, problems)
    if grid is None:
        return None
    origins, destinations, cells, line = grid
    name = path.name
    for what, ids, place in (("destination", destinations, lambda i: f"column {i + 2}"),
                             ("origin", origins, line)):
        seen: dict[str, int] = {}
        for i, pid in enumerate(ids):
            if pid == "":
                problems.append(f"{name}: {place(i)} has no {what} id; give the id of a "
                                f"region or facility")
                return None
            if pid in seen:
                problems.append(f"{name}: {what} '{shown(pid, 40)}' heads both "
                                f"{place(seen[pid])} and {place(i)}; keep one")
                return None
            seen[pid] = i
    import numpy as np
    import pandas as pd

    from reserve_opt.validation.cells import is_empty

    grid_cells = np.empty((len(origins), len(destinations)), dtype=object)
    for i, row in enumerate(cells):
        grid_cells[i, :] = row
    keep = ~np.vectorize(is_empty, otypes=[bool])(grid_cells) if grid_cells.size else \
        np.zeros(grid_cells.shape, dtype=bool)
    at = {d: j for j, d in enumerate(destinations)}
    for i, o in enumerate(origins):  # a place to itself: nothing to say when 0 or empty
        if o in at and _is_zero(grid_cells[i, at[o]]):
            keep[i, at[o]] = False
    oi, di = np.nonzero(keep)
    frame = pd.DataFrame({
        "from": pd.Categorical.from_codes(oi.astype(np.int32), pd.Index(origins, dtype=object)),
        "to": pd.Categorical.from_codes(di.astype(np.int32),
                                        pd.Index(destinations, dtype=object)),
        column: pd.Series(grid_cells[oi, di], dtype=object),
        "scenario": pd.Categorical.from_codes(
            np.full(oi.size, -1 if scenario is None else 0, dtype=np.int32),
            pd.Index([] if scenario is None else [scenario], dtype=object))})
    return RawTable("travel", name, ["from", "to", column, "scenario"], [],
                    lambda k: f"{name} row '{shown(origins[oi[k]], 40)}' column "
                              f"'{shown(destinations[di[k]], 40)}'", frame=frame)


def _is_zero(value: Any) -> bool:
    try:
        return float(value) == 0.0
    except (TypeError, ValueError):
        return False


Grid = tuple[list[str], list[str], list[list[Any]], Callable[[int], str]]


def _csv_grid(path: Path, problems: list[str]) -> Grid | None:
    from reserve_opt.io.folder import _csv_text

    text = _csv_text(path)
    if isinstance(text, UnicodeDecodeError):
        problems.append(f"{path.name}: is neither UTF-8 nor Chinese GBK/GB18030 text; save it "
                        f"as \"CSV UTF-8\"")
        return None
    try:
        with io.StringIO(text, newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None or len(header) < 2:
                problems.append(f"{path.name}: has no header of destination ids; the first "
                                f"line holds a corner cell, then one destination id per column")
                return None
            origins: list[str] = []
            numbers: list[int] = []
            cells: list[list[Any]] = []
            for line in reader:
                if not line:
                    continue
                if len(line) != len(header):
                    problems.append(
                        f"{path.name} line {reader.line_num}: has {len(line)} cells, not the "
                        f"header's {len(header)}; give each origin one cell per destination "
                        f"(empty ones as ',')")
                    return None
                numbers.append(reader.line_num)
                origins.append(line[0].strip())
                cells.append(line[1:])
    except csv.Error as err:
        problems.append(f"{path.name}: is not valid CSV ({shown(err)}); fix the quoting")
        return None
    return origins, [h.strip() for h in header[1:]], cells, lambda i: f"line {numbers[i]}"


def _parquet_grid(path: Path, problems: list[str]) -> Grid | None:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as err:  # pyarrow raises many types for broken files
        problems.append(f"{path.name}: cannot be read as Parquet ({shown(err)}); re-export it")
        return None
    if table.num_columns < 2:
        problems.append(f"{path.name}: has no destination columns; the first column holds the "
                        f"origin ids, then one column per destination")
        return None
    first = ["" if o is None else o for o in table.column(0).to_pylist()]  # said by row
    if not all(isinstance(o, str) for o in first):
        problems.append(f"{path.name}: its first column '{shown(table.column_names[0], 40)}' "
                        f"is not text; it holds the origin ids")
        return None
    columns = [table.column(j).to_pylist() for j in range(1, table.num_columns)]
    cells = [list(r) for r in zip(*columns, strict=True)]
    return ([o.strip() for o in first], [c.strip() for c in table.column_names[1:]], cells,
            lambda i: f"row {i + 1}")
