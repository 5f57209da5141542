"""Parse and check single cells and whole tables against the format spec."""

from __future__ import annotations

import difflib
import json
import math
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from reserve_opt.errors import shown
from reserve_opt.io.raw import RawTable, Row
from reserve_opt.io.spec import Column, Table

_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}


class CellError(ValueError):
    """A cell that cannot be read; the message completes 'column <value> ...'."""


def is_empty(value: Any) -> bool:
    """Whether a cell holds nothing (empty string, None, NaN)."""
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, list | tuple):
        return len(value) == 0
    return False


def finite_number(value: Any) -> float | None:
    """``value`` as a float when it is a finite int or float (not a bool), else ``None``.

    Whole numbers too large for a float (a 400-digit integer) are ``None`` as well.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _unit_phrase(col: Column) -> str:
    if col.unit == "fraction":  # a share is written as a decimal, not as a percentage
        return " as a fraction (0.5 is half)"
    return f" in {col.unit}" if col.unit and col.unit != "rank" else ""


def parse_cell(col: Column, value: Any) -> Any:
    """Convert a non-empty raw cell to the column's Python type.

    Raises
    ------
    CellError
        With a message such as ``"population 'many' is not a number; give a
        value in persons"``.
    """
    shown = _shown(value)
    if col.dtype == "str":
        # ids and labels are text in every source: a JSON true or 7 is refused, not
        # turned into "True" or "7" (bool is an int, and 7 and "7" would differ elsewhere)
        if not isinstance(value, str):
            raise CellError(f"{col.name} {shown} is not text; write it as text (in quotes)")
        text = str(value).strip()
        if col.choices and text not in col.choices:
            raise CellError(
                f"{col.name} {shown} is not one of {', '.join(col.choices)}; use one of them"
            )
        return text
    if col.dtype == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise CellError(f"{col.name} {shown} is not true or false; write true or false")
    if col.dtype == "list":
        items = value.split("|") if isinstance(value, str) else value
        if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
            raise CellError(f"{col.name} {shown} is not a list of ids; separate ids with '|'")
        return tuple(i.strip() for i in items if i.strip())
    # numbers
    if isinstance(value, bool):
        raise CellError(f"{col.name} {shown} is not a number; give a value{_unit_phrase(col)}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise CellError(
            f"{col.name} {shown} is not a number; give a value{_unit_phrase(col)}"
        ) from None
    except OverflowError:  # a whole number beyond any float (JSON/YAML/TOML ints)
        limit = (f"a value of at most {_fmt(col.maximum)}{_bound_unit(col)}"
                 if col.maximum is not None else "a smaller value")
        raise CellError(f"{col.name} {shown} is too large; give {limit}") from None
    if not math.isfinite(number):
        raise CellError(f"{col.name} {shown} is not a finite number; give a value"
                        f"{_unit_phrase(col)}")
    if col.dtype == "int":
        if number != int(number):
            raise CellError(f"{col.name} {shown} is not a whole number; give a whole number")
        number = int(number)
    unit = _bound_unit(col)
    if col.exclusive_minimum and col.minimum is not None and number <= col.minimum:
        raise CellError(
            f"{col.name} {_fmt(number)} is not above {_fmt(col.minimum)}; "
            f"give a value above {_fmt(col.minimum)}{unit}"
        )
    if col.minimum is not None and number < col.minimum:
        raise CellError(
            f"{col.name} {_fmt(number)} is below {_fmt(col.minimum)}; "
            f"give a value of at least {_fmt(col.minimum)}{unit}"
        )
    if col.maximum is not None and number > col.maximum:
        raise CellError(
            f"{col.name} {_fmt(number)} is above {_fmt(col.maximum)}; "
            f"give a value of at most {_fmt(col.maximum)}{unit}"
        )
    return number


def _bound_unit(col: Column) -> str:
    """The unit after a bound in messages ("at most 90 degrees north"), if it reads well."""
    return f" {col.unit}" if col.unit and col.unit not in {"rank", "fraction",
                                                           "probability"} else ""


def _shown(value: Any) -> str:
    """A raw cell as messages show it: text quoted, JSON literals as JSON writes them."""
    if isinstance(value, str):
        text = repr(value)
    elif isinstance(value, bool) or value is None:
        text = json.dumps(value)
    else:
        text = str(value)
    return text if len(text) <= 40 else f"{text[:30]}... ({len(text)} characters)"


def _fmt(x: float) -> str:
    return f"{x:g}"


def row_label(table: RawTable, i: int, row: Row) -> str:
    """Phrase naming row ``i`` and, where it has one, its id."""
    where = table.locate(i)
    rid = row.get("id")
    if isinstance(rid, str) and rid.strip():
        return f"{where} (id '{shown(rid.strip(), 40)}')"
    return where


def _check_header(spec: Table, table: RawTable, problems: list[str]) -> None:
    present = set(table.columns)
    for name in table.columns:
        if name not in spec.by_name and name != "geometry":
            close = difflib.get_close_matches(name, list(spec.by_name), n=1)
            hint = f"did you mean '{close[0]}'?" if close else (
                f"known columns are {', '.join(spec.by_name)}")
            # shown(): the header of a file that is no table at all may be anything, long
            problems.append(f"{table.source}: column '{shown(name, 60)}' is not known; {hint}")
    for col in spec.columns:
        if col.required and col.name not in present:
            unit = f" ({col.unit})" if col.unit else ""
            problems.append(f"{table.source}: column '{col.name}' is missing; add it{unit}")


def check_table(spec: Table, table: RawTable, problems: list[str]) -> list[Row]:
    """Check one table's columns, cells and keys; return its rows parsed.

    Rows with a bad cell are still returned (the bad cell set to its default) so that
    cross-table checks can go on and report everything at once; the caller knows the
    instance is invalid from ``problems``.
    """
    _check_header(spec, table, problems)
    present = set(table.columns)
    parsed: list[Row] = []
    for i, raw in enumerate(table.rows):
        row: Row = {}
        for col in spec.columns:
            value = raw.get(col.name)
            if is_empty(value):
                if not col.nullable and col.name in present:
                    problems.append(empty_cell(row_label(table, i, raw), col))
                row[col.name] = col.default
                continue
            try:
                row[col.name] = parse_cell(col, value)
            except CellError as err:
                problems.append(f"{row_label(table, i, raw)}: {err}")
                row[col.name] = col.default
        parsed.append(row)
    _check_keys(spec, table, parsed, problems)
    return parsed


def _check_keys(spec: Table, table: RawTable, rows: list[Row], problems: list[str]) -> None:
    first: dict[tuple[Any, ...], int] = {}
    for i, row in enumerate(rows):
        key = tuple(row.get(k) for k in spec.key)
        if any(k is None for k in key):
            continue
        if key in first:
            problems.append(used_again(spec, table, i, first[key], key))
        else:
            first[key] = i


def empty_cell(where: str, col: Column) -> str:
    """The problem of an empty cell in a column that needs a value."""
    return f"{where}: {col.name} is empty; give a value{_unit_phrase(col)}"


def used_again(spec: Table, table: RawTable, i: int, first: int,
               key: tuple[Any, ...]) -> str:
    """The problem of row ``i`` repeating the key of row ``first`` (``None`` parts unsaid)."""
    said = ", ".join(f"{k} '{v}'" for k, v in zip(spec.key, key, strict=True)
                     if v is not None)
    return (f"{table.locate(i)}: {said} is used again (first at {table.locate(first)}); "
            f"give each {spec.entity} its own {' and '.join(spec.key)}")


def unknown_ref(column: str, value: str, known: set[str], what: str, fallback: str) -> str:
    """The problem of ``column`` naming an unknown id: the closest known one, else the fix."""
    close = difflib.get_close_matches(value, sorted(known), n=1)
    tail = f"did you mean '{close[0]}'?" if close else fallback
    return f"{column} '{value}' is not {what}; {tail}"


def check_refs(
    table: RawTable,
    rows: list[Row],
    column: str,
    known: set[str],
    what: str,
    problems: list[str],
    fallback: str,
) -> None:
    """Report every row whose ``column`` names an id not in ``known``.

    ``what`` completes "is not ..." and ``fallback`` is the fix offered when no known
    id is close to the wrong one.
    """
    for i, row in enumerate(rows):
        values = row.get(column)
        if values is None:
            continue
        for value in values if isinstance(values, tuple) else (values,):
            if value not in known:
                problems.append(f"{row_label(table, i, table.rows[i])}: "
                                f"{unknown_ref(column, value, known, what, fallback)}")


Columns = dict[str, Any]
"""A columnar table parsed: ``float`` columns as float64 arrays (NaN where empty), the others
(text) as :class:`pandas.Categorical` (integer codes into the distinct parsed values, -1
where empty)."""


def check_columns(spec: Table, table: RawTable, problems: list[str]) -> Columns:
    """Check a columnar table (:attr:`Table.columnar`) a column at a time; return it parsed.

    The same rules and messages as :func:`check_table`: each distinct text and each number
    that the array tests doubt is put through :func:`parse_cell`, and the messages are
    those of :func:`empty_cell` and :func:`used_again`; the work is array operations on
    integer codes, so that millions of rows stay quick. Problems are reported in row order
    within each column.
    """
    _check_header(spec, table, problems)
    frame = table.frame if table.frame is not None else pd.DataFrame(
        table.rows, columns=list(table.columns))
    n = len(frame)
    out: Columns = {}
    for col in spec.columns:
        found: list[tuple[int, str]] = []
        if col.name not in frame.columns:
            out[col.name] = (_categorical(np.full(n, -1 if col.default is None else 0),
                                          [] if col.default is None else [col.default])
                             if col.dtype != "float"
                             else np.full(n, np.nan if col.default is None else col.default))
            continue
        series = frame[col.name]
        values: Any
        if col.dtype == "float":
            values, empty = _float_column(col, series, found, table)
        else:  # text (and any int, bool or list column): each distinct cell parsed once
            values, empty = _distinct_column(col, series, found, table)
        if not col.nullable:
            found += [(int(i), empty_cell(table.locate(int(i)), col))
                      for i in np.flatnonzero(empty)]
        problems += [m for _, m in sorted(found, key=lambda x: x[0])]
        out[col.name] = values
    _check_column_keys(spec, table, out, problems)
    return out


def check_float_cells(col: Column, table: RawTable,
                      problems: list[str]) -> npt.NDArray[np.float64]:
    """Check ``table``'s number column ``col`` as :func:`check_columns` does.

    Returns the cells as float64, NaN where a cell is empty or refused.

    For a table whose one number column came from elsewhere (an origin-destination matrix's
    cells, :mod:`reserve_opt.validation.wide`): the same rules and messages, rows named by
    ``table.locate``.
    """
    found: list[tuple[int, str]] = []
    values, _ = _float_column(col, table.frame[col.name], found, table)
    problems += [m for _, m in sorted(found, key=lambda x: x[0])]
    if found:
        values[[i for i, _ in found]] = np.nan
    return values


def _categorical(codes: npt.NDArray[Any], categories: list[Any]) -> pd.Categorical:
    return pd.Categorical.from_codes(codes, pd.Index(categories, dtype=object))


def _distinct_column(col: Column, series: pd.Series, found: list[tuple[int, str]],
                     table: RawTable) -> tuple[pd.Categorical, npt.NDArray[np.bool_]]:
    # a few thousand distinct ids among millions of cells: check each once
    if isinstance(series.dtype, pd.CategoricalDtype):  # a Parquet file's dictionary
        codes = series.cat.codes.to_numpy()
        uniques: Any = series.cat.categories
    else:
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
    parsed: list[Any] = []
    for k, value in enumerate(uniques):
        if is_empty(value):
            parsed.append(None)
            continue
        try:
            parsed.append(parse_cell(col, value))
        except CellError as err:
            parsed.append(None)
            found += [(int(i), f"{table.locate(int(i))}: {err}")
                      for i in np.flatnonzero(codes == k)]
    blank = np.array([is_empty(value) for value in uniques] + [True], dtype=bool)
    # distinct cells may parse to one value (' a' and 'a'): code by the parsed values
    recode, values = pd.factorize(pd.Series([*parsed, None], dtype=object),
                                  use_na_sentinel=True)
    return _categorical(recode[codes], list(values)), blank[codes]


def _float_column(col: Column, series: pd.Series, found: list[tuple[int, str]],
                  table: RawTable) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(
            series.dtype):
        raw = series.to_numpy(dtype=np.float64, na_value=np.nan)
        empty = np.isnan(raw)
        suspect = np.zeros(raw.size, dtype=bool)
    else:
        text = series.astype(object)
        empty = text.map(is_empty).to_numpy(dtype=bool)
        raw = pd.to_numeric(text.where(~empty), errors="coerce").to_numpy(dtype=np.float64)
        # bools and whatever to_numeric could not read go through parse_cell
        suspect = ~empty & (np.isnan(raw) | text.map(lambda v: isinstance(v, bool)).to_numpy(
            dtype=bool))
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(raw)
        if col.minimum is not None:
            ok &= (raw > col.minimum) if col.exclusive_minimum else (raw >= col.minimum)
        if col.maximum is not None:
            ok &= raw <= col.maximum
    fill = np.nan if col.default is None else float(col.default)  # type: ignore[arg-type]
    values = np.where(empty, fill, raw)
    for i in np.flatnonzero(~empty & (~ok | suspect)):
        try:  # the one definition of a cell's rule and message
            values[i] = parse_cell(col, series.iloc[i])
        except CellError as err:
            found.append((int(i), f"{table.locate(int(i))}: {err}"))
            values[i] = fill
    return values.astype(np.float64, copy=False), empty


def _check_column_keys(spec: Table, table: RawTable, cols: Columns,
                       problems: list[str]) -> None:
    """Rows repeating another's key (an empty cell is a value here: a normal travel row)."""
    n = len(next(iter(cols.values()))) if cols else 0
    cats = {k: cols[k] if isinstance(cols[k], pd.Categorical) else pd.Categorical(cols[k])
            for k in spec.key}
    key = np.zeros(n, dtype=np.int64)
    size = 1
    for k in spec.key:
        width = len(cats[k].categories) + 1
        if size * width > 2**62:  # renumber the keys so far before they overflow
            _, key = np.unique(key, return_inverse=True)
            size = int(key.max()) + 1 if n else 1
        key = key * width + (np.asarray(cats[k].codes, dtype=np.int64) + 1)  # 0: empty
        size *= width
    if size <= 16 * n + 1024:
        # a key space about the size of the table: no repeat when n distinct keys are seen
        seen = np.zeros(size, dtype=bool)
        seen[key] = True
        if int(np.count_nonzero(seen)) == n:
            return
    _, first_of, inverse = np.unique(key, return_index=True, return_inverse=True)
    first = first_of[inverse.ravel()]
    for i in np.flatnonzero(first != np.arange(n)):
        problems.append(used_again(spec, table, int(i), int(first[i]), tuple(
            None if c.codes[i] < 0 else c.categories[c.codes[i]] for c in cats.values())))
