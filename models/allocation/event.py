"""Events: the disaster an allocation answers, from a scenario or an event file.

An event file is TOML, YAML or JSON with the fields of a scenario::

    id = "storm-0815"            # required
    name = "Typhoon at Dalian"   # optional
    hazard = "typhoon"           # optional
    days = 3                     # days of need, default 1
    [affected]                   # persons in need by region
    dalian = 120000
    [damage]                     # surviving share of a facility's stock, 0-1
    W_dalian = 0.5
    [[demand]]                   # explicit units; wins over what the affected need
    region = "dalian"
    commodity = "tent"
    quantity = 500
    [[outages]]                  # links cut (speed_factor 0) or slowed
    from = "dalian"
    to = "dandong"
    speed_factor = 0
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Container, Iterator, Mapping
from pathlib import Path
from typing import Any

from reserve_opt.domain import Instance, Outage, Scenario
from reserve_opt.errors import InputError
from reserve_opt.io.safeload import parse_json, parse_toml, parse_yaml, read_text

__all__ = ["event_instance", "read_event"]

_KEYS = {"id", "name", "hazard", "days", "affected", "damage", "demand", "outages"}


def _load(path: Path) -> Any:
    suffix = path.suffix.lower()
    parse = {".toml": parse_toml, ".yaml": parse_yaml, ".yml": parse_yaml,
             ".json": parse_json}.get(suffix)
    if parse is None:
        raise InputError(f"{path}: unknown event file type {suffix!r}; use .toml, .yaml or "
                         ".json.")
    return parse(read_text(path, str(path)), str(path))


def _number(where: str, value: Any, lo: float, hi: float = math.inf) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not (lo <= float(value) <= hi) or not math.isfinite(float(value)):
        span = f"from {lo:g} to {hi:g}" if math.isfinite(hi) else f">= {lo:g}"
        raise InputError(f"{where} is {value!r}; give a number {span}.")
    return float(value)


def _not_in_instance(where: str, kind: str, value: Any) -> str:
    table = {"region": "regions", "facility": "facilities", "commodity": "commodities"}[kind]
    return (f"{where} names {kind} {value!r}, which is not in the instance; use a {kind} id "
            f"from {table}.")


def read_event(path: str | Path, instance: Instance) -> Scenario:
    """Read an event file and check every id against the instance.

    Parameters
    ----------
    path
        A ``.toml``, ``.yaml``/``.yml`` or ``.json`` event file (see the module docstring).
    instance
        The instance whose regions, commodities and facilities the event names.

    Returns
    -------
    Scenario
        The event as a scenario of probability 1.

    Raises
    ------
    InputError
        One sentence per problem, naming the file, field and offending id.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"Event file {p} does not exist; give the path of a .toml, .yaml or "
                         ".json event file.")
    doc = _load(p)
    if not isinstance(doc, Mapping):
        raise InputError(f"{p}: the event must be a table of fields (id, days, affected, ...).")
    problems: list[str] = []
    unknown = sorted(set(doc) - _KEYS)
    if unknown:
        problems.append(f"{p}: unknown field {unknown[0]!r}; the fields are "
                        f"{', '.join(sorted(_KEYS))}.")
    eid = doc.get("id")
    if not isinstance(eid, str) or not eid:
        problems.append(f"{p}: field 'id' is missing; give the event a short id.")
    regions, comms, facs = (instance.region_index, instance.commodity_index,
                            instance.facility_index)
    locations = set(regions) | set(facs)

    def collect(fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except InputError as err:
            problems.extend(err.problems)
            return None

    def per_id(key: str, kind: str, known: Container[str], note: str,
               *bounds: float) -> dict[str, float]:
        # a table id -> number, e.g. affected persons per region
        out: dict[str, float] = {}
        table = doc.get(key) or {}
        if not isinstance(table, Mapping):
            problems.append(f"{p}: field '{key}' must be a table of {kind} id = number "
                            f"([{key}] in TOML, a mapping in YAML or JSON).")
            return out
        for k, value in table.items():
            if k not in known:
                problems.append(_not_in_instance(f"{p}: {key}", kind, k))
                continue
            v = collect(_number, f"{p}: {key}[{k!r}]{note}", value, *bounds)
            if v is not None:
                out[k] = v
        return out

    def rows(key: str, label: str, fields: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
        # each entry of a list field that is a table, with where it stands for messages
        entries = doc.get(key) or []
        if not isinstance(entries, list):
            problems.append(f"{p}: field '{key}' must be a list of tables with {fields}.")
            return
        for i, row in enumerate(entries, start=1):
            where = f"{p}: {label} {i}"
            if isinstance(row, Mapping):
                yield where, row
            else:
                problems.append(f"{where} must be a table with {fields}.")

    days = collect(_number, f"{p}: field 'days'", doc.get("days", 1.0), 0.0)
    affected = per_id("affected", "region", regions, "", 0.0)
    damage = per_id("damage", "facility", facs, " (surviving share)", 0.0, 1.0)
    demand: dict[tuple[str, str], float] = {}
    for where, row in rows("demand", "demand entry", "region, commodity and quantity"):
        rid, cid = row.get("region"), row.get("commodity")
        if rid not in regions:
            problems.append(_not_in_instance(where, "region", rid))
        elif cid not in comms:
            problems.append(_not_in_instance(where, "commodity", cid))
        else:
            v = collect(_number, f"{where} quantity", row.get("quantity"), 0.0)
            if v is not None:
                demand[(str(rid), str(cid))] = v
    outages: list[Outage] = []
    for where, row in rows("outages", "outage", "from, to and speed_factor"):
        a, b = row.get("from"), row.get("to")
        bad = next((x for x in (a, b) if x not in locations), None)
        if bad is not None or a is None:
            problems.append(f"{where} names {bad!r}, which is neither a region nor a facility "
                            "of the instance; use their ids in from and to.")
            continue
        f = collect(_number, f"{where} speed_factor", row.get("speed_factor", 0.0), 0.0, 1.0)
        if f is not None:
            outages.append(Outage(str(a), str(b), f))
    if not problems and not affected and not demand:
        problems.append(f"{p}: the event has no demand; give affected persons or demand rows.")
    if problems:
        raise InputError(problems)
    return Scenario(
        id=str(eid), name=str(doc.get("name", eid)), probability=1.0,
        hazard=str(doc.get("hazard", "")), days=float(days), demand=demand,
        affected=affected, damage=damage, outages=tuple(outages),
    )


def event_instance(instance: Instance, event: str | Scenario) -> tuple[Instance, Scenario]:
    """The instance reduced to one event, and that event.

    Parameters
    ----------
    instance
        The instance.
    event
        A scenario id of the instance, or a scenario (e.g. from :func:`read_event`).

    Returns
    -------
    tuple of Instance and Scenario
    """
    if isinstance(event, str):
        if event not in instance.scenario_index:
            ids = ", ".join(s.id for s in instance.scenarios)
            raise InputError(f"Scenario {event!r} is not in instance {instance.name!r}; choose "
                             f"one of {ids}, or give an event file with --event.")
        sc = instance.scenario(event)
    else:
        sc = event
    return dataclasses.replace(instance, scenarios=(sc,)), sc
