"""Excel workbooks (``.xlsx``): an instance in one workbook, and results as workbooks.

An instance workbook holds a sheet ``instance`` (the manifest as ``key``/``value`` rows:
``name``, ``currency``, ``settings.budget``, ``sources.regions``, ...) and one sheet per
table, named and laid out as the table's CSV file: a header row of column names, then one
row per entity. Cells are read as a CSV's would be (a number typed into an id column is
that id as text), so every check and message is the CSV's, with the sheet and row in
place of the file and line (``book.xlsx sheet regions row 4``). Region polygons, if any,
are a ``geometry`` column of the regions sheet holding WKT in WGS84 degrees.

A workbook is a zip archive: before openpyxl reads it, :func:`check_archive` refuses one
whose parts would expand beyond :data:`MAX_UNPACKED_BYTES`, or expand more than
:data:`MAX_RATIO` times (a zip bomb); XML is parsed through defusedxml (openpyxl uses it
when installed), so entity expansion is refused too.

Workbooks reserve-opt writes carry ``reserve-opt VERSION`` as creator and last editor in
their document properties; :func:`signed` recognises them, so a workbook is replaced only
if reserve-opt wrote it and nobody saved it since (see :mod:`reserve_opt.io.outdir`).
"""

from __future__ import annotations

import math
import os
import re
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reserve_opt.errors import InputError, shown
from reserve_opt.io.outdir import OutputFile, OutputFolder, signature
from reserve_opt.io.raw import RawInstance, RawTable, Row
from reserve_opt.io.spec import TABLE_BY_NAME, TABLES, lonlat_bounds_ok

if TYPE_CHECKING:
    import pandas as pd

    from reserve_opt.domain import Instance

MAX_UNPACKED_BYTES = 1 << 30
"""Most bytes the parts of a workbook may expand to (1 GiB; Excel's own sheets stay far below)."""

MAX_RATIO = 200
"""Most times a part larger than 1 MiB may expand (real sheets: 5-30; a zip bomb: ~1,000)."""

MAX_PARTS = 10_000
"""Most files inside a workbook."""

MAX_CELL_CHARS = 32_767
"""Most characters Excel holds in one cell."""

MANIFEST_SHEET = "instance"
"""The sheet holding the manifest's keys and values."""

GEOMETRY_COLUMN = "geometry"
"""The regions sheet's column of region polygons (WKT, WGS84)."""

_SECTIONS = ("settings", "sources", "geometry")  # manifest keys that are tables of their own
_CORE = "docProps/core.xml"


def locator(book: str, sheet: str) -> Any:
    """Name row ``i`` (0-based, after the header) as Excel numbers it: header row 1."""
    return lambda i: f"{book} sheet {sheet} row {i + 2}"


def check_archive(path: Path, label: str) -> None:
    """Refuse a file that is no workbook, or one whose parts would expand too far.

    Parameters
    ----------
    path
        The ``.xlsx`` file.
    label
        How messages name it.

    Raises
    ------
    InputError
        One line naming the file (and the part) and what to do.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as err:
        raise InputError(f"{label}: is not an Excel workbook ({shown(err)}); save it from "
                         "Excel as \"Excel Workbook (*.xlsx)\"") from None
    if len(parts) > MAX_PARTS:
        raise InputError(f"{label}: holds {len(parts):,} files, more than the {MAX_PARTS:,} "
                         "a workbook this reader accepts may hold; save it again from Excel")
    total = 0
    for part in parts:
        total += part.file_size
        if part.file_size > 1 << 20 and part.file_size > MAX_RATIO * max(part.compress_size,
                                                                         1):
            raise InputError(
                f"{label}: part {shown(part.filename, 60)} expands {part.compress_size:,} "
                f"bytes to {part.file_size:,}, more than {MAX_RATIO} times (a zip bomb?); "
                "save the workbook again from Excel")
        if total > MAX_UNPACKED_BYTES:
            raise InputError(
                f"{label}: expands to more than {MAX_UNPACKED_BYTES:,} bytes, more than this "
                "reader accepts; split the tables into CSV or Parquet files")


def signed(path: Path) -> bool:
    """Whether reserve-opt wrote this workbook and nobody saved it since."""
    try:
        check_archive(path, str(path))
        with zipfile.ZipFile(path) as archive:
            core = archive.read(_CORE)[: 1 << 16].decode("utf-8", "replace")
    except (InputError, KeyError, OSError, zipfile.BadZipFile):
        return False
    creator = re.search(r"<dc:creator>([^<]*)</dc:creator>", core)
    editor = re.search(r"<cp:lastModifiedBy>([^<]*)</cp:lastModifiedBy>", core)
    return (creator is not None and creator.group(1).startswith("reserve-opt ")
            and (editor is None or editor.group(1).startswith("reserve-opt ")))


def _open(path: Path, label: str, data_only: bool = True) -> Any:
    import warnings

    import openpyxl

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns of styles and extensions it drops
            return openpyxl.load_workbook(path, read_only=True, data_only=data_only)
    except Exception as err:  # openpyxl raises many types for a broken workbook
        raise InputError(f"{label}: cannot be read as an Excel workbook ({shown(err)}); save "
                         "it again from Excel as \"Excel Workbook (*.xlsx)\"") from None


_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")


def _has_formulas(path: Path) -> bool:
    """Whether any worksheet holds a formula (read in blocks; sizes checked before)."""
    with zipfile.ZipFile(path) as archive:
        for part in archive.infolist():
            if not part.filename.startswith("xl/worksheets/"):
                continue
            with archive.open(part) as fh:
                tail, block = b"", fh.read(1 << 20)
                while block:
                    if _FORMULA.search(tail + block):
                        return True
                    tail, block = block[-16:], fh.read(1 << 20)
    return False


def _rows(sheet: Any, label: str, formulas: Any = None
          ) -> list[tuple[int, tuple[Any, ...]]]:
    """The sheet's non-empty rows with their Excel row numbers (the header is row 1).

    ``formulas`` is the same sheet read for its formulas, when the workbook has any: a
    formula without a value saved by Excel is refused, not read as an empty cell.
    """
    from openpyxl.utils import get_column_letter

    out: list[tuple[int, tuple[Any, ...]]] = []
    try:
        sheet.reset_dimensions()  # a declared size of A1:XFD1048576 must not be padded out
        rows = sheet.iter_rows(values_only=True)
        if formulas is not None:
            formulas.reset_dimensions()
            rows = zip(rows, formulas.iter_rows(values_only=True), strict=True)
        for number, row in enumerate(rows, start=1):
            values = tuple(row[0] if formulas is not None else row)
            if formulas is not None:
                for i, (value, text) in enumerate(zip(values, row[1], strict=False)):
                    if value is None and isinstance(text, str) and text.startswith("="):
                        raise InputError(
                            f"{label} row {number}: cell {get_column_letter(i + 1)}{number} "
                            "holds a formula with no value saved; open the workbook in Excel "
                            "and save it, or type the value")
            while values and _blank(values[-1]):
                values = values[:-1]
            if values:
                out.append((number, values))
    except InputError:
        raise
    except Exception as err:  # a broken sheet: XML, entities (defusedxml), shared strings
        raise InputError(f"{label}: cannot be read ({shown(err, 80)}); save the workbook "
                         "again from Excel") from None
    return out


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _as_csv(value: Any) -> str:
    """A cell as the CSV file Excel would save would hold it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 2**53:
            return str(int(value))
        return repr(value)
    return str(value)


def read_workbook(path: str | os.PathLike[str]) -> RawInstance:
    """Read an instance workbook without validating it (see the module).

    Parameters
    ----------
    path
        The ``.xlsx`` file.

    Returns
    -------
    RawInstance
        Manifest, tables and region polygons; problems met while reading are in
        ``problems``.

    Raises
    ------
    InputError
        The file is no workbook, would expand too far, or has no ``instance`` sheet.
    """
    p = Path(path)
    book = p.name
    check_archive(p, book)
    wb = _open(p, book)
    shown_formulas: Any = None

    def rows(name: str) -> list[tuple[int, tuple[Any, ...]]]:
        return _rows(wb[name], f"{book} sheet {name}",
                     None if shown_formulas is None else shown_formulas[name])

    try:
        if _has_formulas(p):
            shown_formulas = _open(p, book, data_only=False)
        names = list(wb.sheetnames)
        if MANIFEST_SHEET not in names:
            raise InputError(f"{book}: has no sheet '{MANIFEST_SHEET}'; add one with the "
                             "columns key and value (name, currency, ...), as 'reserve-opt "
                             "convert' writes it")
        raw = RawInstance(manifest={}, manifest_source=f"{book} sheet {MANIFEST_SHEET}")
        raw.manifest = _manifest(rows(MANIFEST_SHEET), book, raw.problems)
        for name in names:
            if name != MANIFEST_SHEET and name not in TABLE_BY_NAME:
                import difflib

                close = difflib.get_close_matches(name, list(TABLE_BY_NAME), n=1)
                hint = (f"did you mean '{close[0]}'?" if close else
                        f"name it after a table ({', '.join(TABLE_BY_NAME)}) or remove it")
                raw.problems.append(f"{book}: sheet '{shown(name, 40)}' is not a table of an "
                                    f"instance; {hint}")
        for spec in TABLES:
            if spec.name in names:
                table = _table(spec.name, rows(spec.name), book, raw)
                if table is None:
                    raw.unreadable.add(spec.name)
                else:
                    raw.tables[spec.name] = table
    finally:
        wb.close()
        if shown_formulas is not None:
            shown_formulas.close()
    return raw


def _manifest(rows: list[tuple[int, tuple[Any, ...]]], book: str,
              problems: list[str]) -> dict[str, Any]:
    where = f"{book} sheet {MANIFEST_SHEET}"
    if not rows or [_as_csv(c).strip() for c in rows[0][1][:2]] != ["key", "value"]:
        problems.append(f"{where}: the first row must be the header key, value; write the "
                        "manifest's keys in column A and their values in column B")
        return {}
    manifest: dict[str, Any] = {}
    for number, cells in rows[1:]:
        key = _as_csv(cells[0]).strip()
        value = cells[1] if len(cells) > 1 else None
        if len(cells) > 2:
            problems.append(f"{where} row {number}: has cells beyond column B; keep one key "
                            "and one value per row")
        if isinstance(value, str):
            value = value.strip()
        if not key:
            problems.append(f"{where} row {number}: has a value but no key; write the key in "
                            "column A")
            continue
        section, _, sub = key.partition(".")
        if section == "geometry" and sub != "service_areas":
            problems.append(f"{where} row {number}: key '{shown(key, 40)}' names a file, but a "
                            "workbook holds region polygons in the regions sheet's geometry "
                            "column (WKT) and no road layer; remove the row, or use an "
                            "instance folder")
            continue
        if sub and section in _SECTIONS:
            target = manifest.setdefault(section, {})
            if not isinstance(target, dict):
                problems.append(f"{where} row {number}: key '{shown(key, 40)}' needs "
                                f"'{section}' to be a section; remove the row '{section}'")
                continue
            key, holder = sub, target
        else:
            holder = manifest
        if key in holder:
            problems.append(f"{where} row {number}: key '{shown(key, 40)}' is given a second "
                            "time; keep one row")
        elif value is not None:  # an empty value is an absent key, as in TOML
            holder[key] = value
    return manifest


def _table(name: str, rows: list[tuple[int, tuple[Any, ...]]], book: str,
           raw: RawInstance) -> RawTable | None:
    where = f"{book} sheet {name}"
    if not rows:
        raw.problems.append(f"{where}: is empty; a table needs a header row")
        return None
    header_row, header = rows[0]
    if header_row != 1:
        raw.problems.append(f"{where}: row 1 is empty; put the column names in row 1")
        return None
    columns = [_as_csv(c).strip() for c in header]
    if "" in columns:
        raw.problems.append(f"{where}: column {columns.index('') + 1} has no name in row 1; "
                            "name it or remove the column")
        return None
    first: dict[str, int] = {}
    for i, col in enumerate(columns, start=1):
        if col in first:
            raw.problems.append(f"{where}: column '{shown(col, 40)}' appears twice in row 1 "
                                f"(columns {first[col]} and {i}); keep one")
            return None
        first[col] = i
    data: list[Row] = []
    numbers: list[int] = []
    for number, cells in rows[1:]:
        if len(cells) > len(columns):
            raw.problems.append(f"{where} row {number}: has cells beyond the header's "
                                f"{len(columns)} columns; remove them or name their column")
        data.append({c: _as_csv(cells[i]) if i < len(cells) else ""
                     for i, c in enumerate(columns)})
        numbers.append(number)
    if name == "regions" and GEOMETRY_COLUMN in columns:
        columns.remove(GEOMETRY_COLUMN)
        _geometry(data, numbers, where, raw)
    # rows are named by their own Excel number (blank rows are skipped, as a CSV's are)
    table = RawTable(name, where, columns, data, lambda i: f"{where} row {numbers[i]}")
    return table


def _geometry(rows: list[Row], numbers: list[int], where: str, raw: RawInstance) -> None:
    import shapely
    from shapely.errors import ShapelyError

    raw.geometry_source = f"{where} column {GEOMETRY_COLUMN}"
    for row, number in zip(rows, numbers, strict=True):
        text = row.pop(GEOMETRY_COLUMN).strip()
        rid = row.get("id", "").strip()
        if not text or not rid:
            continue
        try:
            geom = shapely.from_wkt(text)
        except (ShapelyError, ValueError) as err:
            raw.problems.append(f"{where} row {number}: geometry is not WKT ({shown(err, 80)}); "
                                "give a POLYGON or MULTIPOLYGON in WGS84 degrees")
            continue
        if geom is None or geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
            raw.problems.append(f"{where} row {number}: geometry is not a polygon; give a "
                                "POLYGON or MULTIPOLYGON in WGS84 degrees")
            continue
        if not lonlat_bounds_ok(geom.bounds):
            raw.problems.append(f"{where} row {number}: geometry coordinates fall outside "
                                "lon -180..180 / lat -90..90; give WGS84 longitudes and "
                                "latitudes in degrees")
            continue
        raw.geometry[rid] = geom


def _cell(sheet: Any, value: Any) -> Any:
    """A value for a write-only sheet, exactly as given.

    Text that starts with '=' stays text (openpyxl would make it a formula: nothing read
    from input is executed); a float keeps all 17 digits (openpyxl writes 16).
    """
    from openpyxl.cell import WriteOnlyCell

    if isinstance(value, tuple | list):
        value = "|".join(str(v) for v in value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        if float(f"{value:.16g}") != value:
            cell = WriteOnlyCell(sheet, repr(value))
            cell.data_type = "n"
            return cell
    if isinstance(value, str) and value.startswith("="):
        cell = WriteOnlyCell(sheet, value)
        cell.data_type = "s"
        return cell
    return value


def _new_book() -> Any:
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    wb.properties.creator = signature()
    wb.properties.lastModifiedBy = signature()
    return wb


def _append(sheet: Any, label: str, values: list[Any]) -> None:
    from openpyxl.utils.exceptions import IllegalCharacterError

    try:
        sheet.append([_cell(sheet, v) for v in values])
    except IllegalCharacterError:
        bad = next(v for v in values if isinstance(v, str) and _ILLEGAL.search(v))
        raise InputError(f"{label}: {shown(bad, 40)} holds a control character Excel cannot "
                         "store; remove it, or write CSV instead") from None


_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")


def _save(wb: Any, dest: Path | OutputFile) -> Path:
    out = dest if isinstance(dest, OutputFile) else OutputFile(Path(dest))
    with out.write() as tmp:
        wb.save(tmp)
    return out.path


def write_workbook(inst: Instance, dest: str | os.PathLike[str] | OutputFile) -> Path:
    """Write ``inst`` as one instance workbook (see the module).

    Parameters
    ----------
    inst
        The instance.
    dest
        The ``.xlsx`` file, or an :class:`~reserve_opt.io.outdir.OutputFile` naming it; an
        existing file is replaced only if reserve-opt wrote it.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    InputError
        The file may not be written, a region's polygon is too long for an Excel cell, or
        the instance has a road layer (a GeoPackage of its own).
    """
    from reserve_opt.io.export import instance_manifest, instance_tables, written_columns

    out = dest if isinstance(dest, OutputFile) else OutputFile(Path(dest))
    out.check()
    if inst.roads is not None:
        raise InputError(f"instance {inst.name}: has a road layer, which a workbook cannot "
                         "hold; write an instance folder instead")
    wb = _new_book()
    sheet = wb.create_sheet(MANIFEST_SHEET)
    sheet.append(["key", "value"])
    manifest = instance_manifest(inst)
    if inst.service_areas:  # the folder writer's [geometry] service_areas
        manifest["geometry"] = {"service_areas": True}
    for key, value in manifest.items():
        if isinstance(value, dict):
            for sub, v in value.items():
                _append(sheet, MANIFEST_SHEET, [f"{key}.{sub}", v])
        else:
            _append(sheet, MANIFEST_SHEET, [key, value])
    tables = instance_tables(inst)
    shapes = [r.geometry for r in inst.regions]
    for spec in TABLES:
        rows = tables[spec.name]
        if not rows and not spec.required:
            continue
        sheet = wb.create_sheet(spec.name)
        columns = written_columns(spec.name, rows)
        polygons = spec.name == "regions" and any(s is not None for s in shapes)
        sheet.append(columns + ([GEOMETRY_COLUMN] if polygons else []))
        for i, row in enumerate(rows):
            values = [row.get(c) for c in columns]
            if polygons:
                values.append(_wkt(shapes[i], str(row.get("id"))))
            _append(sheet, spec.name, values)
    return _save(wb, out)


def _wkt(geom: Any, rid: str) -> str | None:
    if geom is None:
        return None
    import shapely

    text = str(shapely.to_wkt(geom, rounding_precision=-1))
    if len(text) > MAX_CELL_CHARS:
        raise InputError(f"region {rid}: its polygon is {len(text):,} characters of WKT, more "
                         f"than an Excel cell holds ({MAX_CELL_CHARS:,}); simplify it, or "
                         "write a folder or .json instance instead")
    return text


def sheet_name(name: str, taken: set[str]) -> str:
    """``name`` as a valid, new Excel sheet name: at most 31 characters, no brackets or :*?/.

    Parameters
    ----------
    name
        The wanted name.
    taken
        Names already used in the workbook (compared as Excel does, ignoring case).

    Returns
    -------
    str
        The name, cut and numbered as needed.
    """
    base = re.sub(r"[\[\]:*?/\\]", " ", name).strip("' ")[:31] or "sheet"
    out, n = base, 2
    while out.lower() in {t.lower() for t in taken}:
        tail = f" ({n})"
        out, n = base[: 31 - len(tail)] + tail, n + 1
    return out


def write_result_workbook(tables: Mapping[str, pd.DataFrame],
                          dest: str | os.PathLike[str] | OutputFile,
                          units: Mapping[str, Mapping[str, str]] | None = None) -> Path:
    """Write result tables as one workbook, a sheet per table, units in the headers.

    Parameters
    ----------
    tables
        Sheet name -> table, in order.
    dest
        The ``.xlsx`` file, or an :class:`~reserve_opt.io.outdir.OutputFile` naming it.
    units
        Sheet name -> column -> unit; a column with a unit is headed ``name (unit)``.

    Returns
    -------
    Path
        The file written.
    """
    wb = _new_book()
    taken: set[str] = set()
    for name, frame in tables.items():
        title = sheet_name(name, taken)
        taken.add(title)
        sheet = wb.create_sheet(title)
        known = (units or {}).get(name, {})
        sheet.append([_cell(sheet, f"{c} ({known[c]})" if known.get(c) else str(c))
                      for c in frame.columns])
        for row in frame.itertuples(index=False, name=None):
            _append(sheet, title, [_plain(v) for v in row])
    return _save(wb, dest if isinstance(dest, OutputFile) else Path(dest))


def _plain(value: Any) -> Any:
    """A pandas/numpy cell as a value openpyxl writes (missing values as empty cells)."""
    if value is None:
        return None
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    try:
        import pandas as pd

        if not isinstance(value, list | tuple | dict) and pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(value, int | float | bool | str):
        return value
    if isinstance(value, list | tuple):
        return value
    return str(value)


# ------------------------------------------------------------------ results as a workbook

_UNIT_OF_COLUMN = {
    **dict.fromkeys(("quantity", "demand", "delivered", "cum_demand", "cum_delivered",
                     "shortage", "existing", "added", "total", "units", "expected_units",
                     "unmet", "expected_demand", "expected_shortage", "unmet_units",
                     "delivered_units"), "units"),
    **dict.fromkeys(("fixed", "purchase", "retainer", "transport", "unit_prices", "holding",
                     "cvar_shortage", "cvar_second_stage", "expected_compensation",
                     "first_stage", "expected_second_stage", "fixed_cost", "compensation",
                     "transport_cost", "contract_cost", "amount", "objective",
                     "objective_change"), "currency"),
    **dict.fromkeys(("unit_cost", "unit_price", "compensation_per_unit"), "currency/unit"),
    **dict.fromkeys(("fill_rate", "lowest_fill_rate", "risk", "relative", "gap"), "0-1"),
    **dict.fromkeys(("period", "arrival_period", "shortage_periods"), "day"),
}
"""Units of result columns whose names do not carry them (``distance_km`` does)."""

_MONEY_SHEETS = ("costs",)  # every figure of these sheets is money, ``total`` and ``shortage`` too


def column_units(sheet: str, columns: list[str], currency: str | None) -> dict[str, str]:
    """The unit of each column of a result sheet that has one and does not name it.

    Parameters
    ----------
    sheet
        The sheet's name (``costs`` sheets hold money only).
    columns
        Its columns.
    currency
        The ISO 4217 code money is in; ``None``: the word ``currency``.

    Returns
    -------
    dict of str to str
        Column -> unit, e.g. ``{"quantity": "units", "retainer": "CNY"}``.
    """
    money = currency or "currency"
    out: dict[str, str] = {}
    for c in columns:
        unit = _UNIT_OF_COLUMN.get(c)
        money_sheet = sheet.split(" ")[-1] in _MONEY_SHEETS and c != "currency"
        if money_sheet or c.startswith("cost_"):
            unit = "currency"
        elif c.startswith("fill_rate_"):
            unit = "0-1"
        if unit is not None:
            out[c] = unit.replace("currency", money)
    return out


_STAGES: dict[Path, dict[str, pd.DataFrame]] = {}


def staged(frame: pd.DataFrame, path: Path) -> bool:
    """Keep ``frame`` as a sheet if ``path`` lies in the folder of an :class:`OutputWorkbook`.

    Returns
    -------
    bool
        Whether it was kept (then nothing need be written to ``path``).
    """
    for parent in path.parents:
        sheets = _STAGES.get(parent)
        if sheets is not None:
            sheets[path.relative_to(parent).with_suffix("").as_posix().replace("/", " ")] = frame
            return True
    return False


def _currency(docs: list[Any]) -> str | None:
    """The first ``currency`` of the JSON documents a command wrote, if any."""
    stack = list(docs)
    while stack:
        doc = stack.pop(0)
        if isinstance(doc, dict):
            if isinstance(doc.get("currency"), str):
                return str(doc["currency"])
            stack += list(doc.values())
    return None


def _flat(doc: Any, prefix: str = "", depth: int = 0) -> list[tuple[str, Any]]:
    """The scalar entries of a JSON document as (dotted key, value); lists are left out."""
    out: list[tuple[str, Any]] = []
    if isinstance(doc, dict) and depth < 4:
        for k, v in doc.items():
            if isinstance(v, dict):
                out += _flat(v, f"{prefix}{k}.", depth + 1)
            elif not isinstance(v, list):
                out.append((f"{prefix}{k}", v))
    return out


class OutputWorkbook(OutputFolder):
    """``--out FILE.xlsx``: what a command writes to its folder, as one workbook.

    The command fills a staging folder as it would fill ``--out DIR``; every table it
    writes through :func:`reserve_opt.cli.options.write_csv` becomes a sheet (its
    headers with units), and each JSON file a sheet of its scalar figures
    (``key``/``value``). Geodata (GeoPackage, GeoJSON) have no place in a workbook and
    are left out. The file is replaced only if reserve-opt wrote it (see
    :class:`~reserve_opt.io.outdir.OutputFile`).
    """

    def _file(self) -> OutputFile:
        return OutputFile(self.path, inputs=self.inputs, name=self.name,
                          on_wait=self.on_wait)

    def check(self) -> Path:
        """Refuse now if the workbook could not be written."""
        if self.in_place:
            raise InputError(f"{self.label}: this command adds to its output folder as "
                             "it goes, which a workbook cannot be; give a folder name")
        return self._file().check()

    @contextmanager
    def write(self) -> Iterator[Path]:
        """Yield a staging folder; its tables become the workbook when the block succeeds."""
        import json
        import tempfile

        import pandas as pd

        self.check()
        with tempfile.TemporaryDirectory(prefix="reserve-opt-xlsx-") as tmp:
            stage = Path(tmp).resolve()
            _STAGES[stage] = {}
            try:
                yield stage
            finally:
                sheets = _STAGES.pop(stage)
            docs: dict[str, Any] = {}
            depth = {name: name.count(" ") for name in sheets}
            for file in sorted(stage.rglob("*")):
                rel = file.relative_to(stage)
                name = rel.with_suffix("").as_posix().replace("/", " ")
                if file.suffix == ".json":
                    docs[name] = json.loads(file.read_text(encoding="utf-8"))
                elif file.suffix == ".csv" and name not in sheets:
                    # a table written as text (not through write_csv): its types inferred
                    sheets[name] = pd.read_csv(file, encoding="utf-8-sig")
                depth[name] = len(rel.parts) - 1
            currency = _currency(list(docs.values()))
            # each summary first (status, objective, costs), then the tables as written;
            # the command's own sheets before those of its runs (whatif runs/<name>/)
            tables = {name: pd.DataFrame(_flat(doc), columns=["key", "value"])
                      for name, doc in docs.items()}
            tables.update(sheets)
            tables = dict(sorted(tables.items(), key=lambda kv: depth.get(kv[0], 0)))
            # a unit only for figures: a 'fixed' flag (site) is no money
            units = {n: column_units(n, [str(c) for c in f.columns if f.empty or (
                                             pd.api.types.is_numeric_dtype(f[c])
                                             and not pd.api.types.is_bool_dtype(f[c]))],
                                     currency)
                     for n, f in tables.items()}
            write_result_workbook(tables, self._file(), units)

    @contextmanager
    def update(self) -> Iterator[Path]:
        """A workbook is written whole, never added to."""
        self.check()
        yield self.path

