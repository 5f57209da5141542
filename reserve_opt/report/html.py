"""The report page: one self-contained HTML file, no script, no request.

Everything the page needs is in it: the style, the maps (inline SVG) and, when the page has
Chinese or other non-Latin text, a subset of a CJK font as a ``data:`` URL. A
Content-Security-Policy forbids any fetch, so even a browser that finds something to load
asks nobody. Every value from the input goes through :func:`markupsafe.escape` (names, ids,
the model's prose); only this module's own markup is trusted (:class:`markupsafe.Markup`).

More sections (a later ``review``) come in through ``extra``: functions that get the
report's data and label lookup and return a :class:`Section`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from markupsafe import Markup, escape

from reserve_opt.io.outdir import OutputFile, signature
from reserve_opt.report.figures import PlanFigures, hours, money, percent, units
from reserve_opt.report.i18n import Lang, translator

if TYPE_CHECKING:
    from reserve_opt.domain import Instance
    from reserve_opt.variants.route import RouteRun

Translate = Callable[..., str]
Cell = str | Markup | float | int | None


@dataclass(frozen=True)
class Section:
    """One section of the report.

    Attributes
    ----------
    anchor
        The section's id in the page (letters, digits and ``-``; it links the contents).
    title
        Its heading (plain text: it is escaped).
    body
        Its content as markup; build it with :func:`table`, :func:`paragraph` and
        :class:`markupsafe.Markup` (``Markup("<p>{}</p>").format(text)`` escapes ``text``).
    """

    anchor: str
    title: str
    body: Markup


@dataclass(frozen=True)
class ReportData:
    """What a report is made of.

    Attributes
    ----------
    instance
        The instance.
    source
        How the page names the instance (its path as given).
    plan
        The plan's figures.
    plan_from
        The plan folder read (``--plan``), or ``None`` for a plan solved for the report.
    event
        The event's allocation and the routes of one day, or ``None``.
    whatif
        The what-if comparison (``run_whatif(...)["json"]``), or ``None``.
    """

    instance: Instance
    source: str
    plan: PlanFigures
    plan_from: str | None = None
    event: RouteRun | None = None
    whatif: dict[str, Any] | None = None


SectionMaker = Callable[[ReportData, Translate], "Section | None"]
"""A function adding a section: it gets the data and the label lookup."""


def _cell(value: Cell) -> Markup:
    if isinstance(value, Markup):
        return value
    if value is None:
        return Markup("")
    if isinstance(value, float):
        return escape(units(value))
    return escape(str(value))


def table(headers: Sequence[str], rows: Sequence[Sequence[Cell]],
          numeric: Sequence[int] = (), caption: str | None = None) -> Markup:
    """An HTML table; every cell escaped (a float is shown to the unit).

    Parameters
    ----------
    headers
        Column headings (units in them).
    rows
        The cells; :class:`markupsafe.Markup` cells are kept as they are.
    numeric
        Indices of columns aligned right.
    caption
        A caption above the table, or ``None``.

    Returns
    -------
    Markup
        The table.
    """
    right = set(numeric)
    out = [Markup("<table>")]
    if caption:
        out.append(Markup("<caption>{}</caption>").format(caption))
    out.append(Markup("<thead><tr>"))
    out += [Markup('<th class="num">{}</th>' if i in right else "<th>{}</th>").format(h)
            for i, h in enumerate(headers)]
    out.append(Markup("</tr></thead><tbody>"))
    for row in rows:
        out.append(Markup("<tr>"))
        out += [Markup('<td class="num">{}</td>' if i in right else "<td>{}</td>")
                .format(_cell(c)) for i, c in enumerate(row)]
        out.append(Markup("</tr>"))
    out.append(Markup("</tbody></table>"))
    return Markup("").join(out)


def paragraph(text: str, cls: str = "") -> Markup:
    """A paragraph of plain text (escaped), with an optional class."""
    if cls:
        return Markup('<p class="{}">{}</p>').format(cls, text)
    return Markup("<p>{}</p>").format(text)


def _figures(cards: Sequence[tuple[str, str, str]]) -> Markup:
    """Key figures as cards: (label, value, class)."""
    out = [Markup('<div class="figures">')]
    out += [Markup('<div class="figure {}"><div class="value">{}</div>'
                   '<div class="label">{}</div></div>').format(cls, value, label)
            for label, value, cls in cards]
    out.append(Markup("</div>"))
    return Markup("").join(out)


# --------------------------------------------------------------------------- sections


#: Rows of the "who owes whom" table among the key figures (the full ledger follows).
KEY_DEBTS = 10


def _key_figures(d: ReportData, t: Translate) -> Section:
    inst, plan = d.instance, d.plan
    cur = inst.currency
    signed = sum(1 for c in plan.contracts if c.get("signed") and not c.get("signed_before"))
    cards: list[tuple[str, str, str]] = [
        (t("kf_money"), money(plan.money_spent, cur), "money"),
        (t("kf_penalty"), money(plan.costs["shortage"], cur), "penalty"),
        (t("kf_fill"), percent(plan.overall_fill()) or "–", "fill"),
        (t("kf_lowest"), percent(min(plan.region_fill().values(), default=None)) or "–",
         "fill"),
        (t("kf_opened"), str(len(plan.opened)), ""),
        (t("kf_signed"), str(signed), ""),
        (t("kf_comp"), money(plan.costs["expected_compensation"], cur), "transfer"),
    ]
    body = Markup("<h3>{}</h3>").format(t("sec_plan")) + _figures(cards)
    ev = d.event
    debts: list[dict[str, Any]] = []
    if ev is not None and ev.allocation.has_plan:
        alloc = ev.allocation
        c = alloc.costs()
        region_fill = _event_region_fill(alloc)
        cards = [
            (t("kf_event_fill", event=ev.scenario), percent(alloc.fill_rate) or "–", "fill"),
            (t("kf_lowest"), percent(min(region_fill.values(), default=None)) or "–", "fill"),
            (t("kf_event_money", event=ev.scenario),
             money(c["transport"] + c["contract_prices"], cur), "money"),
            (t("kf_event_short"), _by_commodity(alloc.total_shortage()), "penalty list"),
            (t("kf_event_comp", event=ev.scenario), money(c["compensation_transfer"], cur),
             "transfer"),
        ]
        if ev.result is not None and ev.verdict is not None:
            cards += [(t("kf_routes", day=ev.period), str(ev.result.vehicles_used), ""),
                      (t("kf_route_cost", day=ev.period), money(ev.result.cost, cur), "money"),
                      (t("kf_unmet", day=ev.period), _unrouted(ev), "penalty list")]
        body += Markup("<h3>{}</h3>").format(t("sec_event", event=ev.scenario)) + _figures(
            cards)
        debts = [o for o in alloc.settlement_totals() if o["amount"] >= 0.5]
        title = t("kf_debts_event", event=ev.scenario)
    else:
        debts = _plan_debts(plan)
        title = t("kf_debts_plan")
    body += paragraph(t("penalty_note"), "note") + paragraph(t("comp_note"), "note") + \
        paragraph(t("fill_note"), "note")
    debts.sort(key=lambda o: (-o["amount"], o["debtor"], o["creditor"]))
    body += Markup("<h3>{}</h3>").format(title)
    if debts:
        body += _settlement_table(debts[:KEY_DEBTS], t, cur)
        if len(debts) > KEY_DEBTS:
            body += paragraph(t("more_rows", n=len(debts) - KEY_DEBTS), "note")
    else:
        body += paragraph(t("no_settlement"))
    return Section("key-figures", t("sec_key"), body)


def _by_commodity(amounts: dict[str, float]) -> str:
    """``quilt 7,700 · tent 750``: units per commodity (each in its own unit), or ``0``."""
    shown = [f"{k} {units(v)}" for k, v in amounts.items() if v >= 0.5]
    return " · ".join(shown) or "0"


def _unrouted(ev: RouteRun) -> str:
    """Units of the day's deliveries left off every route, per commodity."""
    rep = ev.report
    if rep is None or rep.empty:
        return "0"
    return _by_commodity({str(k): float(v) for k, v in rep.groupby("commodity", sort=False)[
        "unmet"].sum().items()})


def _event_region_fill(alloc: Any) -> dict[str, float]:
    """Region -> its lowest fill rate over commodities at the end of the event (0-1)."""
    fin = alloc.final()
    if fin.empty:
        return {}
    with_demand = fin[fin["demand"] > 0]
    return {str(k): float(v) for k, v in with_demand.groupby("region")["fill_rate"].min()
            .items()}


def _plan_debts(plan: PlanFigures) -> list[dict[str, Any]]:
    """Expected compensation each borrower owes each lender under the plan (currency > 0)."""
    owed: dict[tuple[str, str], float] = {}
    for s in plan.settlement:
        key = (str(s.get("borrower")), str(s.get("lender")))
        owed[key] = owed.get(key, 0.0) + s["expected_compensation"]
    return [{"debtor": b, "creditor": lender, "kind": "agreement", "units": None,
             "amount": a} for (b, lender), a in owed.items() if a >= 0.5]


def _settlement_table(owed: list[dict[str, Any]], t: Translate, cur: str) -> Markup:
    kinds = {"agreement": t("v_agreement"), "contract": t("v_contract")}
    return table([t("col_debtor"), t("col_creditor"), t("col_kind"), t("col_units"),
                  t("col_money", currency=cur)],
                 [[o["debtor"], o["creditor"], kinds.get(o["kind"], o["kind"]), o["units"],
                   money(o["amount"])] for o in owed], numeric=(3, 4))


def _plan_map(d: ReportData, t: Translate) -> Section:
    from reserve_opt.report.svgmap import MapLayers

    layers = MapLayers(fill=d.plan.region_fill(),
                       opened=frozenset(str(o["facility"]) for o in d.plan.opened))
    return Section("plan-map", t("sec_plan_map"),
                   _map(d, layers, t, t("map_fill", what=t("map_fill_plan")), "plan-map-cap"))


def _map(d: ReportData, layers: Any, t: Translate, caption: str, cap_id: str) -> Markup:
    from reserve_opt.report.svgmap import draw_svg, legend

    inst = d.instance
    if all(r.geometry is not None for r in inst.regions):
        shapes = t("own_polygons", file=d.source)
    else:
        shapes = t("service_areas")
    return (Markup('<figure class="map">') + draw_svg(inst, layers, t, cap_id)
            + Markup('<figcaption id="{}">{}. {}</figcaption>').format(cap_id, caption, shapes)
            + legend(t, layers, inst) + Markup("</figure>"))


def _plan_section(d: ReportData, t: Translate) -> Section:
    inst, plan = d.instance, d.plan
    cur = inst.currency
    c = plan.costs
    rows: list[list[Cell]] = [
        [t("c_fixed"), money(c["fixed"])], [t("c_purchase"), money(c["purchase"])],
        [t("c_retainer"), money(c["retainer"])], [t("c_transport"), money(c["transport"])],
        [t("c_unit_prices"), money(c["unit_prices"])], [t("c_holding"), money(c["holding"])],
        [Markup("<strong>{}</strong>").format(t("c_money")),
         Markup("<strong>{}</strong>").format(money(plan.money_spent))],
        [t("c_penalty"), money(c["shortage"])],
        [t("c_total"), money(plan.money_spent + c["shortage"])]]
    if abs(plan.risk_term) >= 0.5:
        rows.append([t("c_risk"), money(plan.risk_term)])
    rows.append([t("c_comp"), money(c["expected_compensation"])])
    body = table([t("term"), t("amount", currency=cur)], rows, numeric=(1,),
                 caption=t("t_costs"))
    if plan.opened:
        body += table([t("col_facility"), t("col_region"), t("col_size"), t("col_capacity"),
                       t("col_fixed", currency=cur)],
                      [[o.get("facility"), o.get("region"), o.get("size"), o["capacity_m3"],
                        money(o["fixed_cost"])] for o in plan.opened], numeric=(3, 4),
                      caption=t("t_opened"))
    else:
        body += paragraph(t("none_opened"))
    totals: dict[str, list[float]] = {}
    for s in plan.stock:
        row = totals.setdefault(str(s["commodity"]), [0.0, 0.0, 0.0])
        row[0] += s["existing"]
        row[1] += s["added"]
        row[2] += s["total"]
    body += table([t("col_commodity"), t("col_unit"), t("col_existing"), t("col_buy"),
                   t("col_total")],
                  [[k, inst.commodity(k).unit, *v] for k, v in totals.items()],
                  numeric=(2, 3, 4), caption=t("t_stock"))
    if plan.contracts:
        def decision(cd: dict[str, Any]) -> str:
            if cd.get("signed_before"):
                return t("v_in_force")
            return t("v_sign") if cd.get("signed") else t("v_no_sign")

        body += table([t("col_contract"), t("col_facility"), t("col_commodity"),
                       t("col_decision"), t("col_retainer", currency=cur)],
                      [[cd.get("contract"), cd.get("facility"), cd.get("commodity"),
                        decision(cd), money(cd["retainer"])] for cd in plan.contracts],
                      numeric=(4,), caption=t("t_contracts"))
    debts = sorted(_plan_debts(plan), key=lambda o: (-o["amount"], o["debtor"]))
    if debts:
        body += table([t("col_borrower"), t("col_lender"), t("col_money", currency=cur)],
                      [[o["debtor"], o["creditor"], money(o["amount"])] for o in debts],
                      numeric=(2,), caption=t("t_plan_settlement"))
    return Section("plan", t("sec_plan"), body)


def _plan_shortages(d: ReportData, t: Translate) -> Section:
    fill = d.plan.fill
    short = (fill[fill["fill_rate"] < 1 - 1e-9].sort_values(["fill_rate", "region"],
                                                          kind="stable")
             if fill is not None and len(fill) else None)
    if short is None or not len(short):
        body = paragraph(t("all_full"))
    else:
        body = table([t("col_region"), t("col_commodity"), t("col_exp_demand"),
                      t("col_exp_short"), t("col_fill")],
                     [[r["region"], r["commodity"], float(r["expected_demand"]),
                       float(r["expected_shortage"]), percent(float(r["fill_rate"]))]
                      for r in short.to_dict("records")], numeric=(2, 3, 4),
                     caption=t("t_fill"))
        if d.event is None:
            body += paragraph(t("plan_short_note"), "note")
    return Section("plan-shortages", t("sec_plan_short"), body)


def _event_sections(d: ReportData, t: Translate) -> list[Section]:
    ev = d.event
    if ev is None:
        return []
    from reserve_opt.report.svgmap import MapLayers

    inst, alloc = d.instance, ev.allocation
    cur = inst.currency
    name = ev.scenario
    out: list[Section] = []
    if not alloc.has_plan:
        return [Section("event", t("sec_event", event=name),
                        paragraph(f"{alloc.status.value}: {alloc.message}"))]
    fin = alloc.final()
    rates = alloc.fill_rates()
    short = alloc.total_shortage()
    late = alloc.shortage_periods()
    body = table([t("col_commodity"), t("col_unit"), t("col_demand"), t("col_delivered"),
                  t("col_never"), t("col_late"), t("col_fill")],
                 [[k, inst.commodity(str(k)).unit, float(g["demand"].sum()),
                   float(g["delivered"].sum()), short.get(str(k), 0.0),
                   late.get(str(k), 0.0), percent(rates.get(str(k), 1.0))]
                  for k, g in fin.groupby("commodity", sort=False)],
                 numeric=(2, 3, 4, 5, 6), caption=t("t_by_commodity"))
    resp = alloc.response
    missed = resp[~resp["met"].astype(bool)] if len(resp) else resp
    if len(missed):
        body += table([t("col_region"), t("col_level"), t("col_standard"), t("col_first"),
                       t("col_fastest")],
                      [[r["region"], r["level"], hours(r["standard_h"]),
                        hours(r["first_arrival_h"]) or t("v_never"),
                        hours(r["fastest_possible_h"]) or t("v_never")]
                       for r in missed.to_dict("records")], numeric=(2, 3, 4),
                      caption=t("t_response"))
    else:
        body += paragraph(t("response_ok"))
    owed = alloc.settlement_totals()
    body += Markup("<h3>{}</h3>").format(t("t_settlement"))
    body += _settlement_table(owed, t, cur) if owed else paragraph(t("no_settlement"))
    out.append(Section("event", t("sec_event", event=name), body))

    # the map: fill in the event, every shipment, the day's routes and what is left over
    pts = inst.locations()
    region_fill = _event_region_fill(alloc)
    flows = alloc.flows
    grouped = (flows.groupby(["source", "region"], as_index=False)["quantity"].sum()
               if len(flows) else flows)
    lines = [(pts[str(r["source"])], pts[str(r["region"])], float(r["quantity"]),
              f"{r['source']} → {r['region']}: {units(float(r['quantity']))}")
             for r in grouped.to_dict("records") if float(r["quantity"]) > 0]
    routes: list[tuple[str, Sequence[tuple[float, float]]]] = []
    unmet: list[tuple[tuple[float, float], str]] = []
    if ev.plan is not None and ev.result is not None and ev.report is not None:
        from reserve_opt.models.routing import route_lines

        frame = route_lines(ev.plan, ev.result)
        routes = [(f"{r} ({d_:,.1f} km)", list(g.coords)) for r, d_, g in zip(
            frame["route"], frame.get("distance_km", [0.0] * len(frame)), frame.geometry,
            strict=True)]
        rep = ev.report
        unmet = [(pts[str(r["point"])] if str(r["point"]) in pts else pts[str(r["region"])],
                  f"{r['point']}: {r['commodity']} {units(float(r['unmet']))} — {r['reason']}")
                 for r in rep[rep["unmet"] > 1e-9].to_dict("records")]
    plan_open = frozenset(str(o["facility"]) for o in d.plan.opened)
    layers = MapLayers(fill=region_fill, opened=plan_open, flows=lines, routes=routes,
                       unmet=unmet)
    out.append(Section("event-map", t("sec_event_map", event=name, day=ev.period),
                       _map(d, layers, t, t("map_fill", what=t("map_fill_event")),
                            "event-map-cap")))

    # each shortage with its reasons, as allocate explains them
    ex = alloc.explanations
    if len(ex):
        ranked = ex.sort_values(["shortage", "region", "commodity", "worth"],
                                ascending=[False, True, True, False], kind="stable",
                                na_position="first")
        reasons = {"binding": t("r_binding"), "late": t("r_late"),
                   "no_route": t("r_no_route"), "no_day": t("r_no_day"),
                   "outage": t("r_outage")}
        methods = {"dual": t("m_dual"), "re-solve": t("m_re-solve"),
                   "structure": t("m_structure")}
        why = table([t("col_region"), t("col_commodity"), t("col_short"), t("col_reason"),
                     t("col_detail"), t("col_days"), t("col_worth"), t("col_method")],
                    [[r["region"], r["commodity"], float(r["shortage"]),
                      reasons.get(str(r["reason"]), str(r["reason"])), r["detail"],
                      r["periods"], _worth(r["worth"]),
                      methods.get(str(r["method"]), str(r["method"]))]
                     for r in ranked.to_dict("records")], numeric=(2, 6))
        why = paragraph(t("why_note"), "note") + why
    else:
        why = paragraph(t("no_shortage"))
    out.append(Section("why", t("sec_why", event=name), why))

    # the day's routes
    if ev.plan is None or ev.result is None or ev.report is None:
        rbody = paragraph(t("no_routes"))
    else:
        from reserve_opt.models.routing import route_lines

        frame = route_lines(ev.plan, ev.result)
        rbody = paragraph(t("routes_note", day=ev.period), "note")
        if len(frame):
            rbody += table([t("col_route"), t("col_depot"), t("col_trips"), t("col_stops"),
                            t("col_km"), t("col_cost", currency=cur), t("col_start"),
                            t("col_end"), t("col_kg")],
                           [[r["route"], r["depot"], r["trips"], r["stops"],
                             f"{float(r['distance_km']):,.1f}", money(float(r["cost"])),
                             hours(float(r["start_h"])), hours(float(r["end_h"])),
                             float(r["delivered_kg"])]
                            for r in frame.drop(columns="geometry").to_dict("records")],
                           numeric=(2, 3, 4, 5, 6, 7, 8), caption=t("t_routes"))
        rep = ev.report
        left = rep[rep["unmet"] > 1e-9]
        if len(left):
            rbody += table([t("col_source"), t("col_region"), t("col_point"),
                            t("col_commodity"), t("col_units"), t("col_reason")],
                           [[r["source"], r["region"], r["point"], r["commodity"],
                             float(r["unmet"]), r["reason"]] for r in left.to_dict("records")],
                           numeric=(4,), caption=t("t_unmet"))
        else:
            rbody += paragraph(t("all_routed"))
        for note in ev.plan.notes:
            rbody += paragraph(note, "note")
    out.append(Section("routes", t("sec_routes", day=ev.period), rbody))
    return out


def _worth(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return f"{float(value):,.3g}"


def _whatif_section(d: ReportData, t: Translate) -> Section | None:
    doc = d.whatif
    if doc is None:
        return None
    cur = str(doc.get("currency", ""))
    cmp: list[dict[str, Any]] = doc["comparison"]
    names = [t("base") if r["name"] == "base" else str(r["name"]) for r in cmp]
    commodities = [c.id for c in d.instance.commodities]

    def cells(key: str, fmt: Callable[[Any], str]) -> list[Cell]:
        return [fmt(r.get(key)) if r.get(key) is not None else "" for r in cmp]

    def spent(r: dict[str, Any]) -> float | None:
        total, penalty = r.get("cost_total"), r.get("cost_shortage")
        return None if total is None or penalty is None else total - penalty

    rows: list[list[Cell]] = [
        [t("col_status"), *cells("status", str)],
        [t("w_objective", currency=cur), *cells("objective", money)],
        [t("w_change", currency=cur), *cells("objective_change", money)]]
    if any(r.get("cost_total") is not None for r in cmp):
        rows.append([t("w_money", currency=cur), *(money(spent(r)) for r in cmp)])
        rows.append([t("w_penalty", currency=cur), *cells("cost_shortage", money)])
    rows += [[t("w_short", commodity=c), *cells(f"expected_shortage_units_{c}", units)]
             for c in commodities]
    rows += [[t("w_fill", commodity=c), *cells(f"fill_rate_{c}", _pct)] for c in commodities]
    rows.append([t("w_lowest"), *cells("lowest_fill_rate", _pct)])
    if any("warehouses_opened" in r for r in cmp):
        rows.append([t("w_opened"), *cells("warehouses_opened", str)])
        rows.append([t("w_contracts"), *cells("contracts_held", str)])
    body = paragraph(t("whatif_note", model=doc.get("model", "plan")), "note")
    body += table([t("col_measure"), *names], rows, numeric=tuple(range(1, len(names) + 1)),
                  caption=t("t_comparison"))
    body += Markup("<h3>{}</h3><dl>").format(t("t_changes"))
    for v in doc.get("variants", []):
        body += Markup("<dt>{}</dt>").format(v.get("name"))
        if v.get("description"):
            body += Markup('<dd class="note">{}</dd>').format(v["description"])
        lines = [*v.get("notes", []), *(v.get("diff") or {}).get("lines", [])]
        for line in lines or [t("no_change")]:
            body += Markup("<dd>{}</dd>").format(line)
    body += Markup("</dl>")
    return Section("whatif", t("sec_whatif"), body)


def _pct(value: Any) -> str:
    return percent(float(value)) or ""


# --------------------------------------------------------------------------- page

CSS = """
:root{--ink:#1d2329;--muted:#5b6670;--line:#d5dbe0;--accent:#1f4e79}
*{box-sizing:border-box}
body{font-family:'reserve-opt-cjk',system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',
Arial,'Noto Sans CJK SC','Microsoft YaHei','PingFang SC',sans-serif;color:var(--ink);
margin:0 auto;max-width:1000px;padding:24px;line-height:1.45;font-size:14px;background:#fff}
h1{font-size:24px;margin:0 0 4px;color:var(--accent)}
h2{font-size:19px;border-bottom:2px solid var(--accent);padding-bottom:3px;margin-top:32px}
h3{font-size:15px;margin:18px 0 6px}
.meta,.note{color:var(--muted);font-size:12.5px}
nav ol{columns:2;font-size:13px;padding-left:20px}
nav a{color:var(--accent);text-decoration:none}
.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(185px,1fr));gap:10px}
.figure{border:1px solid var(--line);border-left:5px solid var(--accent);padding:8px 10px;
border-radius:4px;break-inside:avoid}
.figure .value{font-size:18px;font-weight:600;font-variant-numeric:tabular-nums;
white-space:nowrap}
.figure .label{font-size:12px;color:var(--muted)}
.figure.money{border-left-color:#1f4e79}.figure.penalty{border-left-color:#d7301f}
.figure.fill{border-left-color:#4daf4a}
.figure.list .value{font-size:13.5px;white-space:normal}.figure.transfer{border-left-color:#999}
table{border-collapse:collapse;width:100%;margin:10px 0 16px;font-size:12.5px}
caption{text-align:left;font-weight:600;padding:4px 0;font-size:13.5px}
th,td{border-bottom:1px solid var(--line);padding:4px 6px;text-align:left;vertical-align:top}
th{background:#eef2f5;font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
figure.map{margin:8px 0}
svg.map{width:100%;height:auto;border:1px solid var(--line);display:block}
svg.map text{font-size:11px;fill:#222;paint-order:stroke;stroke:#fff;stroke-width:3px}
figcaption{font-size:12.5px;color:var(--muted);margin-top:4px}
ul.legend{list-style:none;padding:0;margin:6px 0;display:flex;flex-wrap:wrap;gap:4px 16px;
font-size:12px}
.swatch,.dot,.line{display:inline-block;width:14px;height:12px;margin-right:5px;
vertical-align:middle;border:1px solid #888}
.dot{border-radius:50%}.dot.hollow{background:#fff;border:2px solid #1f4e79}
.line{height:3px;border:0;width:12px;margin-right:1px}.line.dashed{background:#5e6f80}
.cross{color:#b10026;font-weight:700;margin-right:5px}
dl dt{font-weight:600;margin-top:8px}dl dd{margin-left:18px}
footer{margin-top:36px;border-top:1px solid var(--line);padding-top:8px}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
@page{size:A4;margin:14mm}
@media print{body{max-width:none;padding:0;font-size:11px}nav{display:none}
h2{break-after:avoid;margin-top:18px}section{break-inside:auto}
tr,figure,.figure{break-inside:avoid}thead{display:table-header-group}
a{color:inherit;text-decoration:none}}
"""

# no script, no fetch: styles and fonts inline, images only as data: URLs
CSP = ("default-src 'none'; style-src 'unsafe-inline'; font-src data:; img-src data:; "
       "form-action 'none'; base-uri 'none'")


def build_sections(data: ReportData, t: Translate,
                   extra: Sequence[SectionMaker] = ()) -> list[Section]:
    """The report's sections in order: key figures first, then maps, tables and reasons.

    Parameters
    ----------
    data
        What the report shows.
    t
        The label lookup.
    extra
        Functions adding sections at the end (e.g. a review); one returning ``None``
        adds nothing.

    Returns
    -------
    list of Section
        The sections.
    """
    sections = [_key_figures(data, t), _plan_map(data, t), _plan_section(data, t),
                _plan_shortages(data, t), *_event_sections(data, t)]
    whatif = _whatif_section(data, t)
    if whatif is not None:
        sections.append(whatif)
    for make in extra:
        section = make(data, t)
        if section is not None:
            sections.append(section)
    return sections


def render_report(data: ReportData, lang: Lang = "en",
                  extra: Sequence[SectionMaker] = ()) -> str:
    """The report as one HTML document (text).

    Parameters
    ----------
    data
        What the report shows.
    lang
        ``en`` or ``zh``: the language of every label (names and ids as given).
    extra
        More sections (see :func:`build_sections`).

    Returns
    -------
    str
        The page.
    """
    from reserve_opt.report.fonts import font_face_css

    t = translator(lang)
    inst = data.instance
    sections = build_sections(data, t, extra)
    covers = [t("covers_plan", n=len(inst.scenarios))]
    if data.event is not None:
        covers.append(t("covers_event", event=data.event.scenario,
                        periods=data.event.allocation.options.periods, day=data.event.period))
    if data.whatif is not None:
        covers.append(t("covers_whatif", n=len(data.whatif.get("variants", []))))
    plan = data.plan
    how = (t("plan_from_folder", path=data.plan_from) if data.plan_from is not None else
           t("plan_solved", status=plan.status, seconds=f"{plan.seconds:.1f}",
             solver=plan.solver))
    head = (Markup("<header><h1>{}</h1>").format(t("report_title", name=inst.name))
            + (paragraph(inst.description, "meta") if inst.description else Markup(""))
            + paragraph(t("covers", what=t("list_sep").join(covers)), "meta")
            + paragraph(how + " " + t("currency_note", currency=inst.currency), "meta")
            + Markup("</header>"))
    nav = Markup("<nav><h2>{}</h2><ol>").format(t("contents")) + Markup("").join(
        Markup('<li><a href="#{}">{}</a></li>').format(s.anchor, s.title) for s in sections
    ) + Markup("</ol></nav>")
    body = Markup("").join(
        Markup('<section id="{}"><h2>{}</h2>{}</section>').format(s.anchor, s.title, s.body)
        for s in sections)
    sources = [Markup("<li>{}</li>").format(t("ne_credit"))]
    sources += [Markup("<li>{}: {}</li>").format(k, v)
                for k, v in sorted(inst.sources.items())]
    foot = (Markup("<footer><h3>{}</h3><ul class=\"note\">").format(t("sources"))
            + Markup("").join(sources)
            + Markup("</ul>") + paragraph(t("made_by", generator=signature(),
                                            source=data.source), "note")
            + Markup("</footer>"))
    content = head + nav + body + foot
    title = t("report_title", name=inst.name)
    # the glyphs of every character shown (entities such as &lt; are ASCII)
    fonts = font_face_css(str(content) + title)
    lang_tag = "zh-CN" if lang == "zh" else "en"
    page = Markup(
        '<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        # recognised by reserve_opt.io.outdir: a later run may replace this page
        '<meta name="generator" content="{gen}">\n'
        '<meta http-equiv="Content-Security-Policy" content="{csp}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<title>{title}</title>\n<style>{fonts}{css}</style>\n</head>\n<body>\n"
    ).format(lang=lang_tag, gen=signature(), csp=CSP, title=title, fonts=Markup(fonts),
             css=Markup(CSS))
    return str(page + content + Markup("\n</body>\n</html>\n"))


def write_report(data: ReportData, path: str | os.PathLike[str] | OutputFile,
                 lang: Lang = "en", extra: Sequence[SectionMaker] = ()) -> Path:
    """Write the report to an ``.html`` file under the single-file output rules.

    The file is written beside its target and moved into place; an existing file is
    replaced only if reserve-opt wrote it (see :mod:`reserve_opt.io.outdir`).

    Parameters
    ----------
    data
        What the report shows.
    path
        The ``.html`` file, or an :class:`~reserve_opt.io.outdir.OutputFile` naming it.
    lang
        ``en`` or ``zh``.
    extra
        More sections (see :func:`build_sections`).

    Returns
    -------
    Path
        The file written.
    """
    dest = path if isinstance(path, OutputFile) else OutputFile(Path(path))
    page = render_report(data, lang, extra)
    with dest.write() as tmp:
        tmp.write_text(page, encoding="utf-8")
    return dest.path
