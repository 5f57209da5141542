"""Turn an :class:`~reserve_opt.domain.Instance` back into manifest and table rows."""

from __future__ import annotations

from dataclasses import asdict, fields
from enum import Enum
from typing import Any

from reserve_opt.domain import Instance
from reserve_opt.io.raw import Row
from reserve_opt.io.spec import FORMAT_VERSION, SETTINGS, TABLES


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    return value


def _entity_row(table: str, entity: Any) -> Row:
    spec = next(t for t in TABLES if t.name == table)
    names = {f.name for f in fields(entity)}
    return {c.name: _plain(getattr(entity, c.name)) for c in spec.columns if c.name in names}


def instance_tables(inst: Instance) -> dict[str, list[Row]]:
    """Every table of ``inst`` as rows of plain values (absent values are ``None``)."""
    t: dict[str, list[Row]] = {spec.name: [] for spec in TABLES}
    t["regions"] = [_entity_row("regions", r) for r in inst.regions]
    t["demand_points"] = [_entity_row("demand_points", p) for p in inst.demand_points]
    t["commodities"] = [_entity_row("commodities", c) for c in inst.commodities]
    for f in inst.facilities:
        t["facilities"].append(_entity_row("facilities", f))
        t["sizes"] += [{"facility": f.id, **asdict(s)} for s in f.sizes]
        t["stock"] += [{"facility": f.id, "commodity": c, "quantity": q}
                       for c, q in f.stock.items()]
    t["contracts"] = [_entity_row("contracts", c) for c in inst.contracts]
    t["agreements"] = [_entity_row("agreements", a) for a in inst.agreements]
    for s in inst.scenarios:
        if s.implied:  # the no_event_remainder setting adds it again when read
            continue
        t["scenarios"].append(_entity_row("scenarios", s))
        t["demand"] += [{"scenario": s.id, "region": r, "commodity": c, "quantity": q}
                        for (r, c), q in s.demand.items()]
        t["affected"] += [{"scenario": s.id, "region": r, "persons": p}
                          for r, p in s.affected.items()]
        t["damage"] += [{"scenario": s.id, "facility": f, "surviving_fraction": x}
                        for f, x in s.damage.items()]
        t["outages"] += [{"scenario": s.id, "from": o.origin, "to": o.destination,
                          "speed_factor": o.speed_factor} for o in s.outages]
    t["links"] = [{"from": k.origin, "to": k.destination, "distance_km": k.distance_km,
                   "time_h": k.time_h, "speed_kmh": k.speed_kmh, "oneway": k.oneway}
                  for k in inst.links]
    t["travel"] = [{"from": a, "to": b, "distance_km": d, "time_h": h, "scenario": s,
                    "vehicle_class": c} for a, b, d, h, s, c in inst.travel.rows()]
    t["fleet"] = [_entity_row("fleet", v) for v in inst.fleet]
    for spec in TABLES:
        for col in spec.columns:
            if col.omit_when_empty and all(r.get(col.name) is None for r in t[spec.name]):
                for r in t[spec.name]:
                    r.pop(col.name, None)
    return t


def written_columns(table: str, rows: list[dict[str, Any]]) -> list[str]:
    """The columns of ``table`` a folder holds.

    Every one, but an ``omit_when_empty`` column only when some row has it
    (:func:`instance_tables` drops it from the rows otherwise).
    """
    return [c.name for c in next(t for t in TABLES if t.name == table).columns
            if not c.omit_when_empty or any(c.name in r for r in rows)]


def instance_manifest(inst: Instance) -> dict[str, Any]:
    """The manifest keys of ``inst`` (coordinates are always written as WGS84)."""
    settings = {s.name: getattr(inst.settings, s.name) for s in SETTINGS}
    if inst.roads is None:  # road_snap_km means nothing without roads
        settings.pop("road_snap_km")
    return {
        "format": FORMAT_VERSION,
        "name": inst.name,
        "description": inst.description,
        "currency": inst.currency,
        "crs": "EPSG:4326",
        "settings": {k: v for k, v in settings.items() if v is not None},
        "sources": dict(inst.sources),
    }
