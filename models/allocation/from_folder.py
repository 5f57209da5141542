"""Read an allocation back from the folder ``reserve-opt allocate --out`` wrote.

``solution.json`` carries the flows, levels, response and explanations; the period-by-period
fill table and the settlement ledger are in ``fill.csv`` and ``settlement.csv`` beside it.
What is read is checked for shape only; whether it is a right allocation is the checker's
question (:func:`~reserve_opt.models.allocation.check_allocation`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import pandas as pd

from reserve_opt.errors import InputError
from reserve_opt.io.records import record
from reserve_opt.solvers import SolveStatus

from .options import AllocationOptions
from .result import (
    EXPLANATION_COLUMNS,
    FILL_COLUMNS,
    FLOW_COLUMNS,
    RESPONSE_COLUMNS,
    SETTLEMENT_COLUMNS,
    AllocationResult,
    LevelValue,
)

__all__ = ["read_allocation"]

_FIX = "give the folder that 'reserve-opt allocate --out DIR' wrote."


def _table(doc: dict[str, Any], key: str, columns: list[str], where: str) -> pd.DataFrame:
    rows = doc.get(key)
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise InputError(f"{where} has no '{key}' list of rows; {_FIX}")
    for i, row in enumerate(rows, start=1):
        if set(row) != set(columns):
            lacking = sorted(set(columns) - set(row))
            raise InputError(f"{where}: {key} row {i} has not the columns "
                             f"{'lacks ' + ', '.join(lacking) if lacking else 'written'}; "
                             f"{_FIX}")
    # null stands for an infinite time (never arrives) in strict JSON
    frame = pd.DataFrame(rows, columns=columns)
    for col in ("first_arrival_h", "fastest_possible_h"):
        if col in frame:
            frame[col] = frame[col].astype(float).fillna(math.inf)
    return frame


def _csv(folder: Path, name: str, columns: list[str]) -> pd.DataFrame:
    path = folder / f"{name}.csv"
    if not path.is_file():
        raise InputError(f"{folder}: has no {name}.csv; {_FIX}")
    try:
        frame = pd.read_csv(path, encoding="utf-8-sig", keep_default_na=False,
                            na_values={c: [""] for c in columns if c != "reference"})
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as err:
        raise InputError(f"{path}: cannot be read as CSV ({err}); {_FIX}") from None
    if list(frame.columns) != columns:
        raise InputError(f"{path}: has columns {', '.join(map(str, frame.columns))}; "
                         f"expected {', '.join(columns)}; {_FIX}")
    return frame


def read_allocation(path: str | Path) -> AllocationResult:
    """Rebuild an :class:`AllocationResult` from an allocation's output folder.

    Parameters
    ----------
    path
        The folder ``reserve-opt allocate --out`` wrote (``solution.json``, ``fill.csv``,
        ``settlement.csv``), or its ``solution.json``.

    Returns
    -------
    AllocationResult

    Raises
    ------
    InputError
        Naming the file and the first field, row or column that is missing or not as
        written.
    """
    p = Path(path)
    folder = p if p.is_dir() else p.parent
    sol = folder / "solution.json"
    if not sol.is_file():
        raise InputError(f"{folder}: has no solution.json; {_FIX}")
    try:
        doc: Any = json.loads(sol.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InputError(f"{sol}: not JSON ({err}); {_FIX}") from None
    where = str(sol)
    if not isinstance(doc, dict) or not isinstance(doc.get("event"), str):
        raise InputError(f"{where} names no event: it is not an allocation; {_FIX}")
    try:
        status = SolveStatus(str(doc.get("status")))
    except ValueError:
        raise InputError(f"{where} has status {doc.get('status')!r}; {_FIX}") from None
    opts = doc.get("options")
    try:
        options = AllocationOptions(**opts) if isinstance(opts, dict) else None
    except (InputError, TypeError) as err:
        raise InputError(f"{where}: options: {err}; {_FIX}") from None
    if options is None:
        raise InputError(f"{where} has no 'options' object; {_FIX}")
    levels = doc.get("levels")
    if not isinstance(levels, list):
        raise InputError(f"{where} has no 'levels' list; {_FIX}")
    head = record(_Head, {f.name: doc.get(f.name) for f in fields(_Head)}, where, _FIX)
    return AllocationResult(
        status=status, event=doc["event"], options=options, solver=head.solver,
        currency=head.currency, gap=head.gap, solve_seconds=head.solve_seconds,
        min_fill_rate=head.min_fill_rate, message=head.message, sharing=head.sharing,
        levels=tuple(record(LevelValue, lv, f"{where}: level {i}", _FIX)
                     for i, lv in enumerate(levels, start=1)),
        flows=_table(doc, "flows", FLOW_COLUMNS, where),
        response=_table(doc, "response", RESPONSE_COLUMNS, where),
        explanations=_table(doc, "explanations", EXPLANATION_COLUMNS, where),
        fill=_csv(folder, "fill", FILL_COLUMNS),
        settlement=_csv(folder, "settlement", SETTLEMENT_COLUMNS),
    )


@dataclass(frozen=True, slots=True)
class _Head:
    """The scalar fields of an allocation's ``solution.json``, checked by ``record``."""

    solver: str
    currency: str
    gap: float | None
    solve_seconds: float
    min_fill_rate: float | None
    message: str
    sharing: str
