"""The ``whatif`` command (base and variants side by side) and ``variant check|apply``."""

from __future__ import annotations

import csv
import io
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from reserve_opt.cli.errors import reported_errors
from reserve_opt.cli.options import (
    CSV_ENCODING,
    ForceOption,
    GapOption,
    InstancePath,
    ResponseTimeOption,
    SeedOption,
    SharingOption,
    SolverOption,
    ThreadsOption,
    TopOption,
    out_option,
    output_folder,
    time_limit_option,
    write_csv,
    write_json,
    write_tables,
)
from reserve_opt.cli.plan_cmd import DEFAULT_TIME_LIMIT_S
from reserve_opt.cli.progress import progress_bar
from reserve_opt.cli.render import CVAR_NOTE, DEFAULT_TOP, echo_json, pct, say
from reserve_opt.cli.render import console as render_console
from reserve_opt.variants.run import ROUTE_TIME_LIMIT_S

if TYPE_CHECKING:
    from reserve_opt.domain import Instance
    from reserve_opt.variants import Variant
    from reserve_opt.variants.run import RunOptions


class WhatifFormat(StrEnum):
    """Output formats of ``whatif``."""

    TABLE = "table"
    JSON = "json"
    CSV = "csv"


VariantOption = Annotated[list[str], typer.Option(
    "--variant", "-v", help="Variant file (TOML/YAML); a+b.toml composes two; a folder "
    "gives each file in it. Repeat for more variants.")]


def variant_paths(args: list[str]) -> list[Path]:
    """The files and folders ``--variant`` arguments name (inputs an output must spare)."""
    return [Path(part) for arg in args for part in {arg, *arg.split("+")}]


def whatif(
    base: InstancePath,
    variant: VariantOption,
    model: Annotated[str, typer.Option(
        help="plan (placement), allocate (one event) or route (one day of the event's "
        "allocation on vehicles, as reserve-opt route).")] = "plan",
    scenario: Annotated[str | None, typer.Option(
        "--scenario", "-s", help="Event (scenario id) of --model allocate or route.")] = None,
    periods: Annotated[int | None, typer.Option(
        help="Days of --model allocate or route (default: the model's; route: the routed "
        "day, as reserve-opt route).")] = None,
    period: Annotated[int, typer.Option(
        help="Day of the allocation --model route routes (1-based).")] = 1,
    engine: Annotated[str, typer.Option(
        help="Routing engine of --model route: pyvrp or ortools.")] = "pyvrp",
    route_time_limit: Annotated[float, typer.Option(
        "--route-time-limit", help="Seconds per routing solve (--model route).")] = (
        ROUTE_TIME_LIMIT_S),
    route_seed: Annotated[int, typer.Option(
        "--route-seed", help="Random seed of the routing engine (--model route); fixed so "
        "runs repeat.")] = 0,
    route_max_iterations: Annotated[int | None, typer.Option(
        "--route-max-iterations", help="Stop each routing solve after N iterations (pyvrp) "
        "or solutions (ortools) instead of --route-time-limit: the same routes on any "
        "machine.")] = None,
    solver: SolverOption = "highs",
    time_limit: Annotated[float, time_limit_option(
        "Seconds per solve of the plan or allocation.")] = DEFAULT_TIME_LIMIT_S,
    gap: GapOption = 1e-4,
    threads: ThreadsOption = 1,
    seed: SeedOption = 0,
    sharing: SharingOption = "auto",
    response_time: ResponseTimeOption = False,
    service_level: Annotated[float | None, typer.Option(
        help="Floor on each region's expected fill rate, 0-1.")] = None,
    risk_weight: Annotated[float, typer.Option(
        help="lambda, 0 (risk neutral) to 1: minimise E[cost] + lambda x CVaR of the "
        "scenario second-stage cost, as plan does.")] = 0.0,
    cvar_level: Annotated[float, typer.Option(help=f"CVaR confidence level beta. {CVAR_NOTE}")
                          ] = 0.9,
    out: Annotated[Path | None, out_option(
        "Folder for whatif.json, comparison CSVs and each run's plan.")] = None,
    force: ForceOption = False,
    fmt: Annotated[WhatifFormat, typer.Option(
        "--format", "-f", help="table for people, json or csv for machines.")] = (
        WhatifFormat.TABLE),
    top: TopOption = DEFAULT_TOP,
) -> None:
    """Run the base instance and each variant; compare objective, shortage, fill, plans."""
    from reserve_opt.io import load_instance
    from reserve_opt.variants.run import RunOptions

    with reported_errors():
        dest = output_folder(out, "whatif", [base, *variant_paths(variant)], force)
        opts = RunOptions(model=model, solver=solver, time_limit_s=time_limit, mip_gap=gap,
                          threads=threads, seed=seed, sharing=sharing,
                          response_time=response_time, service_level=service_level,
                          risk_weight=risk_weight, cvar_level=cvar_level, scenario=scenario,
                          periods=periods, period=period, engine=engine,
                          route_time_limit_s=route_time_limit, route_seed=route_seed,
                          route_max_iterations=route_max_iterations)
        inst = load_instance(base)
        variants = load_variants(variant)
        report = run_whatif(inst, str(base), variants, opts)
        if dest is not None:
            with dest.write() as folder:
                write_whatif(report, folder)
    if fmt is WhatifFormat.JSON:
        echo_json(report["json"])
    elif fmt is WhatifFormat.CSV:
        typer.echo(comparison_csv(report["json"]["comparison"]), nl=False)
    else:
        print_whatif(report, top)
        if out is not None:
            typer.echo(f"\nwrote {out}" + ("" if out.suffix.lower() == ".xlsx" else "/"))
    if any(r["summary"]["costs"] is None for r in report["runs"]):
        raise typer.Exit(1)


def load_variants(args: list[str]) -> list[Variant]:
    """Every variant named by ``--variant`` arguments, names made unique."""
    from reserve_opt.errors import InputError
    from reserve_opt.variants import read_variant_arg

    variants: list[Variant] = []
    problems: list[str] = []
    for arg in args:
        try:
            variants += read_variant_arg(arg)
        except InputError as err:
            problems += err.problems
    if problems:
        raise InputError(problems)
    seen: dict[str, int] = {"base": 1}
    out = []
    for v in variants:
        n = seen.get(v.name, 0)
        seen[v.name] = n + 1
        if n:
            from dataclasses import replace

            v = replace(v, name=f"{v.name}#{n + 1}")
        out.append(v)
    return out


def run_whatif(inst: Instance, base_path: str, variants: list[Variant],
               opts: RunOptions) -> dict[str, Any]:
    """Apply every variant (all checked before any solve), run each, compare with the base.

    Returns
    -------
    dict
        ``runs`` (name, instance, result object, result dict, summary, notes, diff) and
        ``json``, the document ``--format json`` prints.
    """
    from reserve_opt.errors import InputError
    from reserve_opt.variants import apply_changes
    from reserve_opt.variants.allocate import allocation_diff
    from reserve_opt.variants.compare import plan_diff, summary_row
    from reserve_opt.variants.route import route_diff
    from reserve_opt.variants.run import check_scenario, resolve_for, run_model

    patched: list[tuple[Variant, Instance, list[str]]] = []
    problems: list[str] = []
    check_scenario(inst, opts, base_path)
    for v in variants:
        try:
            vi, notes = apply_changes(inst, v.changes)
            check_scenario(vi, opts, v.name)
            patched.append((v, vi, notes))
        except InputError as err:
            problems += err.problems
    if problems:
        raise InputError(problems)
    runs: list[dict[str, Any]] = []
    todo: list[tuple[str, Variant | None, Instance, list[str]]] = [("base", None, inst, [])]
    todo += [(v.name, v, vi, notes) for v, vi, notes in patched]
    how = opts.solver if opts.model != "route" else f"{opts.solver} and {opts.engine}"
    with progress_bar(f"what-if {opts.model} runs with {how}") as hooks:
        if hooks["on_start"]:
            hooks["on_start"](len(todo))
        for name, var, vi, notes in todo:
            run_opts, note = resolve_for(inst, vi, opts)
            if note:
                notes = [*notes, note]
            result_dict, summary, result = run_model(vi, run_opts)
            warning = _check(vi, result) if opts.model == "plan" else None
            runs.append({"name": name, "variant": var, "instance": vi, "result": result,
                         "result_dict": result_dict, "summary": summary, "notes": notes,
                         "warning": warning})
            if hooks["on_done"]:
                hooks["on_done"]()
    differ = {"plan": plan_diff, "allocate": allocation_diff, "route": route_diff}[opts.model]
    for r in runs[1:]:
        r["diff"] = differ(runs[0]["summary"], r["summary"])
    commodities = [c.id for c in inst.commodities]
    comparison = [summary_row(r["name"], r["summary"], commodities) for r in runs]
    base_obj = runs[0]["summary"]["objective"]
    for row in comparison:
        row["objective_change"] = (None if row["objective"] is None or base_obj is None
                                   else row["objective"] - base_obj)
    doc = {
        "model": opts.model, "options": opts.to_dict(), "currency": inst.currency,
        "base": {"name": inst.name, "path": base_path, "result": runs[0]["result_dict"],
                 "summary": runs[0]["summary"]},
        "variants": [{**r["variant"].to_dict(), "name": r["name"], "notes": r["notes"],
                      "result": r["result_dict"], "summary": r["summary"], "diff": r["diff"]}
                     for r in runs[1:]],
        "comparison": comparison,
        "warnings": [f"{r['name']}: {r['warning']}" for r in runs if r["warning"]],
    }
    return {"runs": runs, "json": doc, "options": opts, "instance": inst}


def _check(inst: Instance, result: Any) -> str | None:
    from reserve_opt.models.placement import check_placement

    if result.costs is None:
        return None
    report = check_placement(inst, result)
    if report.ok:
        return None
    return "the independent checker disagrees with the solver: " + "; ".join(report.violations)


def comparison_csv(rows: list[dict[str, Any]]) -> str:
    """The comparison rows as CSV text (one row per run)."""
    buf = io.StringIO()
    columns: list[str] = []
    for r in rows:
        columns += [k for k in r if k not in columns]
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def write_whatif(report: dict[str, Any], folder: Path) -> None:
    """Write the whatif's files and each run's own output folder.

    ``whatif.json``, ``comparison.csv``, ``fill_by_region.csv``, ``plan_changes.csv`` and
    ``runs/<name>/`` (plan tables as ``reserve-opt plan --out`` writes them).
    """
    import pandas as pd

    from reserve_opt.cli.plan_cmd import write_plan

    doc = report["json"]
    write_json(folder / "whatif.json", doc)
    (folder / "comparison.csv").write_text(comparison_csv(doc["comparison"]),
                                           encoding=CSV_ENCODING)
    write_csv(pd.DataFrame(_fill_rows(report)), folder / "fill_by_region.csv")
    changes = [{"variant": r["name"], "kind": kind, "line": line}
               for r in report["runs"][1:]
               for kind, lines in (("change", r["notes"]), ("plan", r["diff"]["lines"]))
               for line in lines]
    write_csv(pd.DataFrame(changes, columns=["variant", "kind", "line"]),
              folder / "plan_changes.csv")
    for r in report["runs"]:
        run = folder / "runs" / r["name"]
        run.mkdir(parents=True)
        if report["options"].model == "plan":
            write_plan(r["instance"], r["result"], run)
        else:
            write_tables(run, r["result"].tables())
            write_json(run / "result.json", r["result_dict"])


def _fill_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for r in report["runs"]:
        for region, d in (r["summary"]["fill_rate_by_region"] or {}).items():
            for commodity, rate in d.items():
                rows.append({"run": r["name"], "region": region, "commodity": commodity,
                             "fill_rate": rate})
    return rows


def _pct(x: float | None) -> str:
    share = pct(x)
    return "" if share is None else share.text


def _money(x: float | None) -> str:
    # + 0.0 turns a -0.3 rounded to "-0" into "0"
    return "" if x is None else f"{round(x) + 0.0:,.0f}"


def _km(x: float | None) -> str:
    return "" if x is None else f"{x:,.1f}"


def _count(x: int | None) -> str:
    return "" if x is None else str(x)


def print_whatif(report: dict[str, Any], top: int = DEFAULT_TOP) -> None:
    """Print the comparison for people: runs, metrics side by side, region fill, changes.

    Runs sit side by side as columns; when they do not fit the terminal they are shown a
    few at a time, each group beside the base. ``top`` regions of the fill table at most.
    """
    from reserve_opt.variants.compare import region_fill

    runs = report["runs"]
    inst = report["instance"]
    opts = report["options"]
    cur = inst.currency
    console = render_console()
    what = ("expected over scenarios" if opts.model == "plan" else f"event {opts.scenario}"
            + (f", day {opts.period}" if opts.model == "route" else ""))
    how = f"solver {opts.solver}" + (
        f", engine {opts.engine} ({_route_budget(opts)}, seed {opts.route_seed})"
        if opts.model == "route" else "")
    say(f"{inst.name}: base and {len(runs) - 1} variant(s), model {opts.model} "
        f"({what}), {how}")
    if opts.model == "allocate":
        say("objective: cost of the allocation once shortage is as small as it can be")
    if opts.model == "plan":
        say(f"objective: money spent + expected shortage penalty ({cur}; the penalty is a "
            "weight on shortage, not money)")
    if opts.model == "route":
        say(f"routing cost: the day's routes ({cur}); fill rates: the allocation's, "
            "at the end of its horizon")
    say()
    for r in runs:
        desc = "the base instance" if r["variant"] is None else r["variant"].description
        say(f"  {r['name']}: {desc} [{r['summary']['status']}]")
        for note in r["notes"]:
            say(f"      - {note}")
        if r["warning"]:
            say(f"      warning: {r['warning']}")
    say()

    groups = _groups([r["name"] for r in runs], console.width)

    def table(title: str, group: list[int]) -> Table:
        say(title)  # wrapped at the terminal, not at the (narrower) table
        t = Table(show_edge=False, pad_edge=False, header_style="bold")
        t.add_column("", no_wrap=True, max_width=_LABEL)
        for i in group:
            t.add_column(runs[i]["name"], justify="right", no_wrap=True)
        return t

    def pick(rows: list[list[str]], group: list[int]) -> list[list[str]]:
        return [[row[0], *(row[1 + i] for i in group)] for row in rows]

    cmp = report["json"]["comparison"]
    if opts.model == "route":
        rows = _route_rows(cmp, inst)
        title = f"Comparison ({cur}; units in each commodity's unit)"
    else:
        rows = _model_rows(cmp, inst, opts.model, runs[0]["summary"]["cost_terms"])
        title = f"Comparison ({cur}; shortage in each commodity's unit)"
    for group in groups:
        t = table(title, group)
        for row in pick(rows, group):
            t.add_row(*row)
        console.print(t)
    say()
    if opts.model == "route":
        _print_unmet(runs)
    fills = [region_fill(r["summary"]) for r in runs]
    short = [(min(c for c in cells if c is not None), region.id, cells)
             for region in inst.regions
             for cells in [[f.get(region.id) for f in fills]]
             if any(c is not None and c < 1 - 1e-9 for c in cells)]
    label = "Allocation fill" if opts.model == "route" else "Fill"
    if not short:
        say(f"{label} rate by region: every region fully served (100%) in every run.\n")
    else:
        short.sort(key=lambda x: (x[0], x[1]))
        shown = short if top == 0 else short[:top]
        fill_rows = [[rid, *(_pct(c) for c in cells)] for _, rid, cells in shown]
        for group in groups:
            t = table(f"{label} rate by region (lowest over commodities; regions below "
                      "100% in some run, lowest first)", group)
            for row in pick(fill_rows, group):
                t.add_row(*row)
            console.print(t)
        if len(short) > len(shown):
            say(f"… and {len(short) - len(shown):,} more; all in fill_by_region.csv (--out)")
        say()
    what = "routes" if opts.model == "route" else "plan"
    say(f"What changed in the {what} (against the base):")
    for r in runs[1:]:
        say(f"  {r['name']}:")
        for line in r["diff"]["lines"] or [f"(no {what})"]:
            say(f"      - {line}")


#: Width of the label column of the comparison (longer labels are cut with "…").
_LABEL = 28


def _groups(names: list[str], limit: int) -> list[list[int]]:
    """Indices of runs shown together: all when they fit, else the base and a few more."""
    def wide(i: int) -> int:
        return max(len(names[i]), 12) + 3

    room = limit - _LABEL
    if sum(wide(i) for i in range(len(names))) <= room:
        return [list(range(len(names)))]
    groups: list[list[int]] = []
    group = [0]
    for i in range(1, len(names)):
        if len(group) > 1 and sum(wide(j) for j in group) + wide(i) > room:
            groups.append(group)
            group = [0]
        group.append(i)
    groups.append(group)
    return groups


#: Cost terms whose name alone misleads: the penalty is no money, compensation a transfer.
_TERMS = {"shortage": "penalty (not money)", "total": "money + penalty",
          "expected_compensation": "(transfer) compensation"}


def _model_rows(cmp: list[dict[str, Any]], inst: Instance, model: str,
                terms: list[str]) -> list[list[str]]:
    rows = [["objective", *(_money(c["objective"]) for c in cmp)],
            ["change from base", *(_money(c["objective_change"]) for c in cmp)]]
    for term in terms:
        label = _TERMS.get(term, term.replace("_", " "))
        rows.append([f"  {label}", *(_money(c.get(f"cost_{term}")) for c in cmp)])
    label = "expected shortage" if model == "plan" else "shortage"
    rows += [[f"{label} {c.id}", *(_money(r.get(f"expected_shortage_units_{c.id}"))
                                   for r in cmp)] for c in inst.commodities]
    rows += [[f"fill rate {c.id}", *(_pct(r.get(f"fill_rate_{c.id}")) for r in cmp)]
             for c in inst.commodities]
    rows.append(["lowest region fill rate", *(_pct(r["lowest_fill_rate"]) for r in cmp)])
    if model == "plan":
        rows.append(["warehouses opened", *(str(r.get("warehouses_opened", "")) for r in cmp)])
        rows.append(["contracts held", *(str(r.get("contracts_held", "")) for r in cmp)])
    return rows


def _route_rows(cmp: list[dict[str, Any]], inst: Instance) -> list[list[str]]:
    def cells(key: str, fmt: Any = _money) -> list[str]:
        return [fmt(r.get(key)) for r in cmp]

    rows = [["routing cost", *cells("objective")],
            ["change from base", *cells("objective_change")],
            ["distance km", *cells("distance_km", _km)],
            ["vehicles used", *cells("vehicles_used", _count)],
            ["loads", *cells("loads", _count)],
            ["units on routes", *cells("delivered_units")],
            ["units unmet", *cells("unmet_units")]]
    rows += [[f"  unmet {c.id}", *cells(f"unmet_units_{c.id}")] for c in inst.commodities]
    rows.append(["unmet deliveries", *cells("unmet_deliveries", _count)])
    # what the allocation could not find at all, beside what the trucks could not carry
    rows += [[f"allocation shortage {c.id}", *cells(f"expected_shortage_units_{c.id}")]
             for c in inst.commodities]
    rows += [[f"allocation fill rate {c.id}", *cells(f"fill_rate_{c.id}", _pct)]
             for c in inst.commodities]
    rows.append(["lowest region fill rate", *cells("lowest_fill_rate", _pct)])
    return rows


def _print_unmet(runs: list[dict[str, Any]]) -> None:
    """Why deliveries are unmet, per run: each reason once with its count."""
    lines = [(r["name"], n, reason) for r in runs
             for reason, n in (r["summary"].get("unmet_reasons") or {}).items()]
    if not lines:
        return
    typer.echo("Unmet deliveries and why:")
    for name, n, reason in lines:
        typer.echo(f"  {name}: {n} x {reason}")
    typer.echo("")


# -- reserve-opt variant check | apply ---------------------------------------------------

variant_app = typer.Typer(no_args_is_help=True, help="Check a variant or write the patched "
                          "instance.")


@variant_app.command("check")
def variant_check(base: InstancePath, variant: VariantOption) -> None:
    """Apply variants to the base and validate them; print what each change does."""
    from reserve_opt.io import load_instance
    from reserve_opt.variants import apply_changes

    with reported_errors():
        inst = load_instance(base)
        results = [(v, apply_changes(inst, v.changes)[1]) for v in load_variants(variant)]
    for v, notes in results:
        typer.echo(f"{v.name}: valid ({v.description})")
        for note in notes:
            typer.echo(f"  - {note}")


@variant_app.command("apply")
def variant_apply(
    base: InstancePath,
    variant: VariantOption,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder (or .json document, or "
                                      ".xlsx workbook, never replacing a file reserve-opt did "
                                      "not write) for the patched instance.")],
    force: ForceOption = False,
) -> None:
    """Write the base with the variants applied in order, as an instance of its own."""
    from reserve_opt.cli.convert_cmd import instance_output, write_instance
    from reserve_opt.io import load_instance
    from reserve_opt.variants import compose

    with reported_errors():
        inputs = [base, *variant_paths(variant)]
        instance_output(out, inputs, force)
        inst = load_instance(base)
        v = compose(load_variants(variant))
        patched = v.apply(inst)
        write_instance(patched, out, inputs, force)
    typer.echo(f"wrote {out} ({v.name})")


def register(app: typer.Typer) -> None:
    """Add ``whatif`` and ``variant`` to ``app``."""
    app.command()(whatif)
    app.add_typer(variant_app, name="variant")


def _route_budget(opts: RunOptions) -> str:
    """What stops each routing solve: iterations when given, else seconds."""
    if opts.route_max_iterations is not None:
        return f"{opts.route_max_iterations} iterations"
    return f"{opts.route_time_limit_s:g} s"
