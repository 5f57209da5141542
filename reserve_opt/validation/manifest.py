"""Checks of the manifest: format, name, currency, CRS and settings."""

from __future__ import annotations

import difflib
import re
from typing import Any

from reserve_opt.domain.settings import Settings
from reserve_opt.io.odmatrix import matrix_key
from reserve_opt.io.spec import FORMAT_VERSION, MANIFEST_KEYS, SETTING_BY_NAME, TABLE_BY_NAME
from reserve_opt.validation.cells import finite_number

_CURRENCY = re.compile(r"^[A-Z]{3}$")


def check_manifest(manifest: dict[str, Any], source: str, problems: list[str]) -> None:
    """Report problems with the manifest's top-level keys.

    A JSON document (or the builder) holds its tables inline as top-level arrays; a
    manifest file names files instead, under ``[tables]`` and ``[geometry]``. Either
    form's keys in the other are refused, since they would be ignored.
    """
    inline = source.endswith(".json") or source == "builder"
    for key in manifest:
        if key in TABLE_BY_NAME and not inline:
            problems.append(
                f"{source}: key '{key}' names a table, whose rows an instance folder keeps "
                f"in a file of their own; remove the key, or name the file under [tables] "
                f"({key} = \"{key}.csv\")"
            )
        elif key in ("tables", "geometry") and inline:
            problems.append(
                f"{source}: key '{key}' names files, but a document holds its tables "
                f"inline (region polygons as each region's 'geometry'); remove '{key}'"
            )
        elif key not in MANIFEST_KEYS and key not in TABLE_BY_NAME:
            close = difflib.get_close_matches(key, MANIFEST_KEYS, n=1)
            hint = f"did you mean '{close[0]}'?" if close else (
                f"known keys are {', '.join(MANIFEST_KEYS)}")
            problems.append(f"{source}: key '{key}' is not known; {hint}")
    fmt = manifest.get("format")
    if fmt is None:
        problems.append(f"{source}: key 'format' is missing; add format = \"{FORMAT_VERSION}\"")
    elif fmt != FORMAT_VERSION:
        problems.append(
            f"{source}: format '{fmt}' is not supported; this reserve-opt reads "
            f"\"{FORMAT_VERSION}\""
        )
    name = manifest.get("name")
    if name is not None and not isinstance(name, str):
        problems.append(f"{source}: name must be text, not a {_kind(name)}; write "
                        f"name = \"a short name\"")
    elif not isinstance(name, str) or not name.strip():
        problems.append(f"{source}: key 'name' is missing; add name = \"a short name\"")
    description = manifest.get("description", "")
    if not isinstance(description, str):
        problems.append(f"{source}: description must be text, not a "
                        f"{_kind(description)}; write description = \"one line\"")
    geometry = manifest.get("geometry")
    if isinstance(geometry, dict) and not isinstance(geometry.get("service_areas", False), bool):
        problems.append(f"{source}: [geometry] service_areas is not true or false; write true "
                        "when the region polygons are service areas you drew, false when they "
                        "are administrative boundaries")
    currency = manifest.get("currency")
    if currency is None:
        problems.append(
            f"{source}: key 'currency' is missing; add the ISO 4217 code of every money "
            f"figure, e.g. currency = \"CNY\""
        )
    elif not isinstance(currency, str) or not _CURRENCY.match(currency):
        problems.append(
            f"{source}: currency '{currency}' is not an ISO 4217 code; write three capital "
            f"letters such as \"CNY\" or \"USD\""
        )
    check_crs(manifest.get("crs"), source, problems)
    for section in ("tables", "geometry", "sources"):
        value = manifest.get(section, {})
        if section == "geometry" and isinstance(value, dict):
            value = {k: v for k, v in value.items() if k != "service_areas"}  # checked above
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            problems.append(
                f"{source}: [{section}] must map names to text; write e.g. "
                f"regions = \"regions.csv\""
            )
    for section in ("tables", "geometry"):
        value = manifest.get(section, {})
        if isinstance(value, dict):
            for key in value:
                if key not in TABLE_BY_NAME and (section, key) not in (
                        ("geometry", "service_areas"), ("geometry", "roads")) and not (
                        section == "tables" and matrix_key(key) is not None):
                    problems.append(
                        f"{source}: [{section}] names table '{key}', which is not known; "
                        f"use one of {', '.join(TABLE_BY_NAME)}"
                        + (", travel_distance_km, travel_time_h (origin-destination matrices)"
                           if section == "tables" else "")
                    )


def _kind(value: Any) -> str:
    """What a parsed TOML/YAML/JSON value is, in words."""
    if isinstance(value, dict):
        return "table"
    if isinstance(value, list):
        return "list"
    if isinstance(value, bool):
        return "true/false"
    return "number" if isinstance(value, int | float) else type(value).__name__


def check_crs(crs: Any, source: str, problems: list[str]) -> None:
    """Report a missing, unknown or non-geographic CRS for the lon/lat columns.

    A geographic CRS in degrees other than WGS84 is accepted: validation converts the
    lon/lat columns from it (:func:`reserve_opt.validation.places.to_wgs84`).
    """
    if crs is None:
        problems.append(
            f"{source}: key 'crs' is missing, so the lon/lat columns cannot be placed; "
            f"add crs = \"EPSG:4326\" (WGS84 degrees)"
        )
        return
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    from reserve_opt.geo.crs import in_degrees

    try:
        parsed = CRS.from_user_input(crs)
    except CRSError:
        problems.append(f"{source}: crs '{crs}' is not a CRS pyproj knows; use e.g. \"EPSG:4326\"")
        return
    if not parsed.is_geographic:
        problems.append(
            f"{source}: crs '{crs}' is projected, but lon/lat columns hold degrees; "
            f"convert them to a geographic CRS such as \"EPSG:4326\""
        )
    elif not in_degrees(parsed):
        problems.append(
            f"{source}: crs '{crs}' measures angles in {parsed.axis_info[0].unit_name}, but "
            f"lon/lat columns hold degrees; give a CRS in degrees such as \"EPSG:4326\""
        )


def parse_settings(manifest: dict[str, Any], source: str, problems: list[str]) -> Settings:
    """Read ``[settings]`` into :class:`Settings`, reporting unknown or bad keys."""
    raw = manifest.get("settings", {})
    if not isinstance(raw, dict):
        problems.append(f"{source}: [settings] must be a table of key = value lines")
        return Settings()
    values: dict[str, Any] = {}
    for key, value in raw.items():
        spec = SETTING_BY_NAME.get(key)
        if spec is None:
            close = difflib.get_close_matches(key, list(SETTING_BY_NAME), n=1)
            hint = f"did you mean '{close[0]}'?" if close else (
                f"known settings are {', '.join(SETTING_BY_NAME)}")
            problems.append(f"{source}: setting '{key}' is not known; {hint}")
            continue
        if spec.dtype == "bool":
            if not isinstance(value, bool):
                problems.append(f"{source}: setting '{key}' must be true or false")
                continue
            values[key] = value
            continue
        number = finite_number(value)
        if number is None:
            shown = repr(value) if len(repr(value)) <= 40 else f"{repr(value)[:30]}..."
            problems.append(
                f"{source}: setting '{key}' = {shown} is not a number; give it in {spec.unit}"
            )
            continue
        if spec.exclusive_minimum and spec.minimum is not None and number <= spec.minimum:
            problems.append(
                f"{source}: setting '{key}' = {number:g} is not above {spec.minimum:g}; "
                f"give more than {spec.minimum:g} {spec.unit}"
            )
            continue
        if spec.minimum is not None and number < spec.minimum:
            problems.append(
                f"{source}: setting '{key}' = {number:g} is below {spec.minimum:g}; "
                f"give at least {spec.minimum:g} {spec.unit}"
            )
            continue
        if spec.maximum is not None and number > spec.maximum:
            problems.append(
                f"{source}: setting '{key}' = {number:g} is above {spec.maximum:g}; "
                f"give at most {spec.maximum:g} {spec.unit}"
            )
            continue
        values[key] = number
    return Settings(**values)
