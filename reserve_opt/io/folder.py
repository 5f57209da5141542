"""Instance folders: a manifest (TOML or YAML), CSV/Parquet tables, optional geometry."""

from __future__ import annotations

import csv
import io
import math
import os
import re
import warnings
from pathlib import Path
from typing import Any, Literal

from reserve_opt.domain import Instance
from reserve_opt.errors import InputError, shown
from reserve_opt.io.export import instance_manifest, instance_tables, written_columns
from reserve_opt.io.outdir import MARKER, OutputFolder
from reserve_opt.io.paths import confined_path
from reserve_opt.io.raw import RawInstance, RawTable, csv_locator, parquet_locator
from reserve_opt.io.safeload import parse_toml, parse_yaml, read_text
from reserve_opt.io.spec import TABLE_BY_NAME, TABLES, lonlat_bounds_ok

MANIFEST_NAMES = ("instance.toml", "instance.yaml", "instance.yml")
TableFormat = Literal["csv", "parquet"]


def read_manifest(folder: Path) -> tuple[dict[str, Any], str]:
    """Read the folder's manifest; return its keys and its file name."""
    found = [n for n in MANIFEST_NAMES if (folder / n).is_file()]
    if not found:
        raise InputError(
            f"{folder}: no instance.toml or instance.yaml found; an instance folder needs a "
            f"manifest (see instances/toy/instance.toml)"
        )
    if len(found) > 1:
        raise InputError(f"{folder}: both {found[0]} and {found[1]} exist; keep only one")
    name = found[0]
    text = read_text(folder / name, name)
    if name.endswith(".toml"):
        data: Any = parse_toml(text, name)
    else:
        data = parse_yaml(text, name)
        if not isinstance(data, dict):
            raise InputError(f"{name}: must be a mapping of keys to values")
    return dict(data), name


def _table_file(folder: Path, name: str, manifest: dict[str, Any],
                problems: list[str], manifest_name: str) -> Path | None:
    named = manifest.get("tables", {})
    if isinstance(named, dict) and isinstance(named.get(name), str):
        try:
            path = confined_path(folder, named[name], f"{manifest_name}: [tables] {name}")
        except InputError as err:
            problems += err.problems
            return None
        if path.is_dir():
            problems.append(f"{manifest_name}: [tables] {name} = \"{shown(named[name])}\" is "
                            f"a folder; name the table's file, e.g. \"{name}.csv\"")
            return None
        if not path.is_file():
            problems.append(
                f"{manifest_name}: table '{name}' names {shown(named[name])}, which does not "
                f"exist; fix the file name"
            )
            return None
        return path
    options = [folder / f"{name}.{ext}" for ext in ("csv", "parquet")]
    existing = [p for p in options if p.is_file()]
    try:
        for p in existing:
            confined_path(folder, p.name, None)  # a link to a file elsewhere
    except InputError as err:
        problems += err.problems
        return None
    if len(existing) > 1:
        problems.append(
            f"{folder}: both {name}.csv and {name}.parquet exist; keep one, or name the one "
            f"to use under [tables] in {manifest_name}"
        )
    return existing[0] if existing else None


def _text_columns(path: Path) -> list[str]:
    """The string columns of a Parquet file (read dictionary-encoded)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pq.read_schema(path)
    return [f.name for f in schema if pa.types.is_string(f.type)
            or pa.types.is_large_string(f.type)]


def _columnar_frame(table: Any) -> Any:
    """A Parquet table as a DataFrame, dictionary (text) columns as pandas Categoricals.

    Arrow merges the chunks' dictionaries into one (re-coding the indices in C++), so no
    cell becomes a Python object: only each distinct text does.
    """
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    table = table.unify_dictionaries().combine_chunks()
    cols: dict[str, Any] = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        if not pa.types.is_dictionary(column.type):
            cols[name] = column.to_pandas()
            continue
        chunk = column.chunk(0) if column.num_chunks else pa.array([], column.type)
        codes = chunk.indices.fill_null(-1).to_numpy()  # a missing cell: -1, as in pandas
        cols[name] = pd.Categorical.from_codes(
            codes.astype(np.int32, copy=False),
            pd.Index(chunk.dictionary.to_pylist(), dtype=object))
    return pd.DataFrame(cols, copy=False)


def _read_table(name: str, path: Path, problems: list[str]) -> RawTable | None:
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        try:
            twice = _repeated_column(list(pq.read_schema(path).names))
            if twice:
                problems.append(f"{path.name}: column '{twice[0]}' appears twice (columns "
                                f"{twice[1]} and {twice[2]}); keep one")
                return None
            columnar = name in TABLE_BY_NAME and TABLE_BY_NAME[name].columnar
            table = pq.read_table(path, read_dictionary=_text_columns(path) if columnar
                                  else None)
            if columnar:
                # text as codes into a few thousand ids, not millions of str objects
                frame = _columnar_frame(table)
                return RawTable(name, path.name, list(table.column_names), [],
                                parquet_locator(path.name), frame=frame)
        except Exception as err:  # pyarrow raises many types for broken files
            problems.append(f"{path.name}: cannot be read as Parquet ({shown(err)}); "
                            f"re-export it")
            return None
        return RawTable(name, path.name, list(table.column_names), table.to_pylist(),
                        parquet_locator(path.name))
    text = _csv_text(path)
    if isinstance(text, UnicodeDecodeError):
        problems.append(f"{path.name}: is neither UTF-8 nor Chinese GBK/GB18030 text (byte "
                        f"0x{text.object[text.start]:02x} at offset {text.start} is not UTF-8); "
                        f"save it as \"CSV UTF-8\"")
        return None
    if name in TABLE_BY_NAME and TABLE_BY_NAME[name].columnar:
        fast = _csv_columnar(name, path.name, text)
        if fast is not None:
            return fast
    try:
        with io.StringIO(text, newline="") as fh:
            reader = csv.DictReader(fh)
            columns = [c.strip() for c in (reader.fieldnames or [])]
            twice = _repeated_column(columns)
            if twice:
                # a dict row keeps only the last copy: the first would be lost silently
                problems.append(f"{path.name}: column '{twice[0]}' appears twice in the header "
                                f"(columns {twice[1]} and {twice[2]}); keep one")
                return None
            rows: list[dict[str, Any]] = []
            for line in reader:
                if None in line:
                    problems.append(
                        f"{path.name} line {reader.line_num}: has more cells than the header's "
                        f"{len(columns)} columns; remove the extra cells or quote them"
                    )
                    line.pop(None)
                # DictReader gives None for cells a short row lacks; "" is an empty cell
                missing = [k for k, v in line.items() if v is None]
                if missing:
                    problems.append(
                        f"{path.name} line {reader.line_num}: has {len(columns) - len(missing)} "
                        f"cells, fewer than the header's {len(columns)} columns (no "
                        f"{', '.join(k.strip() for k in missing)}); add the missing cells, "
                        f"empty ones as ','"
                    )
                rows.append({k.strip(): "" if v is None else v for k, v in line.items()
                             if k is not None})
    except csv.Error as err:
        problems.append(f"{path.name}: is not valid CSV ({err}); fix the quoting")
        return None
    if not columns:
        problems.append(f"{path.name}: is empty; a CSV table needs a header line")
        return None
    return RawTable(name, path.name, columns, rows, csv_locator(path.name))


def _csv_columnar(name: str, filename: str, text: str) -> RawTable | None:
    """A columnar table's CSV text read by Arrow, as :func:`_columnar_frame` gives Parquet.

    ``None`` whenever the file is not plain (a row of the wrong length, a header repeating a
    column, a number Arrow cannot read or that is not finite, ...): the row reader then reads
    it and names each problem's line as it always has. Arrow reads the same cells as
    Python's csv module wherever it reads a file at all.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    header = next(csv.reader(io.StringIO(text, newline="")), [])
    names = [c.strip() for c in header]
    if not names or _repeated_column(names):
        return None
    spec = TABLE_BY_NAME[name]
    floats = {c.name for c in spec.columns if c.dtype == "float"}
    types = {raw: pa.float64() if name_ in floats else pa.dictionary(pa.int32(), pa.string())
             for raw, name_ in zip(header, names, strict=True)}
    try:
        table = pacsv.read_csv(
            io.BytesIO(text.encode("utf-8")),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types=types, null_values=[""], strings_can_be_null=False,
                quoted_strings_can_be_null=False))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    for raw, name_ in zip(header, names, strict=True):
        # 'inf' or 'nan' would lose its text (the row reader quotes it in the message)
        if name_ in floats and pc.any(pc.invert(pc.is_finite(table.column(raw)))).as_py():
            return None
    table = table.rename_columns(names)
    return RawTable(name, filename, names, [], csv_locator(filename),
                    frame=_columnar_frame(table))


def read_table_file(name: str, path: Path, problems: list[str]) -> RawTable | None:
    """Read one CSV or Parquet table as the instance reader does (actuals reuse it).

    Problems (encoding, repeated or extra columns, short rows) are appended to
    ``problems``; ``None`` when the file cannot be read as a table at all.
    """
    return _read_table(name, path, problems)


def _csv_text(path: Path) -> str | UnicodeDecodeError:
    """The text of a CSV file: UTF-8 (with or without a byte-order mark), else GB18030.

    Returns the UTF-8 decoding error when the file is neither.

    Excel on Chinese Windows saves "CSV" in the ANSI code page, GBK (a subset of GB18030).
    Bytes that are not UTF-8 are read as GB18030 only when they decode cleanly, every
    character beyond ASCII is Chinese text or its punctuation, and at least half of those are
    common characters (GB2312): Latin-1 bytes such as "Müller" also decode as GB18030, into
    rare ideographs ("M黮ler"), and are refused instead.
    """
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        not_utf8 = err
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        return not_utf8
    wide = [ch for ch in text if ord(ch) > 0x7F]
    common = sum(1 for ch in wide if _in_gb2312(ch))
    chinese = all(_CHINESE.match(ch) for ch in wide) and 2 * common >= len(wide)
    return text if chinese else not_utf8


def _in_gb2312(ch: str) -> bool:
    try:
        ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


# CJK ideographs (and extension A), CJK and full-width punctuation, general punctuation
# (curly quotes, dashes), Latin-1 signs GBK holds (° · × ÷), Bopomofo
_CHINESE = re.compile("[\u00a0-\u00bf\u00d7\u00f7\u2000-\u206f\u2100-\u22ff\u2460-\u27bf"
                      "\u3000-\u33ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f"
                      "\uff00-\uffef]")


def _report_dangling_links(folder: Path, name: str, problems: list[str]) -> bool:
    """Report a table file that is a link to nothing: a broken table, not an absent one."""
    found = False
    for ext in ("csv", "parquet"):
        link = folder / f"{name}.{ext}"
        if link.is_symlink() and not link.exists():
            problems.append(f"{link.name}: is a link to {os.readlink(link)}, which does not "
                            f"exist; fix the link or remove it")
            found = True
    return found


def _repeated_column(columns: list[str]) -> tuple[str, int, int] | None:
    """The first column named twice, with both 1-based positions, or ``None``."""
    first: dict[str, int] = {}
    for i, name in enumerate(columns, start=1):
        if name in first:
            return name, first[name], i
        first[name] = i
    return None


def _read_geometry(folder: Path, manifest: dict[str, Any], raw: RawInstance) -> None:
    geometry = manifest.get("geometry", {})
    if not isinstance(geometry, dict) or not isinstance(geometry.get("regions"), str):
        return
    name = geometry["regions"]
    try:
        path = confined_path(folder, name, f"{raw.manifest_source}: [geometry] regions")
    except InputError as err:
        raw.problems += err.problems
        return
    if path.is_dir():
        raw.problems.append(f"{raw.manifest_source}: [geometry] regions = \"{shown(name)}\" "
                            f"is a folder; name the geometry file, e.g. \"regions.gpkg\"")
        return
    if not path.exists():
        raw.problems.append(
            f"{raw.manifest_source}: geometry file {name} does not exist; fix the file name"
        )
        return
    import geopandas as gpd

    try:
        with warnings.catch_warnings():
            # pyogrio warns (on stderr) of extra layers and unknown geometry types; both
            # are reported below as problems instead
            warnings.simplefilter("ignore")
            frame = gpd.read_file(path)
    except Exception as err:  # pyogrio raises DataSourceError and friends
        raw.problems.append(f"{name}: cannot be read as geodata ({shown(err)}); re-export it")
        return
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame.columns:
        raw.problems.append(
            f"{name}: holds no geometries; name a GeoPackage, GeoJSON or Shapefile of the "
            f"region polygons under [geometry]"
        )
        return
    if frame.crs is None:
        no_crs = (f"{name}: has no CRS, so its coordinates cannot be placed; write it with a "
                  f"CRS (for a Shapefile, add the .prj file)")
        ids = [str(i) for i in frame["id"]] if "id" in frame.columns else []
        if ids and _repeated_column(ids) is None and not frame.geometry.is_empty.any():
            # validation says it, with the CRS in which the region seats fall inside
            raw.geometry_source, raw.geometry_unplaced = name, (
                no_crs, dict(zip(ids, frame.geometry, strict=True)))
        else:
            raw.problems.append(no_crs)
        return
    if "id" not in frame.columns:
        raw.problems.append(f"{name}: has no 'id' column; add one holding each region's id")
        return
    ids = [str(i) for i in frame["id"]]
    for i, (rid, geom) in enumerate(zip(ids, frame.geometry, strict=True), start=1):
        if geom is None or geom.is_empty:
            raw.problems.append(
                f"{name}: feature {i} (id '{rid}') has no geometry, or one of a type that "
                f"cannot be read; give it a Polygon or MultiPolygon"
            )
            return
    twice = _repeated_column(ids)
    if twice:
        raw.problems.append(
            f"{name}: features {twice[1]} and {twice[2]} both have id '{twice[0]}'; give each "
            f"region one feature (a MultiPolygon for a region in several parts)"
        )
        return
    import shapely

    from reserve_opt.geo.crs import ensure_crs

    xy = shapely.get_coordinates(frame.geometry.to_numpy())
    try:  # the file's CRS must be able to hold its coordinates (range, area of use)
        ensure_crs(frame.crs, xy[:, 0], xy[:, 1], source=name,
                   fix="declare the CRS the data are in, in the file (for a Shapefile, its .prj)")
    except InputError as err:
        raw.problems += err.problems
        return
    raw.geometry_source, raw.geometry_crs = name, frame.crs
    frame = frame.to_crs("EPSG:4326")
    if not lonlat_bounds_ok(tuple(frame.total_bounds)):
        raw.problems.append(
            f"{name}: coordinates fall outside lon -180..180 / lat -90..90 after conversion "
            f"from {frame.crs}; its CRS is probably wrong"
        )
        return
    raw.geometry = dict(zip(ids, frame.geometry, strict=True))


def _read_roads(folder: Path, manifest: dict[str, Any], raw: RawInstance) -> None:
    """Read the road layer named by ``[geometry] roads`` (see :mod:`reserve_opt.geo.network`)."""
    geometry = manifest.get("geometry", {})
    if not isinstance(geometry, dict) or not isinstance(geometry.get("roads"), str):
        return
    name = geometry["roads"]
    where = f"{raw.manifest_source}: [geometry] roads"
    try:
        path = confined_path(folder, name, where)
        if not path.is_file():
            raise InputError(f"{where} = \"{shown(name)}\" is not a file in the instance "
                             "folder; fix the name or run reserve-opt roads import")
        from reserve_opt.geo.network import read_road_layer

        settings = manifest.get("settings", {})
        speed = settings.get("speed_kmh", 60.0) if isinstance(settings, dict) else 60.0
        if isinstance(speed, bool) or not isinstance(speed, int | float) or not speed > 0:
            return  # the settings check reports the bad speed; roads are read once it is fixed
        raw.roads = read_road_layer(path, name, default_speed_kmh=float(speed))
        raw.roads_source = name
    except InputError as err:
        raw.problems += err.problems


def read_folder(folder: str | os.PathLike[str], *, roads: bool = True) -> RawInstance:
    """Read an instance folder without validating it.

    Parameters
    ----------
    folder
        Folder holding ``instance.toml`` (or ``.yaml``) and the tables.
    roads
        Read the road layer of ``[geometry] roads`` (``roads import`` replaces it, so it
        reads the instance without).

    Returns
    -------
    RawInstance
        Manifest, tables and geometry; problems met while reading are in ``problems``.
    """
    path = Path(folder)
    manifest, manifest_name = read_manifest(path)
    raw = RawInstance(manifest=manifest, manifest_source=manifest_name)
    for spec in TABLES:
        reported = len(raw.problems)
        file = _table_file(path, spec.name, manifest, raw.problems, manifest_name)
        if file is None:
            if len(raw.problems) > reported or _report_dangling_links(
                    path, spec.name, raw.problems):  # said once, not also "missing"
                raw.unreadable.add(spec.name)
            continue
        table = _read_table(spec.name, file, raw.problems)
        if table is None:
            raw.unreadable.add(spec.name)
        else:
            raw.tables[spec.name] = table
    from reserve_opt.io.odmatrix import read_matrices

    read_matrices(path, manifest, raw)
    _read_geometry(path, manifest, raw)
    if roads:
        _read_roads(path, manifest, raw)
    return raw


def _csv_cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple | list):
        return "|".join(value)
    return repr(value) if isinstance(value, float) else str(value)


def write_folder(
    inst: Instance,
    folder: str | os.PathLike[str] | OutputFolder,
    table_format: TableFormat = "csv",
    overwrite: bool = False,
) -> Path:
    """Write ``inst`` as an instance folder, under the rules of every reserve-opt output.

    The folder must be new, empty, or an instance folder reserve-opt wrote (then it is
    replaced); a folder reserve-opt did not write is refused. It is written beside its
    target first and moved into place at the end, so an interrupted write never leaves a
    half-written instance (see :mod:`reserve_opt.io.outdir`).

    Parameters
    ----------
    inst
        The instance.
    folder
        Target folder, or an :class:`~reserve_opt.io.outdir.OutputFolder` naming it.
    table_format
        ``csv`` or ``parquet``.
    overwrite
        Also replace a folder reserve-opt wrote that was changed or added to since, or that
        another command wrote (``--force``); files reserve-opt did not write are kept.

    Returns
    -------
    Path
        The folder written.

    Raises
    ------
    InputError
        The folder may not be written (one line naming it and the fix).
    """
    import tomli_w

    dest = folder if isinstance(folder, OutputFolder) else OutputFolder(
        Path(folder), "instance", force=overwrite, force_hint="overwrite=True")
    target = dest.path
    with dest.write() as tmp:
        manifest = instance_manifest(inst)
        tables = instance_tables(inst)
        names: dict[str, str] = {}
        for spec in TABLES:
            rows = tables[spec.name]
            if not rows and not spec.required:
                continue
            names[spec.name] = f"{spec.name}.{table_format}"
            columns = written_columns(spec.name, rows)
            if table_format == "csv":
                with (tmp / names[spec.name]).open("w", newline="", encoding="utf-8") as fh:
                    writer = csv.writer(fh, lineterminator="\n")
                    writer.writerow(columns)
                    writer.writerows([_csv_cell(r.get(c)) for c in columns] for r in rows)
            else:
                _write_parquet(tmp / names[spec.name], spec.name, rows)
        manifest["tables"] = names
        shapes = {r.id: r.geometry for r in inst.regions if r.geometry is not None}
        if shapes:
            import geopandas as gpd

            gdf = gpd.GeoDataFrame({"id": list(shapes)}, geometry=list(shapes.values()),
                                   crs="EPSG:4326")
            gdf.to_file(tmp / "regions.gpkg", driver="GPKG")
            manifest["geometry"] = {"regions": "regions.gpkg"}
            if inst.service_areas:
                manifest["geometry"]["service_areas"] = True
        (tmp / "instance.toml").write_text(tomli_w.dumps(manifest), encoding="utf-8")
    return target


def _write_parquet(path: Path, name: str, rows: list[dict[str, Any]]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    spec = next(t for t in TABLES if t.name == name)
    types = {"str": pa.string(), "float": pa.float64(), "int": pa.int64(), "bool": pa.bool_(),
             "list": pa.list_(pa.string())}
    arrays = {
        c.name: pa.array([list(v) if isinstance(v := r.get(c.name), tuple) else v
                          for r in rows], type=types[c.dtype])
        for c in spec.columns if c.name in written_columns(name, rows)
    }
    pq.write_table(pa.table(arrays), path)


#: Files an instance folder's writer produces besides its tables (``.csv``) and geometry
#: (``.gpkg``); :func:`refresh_folder` replaces these and keeps everything else.
GENERATED_FILES = ("instance.toml", "README.md")


def refresh_folder(inst: Instance, folder: str | os.PathLike[str], readme: str) -> Path:
    """Write ``inst`` and its README into a folder that holds other files too.

    How bundled instances are rebuilt by their scripts: the folder's tables, geometry,
    manifest and README are replaced; anything else (the build script, ``variants/``) is
    kept. GeoPackages are stamped with a fixed date so a rebuild is byte-identical.

    Parameters
    ----------
    inst
        The instance.
    folder
        Target folder, created if missing.
    readme
        Text of ``README.md`` (where each number comes from).

    Returns
    -------
    Path
        The folder.
    """
    import shutil
    import tempfile

    out = Path(folder)
    stamp = os.environ.get("OGR_CURRENT_DATE")
    os.environ["OGR_CURRENT_DATE"] = stamp or "2000-01-01T00:00:00.000Z"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            built = write_folder(inst, Path(tmp) / "instance")
            (built / "README.md").write_text(readme, encoding="utf-8")
            out.mkdir(parents=True, exist_ok=True)
            for old in out.iterdir():
                if old.is_file() and (old.suffix in {".csv", ".gpkg"}
                                      or old.name in GENERATED_FILES):
                    old.unlink()
            for new in sorted(built.iterdir()):
                if new.name != MARKER:  # the scripts' folder is the project's, not ours
                    shutil.copyfile(new, out / new.name)
    finally:
        if stamp is None:
            del os.environ["OGR_CURRENT_DATE"]
    return out
