"""Validate a raw instance and build the immutable :class:`~reserve_opt.domain.Instance`."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from types import MappingProxyType
from typing import Any

from reserve_opt.domain import (
    Agreement,
    Commodity,
    Contract,
    ContractKind,
    DemandPoint,
    Facility,
    FacilityKind,
    Instance,
    Link,
    Outage,
    Region,
    Scenario,
    SizeOption,
    Tier,
    TravelTable,
    VehicleType,
)
from reserve_opt.domain.scenario import NO_EVENT
from reserve_opt.errors import InputError
from reserve_opt.io.raw import RawInstance, Row
from reserve_opt.io.spec import TABLE_BY_NAME, TABLES
from reserve_opt.validation.cells import check_columns, check_table
from reserve_opt.validation.cross import PROBABILITY_TOLERANCE, check_cross
from reserve_opt.validation.manifest import check_manifest, parse_settings
from reserve_opt.validation.places import check_places, to_wgs84, unplaced
from reserve_opt.validation.wide import merge_matrices


def find_problems(raw: RawInstance) -> tuple[list[str], dict[str, list[Row]], Any, float | None]:
    """Run every check on ``raw``; return problems, parsed rows, settings, probability sum."""
    problems = list(raw.problems)
    check_manifest(raw.manifest, raw.manifest_source, problems)
    if raw.travel_matrices and "travel" not in raw.tables:
        # the wide form becomes the long table, checked by its rules from here on
        merged = merge_matrices(raw.travel_matrices, raw.manifest_source, problems)
        if merged is not None:
            raw = replace(raw, tables={**raw.tables, "travel": merged})
    settings = parse_settings(raw.manifest, raw.manifest_source, problems)
    parsed: dict[str, list[Row]] = {}
    for spec in TABLES:
        table = raw.tables.get(spec.name)
        if table is None:
            continue
        # a columnar table is parsed as one row holding a column array per column
        parsed[spec.name] = ([check_columns(spec, table, problems)] if spec.columnar
                             else check_table(spec, table, problems))
    for spec in TABLES:
        if spec.required and spec.name not in raw.tables and spec.name not in raw.unreadable:
            problems.append(
                f"{raw.manifest_source}: table '{spec.name}' is missing; every instance needs "
                f"{', '.join(t.name for t in TABLES if t.required)} ({raw.add_hint(spec.name)})"
            )
    to_wgs84(raw.manifest.get("crs"), parsed)
    if "regions" in parsed:
        known = {r["id"] for r in parsed["regions"]}
        for rid in raw.geometry:
            if rid not in known:
                problems.append(
                    f"{raw.manifest.get('geometry', {}).get('regions', 'region geometry')}: "
                    f"feature id '{rid}' is not a region in {raw.tables['regions'].source}; "
                    f"fix the id or add the region"
                )
        check_places(raw.tables, parsed, raw.geometry, raw.geometry_source, raw.geometry_crs,
                     problems)
    if raw.geometry_unplaced is not None:
        problems.append(unplaced(*raw.geometry_unplaced, raw.tables, parsed))
    total = check_cross(raw.tables, parsed, settings.normalise_probabilities,
                        raw.manifest_source, problems, settings.no_event_remainder)
    return problems, parsed, settings, total


def _travel(cols: dict[str, Any]) -> TravelTable:
    """The travel table's parsed columns as codes into its places and scenarios."""
    a, b, sc, vc = cols["from"], cols["to"], cols["scenario"], cols["vehicle_class"]
    places = a.categories.append(b.categories).unique()
    return TravelTable(
        places=tuple(places), origin=places.get_indexer(a.categories)[a.codes],
        destination=places.get_indexer(b.categories)[b.codes],
        distance_km=cols["distance_km"], time_h=cols["time_h"],
        scenarios=tuple(sc.categories), scenario=sc.codes,
        classes=tuple(vc.categories), vehicle_class=vc.codes)


def validate_raw(raw: RawInstance) -> Instance:
    """Check ``raw`` completely and build the instance.

    Raises
    ------
    InputError
        Listing every problem found, one sentence each.
    """
    problems, parsed, settings, total = find_problems(raw)
    if problems:
        raise InputError(problems)
    return _build(raw, parsed, settings, total)


def _group(rows: list[Row], key: str) -> dict[str, list[Row]]:
    out: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        out[row[key]].append(row)
    return out


def _entity_kwargs(table: str, row: Row, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """Row values for the entity's fields, with nullable defaults filled in."""
    out: dict[str, Any] = {}
    for col in TABLE_BY_NAME[table].columns:
        if col.name in skip:
            continue
        value = row.get(col.name)
        out[col.name] = col.default if value is None else value
    return out


def _build(raw: RawInstance, parsed: dict[str, list[Row]], settings: Any,
           total: float | None) -> Instance:
    m = raw.manifest
    regions = tuple(
        Region(**_entity_kwargs("regions", r), geometry=raw.geometry.get(r["id"]))
        for r in parsed["regions"]
    )
    commodities = tuple(Commodity(**_entity_kwargs("commodities", r))
                        for r in parsed["commodities"])
    sizes = _group(parsed.get("sizes", []), "facility")
    stock = _group(parsed.get("stock", []), "facility")
    facilities = tuple(
        Facility(
            **{**_entity_kwargs("facilities", r), "kind": FacilityKind(r["kind"])},
            sizes=tuple(SizeOption(s["size"], s["capacity_m3"], s["fixed_cost"])
                        for s in sizes.get(r["id"], [])),
            stock=MappingProxyType({s["commodity"]: s["quantity"]
                                    for s in stock.get(r["id"], [])}),
        )
        for r in parsed["facilities"]
    )
    contracts = tuple(
        Contract(**{**_entity_kwargs("contracts", r), "kind": ContractKind(r["kind"])})
        for r in parsed.get("contracts", [])
    )
    agreements = tuple(
        Agreement(**{**_entity_kwargs("agreements", r), "tier": Tier(r["tier"])})
        for r in parsed.get("agreements", [])
    )
    demand, affected = _group(parsed.get("demand", []), "scenario"), _group(
        parsed.get("affected", []), "scenario")
    damage, outages = _group(parsed.get("damage", []), "scenario"), _group(
        parsed.get("outages", []), "scenario")
    scenarios = tuple(
        Scenario(
            **{**_entity_kwargs("scenarios", r),
               "probability": r["probability"] / total if total else r["probability"]},
            demand=MappingProxyType({(d["region"], d["commodity"]): d["quantity"]
                                     for d in demand.get(r["id"], [])}),
            affected=MappingProxyType({a["region"]: a["persons"]
                                       for a in affected.get(r["id"], [])}),
            damage=MappingProxyType({d["facility"]: d["surviving_fraction"]
                                     for d in damage.get(r["id"], [])}),
            outages=tuple(Outage(o["from"], o["to"], o["speed_factor"])
                          for o in outages.get(r["id"], [])),
        )
        for r in parsed["scenarios"]
    )
    rest = 1.0 - sum(s.probability for s in scenarios)
    if settings.no_event_remainder and rest > PROBABILITY_TOLERANCE:
        # annual probabilities: the years without any of the events
        scenarios += (Scenario(id=NO_EVENT, name="No event (the rest of the probability)",
                               probability=rest, days=0.0, implied=True),)
    links = tuple(Link(r["from"], r["to"], r["distance_km"], r["time_h"], r["speed_kmh"],
                       bool(r["oneway"])) for r in parsed.get("links", []))
    travel = _travel(parsed["travel"][0]) if parsed.get("travel") else TravelTable()
    fleet = tuple(VehicleType(**_entity_kwargs("fleet", r)) for r in parsed.get("fleet", []))
    points = tuple(DemandPoint(**_entity_kwargs("demand_points", r))
                   for r in parsed.get("demand_points", []))
    inst = Instance(
        name=m["name"],
        currency=m["currency"],
        description=m.get("description", ""),
        regions=regions,
        commodities=commodities,
        facilities=facilities,
        contracts=contracts,
        agreements=agreements,
        scenarios=scenarios,
        links=links,
        fleet=fleet,
        travel=travel,
        roads=raw.roads,
        demand_points=points,
        settings=settings,
        sources=MappingProxyType(dict(m.get("sources", {}))),
        service_areas=isinstance(m.get("geometry"), dict)
        and m["geometry"].get("service_areas") is True,
    )
    if inst.roads is not None:
        from reserve_opt.transport import RoadGraph

        RoadGraph(inst)  # refuses a place farther from the roads than road_snap_km
    return inst
