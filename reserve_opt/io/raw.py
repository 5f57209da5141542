"""An instance as it was read, before validation: a manifest and tables of rows.

Every source (a folder of CSV/Parquet files, a JSON document, the builder API) is turned
into a :class:`RawInstance`, and one validator turns that into an
:class:`~reserve_opt.domain.Instance`. Each table remembers where it came from so a
problem can name the file and row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Row = dict[str, Any]


def csv_locator(filename: str) -> Callable[[int], str]:
    """Name row ``i`` (0-based) of a CSV file by its line number (the header is line 1)."""
    return lambda i: f"{filename} line {i + 2}"


def parquet_locator(filename: str) -> Callable[[int], str]:
    """Name row ``i`` (0-based) of a Parquet file by its 1-based row number."""
    return lambda i: f"{filename} row {i + 1}"


def json_locator(document: str, table: str) -> Callable[[int], str]:
    """Name element ``i`` of a JSON array the way a JSON path would."""
    return lambda i: f"{document} {table}[{i}]"


@dataclass
class RawTable:
    """The rows of one table as read, with where they came from.

    Parameters
    ----------
    name
        Table name (see :data:`reserve_opt.io.spec.TABLES`).
    source
        File or document the table was read from, for messages.
    columns
        Column names present in the source, in source order.
    rows
        One dict per row; values are strings (CSV) or JSON/Parquet scalars.
    locate
        Turns a 0-based row number into a phrase such as ``regions.csv line 4``.
    frame
        For a columnar table read from a file: its cells as a pandas DataFrame (``rows`` is
        then empty); ``None`` otherwise.
    """

    name: str
    source: str
    columns: list[str]
    rows: list[Row]
    locate: Callable[[int], str]
    frame: Any = None


@dataclass
class RawInstance:
    """A manifest, its tables and region geometries, not yet validated.

    Parameters
    ----------
    manifest
        Top-level keys of ``instance.toml`` / ``instance.yaml`` or the JSON document.
    manifest_source
        Name of the manifest for messages.
    tables
        Tables by name; absent optional tables are simply missing.
    geometry
        Region id -> shapely geometry in WGS84, for regions with polygons.
    problems
        Problems found while reading (a file that could not be parsed, ...).
    unreadable
        Tables that exist but could not be read (already reported in ``problems``).
    geometry_source
        Name of the file the region geometry came from, for messages.
    geometry_crs
        The CRS that file declared, from which ``geometry`` was converted (``None``: WGS84).
    geometry_unplaced
        For a geometry file without a CRS: the problem to report and its polygons as read,
        so that validation can name the CRS in which the region seats fall inside them.
    roads, roads_source
        The road network read from ``[geometry] roads``
        (:class:`~reserve_opt.geo.roads.RoadNetwork`) and that file's name; ``None``, "".
    travel_matrices
        Origin-destination matrices (the wide travel form, :mod:`reserve_opt.io.odmatrix`),
        each as a long table of its cells; validation merges them into ``travel``.
    """

    manifest: dict[str, Any]
    manifest_source: str
    tables: dict[str, RawTable] = field(default_factory=dict)
    geometry: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    unreadable: set[str] = field(default_factory=set)
    geometry_source: str = "region geometry"
    geometry_crs: Any = None
    geometry_unplaced: tuple[str, dict[str, Any]] | None = None
    roads: Any = None
    roads_source: str = ""
    travel_matrices: list[RawTable] = field(default_factory=list)

    def add_hint(self, table: str) -> str:
        """How to add a missing table, in the terms of this source."""
        if self.manifest_source.endswith(".json"):
            return f"add a '{table}' array"
        if self.manifest_source == "builder":
            return f"add {table} rows"
        return f"add {table}.csv"
