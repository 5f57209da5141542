"""Commands that read instances: ``validate``, ``info`` and ``schema``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import typer

from reserve_opt.cli.errors import reported_errors
from reserve_opt.cli.options import FormatOption, TopOption
from reserve_opt.cli.options import InstancePath as InstancePath  # whatif_cmd imports it here
from reserve_opt.cli.render import (
    DEFAULT_TOP,
    TIER_NOTE,
    OutputFormat,
    echo_json,
    pct,
    print_table,
    say,
)


def validate(path: InstancePath) -> None:
    """Check an instance completely; print every problem, one per line.

    Demand that no source, agreement or parent can ever serve is a warning (stderr, exit
    code 0): the instance is valid, but a plan will leave that demand short.
    """
    from reserve_opt.io import load_instance
    from reserve_opt.validation import unreachable_demand

    with reported_errors():
        inst = load_instance(path)
        warnings = unreachable_demand(inst)
    for line in warnings:
        typer.echo(f"warning: {line}", err=True)
    counts = inst.summary()
    say(
        f"{path}: valid ({counts['regions']} regions, {counts['commodities']} commodities, "
        f"{counts['facilities']} facilities, {counts['agreements']} agreements, "
        f"{counts['scenarios']} scenarios)"
    )


def info(path: InstancePath, fmt: FormatOption = OutputFormat.TABLE,
         top: TopOption = DEFAULT_TOP) -> None:
    """Show what is in an instance: regions, goods, facilities, agreements, scenarios."""
    from reserve_opt.io import load_instance
    from reserve_opt.io.export import instance_tables
    from reserve_opt.io.spec import TABLES

    with reported_errors():
        inst = load_instance(path)
    tables = instance_tables(inst)
    if fmt is OutputFormat.JSON:
        echo_json({
            "name": inst.name,
            "description": inst.description,
            "currency": inst.currency,
            "counts": inst.summary(),
            **{t.name: tables[t.name] for t in TABLES},
            "units": {t.name: {c.name: c.unit.replace("currency", inst.currency)
                               for c in t.columns if c.unit} for t in TABLES},
            "sources": dict(inst.sources),
        })
        return
    _print_info(inst, top)


def _print_info(inst: Any, top: int) -> None:
    cur = inst.currency
    say(f"{inst.name}: {inst.description}".rstrip(": "))
    say(f"money in {cur}; commodity quantities in each commodity's unit\n")
    more = "every row is in --format json"
    regions = _head(inst.regions, top)
    print_table("Regions", ["id", "name", "level", "population (persons)", "alliance",
                            "risk (0-1)"],
                [[r.id, r.name, r.level, r.population, r.alliance, r.risk] for r in regions],
                total=len(inst.regions), where=more)
    print_table("Commodities", ["id", "unit", "kg/unit", "m3/unit", f"purchase ({cur}/unit)",
                                f"shortage ({cur}/unit)", "priority", "need (units)"],
                [[c.id, c.unit, c.weight_kg, c.volume_m3, c.purchase_cost,
                  c.shortage_penalty, c.priority, _need(c)] for c in inst.commodities])
    facilities = _head(inst.facilities, top)
    print_table("Facilities", ["id", "kind", "region", "status", "capacity (m3)",
                               "stock (units)"],
                [[f.id, f.kind.value, f.region,
                  "existing" if f.existing else f"candidate, {len(f.sizes)} sizes",
                  f.capacity_m3, ", ".join(f"{c} {q:,.0f}" for c, q in f.stock.items())]
                 for f in facilities],
                 total=len(inst.facilities), where=more)
    if inst.contracts:
        contracts = _head(inst.contracts, top)
        print_table("Enterprise contracts",
                    ["id", "facility", "commodity", "kind", "quantity (units)",
                     "rate (units/day)", f"retainer ({cur})", "delay (h)", "signed"],
                    [[c.id, c.facility, c.commodity, c.kind.value, c.quantity,
                      c.rate_per_day, c.retainer, c.delay_h, c.signed]
                     for c in contracts],
                     total=len(inst.contracts), where=more)
    if inst.agreements:
        agreements = _head(inst.agreements, top)
        print_table("Sharing agreements",
                    ["id", "parties", "tier", "commodities", "cap (units)",
                     f"compensation ({cur}/unit)", "delay (h)"],
                    [[a.id, f"alliance {a.alliance}" if a.alliance else
                      f"{a.lender} {'<->' if a.reciprocal else '->'} {a.borrower}",
                      int(a.tier), a.commodities or "all", a.cap_quantity, a.compensation,
                      a.delay_h] for a in agreements], legend=[TIER_NOTE],
                      total=len(inst.agreements), where=more)
    rows = []
    for s in inst.scenarios:
        demand = inst.demand(s.id)
        per = {c.id: sum(q for (_, k), q in demand.items() if k == c.id)
               for c in inst.commodities}
        rows.append([s.id, pct(s.probability), s.hazard,
                     ", ".join(f"{k} {q:,.0f}" for k, q in per.items() if q),
                     len(s.damage), len(s.outages)])
    print_table("Scenarios", ["id", "probability", "hazard", "demand (units)",
                              "damaged facilities", "outages"], rows)


def _head(items: Sequence[Any], top: int) -> Sequence[Any]:
    """The first ``top`` items (all when ``top`` is 0)."""
    return items if top == 0 else items[:top]


def _need(c: Any) -> str:
    """A commodity's need in words: per person and day, per person once, or none."""
    if c.need_per_person_day:
        return f"{c.need_per_person_day:g} per person-day"
    if c.need_per_person:
        return f"{c.need_per_person:g} per person"
    if c.persons_per_unit:
        return f"1 per {c.persons_per_unit:g} persons"
    return "given as demand"


def schema() -> None:
    """Print the JSON Schema of the instance document."""
    from reserve_opt.io import instance_schema

    echo_json(instance_schema())


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command()(validate)
    app.command()(info)
    app.command()(schema)
