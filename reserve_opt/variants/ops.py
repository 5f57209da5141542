"""The change operations a variant file may hold, applied to an instance's rows.

Each operation reads its parameters from one ``[[change]]`` table, checks them against
the instance as it stands after the earlier changes, and edits the rows of an
:class:`~reserve_opt.InstanceBuilder`. Problems are collected, never raised one by one,
so a file with three mistakes reports all three; each names the file, the change number
and the offending id. The patched instance is validated again as a whole afterwards.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from reserve_opt.builder import InstanceBuilder
from reserve_opt.domain.commodity import units_needed
from reserve_opt.domain.scenario import NO_EVENT
from reserve_opt.io.spec import SETTING_BY_NAME, TABLE_BY_NAME, Column
from reserve_opt.validation.cells import CellError, finite_number, parse_cell

Row = dict[str, Any]

NONE_WORDS = ("none",)
"""A parameter written as the string ``"none"`` clears an optional value (TOML has no null)."""


class Context:
    """One change being applied: the builder, where the change came from, its problems.

    Parameters
    ----------
    builder
        Rows of the instance as patched so far.
    where
        Phrase naming the change, e.g. ``"flood.toml: change 2 (close_facility)"``.
    params
        The change's parameters (without ``op``).
    problems
        List the change appends its problems to.
    """

    def __init__(self, builder: InstanceBuilder, where: str, params: Mapping[str, Any],
                 problems: list[str]) -> None:
        self.b = builder
        self.where = where
        self.params = params
        self.problems = problems
        self.notes: list[str] = []

    # -- reporting --------------------------------------------------------------------
    def bad(self, message: str) -> None:
        """Record one problem (a sentence without the location prefix)."""
        self.problems.append(f"{self.where}: {message}")

    def note(self, message: str) -> None:
        """Record what the change did, for listings."""
        self.notes.append(message)

    # -- rows -------------------------------------------------------------------------
    def rows(self, table: str) -> list[Row]:
        """The current rows of ``table`` (edited in place)."""
        return self.b.rows[table]

    def ids(self, table: str) -> list[str]:
        """Ids of the current rows of an entity table, in order."""
        return [str(r["id"]) for r in self.b.rows[table]]

    def row(self, table: str, rid: str) -> Row | None:
        """The row of ``table`` with id ``rid``, or ``None``."""
        return next((r for r in self.b.rows[table] if r.get("id") == rid), None)

    def locations(self) -> set[str]:
        """Every region and facility id."""
        return set(self.ids("regions")) | set(self.ids("facilities"))

    # -- parameters -------------------------------------------------------------------
    def text(self, key: str, required: bool = True) -> str | None:
        """A text parameter."""
        value = self.params.get(key)
        if value is None:
            if required:
                self.bad(f"'{key}' is missing; add {key} = \"...\"")
            return None
        if not isinstance(value, str) or not value.strip():
            self.bad(f"'{key}' must be text, got {value!r}")
            return None
        return value.strip()

    def number(self, key: str, required: bool = True, minimum: float | None = 0.0,
               maximum: float | None = None, unit: str = "") -> float | None:
        """A finite number within bounds."""
        value = self.params.get(key)
        if value is None:
            if required:
                self.bad(f"'{key}' is missing; add {key} = <number{' ' + unit if unit else ''}>")
            return None
        x = finite_number(value)
        if x is None:
            shown = repr(value) if len(repr(value)) <= 40 else f"{repr(value)[:30]}..."
            self.bad(f"'{key}' must be a number{' in ' + unit if unit else ''}, got {shown}")
            return None
        if minimum is not None and x < minimum:
            self.bad(f"'{key}' {x:g} is below {minimum:g}; give at least {minimum:g}")
            return None
        if maximum is not None and x > maximum:
            self.bad(f"'{key}' {x:g} is above {maximum:g}; give at most {maximum:g}")
            return None
        return x

    def flag(self, key: str, default: bool) -> bool:
        """A true/false parameter."""
        value = self.params.get(key, default)
        if not isinstance(value, bool):
            self.bad(f"'{key}' must be true or false, got {value!r}")
            return default
        return value

    def id_of(self, key: str, table: str, required: bool = True) -> str | None:
        """A parameter naming an existing row of an entity table."""
        rid = self.text(key, required)
        if rid is None:
            return None
        return rid if self.known(table, rid) else None

    def known(self, table: str, rid: str) -> bool:
        """Whether ``rid`` is an id of ``table``; reports it (with a close match) if not."""
        ids = self.ids(table)
        if rid in ids:
            return True
        entity = TABLE_BY_NAME[table].entity
        close = difflib.get_close_matches(rid, ids, n=1)
        hint = f"did you mean '{close[0]}'?" if close else (
            f"use a {entity} id of the instance (reserve-opt info lists them)")
        self.bad(f"{entity} '{rid}' is not in the instance; {hint}")
        return False

    def text_list(self, key: str, what: str = "ids") -> list[str] | None:
        """An optional non-empty list of text (one text is a list of one); ``None`` if absent.

        A selector of the wrong type or an empty one is reported (and gives ``[]``): it
        would otherwise select nothing and the change would silently do nothing.
        """
        value = self.params.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.bad(f"'{key}' must be a list of {what}, got {value!r}")
            return []
        if not value:
            self.bad(f"'{key}' is an empty list, so the change would select nothing; name at "
                     f"least one, or leave '{key}' out to mean all")
        return list(value)

    def id_list(self, key: str, table: str) -> list[str] | None:
        """An optional list of ids of ``table`` (``None`` when absent: all of them)."""
        value = self.text_list(key)
        return None if value is None else [v for v in value if self.known(table, v)]

    def scenario_ids(self) -> list[str]:
        """The scenarios the change applies to: ``scenarios = [...]``, default all."""
        chosen = self.id_list("scenarios", "scenarios")
        return self.ids("scenarios") if chosen is None else chosen

    def columns(self, table: str, row: Row, keys: Iterable[str]) -> None:
        """Set ``row``'s columns from the parameters named ``keys``, checked by the spec."""
        spec = TABLE_BY_NAME[table]
        for key in keys:
            if key not in self.params:
                continue
            col = spec.by_name[key]
            value = self.params[key]
            if isinstance(value, str) and value.strip().lower() in NONE_WORDS:
                if col.required:
                    self.bad(f"'{key}' cannot be cleared; give a value")
                    continue
                row[key] = None
                continue
            parsed = self._cell(col, value)
            if parsed is None:
                continue
            if col.ref in ("regions", "facilities", "commodities", "scenarios"):
                refs = parsed if isinstance(parsed, tuple) else (parsed,)
                if not all([self.known(col.ref, str(r)) for r in refs]):
                    continue
            row[key] = parsed

    def _cell(self, col: Column, value: Any) -> Any:
        try:
            return parse_cell(col, value)
        except CellError as err:
            self.bad(str(err))
            return None


@dataclass(frozen=True, slots=True)
class Operation:
    """One kind of change.

    Parameters
    ----------
    name
        Value of ``op``.
    summary
        One line saying what it models.
    params
        Parameter name -> one-line description (with unit).
    required
        Parameters that must be given.
    apply
        Edits the rows through a :class:`Context`.
    """

    name: str
    summary: str
    params: Mapping[str, str]
    required: tuple[str, ...]
    apply: Callable[[Context], None]


OPERATIONS: dict[str, Operation] = {}


def _op(name: str, summary: str, params: Mapping[str, str],
        required: tuple[str, ...] = ()) -> Callable[[Callable[[Context], None]],
                                                    Callable[[Context], None]]:
    def register(fn: Callable[[Context], None]) -> Callable[[Context], None]:
        OPERATIONS[name] = Operation(name, summary, dict(params), required, fn)
        return fn
    return register


_SCENARIOS_DOC = "scenario ids it applies to; default every scenario"


def _columns_doc(table: str, skip: tuple[str, ...] = ()) -> dict[str, str]:
    out = {}
    for c in TABLE_BY_NAME[table].columns:
        if c.name in skip:
            continue
        unit = f" ({c.unit})" if c.unit else ""
        out[c.name] = f"{c.doc or c.name}{unit}"
    return out


# -- facilities -----------------------------------------------------------------------

@_op("close_facility", "a facility is lost for the whole planning period (flooded, sold, "
     "condemned): it is removed with its stock, size options, contracts, vehicles, links "
     "and scenario rows",
     {"facility": "facility id"}, ("facility",))
def _close_facility(ctx: Context) -> None:
    fid = ctx.id_of("facility", "facilities")
    if fid is None:
        return
    removed: dict[str, int] = {}

    def drop(table: str, keep: Callable[[Row], bool]) -> list[Row]:
        rows = ctx.rows(table)
        gone = [r for r in rows if not keep(r)]
        rows[:] = [r for r in rows if keep(r)]
        if gone:
            removed[table] = len(gone)
        return gone

    drop("facilities", lambda r: r["id"] != fid)
    for table in ("sizes", "stock", "damage"):
        drop(table, lambda r: r["facility"] != fid)
    contracts = drop("contracts", lambda r: r["facility"] != fid)
    drop("fleet", lambda r: r["depot"] != fid)
    for table in ("links", "outages"):
        drop(table, lambda r: fid not in (r["from"], r["to"]))
    also = ", ".join(f"{n} {t} row(s)" for t, n in removed.items() if t != "facilities")
    ctx.note(f"closed {fid}" + (f" (also removed {also})" if also else "")
             + (f"; contracts gone: {', '.join(c['id'] for c in contracts)}"
                if contracts else ""))


@_op("add_facility", "a new warehouse, enterprise reserve, production site or distribution "
     "point (a candidate warehouse takes size options)",
     {**_columns_doc("facilities"),
      "sizes": "list of {size, capacity_m3, fixed_cost} for a candidate (m3, currency)",
      "stock": "table commodity id -> units already held"},
     ("id", "kind", "region", "lon", "lat"))
def _add_facility(ctx: Context) -> None:
    fid = ctx.text("id")
    if fid is None:
        return
    if fid in ctx.locations():
        ctx.bad(f"id '{fid}' is already a region or facility; choose a new id")
        return
    row: Row = {"id": fid}
    for key in ("kind", "region", "lon", "lat"):
        if key not in ctx.params:
            ctx.bad(f"'{key}' is missing; a new facility needs id, kind, region, lon and lat")
    ctx.columns("facilities", row, [c.name for c in TABLE_BY_NAME["facilities"].columns
                                    if c.name != "id"])
    ctx.rows("facilities").append(row)
    sizes = ctx.params.get("sizes", [])
    if not isinstance(sizes, list):
        ctx.bad("'sizes' must be a list of {size, capacity_m3, fixed_cost} tables")
        sizes = []
    for s in sizes:
        if not isinstance(s, dict) or set(s) != {"size", "capacity_m3", "fixed_cost"}:
            ctx.bad(f"size option {s!r} must have exactly size, capacity_m3 and fixed_cost")
            continue
        srow: Row = {"facility": fid}
        sub = Context(ctx.b, ctx.where, s, ctx.problems)
        sub.columns("sizes", srow, ("size", "capacity_m3", "fixed_cost"))
        ctx.rows("sizes").append(srow)
    stock = ctx.params.get("stock", {})
    if not isinstance(stock, dict):
        ctx.bad("'stock' must be a table of commodity id = units")
        stock = {}
    for commodity, qty in stock.items():
        if ctx.known("commodities", commodity):
            q = Context(ctx.b, ctx.where, {f"stock.{commodity}": qty}, ctx.problems).number(
                f"stock.{commodity}", unit="units")
            if q is not None:
                ctx.rows("stock").append({"facility": fid, "commodity": commodity,
                                          "quantity": q})
    ctx.note(f"added {row.get('kind', 'facility')} {fid} in {row.get('region', '?')}")


def _change_columns(ctx: Context, param: str, table: str,
                    ) -> tuple[str, Row, list[str]] | None:
    """Set the columns a change gives on the row of ``table`` that ``param`` names.

    Returns the id, the changed row and the columns set, or ``None`` when the id is
    missing or unknown (the problem is already recorded).
    """
    rid = ctx.id_of(param, table)
    if rid is None:
        return None
    row = ctx.row(table, rid)
    assert row is not None
    keys = [k for k in ctx.params if k != param]
    ctx.columns(table, row, keys)
    return rid, row, keys


@_op("change_facility", "change a facility's space, shelter size, location or status "
     "(existing = true turns a candidate into a built warehouse)",
     {"facility": "facility id",
      **_columns_doc("facilities", ("id", "kind", "region"))}, ("facility",))
def _change_facility(ctx: Context) -> None:
    changed = _change_columns(ctx, "facility", "facilities")
    if changed is None:
        return
    fid, row, keys = changed
    ctx.note(f"{fid}: " + ", ".join(f"{k} = {row.get(k)}" for k in keys))


@_op("set_stock", "set or scale the units of one commodity (or all) already held at a "
     "government warehouse",
     {"facility": "facility id", "commodity": "commodity id; default every commodity held",
      "quantity": "units held after the change (give this or factor)",
      "factor": "multiplier of the units held (give this or quantity)"}, ("facility",))
def _set_stock(ctx: Context) -> None:
    fid = ctx.id_of("facility", "facilities")
    cid = ctx.id_of("commodity", "commodities", required=False)
    qty = ctx.number("quantity", required=False, unit="units")
    factor = ctx.number("factor", required=False)
    if ("quantity" in ctx.params) == ("factor" in ctx.params):
        ctx.bad("give exactly one of quantity (units) and factor")
        return
    if fid is None:
        return
    rows = [r for r in ctx.rows("stock") if r["facility"] == fid
            and (cid is None or r["commodity"] == cid)]
    if qty is not None:
        if cid is None:
            ctx.bad("quantity needs a commodity; add commodity = \"...\" or use factor")
            return
        if rows:
            rows[0]["quantity"] = qty
        else:
            ctx.rows("stock").append({"facility": fid, "commodity": cid, "quantity": qty})
        ctx.note(f"stock of {cid} at {fid} set to {qty:g} units")
    elif factor is not None:
        for r in rows:
            r["quantity"] = float(r["quantity"]) * factor
        ctx.note(f"stock at {fid}{' of ' + cid if cid else ''} x {factor:g}")


_DAMAGE_PARAMS = {"facility": "facility id",
                  "surviving_fraction": "share of the stock that survives and stays "
                  "reachable (0-1)",
                  "scenarios": _SCENARIOS_DOC}


def _damage_op(ctx: Context, replace: bool) -> None:
    fid = ctx.id_of("facility", "facilities")
    frac = ctx.number("surviving_fraction", minimum=0.0, maximum=1.0)
    scenarios = ctx.scenario_ids()
    if fid is None or frac is None:
        return
    rows = ctx.rows("damage")
    for s in scenarios:
        row = next((r for r in rows if r["scenario"] == s and r["facility"] == fid), None)
        if replace:
            # set_damage: the value learned replaces the base's, 1 removes the damage
            if row is not None:
                rows.remove(row)
            if frac < 1.0:
                rows.append({"scenario": s, "facility": fid, "surviving_fraction": frac})
        elif row is None:
            rows.append({"scenario": s, "facility": fid, "surviving_fraction": frac})
        else:
            # damage on top of damage: the worse of the two
            row["surviving_fraction"] = min(float(row["surviving_fraction"]), frac)
    ctx.note(f"{fid} keeps {frac:.0%} of its stock in {_which(ctx, scenarios)}")


@_op("damage_facility", "a share of a facility's stock is lost or cut off in some "
     "scenarios (a flooded ground floor, a lockdown)",
     _DAMAGE_PARAMS, ("facility", "surviving_fraction"))
def _damage_facility(ctx: Context) -> None:
    _damage_op(ctx, replace=False)


@_op("set_damage", "a facility's surviving share in some scenarios is set to a value, "
     "better or worse than the base's (a recalibration, e.g. reserve-opt review "
     "--learn-out); 1 removes the damage",
     _DAMAGE_PARAMS, ("facility", "surviving_fraction"))
def _set_damage(ctx: Context) -> None:
    _damage_op(ctx, replace=True)


# -- demand and scenarios -------------------------------------------------------------

def effective_demand(b: InstanceBuilder) -> dict[tuple[str, str, str], float]:
    """(scenario, region, commodity) -> units, as :meth:`Instance.demand` derives it."""
    def need(c: Row, column: str) -> float:
        return float(c.get(column) or 0.0)

    needs = {c["id"]: (need(c, "need_per_person_day"), need(c, "need_per_person"),
                       need(c, "persons_per_unit")) for c in b.rows["commodities"]}
    days = {s["id"]: float(1.0 if s.get("days") is None else s["days"])
            for s in b.rows["scenarios"]}
    out: dict[tuple[str, str, str], float] = {}
    for a in b.rows["affected"]:
        for cid, (per_day, once, per_unit) in needs.items():
            q = units_needed(float(a["persons"]), days.get(a["scenario"], 1.0), per_day, once,
                             per_unit)
            if q > 0:
                out[(a["scenario"], a["region"], cid)] = q
    for d in b.rows["demand"]:
        out[(d["scenario"], d["region"], d["commodity"])] = float(d["quantity"])
    return out


@_op("scale_demand", "demand grows or shrinks in some regions, commodities and scenarios "
     "(derived demand is written out as explicit demand rows first)",
     {"factor": "multiplier of demand (2 doubles it)",
      "regions": "region ids; default every region",
      "alliances": "alliance names whose member regions are scaled (with regions: either)",
      "commodities": "commodity ids; default every commodity",
      "scenarios": _SCENARIOS_DOC}, ("factor",))
def _scale_demand(ctx: Context) -> None:
    factor = ctx.number("factor")
    regions = ctx.id_list("regions", "regions")
    commodities = ctx.id_list("commodities", "commodities")
    scenarios = set(ctx.scenario_ids())
    alliances = ctx.text_list("alliances", "alliance names")
    if alliances is not None:
        known = {str(r["alliance"]) for r in ctx.rows("regions") if r.get("alliance")}
        members: list[str] = []
        for a in alliances:
            if a not in known:
                ctx.bad(f"alliance '{a}' has no member region; use one of "
                        f"{', '.join(sorted(known)) or '(none)'}")
            members += [r["id"] for r in ctx.rows("regions") if r.get("alliance") == a]
        regions = (regions or []) + members
    if factor is None:
        return
    chosen_r = None if regions is None else set(regions)
    chosen_c = None if commodities is None else set(commodities)
    demand = ctx.rows("demand")
    index = {(d["scenario"], d["region"], d["commodity"]): d for d in demand}
    n = 0
    for (s, r, c), q in effective_demand(ctx.b).items():
        if s in scenarios and (chosen_r is None or r in chosen_r) and (
                chosen_c is None or c in chosen_c):
            row = index.get((s, r, c))
            if row is None:
                demand.append({"scenario": s, "region": r, "commodity": c,
                               "quantity": q * factor})
            else:
                row["quantity"] = q * factor
            n += 1
    where = "every region" if chosen_r is None else ", ".join(sorted(chosen_r))
    ctx.note(f"demand x {factor:g} in {where}"
             + (f" for {', '.join(sorted(chosen_c))}" if chosen_c is not None else "")
             + f" ({n} scenario-region-commodity cells)")


def _which(ctx: Context, scenarios: list[str]) -> str:
    if "scenarios" not in ctx.params:
        return "every scenario"
    return ", ".join(scenarios)


def _remainder(ctx: Context) -> bool:
    """Whether the instance implies a no-event scenario holding the rest of the probability."""
    return bool(ctx.b.manifest.get("settings", {}).get("no_event_remainder"))


def _probabilities(ctx: Context, key: str, delta: float, skip: str) -> None:
    """Take ``delta`` of probability from the scenario named by ``key``, or from all.

    With the ``no_event_remainder`` setting the default is the implied no-event
    remainder instead: the other events keep their (annual) probabilities.
    """
    rows = [r for r in ctx.rows("scenarios") if r["id"] != skip]
    source = ctx.params.get(key)
    if source is None and _remainder(ctx):
        rest = 1.0 - sum(float(r["probability"]) for r in rows)
        if delta > rest + 1e-12:
            ctx.bad(f"probability {delta:g} is more than the {max(rest, 0.0):g} left for "
                    f"'{NO_EVENT}' (no_event_remainder); give {key}")
        return
    if source is not None:
        sid = ctx.id_of(key, "scenarios")
        row = ctx.row("scenarios", sid) if sid else None
        if row is None:
            return
        p = float(row["probability"]) - delta
        if p < -1e-12:
            ctx.bad(f"scenario '{sid}' has probability {row['probability']:g}, less than the "
                    f"{delta:g} to take from it; choose another {key}")
            return
        row["probability"] = max(p, 0.0)
        return
    total = sum(float(r["probability"]) for r in rows)
    if total <= 0:
        ctx.bad("the other scenarios have no probability to rescale; give " + key)
        return
    scale = (total - delta) / total
    if scale < 0:
        ctx.bad(f"probability {delta:g} is more than the other scenarios' {total:g}")
        return
    for r in rows:
        r["probability"] = float(r["probability"]) * scale


@_op("add_scenario", "a new hazard event with its probability, demand, damage and outages; "
     "its probability is taken from one scenario (take_from) or from all in proportion",
     {**_columns_doc("scenarios"),
      "demand": "list of {region, commodity, quantity} (units)",
      "affected": "list of {region, persons}",
      "damage": "list of {facility, surviving_fraction}",
      "outages": "list of {from, to, speed_factor}",
      "take_from": "scenario id whose probability pays for the new one (e.g. 'none'); "
      "default: every other scenario scaled down in proportion (with no_event_remainder: "
      "the implied no-event remainder)"},
     ("id", "probability"))
def _add_scenario(ctx: Context) -> None:
    sid = ctx.text("id")
    p = ctx.number("probability", minimum=0.0, maximum=1.0)
    if sid is None or p is None:
        return
    if sid in ctx.ids("scenarios"):
        ctx.bad(f"scenario '{sid}' already exists; choose a new id")
        return
    row: Row = {"id": sid, "probability": p}
    ctx.columns("scenarios", row, ("name", "hazard", "days"))
    _probabilities(ctx, "take_from", p, sid)
    ctx.rows("scenarios").append(row)
    for key, table, cols in (
        ("demand", "demand", ("region", "commodity", "quantity")),
        ("affected", "affected", ("region", "persons")),
        ("damage", "damage", ("facility", "surviving_fraction")),
        ("outages", "outages", ("from", "to", "speed_factor")),
    ):
        items = ctx.params.get(key, [])
        if not isinstance(items, list):
            ctx.bad(f"'{key}' must be a list of tables with {', '.join(cols)}")
            continue
        for item in items:
            if not isinstance(item, dict) or not set(item) <= set(cols):
                ctx.bad(f"{key} entry {item!r} may only have {', '.join(cols)}")
                continue
            new: Row = {"scenario": sid}
            sub = Context(ctx.b, ctx.where, item, ctx.problems)
            sub.columns(table, new, cols)
            if table == "outages":
                for end in ("from", "to"):
                    if new.get(end) not in ctx.locations():
                        ctx.bad(f"outage end '{item.get(end)}' is not a region or facility; "
                                f"use one of their ids")
            ctx.rows(table).append(new)
    ctx.note(f"added scenario {sid} with probability {p:g}"
             + (f" taken from {ctx.params['take_from']}" if "take_from" in ctx.params
                else f" taken from {NO_EVENT}" if _remainder(ctx)
                else " (others scaled down)"))


@_op("drop_scenario", "a hazard is ruled out; its probability goes to one scenario "
     "(give_to) or to all in proportion",
     {"scenario": "scenario id", "give_to": "scenario id receiving its probability; default "
      "every other scenario scaled up in proportion (with no_event_remainder: the implied "
      "no-event remainder)"}, ("scenario",))
def _drop_scenario(ctx: Context) -> None:
    sid = ctx.id_of("scenario", "scenarios")
    if sid is None:
        return
    row = ctx.row("scenarios", sid)
    assert row is not None
    if ctx.params.get("give_to") == sid:
        ctx.bad(f"give_to cannot be the dropped scenario '{sid}'")
        return
    _probabilities(ctx, "give_to", -float(row["probability"]), sid)
    ctx.rows("scenarios").remove(row)
    for table in ("demand", "affected", "damage", "outages"):
        ctx.rows(table)[:] = [r for r in ctx.rows(table) if r["scenario"] != sid]
    ctx.note(f"dropped scenario {sid} (probability {row['probability']:g})")


# -- transport ------------------------------------------------------------------------

def _link_op(ctx: Context, default_speed: float | None, replace: bool = False) -> None:
    ends = [ctx.text("from"), ctx.text("to")]
    speed = ctx.number("speed_factor", required=default_speed is None, minimum=0.0,
                       maximum=1.0)
    speed = default_speed if speed is None else speed
    scenarios = ctx.scenario_ids()
    locations = ctx.locations()
    for e in ends:
        if e is not None and e not in locations:
            close = difflib.get_close_matches(e, sorted(locations), n=1)
            ctx.bad(f"link end '{e}' is not a region or facility; "
                    + (f"did you mean '{close[0]}'?" if close else "use one of their ids"))
            return
    a, b = ends
    if a is None or b is None or speed is None:
        return
    if a == b:
        ctx.bad(f"a link joins two places; 'from' and 'to' are both '{a}'")
        return
    rows = ctx.rows("outages")
    for s in scenarios:
        row = next((r for r in rows if r["scenario"] == s and {r["from"], r["to"]} == {a, b}),
                   None)
        if replace:
            # set_outage: the value learned replaces the base's, 1 removes the outage
            if row is not None:
                rows.remove(row)
            if speed < 1.0:
                rows.append({"scenario": s, "from": a, "to": b, "speed_factor": speed})
        elif row is None:
            rows.append({"scenario": s, "from": a, "to": b, "speed_factor": speed})
        else:
            # an outage on top of an outage: the slower of the two
            row["speed_factor"] = min(float(row["speed_factor"]), speed)
    state = ("cut" if speed == 0 else "open (no outage)" if speed >= 1.0
             else f"at {speed:.0%} speed")
    ctx.note(f"link {a}-{b} {state} in {_which(ctx, scenarios)}")


@_op("cut_link", "a road or bridge between two places is cut (or slowed with speed_factor) "
     "in some scenarios or all",
     {"from": "region or facility id", "to": "region or facility id",
      "speed_factor": "share of normal speed left, 0 (cut, default) to 1",
      "scenarios": _SCENARIOS_DOC}, ("from", "to"))
def _cut_link(ctx: Context) -> None:
    _link_op(ctx, 0.0)


@_op("slow_link", "a road between two places is slowed (damage, congestion, snow) in some "
     "scenarios or all",
     {"from": "region or facility id", "to": "region or facility id",
      "speed_factor": "share of normal speed left, 0-1",
      "scenarios": _SCENARIOS_DOC}, ("from", "to", "speed_factor"))
def _slow_link(ctx: Context) -> None:
    _link_op(ctx, None)


@_op("set_outage", "a link's speed factor in some scenarios is set to a value, better or "
     "worse than the base's (a recalibration, e.g. reserve-opt review --learn-out); 1 "
     "removes the outage",
     {"from": "region or facility id", "to": "region or facility id",
      "speed_factor": "share of normal speed left, 0 (cut) to 1 (open)",
      "scenarios": _SCENARIOS_DOC}, ("from", "to", "speed_factor"))
def _set_outage(ctx: Context) -> None:
    _link_op(ctx, None, replace=True)


# -- agreements and alliances ---------------------------------------------------------

_AGREEMENT_TERMS = tuple(c.name for c in TABLE_BY_NAME["agreements"].columns if c.name != "id")


@_op("drop_agreement", "a sharing agreement ends",
     {"agreement": "agreement id"}, ("agreement",))
def _drop_agreement(ctx: Context) -> None:
    aid = ctx.id_of("agreement", "agreements")
    if aid is not None:
        ctx.rows("agreements")[:] = [r for r in ctx.rows("agreements") if r["id"] != aid]
        ctx.note(f"agreement {aid} ended")


@_op("change_agreement", "new terms for a sharing agreement: caps, compensation, delay, "
     "commodities, tier (write \"none\" to clear a cap)",
     {"agreement": "agreement id", **_columns_doc("agreements", ("id",))}, ("agreement",))
def _change_agreement(ctx: Context) -> None:
    changed = _change_columns(ctx, "agreement", "agreements")
    if changed is None:
        return
    aid, _, keys = changed
    ctx.note(f"agreement {aid}: " + ", ".join(f"{k} = {ctx.params[k]}" for k in keys))


@_op("add_agreement", "a new sharing agreement between two regions or across an alliance",
     _columns_doc("agreements"), ("id", "tier"))
def _add_agreement(ctx: Context) -> None:
    aid = ctx.text("id")
    if aid is None:
        return
    if aid in ctx.ids("agreements"):
        ctx.bad(f"agreement '{aid}' already exists; choose a new id or use change_agreement")
        return
    row: Row = {"id": aid}
    ctx.columns("agreements", row, _AGREEMENT_TERMS)
    ctx.rows("agreements").append(row)
    ctx.note(f"added agreement {aid}")


@_op("leave_alliance", "a region withdraws from its reserve alliance (and, with "
     "drop_agreements, from its bilateral agreements too)",
     {"region": "region id",
      "drop_agreements": "also end every bilateral agreement it lends or borrows under "
      "(default false)"}, ("region",))
def _leave_alliance(ctx: Context) -> None:
    rid = ctx.id_of("region", "regions")
    drop = ctx.flag("drop_agreements", False)
    if rid is None:
        return
    row = ctx.row("regions", rid)
    assert row is not None
    alliance = row.get("alliance")
    if not alliance:
        ctx.bad(f"region '{rid}' is in no alliance; remove this change or name another region")
        return
    row["alliance"] = None
    left = sum(1 for r in ctx.rows("regions") if r.get("alliance") == alliance)
    gone: list[str] = []
    if left < 2:
        # an alliance of one cannot share: its alliance-wide agreements end
        gone += [a["id"] for a in ctx.rows("agreements") if a.get("alliance") == alliance]
    if drop:
        gone += [a["id"] for a in ctx.rows("agreements") if rid in (a.get("lender"),
                                                                     a.get("borrower"))]
    ctx.rows("agreements")[:] = [a for a in ctx.rows("agreements") if a["id"] not in gone]
    ctx.note(f"{rid} left alliance {alliance}"
             + (f"; agreements ended: {', '.join(gone)}" if gone else ""))


# -- contracts ------------------------------------------------------------------------

_CONTRACT_TERMS = tuple(c.name for c in TABLE_BY_NAME["contracts"].columns if c.name != "id")


def _set_signed(ctx: Context, signed: bool) -> None:
    cid = ctx.id_of("contract", "contracts")
    if cid is None:
        return
    row = ctx.row("contracts", cid)
    assert row is not None
    row["signed"] = signed
    ctx.note(f"contract {cid} " + ("signed (in force)" if signed
                                   else "not signed (an option the plan may take)"))


@_op("sign_contract", "an enterprise contract is signed: in force, its retainer paid",
     {"contract": "contract id"}, ("contract",))
def _sign_contract(ctx: Context) -> None:
    _set_signed(ctx, True)


@_op("unsign_contract", "an enterprise contract lapses and becomes an option the plan may "
     "sign again", {"contract": "contract id"}, ("contract",))
def _unsign_contract(ctx: Context) -> None:
    _set_signed(ctx, False)


@_op("drop_contract", "an enterprise contract ends and cannot be signed again",
     {"contract": "contract id"}, ("contract",))
def _drop_contract(ctx: Context) -> None:
    cid = ctx.id_of("contract", "contracts")
    if cid is not None:
        ctx.rows("contracts")[:] = [r for r in ctx.rows("contracts") if r["id"] != cid]
        ctx.note(f"contract {cid} ended")


@_op("change_contract", "new terms for an enterprise contract: quantity, rate, retainer, "
     "price, delay",
     {"contract": "contract id", **_columns_doc("contracts", ("id", "facility"))},
     ("contract",))
def _change_contract(ctx: Context) -> None:
    changed = _change_columns(ctx, "contract", "contracts")
    if changed is None:
        return
    cid, _, keys = changed
    ctx.note(f"contract {cid}: " + ", ".join(f"{k} = {ctx.params[k]}" for k in keys))


@_op("add_contract", "a new enterprise contract (stock held or production capacity) at an "
     "existing facility; signed = false offers it to the plan", _columns_doc("contracts"),
     ("id", "facility", "commodity", "kind", "quantity"))
def _add_contract(ctx: Context) -> None:
    cid = ctx.text("id")
    if cid is None:
        return
    if cid in ctx.ids("contracts"):
        ctx.bad(f"contract '{cid}' already exists; choose a new id or use change_contract")
        return
    row: Row = {"id": cid}
    for key in ("facility", "commodity", "kind", "quantity"):
        if key not in ctx.params:
            ctx.bad(f"'{key}' is missing; a contract needs facility, commodity, kind and "
                    f"quantity")
    ctx.columns("contracts", row, _CONTRACT_TERMS)
    ctx.rows("contracts").append(row)
    ctx.note(f"added contract {cid} ({row.get('kind')}, {row.get('quantity')} units of "
             f"{row.get('commodity')} at {row.get('facility')}, "
             + ("signed)" if row.get("signed", True) else "offered)"))


# -- settings -------------------------------------------------------------------------

@_op("change_commodity", "new parameters for a commodity: shortage penalty, purchase and "
     "holding costs, weight, volume, priority, need per person (a costlier shortage, a "
     "lighter package, a new price)",
     {"commodity": "commodity id", **_columns_doc("commodities", ("id",))}, ("commodity",))
def _change_commodity(ctx: Context) -> None:
    changed = _change_columns(ctx, "commodity", "commodities")
    if changed is None:
        return
    cid, _, keys = changed
    ctx.note(f"commodity {cid}: " + ", ".join(f"{k} = {ctx.params[k]}" for k in keys))


@_op("set_budget", "a different budget for first-stage spending (\"none\" removes it)",
     {"budget": "currency, or \"none\" (give this or factor)",
      "factor": "multiplier of the base budget (give this or budget)"})
def _set_budget(ctx: Context) -> None:
    settings = ctx.b.manifest.setdefault("settings", {})
    if ("budget" in ctx.params) == ("factor" in ctx.params):
        ctx.bad("give exactly one of budget (currency, or \"none\") and factor")
        return
    if "factor" in ctx.params:
        factor = ctx.number("factor")
        if factor is None:
            return
        if settings.get("budget") is None:
            ctx.bad("the instance has no budget to scale; give budget = <currency>")
            return
        settings["budget"] = float(settings["budget"]) * factor
    elif str(ctx.params["budget"]).strip().lower() in NONE_WORDS:
        settings.pop("budget", None)
        ctx.note("no budget")
        return
    else:
        value = ctx.number("budget", unit="currency")
        if value is None:
            return
        settings["budget"] = value
    ctx.note(f"budget {settings['budget']:,.0f}")


@_op("set_setting", "change an instance setting (speed, detour factor, response-time "
     "standards, transport cost)",
     {"name": "setting name (see reserve-opt info)", "value": "new value in its unit"},
     ("name", "value"))
def _set_setting(ctx: Context) -> None:
    name = ctx.text("name")
    if name is None:
        return
    setting = SETTING_BY_NAME.get(name)
    if setting is None:
        close = difflib.get_close_matches(name, list(SETTING_BY_NAME), n=1)
        ctx.bad(f"setting '{name}' is not known; "
                + (f"did you mean '{close[0]}'?" if close
                   else f"known settings are {', '.join(SETTING_BY_NAME)}"))
        return
    settings = ctx.b.manifest.setdefault("settings", {})
    if setting.dtype == "bool":
        settings[name] = ctx.flag("value", bool(settings.get(name, setting.default)))
    else:
        value = ctx.number("value", minimum=setting.minimum, unit=setting.unit)
        if value is None:
            return
        settings[name] = value
    ctx.note(f"{name} = {settings[name]}")
