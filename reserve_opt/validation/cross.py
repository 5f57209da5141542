"""Checks of tables against each other: references, probabilities and domain rules."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from reserve_opt.domain.scenario import NO_EVENT
from reserve_opt.io.raw import RawTable, Row
from reserve_opt.io.spec import TABLES
from reserve_opt.validation.cells import check_refs, row_label, unknown_ref

Parsed = dict[str, list[Row]]

PROBABILITY_TOLERANCE = 1e-6
"""Scenario probabilities may miss 1 by this much before they are rejected."""

# (table, column, referenced table) for every id reference except "locations".
_REFS = (
    ("regions", "parent", "regions"),
    ("facilities", "region", "regions"),
    ("sizes", "facility", "facilities"),
    ("stock", "facility", "facilities"),
    ("stock", "commodity", "commodities"),
    ("contracts", "facility", "facilities"),
    ("contracts", "commodity", "commodities"),
    ("agreements", "lender", "regions"),
    ("agreements", "borrower", "regions"),
    ("agreements", "commodities", "commodities"),
    ("demand", "scenario", "scenarios"),
    ("demand", "region", "regions"),
    ("demand", "commodity", "commodities"),
    ("affected", "scenario", "scenarios"),
    ("affected", "region", "regions"),
    ("damage", "scenario", "scenarios"),
    ("damage", "facility", "facilities"),
    ("outages", "scenario", "scenarios"),
    ("fleet", "depot", "facilities"),
    ("demand_points", "region", "regions"),
)
_ENTITY = {"regions": "region", "facilities": "facility", "commodities": "commodity",
           "scenarios": "scenario"}


def _ids(parsed: Parsed, table: str) -> set[str]:
    return {r["id"] for r in parsed.get(table, []) if r.get("id") is not None}


def check_cross(
    tables: dict[str, RawTable], parsed: Parsed, settings_normalise: bool, source: str,
    problems: list[str], remainder: bool = False,
) -> float | None:
    """Run every cross-table check (``remainder``: the no_event_remainder setting).

    Returns
    -------
    float or None
        The sum of scenario probabilities when they are to be normalised, else None.
    """
    for table, column, target in _REFS:
        # A missing or unreadable target table is reported once, not once per reference.
        if table not in parsed or target not in parsed:
            continue
        where = tables[target].source
        entity = _ENTITY[target]
        check_refs(tables[table], parsed[table], column, _ids(parsed, target),
                   f"a {entity} in {where}", problems,
                   f"use a {entity} id from {where}, or add the {entity} there")
    regions, facilities = _ids(parsed, "regions"), _ids(parsed, "facilities")
    for i, row in enumerate(parsed.get("facilities", [])):
        if row.get("id") in regions:
            problems.append(
                f"{row_label(tables['facilities'], i, tables['facilities'].rows[i])}: id "
                f"'{row['id']}' is also a region id; give regions and facilities different ids"
            )
    _check_point_ids(tables, parsed, regions, facilities, problems)
    locations = regions | facilities | _ids(parsed, "demand_points")
    for table in ("outages", "links"):
        if table in parsed and "regions" in parsed and "facilities" in parsed:
            for column in ("from", "to"):
                check_refs(tables[table], parsed[table], column, locations,
                           "a region or facility id", problems,
                           "use the id of a region or facility, or add it")
            _check_self_links(tables[table], parsed[table], problems)
    for i, row in enumerate(parsed.get("links", [])):
        if row.get("time_h") is not None and row.get("speed_kmh") is not None:
            problems.append(
                f"{tables['links'].locate(i)}: both time_h and speed_kmh are given; give one "
                "of them, the other would be ignored")
    _check_columnar_refs(tables, parsed, locations, problems)
    _check_vehicle_classes(tables, parsed, problems)
    _check_outages_on_links(tables, parsed, problems)
    _check_parents(tables, parsed, problems)
    _check_facilities(tables, parsed, problems)
    _check_contracts(tables, parsed, problems)
    _check_agreements(tables, parsed, problems)
    _check_needs(tables, parsed, problems)
    return _check_probabilities(tables, parsed, settings_normalise, source, problems,
                                remainder)


def _first(parsed: Parsed, table: str, column: str) -> dict[str, Any]:
    """Id -> value of ``column``, from the first row holding each id (duplicates aside)."""
    out: dict[str, Any] = {}
    for row in parsed.get(table, []):
        out.setdefault(row["id"], row.get(column))
    return out


def _check_columnar_refs(tables: dict[str, RawTable], parsed: Parsed, locations: set[str],
                         problems: list[str]) -> None:
    """References and self-pairs of columnar tables (the travel table), checked per id."""
    for spec in TABLES:
        if not spec.columnar or not parsed.get(spec.name):
            continue
        table, cols = tables[spec.name], parsed[spec.name][0]
        found: list[tuple[int, str]] = []
        for col in spec.columns:
            if col.ref is None:
                continue
            if col.ref == "locations":
                if "regions" not in parsed or "facilities" not in parsed:
                    continue
                known, what, fallback = (locations, "a region or facility id",
                                         "use the id of a region or facility, or add it")
            else:
                if col.ref not in parsed:
                    continue
                where, entity = tables[col.ref].source, _ENTITY[col.ref]
                known, what, fallback = (_ids(parsed, col.ref), f"a {entity} in {where}",
                                         f"use a {entity} id from {where}, or add the "
                                         f"{entity} there")
            cat = cols[col.name]
            for k, value in enumerate(cat.categories):
                if value not in known:  # each distinct id once, then its rows by code
                    message = unknown_ref(col.name, value, known, what, fallback)
                    found += [(int(i), f"{table.locate(int(i))}: {message}")
                              for i in np.flatnonzero(cat.codes == k)]
        if "from" in cols and "to" in cols:
            # both ends coded into one list of places, so equal codes are equal ids
            a, b = cols["from"], cols["to"]
            places = a.categories.append(b.categories).unique()
            a_at = np.append(places.get_indexer(a.categories), -1)[a.codes]
            b_at = np.append(places.get_indexer(b.categories), -2)[b.codes]
            found += [(int(i), f"{table.locate(int(i))}: from and to are both "
                       f"'{places[a_at[i]]}'; give two different places (a place to itself "
                       "takes no time)")
                      for i in np.flatnonzero(a_at == b_at)]
        problems += [m for _, m in sorted(found, key=lambda x: x[0])]


def _check_vehicle_classes(tables: dict[str, RawTable], parsed: Parsed,
                           problems: list[str]) -> None:
    """Travel classes and fleet classes name each other; a class row gives its time."""
    cols = parsed["travel"][0] if parsed.get("travel") else None
    given: set[str] = set()
    if cols is not None:
        travel, cat = tables["travel"], cols["vehicle_class"]
        given = set(cat.categories)
        used = {r.get("vehicle_class") for r in parsed.get("fleet", [])}
        fleet = tables["fleet"].source if "fleet" in tables else "a fleet table"
        found: list[tuple[int, str]] = []
        for k, name in enumerate(cat.categories):
            rows = np.flatnonzero(cat.codes == k)
            if name not in used:
                found.append((int(rows[0]), f"{travel.locate(int(rows[0]))}: vehicle_class "
                              f"'{name}' is the vehicle_class of no row in {fleet}; name it "
                              "in the vehicles' fleet row or drop its travel rows"))
            found += [(int(i), f"{travel.locate(int(i))}: time_h is empty on a row of "
                       f"vehicle_class '{name}'; give the class's travel time (a class row "
                       "sets its vehicles' time, not a distance)")
                      for i in rows[np.isnan(cols["time_h"][rows])]]
        problems += [m for _, m in sorted(found, key=lambda x: x[0])]
    for i, row in enumerate(parsed.get("fleet", [])):
        name = row.get("vehicle_class")
        if name is not None and name not in given:
            where = tables["travel"].source if "travel" in tables else "a travel table"
            problems.append(
                f"{row_label(tables['fleet'], i, tables['fleet'].rows[i])}: vehicle_class "
                f"'{name}' has no rows in {where}; give the class's times there or empty "
                "the cell")


def _check_point_ids(tables: dict[str, RawTable], parsed: Parsed, regions: set[str],
                     facilities: set[str], problems: list[str]) -> None:
    """Demand point ids apart from region and facility ids; shares given for all or none."""
    rows = parsed.get("demand_points") or []
    if not rows:
        return
    table = tables["demand_points"]
    for i, row in enumerate(rows):
        clash = ("region" if row.get("id") in regions else
                 "facility" if row.get("id") in facilities else None)
        if clash:
            problems.append(f"{row_label(table, i, table.rows[i])}: id '{row['id']}' is also "
                            f"a {clash} id; give demand points ids of their own")
    by_region: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        if row.get("region") is not None:
            by_region.setdefault(row["region"], []).append(i)
    for rid, idx in by_region.items():
        given = [i for i in idx if rows[i].get("share") is not None]
        if given and len(given) < len(idx):
            miss = next(i for i in idx if rows[i].get("share") is None)
            problems.append(
                f"{row_label(table, miss, table.rows[miss])}: share is empty while other "
                f"points of region '{rid}' give one; give a share for every point of the "
                "region (they sum to 1) or for none (population then sets them)")
        elif given:
            total = sum(float(rows[i]["share"]) for i in idx)
            if abs(total - 1.0) > PROBABILITY_TOLERANCE:
                problems.append(
                    f"{table.source}: the shares of region '{rid}''s {len(idx)} demand points "
                    f"sum to {total:g}; make them sum to 1")


def _check_self_links(table: RawTable, rows: list[Row], problems: list[str]) -> None:
    for i, row in enumerate(rows):
        if row.get("from") is not None and row.get("from") == row.get("to"):
            problems.append(
                f"{table.locate(i)}: from and to are both '{row['from']}'; a link joins two "
                f"different places"
            )


def _check_outages_on_links(tables: dict[str, RawTable], parsed: Parsed,
                            problems: list[str]) -> None:
    """With a links table, an outage must name one of its links (or a facility's own road).

    Travel then follows the links only, so an outage between two places no link joins
    would silently change nothing.
    """
    links = parsed.get("links") or []
    if not links or "outages" not in parsed:
        return
    joined = {frozenset((r.get("from"), r.get("to"))) for r in links}
    region_of = {r.get("id"): r.get("region") for r in parsed.get("facilities", [])}
    for i, row in enumerate(parsed["outages"]):
        a, b = row.get("from"), row.get("to")
        if a is None or b is None or a == b:
            continue  # reported by the reference checks
        if frozenset((a, b)) in joined or region_of.get(a) == b or region_of.get(b) == a:
            continue
        problems.append(
            f"{tables['outages'].locate(i)}: outage {a} - {b} names no link of "
            f"{tables['links'].source}, so it would change nothing; cut or slow a pair listed "
            "there (or a facility and its own region)")


def _check_parents(tables: dict[str, RawTable], parsed: Parsed, problems: list[str]) -> None:
    parent = {r["id"]: r.get("parent") for r in parsed.get("regions", []) if r.get("id")}
    reported: set[frozenset[str]] = set()
    for start in parent:
        seen = [start]
        node = parent.get(start)
        while node is not None and node in parent:
            if node == start and frozenset(seen) not in reported:
                reported.add(frozenset(seen))
                problems.append(
                    f"{tables['regions'].source}: regions {' -> '.join([*seen, start])} are "
                    f"each other's parents; break the cycle in the parent column"
                )
                break
            if node in seen or node == start:
                break
            seen.append(node)
            node = parent.get(node)


def _check_facilities(tables: dict[str, RawTable], parsed: Parsed, problems: list[str]) -> None:
    kind = _first(parsed, "facilities", "kind")
    existing = _first(parsed, "facilities", "existing")
    sized = {r["facility"] for r in parsed.get("sizes", [])}
    fac = tables.get("facilities")
    for i, row in enumerate(parsed.get("facilities", [])):
        if row.get("kind") != "government_warehouse" or fac is None:
            continue
        label = row_label(fac, i, fac.rows[i])
        if row.get("existing") and row.get("capacity_m3") is None:
            problems.append(
                f"{label}: an existing government warehouse needs capacity_m3; give its "
                f"storage space in m3"
            )
        if not row.get("existing") and row["id"] not in sized:
            problems.append(
                f"{label}: a candidate warehouse has no size options; add rows for it to "
                f"sizes.csv (capacity_m3, fixed_cost)"
            )
    for table, what in (("sizes", "size options"), ("stock", "stock")):
        for i, row in enumerate(parsed.get(table, [])):
            fid = row.get("facility")
            if fid not in kind:
                continue
            if table == "sizes" and (kind[fid] != "government_warehouse" or existing[fid]):
                problems.append(
                    f"{tables[table].locate(i)}: facility '{fid}' is not a candidate government "
                    f"warehouse, so it cannot have {what}; set existing = false or remove the row"
                )
            if table == "stock" and kind[fid] != "government_warehouse":
                problems.append(
                    f"{tables[table].locate(i)}: facility '{fid}' is a {kind[fid]}, not a "
                    f"government warehouse; put enterprise stock in contracts.csv"
                )
            if table == "stock" and kind[fid] == "government_warehouse" and not existing[fid]:
                problems.append(
                    f"{tables[table].locate(i)}: facility '{fid}' is a candidate warehouse and "
                    f"holds no stock yet; remove the row or set existing = true"
                )


_CONTRACT_FACILITY = {"stock": "enterprise_reserve", "capacity": "production_capacity"}


def _check_contracts(tables: dict[str, RawTable], parsed: Parsed, problems: list[str]) -> None:
    kind = _first(parsed, "facilities", "kind")
    if "contracts" not in parsed:
        return
    table = tables["contracts"]
    for i, row in enumerate(parsed["contracts"]):
        label = row_label(table, i, table.rows[i])
        need = _CONTRACT_FACILITY.get(row.get("kind") or "")
        fid = row.get("facility")
        if need and fid in kind and kind[fid] != need:
            problems.append(
                f"{label}: a {row['kind']} contract needs an {need.replace('_', ' ')} "
                f"facility, but '{fid}' is a {kind[fid]}; change the facility's kind or the "
                f"contract's"
            )
        if row.get("kind") == "capacity" and not row.get("rate_per_day"):
            problems.append(
                f"{label}: a capacity contract needs rate_per_day above 0; give units per day"
            )


def _check_agreements(tables: dict[str, RawTable], parsed: Parsed, problems: list[str]) -> None:
    if "agreements" not in parsed:
        return
    table = tables["agreements"]
    alliances = Counter(r.get("alliance") for r in parsed.get("regions", []) if r.get("alliance"))
    for i, row in enumerate(parsed["agreements"]):
        label = row_label(table, i, table.rows[i])
        pair = row.get("lender") is not None or row.get("borrower") is not None
        alliance: Any = row.get("alliance")
        if pair == (alliance is not None):
            problems.append(
                f"{label}: give either lender and borrower, or alliance, not "
                f"{'both' if pair else 'neither'}"
            )
            continue
        if pair and (row.get("lender") is None or row.get("borrower") is None):
            problems.append(f"{label}: give both lender and borrower")
        elif pair and row["lender"] == row["borrower"]:
            problems.append(
                f"{label}: lender and borrower are both '{row['lender']}'; own stock needs "
                f"no agreement"
            )
        elif alliance is not None and alliances[alliance] < 2:
            problems.append(
                f"{label}: alliance '{alliance}' has {alliances[alliance]} member region(s) in "
                f"{tables['regions'].source}; set the alliance column of at least two regions"
            )


_NEEDS = ("need_per_person_day", "need_per_person", "persons_per_unit")


def _check_needs(tables: dict[str, RawTable], parsed: Parsed, problems: list[str]) -> None:
    """A commodity states its need one way: per person and day, or per person once."""
    table = tables.get("commodities")
    for i, row in enumerate(parsed.get("commodities", [])):
        assert table is not None
        label = row_label(table, i, table.rows[i])
        given = [n for n in _NEEDS if row.get(n)]
        if row.get("persons_per_unit") == 0:
            problems.append(f"{label}: persons_per_unit is 0; give the persons one unit "
                            "serves (a family tent: 4), or leave it empty")
        elif len(given) > 1:
            problems.append(
                f"{label}: gives both {given[0]} and {given[1]}; give one need: "
                "need_per_person_day for goods used up each day (water, food), "
                "need_per_person or persons_per_unit for goods needed once (quilts, tents, "
                "kits)")


def _check_probabilities(
    tables: dict[str, RawTable], parsed: Parsed, normalise: bool, source: str,
    problems: list[str], remainder: bool,
) -> float | None:
    rows = parsed.get("scenarios", [])
    probs = [r["probability"] for r in rows if r.get("probability") is not None]
    if not rows or len(probs) != len(rows):
        return None
    where = tables["scenarios"].source
    builder = source == "builder"

    def setting(name: str) -> str:
        return (f"pass {name}=True to the builder" if builder else
                f"set {name} = true under [settings] in {source}")

    if normalise and remainder:
        problems.append(
            f"{source}: normalise_probabilities and no_event_remainder are both set, but the "
            "first scales the probabilities up to 1 and the second keeps them and adds the "
            "rest as 'no_event'; keep one")
        return None
    total = float(sum(probs))
    if abs(total - 1.0) <= PROBABILITY_TOLERANCE:
        return None
    if normalise and total > 0:
        return total
    ids = [str(r.get("id")) for r in rows]
    scaled = ", ".join(f"{i} {p:g} -> {p / total:.3g}" for i, p in zip(ids[:8], probs,
                                                                         strict=False))
    if len(rows) > 8:
        scaled += f", and {len(rows) - 8} more"
    if total > 1.0:
        problems.append(
            f"{where}: scenario probabilities sum to {total:.6g}, above 1, but scenarios are "
            "events that exclude each other (the major event of a year), so their "
            "probabilities sum to at most 1; lower them, or "
            f"{setting('normalise_probabilities')} to divide each by {total:.6g} ({scaled})")
        return None
    if remainder:
        if NO_EVENT in ids:
            problems.append(
                f"{where}: no_event_remainder adds scenario '{NO_EVENT}' with the rest of the "
                f"probability ({1.0 - total:.6g}), but that id is taken; rename that "
                f"scenario, or give it the rest yourself so the probabilities sum to 1")
        return None
    normalising = ("normalise_probabilities=True" if builder else
                   "normalise_probabilities = true")
    if total <= 0:
        problems.append(f"{where}: scenario probabilities are all 0; give each event its "
                        "probability")
        return None
    problems.append(
        f"{where}: scenario probabilities sum to {total:.6g}, below 1; if the rest is "
        f"the chance that no event happens, {setting('no_event_remainder')} (it adds scenario "
        f"'{NO_EVENT}' with probability {1.0 - total:.6g} and no demand) or add that "
        f"scenario yourself; {normalising} would instead divide each by {total:.6g} "
        f"({scaled})")
    return None
