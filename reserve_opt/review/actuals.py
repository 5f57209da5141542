"""What actually happened in one event: a folder of tables, validated like an instance.

An actuals folder holds a manifest ``actuals.toml`` and CSV (or Parquet) tables::

    format = "reserve-opt-actuals/1"
    event = "typhoon-2026-08"        # required: a short id
    name = "Typhoon Haikui, August"  # optional
    scenario = "typhoon_east"        # optional: the instance's scenario it resembles
    days = 3                         # required: days of need (consumables)
    description = "..."              # optional
    [sources]                        # optional: where each table's numbers came from

Tables (only ``requests`` is required; see :data:`ACTUAL_TABLES` for columns and units):
``requests`` (what each region asked for per commodity and day), ``deliveries`` (what
arrived, from which source, by which channel, when), ``damaged`` (stock found damaged),
``cuts`` (roads found cut or slowed), ``costs`` (money paid) and ``affected`` (persons in
need). Every cell is checked by the instance's own machinery
(:func:`reserve_opt.validation.cells.check_table`), so the messages read alike:
``deliveries.csv line 3: source 'W_nowhere' is not a facility of the instance; ...``.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reserve_opt.domain import FacilityKind, Instance
from reserve_opt.errors import InputError, shown
from reserve_opt.io.folder import read_table_file
from reserve_opt.io.paths import confined_path
from reserve_opt.io.raw import RawTable, Row
from reserve_opt.io.safeload import parse_toml, read_text
from reserve_opt.io.spec import Column, Table
from reserve_opt.validation.cells import check_refs, check_table, row_label

__all__ = ["ACTUALS_FORMAT", "ACTUAL_TABLES", "CHANNELS", "Actuals", "read_actuals"]

ACTUALS_FORMAT = "reserve-opt-actuals/1"
"""Value of the ``format`` key of ``actuals.toml``."""

MANIFEST = "actuals.toml"
_KEYS = ("format", "event", "name", "scenario", "days", "description", "sources")

#: How goods reached a region: through the plan (own stock, an agreement, a parent region,
#: an enterprise contract) or outside it (a donation, a purchase on the market).
CHANNELS = ("own_stock", "agreement", "parent", "contract", "donation", "purchase")
PLANNED_CHANNELS = CHANNELS[:4]
#: Kinds of money paid.
PAYMENT_KINDS = ("agreement", "contract", "transport", "purchase", "other")

_H = "h after the event's start"

ACTUAL_TABLES: tuple[Table, ...] = (
    Table("requests", "request", key=("region", "commodity", "day"), required=True,
          doc="what each region asked for, per commodity and day of the event",
          columns=(
              Column("region", "str", ref="regions"),
              Column("commodity", "str", ref="commodities"),
              Column("day", "int", "days", minimum=1, maximum=366,
                     doc="day of the event, 1 = the first 24 h"),
              Column("quantity", "float", "units", minimum=0.0, doc="units requested"),
          )),
    Table("deliveries", "delivery",
          doc="what arrived in each region: from which source, by which channel, when",
          columns=(
              Column("id", "str", required=False, nullable=True, doc="delivery note id"),
              Column("region", "str", ref="regions", doc="receiving region"),
              Column("commodity", "str", ref="commodities"),
              Column("quantity", "float", "units", minimum=0.0, exclusive_minimum=True),
              Column("channel", "str", choices=CHANNELS,
                     doc="own_stock, agreement, parent, contract, donation or purchase"),
              Column("source", "str", required=False, nullable=True, ref="facilities",
                     doc="facility the goods left; empty only for a donation or purchase"),
              Column("reference", "str", required=False, nullable=True,
                     doc="agreement id (channel agreement) or contract id (channel contract)"),
              Column("depart_h", "float", "h", required=False, nullable=True, minimum=None,
                     doc=f"when the goods left, {_H}"),
              Column("arrive_h", "float", "h", minimum=None, doc=f"when they arrived, {_H}"),
          )),
    Table("damaged", "damage row", key=("facility", "commodity"),
          doc="stock found damaged or unreachable",
          columns=(
              Column("facility", "str", ref="facilities"),
              Column("commodity", "str", ref="commodities"),
              Column("quantity", "float", "units", minimum=0.0, doc="units found damaged"),
          )),
    Table("cuts", "cut road", key=("from", "to"),
          doc="roads found cut (speed_factor 0) or slowed",
          columns=(
              Column("from", "str", ref="locations"),
              Column("to", "str", ref="locations"),
              Column("speed_factor", "float", "fraction", required=False, nullable=True,
                     default=0.0, minimum=0.0, maximum=1.0,
                     doc="share of normal speed left, 0 = cut"),
          )),
    Table("costs", "payment",
          doc="money paid for the response",
          columns=(
              Column("id", "str", required=False, nullable=True, doc="voucher id"),
              Column("payer", "str", doc="region id that paid"),
              Column("payee", "str", doc="region or facility id (or a firm's name) paid"),
              Column("kind", "str", choices=PAYMENT_KINDS),
              Column("reference", "str", required=False, nullable=True,
                     doc="agreement or contract id the payment settles"),
              Column("amount", "float", "currency", minimum=0.0),
          )),
    Table("affected", "affected row", key=("region",),
          doc="persons in need, per region",
          columns=(
              Column("region", "str", ref="regions"),
              Column("persons", "float", "persons", minimum=0.0),
          )),
)
ACTUAL_TABLE_BY_NAME = {t.name: t for t in ACTUAL_TABLES}

#: What each optional table's absence means for the review (said, never guessed around).
MISSING = {
    "deliveries": "no deliveries.csv: fill rates, response times, stock, contract and "
                  "agreement use and the settlement due cannot be computed (nothing is taken "
                  "as delivered)",
    "damaged": "no damaged.csv: no damage survey, so the hindsight keeps the scenario's "
               "damage and damage fractions are not learned",
    "cuts": "no cuts.csv: no road survey, so the hindsight keeps the scenario's outages and "
            "outage likelihoods are not learned",
    "costs": "no costs.csv: what was paid is unknown, so the settlement shows only what is "
             "due and money spent is not compared",
    "affected": "no affected.csv: persons in need are unknown, so demand per affected person "
                "is not learned",
}


@dataclass(frozen=True, eq=False)
class Actuals:
    """One event as it happened, checked against the instance.

    Attributes
    ----------
    folder
        Where it was read from.
    event
        Event id.
    name
        Display name.
    scenario
        The instance's scenario it resembles, or ``None``.
    days
        Days of need.
    requests, deliveries, damaged, cuts, costs, affected
        Parsed rows of each table (empty when the table is absent).
    present
        Names of the tables the folder holds.
    """

    folder: Path
    event: str
    name: str
    scenario: str | None
    days: float
    requests: list[Row]
    deliveries: list[Row] = field(default_factory=list)
    damaged: list[Row] = field(default_factory=list)
    cuts: list[Row] = field(default_factory=list)
    costs: list[Row] = field(default_factory=list)
    affected: list[Row] = field(default_factory=list)
    present: frozenset[str] = frozenset()
    sources: dict[str, str] = field(default_factory=dict)

    def missing(self) -> list[str]:
        """What each absent table means for the review, one sentence each."""
        return [MISSING[t] for t in MISSING if t not in self.present]


def _manifest(folder: Path, problems: list[str]) -> dict[str, Any]:
    path = folder / MANIFEST
    if not path.is_file():
        raise InputError(f"{folder}: no {MANIFEST} found; an actuals folder needs a manifest "
                         f"with format = \"{ACTUALS_FORMAT}\", event and days (see "
                         "instances/liaoning/actuals)")
    doc = parse_toml(read_text(path, MANIFEST), MANIFEST)
    for key in doc:
        if key not in _KEYS:
            problems.append(f"{MANIFEST}: key '{shown(key, 40)}' is not known; the keys are "
                            f"{', '.join(_KEYS)}")
    if "format" not in doc:
        problems.append(f"{MANIFEST}: format is missing; write format = "
                        f"\"{ACTUALS_FORMAT}\" first")
    elif doc["format"] != ACTUALS_FORMAT:
        problems.append(f"{MANIFEST}: format '{shown(doc['format'], 40)}' is not known; write "
                        f"format = \"{ACTUALS_FORMAT}\"")
    if not isinstance(doc.get("event"), str) or not doc["event"].strip():
        problems.append(f"{MANIFEST}: event is missing; give the event a short id, e.g. "
                        "event = \"typhoon-2026-08\"")
    days = doc.get("days")
    if days is None:
        problems.append(f"{MANIFEST}: days is missing; give the event's days of need, e.g. "
                        "days = 3")
    elif (isinstance(days, bool) or not isinstance(days, int | float)
            or not math.isfinite(float(days)) or not 0 < float(days) <= 366):
        problems.append(f"{MANIFEST}: days is {shown(days, 40)}; give the days of need, a "
                        "number above 0 and at most 366")
    for key in ("name", "scenario", "description"):
        if key in doc and not isinstance(doc[key], str):
            problems.append(f"{MANIFEST}: {key} must be text (in quotes)")
    if "sources" in doc and not (isinstance(doc["sources"], dict) and all(
            isinstance(v, str) for v in doc["sources"].values())):
        problems.append(f"{MANIFEST}: [sources] must map table names to text")
    return doc


def _check_deliveries(inst: Instance, table: RawTable, rows: list[Row],
                      problems: list[str]) -> None:
    """Channel, source and reference agree with the instance; times are after the event."""
    for i, row in enumerate(rows):
        where = row_label(table, i, table.rows[i])
        arrive, depart = row.get("arrive_h"), row.get("depart_h")
        for col, t in (("arrive_h", arrive), ("depart_h", depart)):
            if t is not None and t < 0:
                problems.append(f"{where}: {col} {t:g} is before the event (0 h is when it "
                                f"struck); give hours after the event's start")
        if arrive is not None and depart is not None and 0 <= arrive < depart:
            problems.append(f"{where}: arrive_h {arrive:g} is before depart_h {depart:g}; "
                            "give the arrival after the departure")
        channel, src, ref = row.get("channel"), row.get("source"), row.get("reference")
        region, commodity = row.get("region"), row.get("commodity")
        if channel is None or region not in inst.region_index:
            continue
        if src is None:
            if channel in PLANNED_CHANNELS:
                problems.append(f"{where}: source is empty; a delivery by channel {channel} "
                                "names the facility it left")
            continue
        if src not in inst.facility_index:
            continue  # reported by check_refs
        fac = inst.facility(src)
        if channel == "own_stock" and fac.region != region:
            problems.append(f"{where}: source '{src}' is in {fac.region}, not in {region}; "
                            "own stock comes from the region's own facilities (use channel "
                            "agreement or parent otherwise)")
        elif channel == "parent" and fac.region not in inst.ancestors[str(region)]:
            problems.append(f"{where}: source '{src}' is in {fac.region}, which is not a "
                            f"parent region of {region}; use channel agreement or own_stock")
        elif channel == "agreement":
            agr = next((a for a in inst.agreements if a.id == ref), None)
            if agr is None:
                problems.append(f"{where}: reference '{shown(ref, 40)}' is not an agreement "
                                "of the instance; give the agreement id the goods were lent "
                                "under")
            elif ((fac.region, region) not in set(inst.lending_pairs(agr))
                  or not agr.covers(str(commodity))):
                problems.append(f"{where}: agreement '{agr.id}' does not let {fac.region} lend "
                                f"{commodity} to {region}; name the agreement that does, or "
                                "channel parent/donation")
        elif channel == "contract":
            con = next((c for c in inst.contracts if c.id == ref), None)
            if con is None:
                problems.append(f"{where}: reference '{shown(ref, 40)}' is not a contract of "
                                "the instance; give the contract id the goods were drawn "
                                "under")
            elif con.facility != src or con.commodity != commodity:
                problems.append(f"{where}: contract '{con.id}' covers {con.commodity} at "
                                f"{con.facility}, not {commodity} at {src}; fix source, "
                                "commodity or reference")
        elif channel == "own_stock" and fac.kind is not FacilityKind.GOVERNMENT_WAREHOUSE:
            problems.append(f"{where}: source '{src}' is not a government warehouse (its kind "
                            f"is {fac.kind.value}); goods drawn from a firm come by channel "
                            "contract")


def _check_cuts_on_links(inst: Instance, table: RawTable, rows: list[Row],
                         problems: list[str]) -> None:
    """As the instance's outages: with links, travel follows them, so a cut must name one."""
    joined = {frozenset((ln.origin, ln.destination)) for ln in inst.links}
    region_of = {f.id: f.region for f in inst.facilities}
    for i, row in enumerate(rows):
        a, b = row.get("from"), row.get("to")
        if a is None or b is None or frozenset((a, b)) in joined:
            continue
        if region_of.get(a) == b or region_of.get(b) == a:
            continue
        problems.append(f"{table.locate(i)}: cut {a} - {b} names no link of the instance, so "
                        "it would change nothing; give a pair its links.csv lists (or a "
                        "facility and its own region)")


def read_actuals(path: str | os.PathLike[str], instance: Instance) -> Actuals:
    """Read and check an actuals folder against the instance.

    Parameters
    ----------
    path
        The folder (``actuals.toml`` plus tables).
    instance
        The instance whose regions, commodities, facilities, agreements and contracts the
        actuals name.

    Returns
    -------
    Actuals

    Raises
    ------
    InputError
        One sentence per problem, naming the file, line and offending value.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise InputError(f"{folder}: is not a folder; give the actuals folder (actuals.toml "
                         "and its tables)")
    problems: list[str] = []
    doc = _manifest(folder, problems)
    parsed: dict[str, list[Row]] = {}
    raws: dict[str, RawTable] = {}
    for spec in ACTUAL_TABLES:
        options = [folder / f"{spec.name}.{ext}" for ext in ("csv", "parquet")]
        existing = [p for p in options if p.is_file()]
        if not existing:
            if spec.required:
                problems.append(f"{folder}: {spec.name}.csv is missing; it lists what each "
                                "region requested (region, commodity, day, quantity)")
            continue
        if len(existing) > 1:
            problems.append(f"{folder}: both {spec.name}.csv and {spec.name}.parquet exist; "
                            "keep one")
            continue
        try:
            file = confined_path(folder, existing[0].name, None)
        except InputError as err:
            problems += err.problems
            continue
        raw = read_table_file(spec.name, file, problems)
        if raw is None:
            continue
        raws[spec.name] = raw
        parsed[spec.name] = check_table(spec, raw, problems)
    refs = {"regions": (set(instance.region_index), "a region of the instance"),
            "commodities": (set(instance.commodity_index), "a commodity of the instance"),
            "facilities": (set(instance.facility_index), "a facility of the instance"),
            "locations": (set(instance.region_index) | set(instance.facility_index),
                          "a region or facility of the instance")}
    for name, rows in parsed.items():
        for col in ACTUAL_TABLE_BY_NAME[name].columns:
            if col.ref is not None:
                known, what = refs[col.ref]
                check_refs(raws[name], rows, col.name, known, what, problems,
                           f"use an id from {col.ref}")
    if "deliveries" in parsed:
        _check_deliveries(instance, raws["deliveries"], parsed["deliveries"], problems)
    if "cuts" in parsed and instance.links:
        _check_cuts_on_links(instance, raws["cuts"], parsed["cuts"], problems)
    scenario = doc.get("scenario")
    if isinstance(scenario, str) and scenario not in instance.scenario_index:
        problems.append(f"{MANIFEST}: scenario '{shown(scenario, 40)}' is not a scenario of "
                        f"the instance; use one of {', '.join(instance.scenario_index)}, or "
                        "leave scenario out")
    if not problems and not any(r["quantity"] > 0 for r in parsed.get("requests", [])):
        problems.append("requests.csv: has no request above 0 units; list what the regions "
                        "asked for")
    if problems:
        raise InputError(problems)
    sources = doc.get("sources") or {}
    return Actuals(
        folder=folder, event=str(doc["event"]).strip(), name=str(doc.get("name") or
                                                                 doc["event"]),
        scenario=scenario if isinstance(scenario, str) else None, days=float(doc["days"]),
        requests=parsed["requests"], deliveries=parsed.get("deliveries", []),
        damaged=parsed.get("damaged", []), cuts=parsed.get("cuts", []),
        costs=parsed.get("costs", []), affected=parsed.get("affected", []),
        present=frozenset(parsed), sources={str(k): str(v) for k, v in sources.items()},
    )
