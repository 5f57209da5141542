"""The published JSON Schema of an instance document, generated from the format spec."""

from __future__ import annotations

from typing import Any

from reserve_opt.io.spec import FORMAT_VERSION, SETTINGS, TABLES, Column

_JSON_TYPES = {"str": "string", "float": "number", "int": "integer", "bool": "boolean"}
SCHEMA_ID = "https://reserve-opt.invalid/schema/instance-1.json"


def _column_schema(col: Column) -> dict[str, Any]:
    if col.dtype == "list":
        out: dict[str, Any] = {"type": "array", "items": {"type": "string"}}
    else:
        out = {"type": _JSON_TYPES[col.dtype]}
    if col.choices:
        out["enum"] = list(col.choices)
    if col.minimum is not None:
        out["exclusiveMinimum" if col.exclusive_minimum else "minimum"] = col.minimum
    if col.maximum is not None:
        out["maximum"] = col.maximum
    desc = col.doc
    if col.unit:
        desc = f"{desc} [{col.unit}]" if desc else f"[{col.unit}]"
    if col.ref:
        desc += f" (an id from {col.ref if col.ref != 'locations' else 'regions or facilities'})"
    if desc:
        out["description"] = desc.strip()
    if col.nullable:
        out = {"anyOf": [out, {"type": "null"}],
               **({"description": out.pop("description")} if "description" in out else {})}
    return out


def instance_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of the document written by ``write_json``."""
    tables: dict[str, Any] = {}
    for spec in TABLES:
        props = {c.name: _column_schema(c) for c in spec.columns}
        if spec.name == "regions":
            props["geometry"] = {
                "description": "boundary as a GeoJSON geometry in WGS84",
                "anyOf": [{"type": "object", "required": ["type"]}, {"type": "null"}],
            }
        tables[spec.name] = {
            "type": "array",
            "description": spec.doc,
            "items": {
                "type": "object",
                "properties": props,
                "required": [c.name for c in spec.columns if c.required],
                "additionalProperties": False,
            },
        }
    settings = {
        s.name: {
            "type": "number" if s.dtype == "float" else "boolean",
            "description": f"{s.doc}" + (f" [{s.unit}]" if s.unit else ""),
            **({"exclusiveMinimum" if s.exclusive_minimum else "minimum": s.minimum}
               if s.dtype == "float" and s.minimum is not None else {}),
            **({"maximum": s.maximum} if s.dtype == "float" and s.maximum is not None else {}),
        }
        for s in SETTINGS
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "reserve-opt instance",
        "description": "An emergency reserve planning instance. Money is in 'currency'; "
        "commodity quantities are in each commodity's own unit.",
        "type": "object",
        "required": ["format", "name", "currency", "crs",
                     *[t.name for t in TABLES if t.required]],
        "additionalProperties": False,
        "properties": {
            "format": {"const": FORMAT_VERSION},
            "name": {"type": "string", "minLength": 1},
            "description": {"type": "string"},
            "currency": {"type": "string", "pattern": "^[A-Z]{3}$",
                         "description": "ISO 4217 code of every money figure"},
            "crs": {"type": "string",
                    "description": "geographic CRS of lon/lat in degrees, e.g. EPSG:4326; "
                                   "another is converted to WGS84 on reading"},
            "settings": {"type": "object", "properties": settings,
                         "additionalProperties": False},
            "sources": {"type": "object", "additionalProperties": {"type": "string"},
                        "description": "where the numbers of each table came from"},
            "tables": {"type": "object", "additionalProperties": {"type": "string"}},
            "geometry": {"type": "object", "additionalProperties": {"type": "string"}},
            **tables,
        },
    }
