"""An instance as one JSON document, for systems that embed the engine.

The document holds the manifest keys at the top level and one array of row objects per
table; region rows may carry a GeoJSON ``geometry`` (WGS84). Its JSON Schema is
:func:`reserve_opt.io.schema.instance_schema`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from reserve_opt.domain import Instance
from reserve_opt.errors import InputError
from reserve_opt.io.export import instance_manifest, instance_tables
from reserve_opt.io.raw import RawInstance, RawTable, json_locator
from reserve_opt.io.safeload import parse_json, read_text
from reserve_opt.io.spec import TABLES, lonlat_bounds_ok


def to_document(inst: Instance) -> dict[str, Any]:
    """``inst`` as a JSON-ready dict (see :func:`reserve_opt.io.schema.instance_schema`)."""
    from shapely.geometry import mapping

    doc = instance_manifest(inst)
    tables = instance_tables(inst)
    for spec in TABLES:
        rows = tables[spec.name]
        if not rows and not spec.required:
            continue
        doc[spec.name] = [{k: list(v) if isinstance(v, tuple) else v for k, v in r.items()}
                          for r in rows]
    for row, region in zip(doc["regions"], inst.regions, strict=True):
        if region.geometry is not None:
            row["geometry"] = mapping(region.geometry)
    return doc


def raw_from_document(doc: Any, source: str = "instance.json") -> RawInstance:
    """Turn a parsed JSON document into a :class:`RawInstance` for validation."""
    if not isinstance(doc, dict):
        raise InputError(f"{source}: the document must be a JSON object with one key per table")
    table_names = {t.name for t in TABLES}
    manifest = {k: v for k, v in doc.items() if k not in table_names}
    raw = RawInstance(manifest=manifest, manifest_source=source)
    for spec in TABLES:
        if spec.name not in doc:
            continue
        rows = doc[spec.name]
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raw.problems.append(
                f"{source}: '{spec.name}' must be an array of objects, one per "
                f"{spec.entity}"
            )
            raw.unreadable.add(spec.name)
            continue
        columns: list[str] = []
        for r in rows:
            columns += [k for k in r if k not in columns]
        raw.tables[spec.name] = RawTable(spec.name, f"{source} {spec.name}", columns,
                                         [dict(r) for r in rows],
                                         json_locator(source, spec.name))
    regions = doc.get("regions")
    if isinstance(regions, list):
        _read_geometry(regions, source, raw)
    return raw


def _read_geometry(regions: list[Any], source: str, raw: RawInstance) -> None:
    from shapely.errors import ShapelyError
    from shapely.geometry import shape

    raw.geometry_source = f"{source} regions geometry"
    for i, row in enumerate(regions):
        if not isinstance(row, dict) or row.get("geometry") is None:
            continue
        rid = row.get("id")
        if not isinstance(rid, str):
            continue  # the id itself is reported by the validator
        try:
            geom = shape(row["geometry"])
        except (KeyError, TypeError, ValueError, AttributeError, ShapelyError) as err:
            reason = " ".join(str(err).split())
            raw.problems.append(
                f"{source} regions[{i}]: geometry is not a GeoJSON geometry ({reason}); give "
                f"a GeoJSON Polygon or MultiPolygon in WGS84"
            )
            continue
        # the same bounds as a folder's geometry file (there after conversion to WGS84)
        if not lonlat_bounds_ok(geom.bounds):
            raw.problems.append(
                f"{source} regions[{i}]: geometry coordinates fall outside lon -180..180 / "
                f"lat -90..90; give WGS84 longitudes and latitudes in degrees"
            )
            continue
        raw.geometry[rid] = geom


def read_json(path: str | os.PathLike[str]) -> RawInstance:
    """Read a JSON instance document without validating it."""
    p = Path(path)
    # no size limit: an instance with its region polygons may be large
    doc = parse_json(read_text(p, p.name, limit=None), p.name)
    return raw_from_document(doc, p.name)


def write_json(inst: Instance, path: str | os.PathLike[str]) -> Path:
    """Write ``inst`` as one JSON document, atomically (temporary file, then rename)."""
    from reserve_opt.io.outdir import replace_file

    p = Path(path)
    text = json.dumps(to_document(inst), indent=1, ensure_ascii=False) + "\n"
    replace_file(p, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return p
