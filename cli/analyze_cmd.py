"""The ``analyze`` command: network centrality, knock-out ranking, risk-reserve mismatch."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from reserve_opt.cli.errors import reported_errors
from reserve_opt.cli.options import (
    ForceOption,
    FormatOption,
    InstancePath,
    ResponseTimeOption,
    SharingOption,
    SolverOption,
    TrustSchedulerOption,
    gap_option,
    out_option,
    output_folder,
    scheduler_option,
    show,
    time_limit_option,
    write_json,
    write_tables,
)
from reserve_opt.cli.progress import progress_bar
from reserve_opt.cli.render import OutputFormat, echo_json, print_table, say
from reserve_opt.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

    from reserve_opt.analysis import AnalysisReport, KnockoutRanking
    from reserve_opt.io.outdir import OutputFolder

DEFAULT_TIME_LIMIT_S = 120.0

_EXPOSURE = {"population_risk": "population x risk",
             "expected_affected": "expected affected persons"}


def analyze(
    path: InstancePath,
    knockout: Annotated[bool, typer.Option(
        "--knockout/--no-knockout", help="Rank single facility and link losses by the "
        "expected shortage they add to the frozen plan (solves the plan, then one LP per "
        "knock-out).")] = True,
    top: Annotated[int, typer.Option(help="Rows shown per table (files hold every row).")] = 10,
    rank_by: Annotated[str, typer.Option(
        "--rank-by", help="Knock-out ranking key: cost (increase in expected shortage "
        "penalty, currency) or units (increase in expected shortage units).")] = "cost",
    plan_stock: Annotated[bool, typer.Option(
        "--plan", help="Measure risk-reserve mismatch on the plan's stock (solves the plan) "
        "instead of the existing stock.")] = False,
    exposure: Annotated[str, typer.Option(
        help="Persons at risk: population_risk (population x risk) or expected_affected "
        "(sum over scenarios of probability x affected persons).")] = "population_risk",
    commodity: Annotated[str | None, typer.Option(
        help="Mismatch in units of this commodity; default: purchase value of all "
        "commodities (currency).")] = None,
    under: Annotated[float, typer.Option(
        help="Flag a high-risk region whose reserve per person at risk is below this share "
        "of its alliance's.")] = 0.5,
    over: Annotated[float, typer.Option(
        help="Flag a low-risk region whose reserve per person at risk is above this "
        "multiple of its alliance's.")] = 2.0,
    solver: SolverOption = "highs",
    time_limit: Annotated[float, time_limit_option(
        "Seconds per solve; the base plan may stop at its best plan so far.")] = (
        DEFAULT_TIME_LIMIT_S),
    gap: Annotated[float, gap_option("Relative MIP gap of the base plan.")] = 1e-4,
    sharing: SharingOption = "auto",
    response_time: ResponseTimeOption = False,
    out: Annotated[Path | None, out_option(
        "Folder for the tables (CSV) and analysis.json.")] = None,
    force: ForceOption = False,
    fmt: FormatOption = OutputFormat.TABLE,
    method: Annotated[str, typer.Option(
        help="Knock-out re-solves: fast (exact screening, warm-started re-solves of the "
        "blocks a loss changes, Dask for many) or plain (one full re-solve each; same "
        "figures, slower).")] = "fast",
    workers: Annotated[int | None, typer.Option(
        help="Local Dask worker processes for the fast knock-outs; 1 runs them in this "
        "process (default: the machine's cores when there are 200 knock-outs or more).")] = (
        None),
    scheduler: Annotated[str | None, scheduler_option("the knock-outs")] = None,
    trust_scheduler: TrustSchedulerOption = False,
) -> None:
    """Centrality of the transport and agreement networks, knock-out ranking, mismatch."""
    from reserve_opt.analysis import KnockoutInterrupted
    from reserve_opt.analysis import analyze as run_analysis
    from reserve_opt.io import load_instance
    from reserve_opt.models.placement import PlacementOptions
    from reserve_opt.solvers import SolverOptions

    with reported_errors():
        dest = output_folder(out, "analyze", [path], force)
        if top < 1:
            raise InputError(f"--top {top}: give at least 1 row per table.")
        if time_limit <= 0:
            raise InputError(f"--time-limit {time_limit:g}: give a positive number of "
                             "seconds.")
        if method not in ("fast", "plain"):
            raise InputError(f"--method '{method}': choose fast or plain.")
        if workers is not None and workers < 1:
            raise InputError(f"--workers {workers}: give at least 1 worker process")
        if scheduler is not None:
            from reserve_opt.variants.sweep import checked_scheduler

            checked_scheduler(scheduler, trust_scheduler)  # before reading or solving
        inst = load_instance(path)
        candidates = {f.id for f in inst.facilities if not f.existing}
        options = PlacementOptions(sharing=sharing, response_time=response_time)  # type: ignore[arg-type]
        solver_options = SolverOptions(time_limit_s=time_limit, mip_gap=gap)
        try:
            with progress_bar(f"{inst.name}: knock-outs" if knockout
                              else f"analysing {inst.name}") as hooks:
                report = run_analysis(inst, knockout=knockout, plan_stock=plan_stock,
                                      options=options, solver=solver,
                                      solver_options=solver_options,
                                      rank_by=rank_by,  # type: ignore[arg-type]
                                      exposure=exposure,  # type: ignore[arg-type]
                                      commodity=commodity, under=under, over=over,
                                      method=method,  # type: ignore[arg-type]
                                      workers=workers, scheduler=scheduler,
                                      trust_scheduler=trust_scheduler, **hooks)
        except KnockoutInterrupted as stop:
            _keep_partial(stop.partial, stop.total, dest, out, fmt, top)
            raise typer.Exit(130) from None
        if dest is not None:
            with dest.write() as folder:
                write_analysis(report, folder)
    show(fmt, report.to_dict, lambda: print_analysis(report, top, candidates), wrote=out)


def _keep_partial(ko: KnockoutRanking, total: int, dest: OutputFolder | None,
                  out: Path | None, fmt: OutputFormat, top: int) -> None:
    """After Ctrl-C: keep the finished knock-outs (in ``--out``, else printed); say where."""
    done = f"{len(ko.table):,} of {total:,} knock-outs finished"
    if dest is not None and out is not None:
        with dest.write() as folder:
            write_tables(folder, {"knockout": ko.table})
            write_json(folder / "knockout.json",
                       {**ko.to_dict(), "finished": len(ko.table), "total": total,
                        "complete": False}, ensure_ascii=False)
        where = f"their rows are in {out / 'knockout.csv'}"
    else:
        if fmt is OutputFormat.JSON:
            echo_json({**ko.to_dict(), "finished": len(ko.table), "total": total,
                       "complete": False})
        else:
            print_knockout(ko, top)
        where = "their rows are printed above (give --out DIR to keep them in a file)"
    typer.echo(f"interrupted: {done}; {where}", err=True)


def write_analysis(report: AnalysisReport, folder: Path) -> None:
    """Write every table as CSV and the whole analysis as ``analysis.json``."""
    write_tables(folder, report.tables())
    write_json(folder / "analysis.json", report.to_dict(), ensure_ascii=False)


def _top(df: pd.DataFrame, by: str, n: int) -> pd.DataFrame:
    # ties keep id order so the shown rows are the same every run
    return df.sort_values([by, "node"], ascending=[False, True], kind="stable").head(n)


def _num(v: Any) -> float:
    """A table cell as a float (pandas types it loosely); render rounds it per column."""
    return float(v)


CENTRALITY_NOTES = (
    "degree centrality: share of the other nodes linked directly; closeness: 1 / mean "
    "shortest path to the others (1/km, or 1/hop), higher is nearer; betweenness: share of "
    "shortest paths between other nodes that pass through the node (0-1).")


def print_analysis(report: AnalysisReport, top: int, candidates: Collection[str] = ()
                   ) -> None:
    """Print the analysis for people: the top rows of each table, with units.

    ``candidates`` are candidate warehouse sites: marked, as they hold nothing until a plan
    opens them.
    """
    t = report.transport
    say(f"{report.instance}: transport network of {len(t)} nodes and "
        f"{t.attrs.get('edges')} edges ({t.attrs.get('edges_from')}; path lengths in km)\n")
    print_table(f"Transport centrality, top {top} by betweenness",
                ["node", "type", "degree", "degree centrality", "closeness (1/km)",
                 "betweenness"],
                [[r.node, f"{r.node_type} (candidate)" if r.node in candidates
                  else r.node_type, r.degree, _num(r.degree_centrality),
                  _num(r.closeness_centrality_per_km), _num(r.betweenness_centrality)]
                 for r in _top(t, "betweenness_centrality", top).itertuples()],
                total=len(t), where="all in centrality_transport.csv (--out)",
                legend=[CENTRALITY_NOTES] + (
                    ["(candidate): a site a plan may open; it holds nothing until then."]
                    if candidates and set(t["node"]) & set(candidates) else []))
    a = report.agreements
    say(f"Agreement network: {len(a)} regions, {a.attrs.get('edges')} lender -> "
        "borrower arcs (alliances as cliques; path lengths in hops)\n")
    measures = ["out_degree", "in_degree", "degree_centrality", "closeness_in_per_hop",
                "closeness_out_per_hop", "betweenness_centrality"]
    if len(a) > 1 and all(a[c].nunique() == 1 for c in measures):
        say(f"Agreement centrality: all {len(a)} regions alike (each lends to and borrows "
            f"from {int(a['out_degree'].iloc[0])}), so there is nothing to rank.\n")
    else:
        _print_agreements(a, top)
    if report.knockout is not None:
        print_knockout(report.knockout, top)
    m = report.mismatch
    unit = m.unit
    suffix = next(c for c in m.table.columns if c.startswith("reserve_per_person_"))
    peer = next(c for c in m.table.columns if c.startswith("peer_reserve_per_person_"))
    flagged = m.flagged
    say(f"Risk-reserve mismatch ({m.stock_source} stock, in {unit} per person at "
        f"risk; persons at risk = {_EXPOSURE[m.exposure]}; median risk "
        f"{m.median_risk:g}; flags below {m.under:g}x or above {m.over:g}x the "
        f"alliance): {len(flagged)} of {len(m.table)} regions flagged\n")
    if len(flagged):
        # most persons at risk first within each flag: where the gap matters most
        shown = flagged.sort_values(["flag", "persons_at_risk", "region"],
                                    ascending=[True, False, True], kind="stable").head(top)
        print_table("Flagged regions (most persons at risk first)",
                    ["region", "name", "peers", "risk", "persons at risk",
                     f"per person ({unit}/person)", f"peers ({unit}/person)", "relative", "flag"],
                    [[r["region"], r["name"], r["peers"], r["risk"],
                      _num(r["persons_at_risk"]), _num(r[suffix]), _num(r[peer]),
                      _num(r["relative"]), r["flag"]]
                     for _, r in shown.iterrows()],
                    total=len(flagged), where="all in mismatch.csv (--out)",
                    legend=["relative: its reserve per person at risk / its peers'."])


def print_knockout(ko: KnockoutRanking, top: int) -> None:
    """Print the knock-out ranking for people: its top rows, with units and notes."""
    cur = ko.currency
    b = ko.base
    say(f"Knock-outs: plan {ko.plan['status']} (objective "
        f"{ko.plan['objective']:,.0f} {cur}); frozen base expected shortage "
        f"{b['expected_shortage_units']['total']:,.0f} units, penalty "
        f"{b['expected_shortage_cost']:,.0f} {cur}\n")
    table = ko.table
    # a loss that adds no expected shortage (to the unit and the currency unit) ranks
    # nothing: say so instead of listing zeros
    hurts = table[(table["shortage_increase_units"] >= 0.5)
                  | (table[f"shortage_increase_cost_{cur}"] >= 0.5)]
    if not len(hurts):
        say(f"No single loss causes shortage: none of the {len(table)} knock-outs adds "
            "expected shortage.\n")
    else:
        df = hurts.head(top)
        print_table(f"Knock-out ranking, top {top} by increase in expected shortage "
                    f"{'penalty' if ko.rank_by == 'cost' else 'units'}",
                    ["rank", "lost", "kind", "region", "exp. shortage (units)",
                     "increase (units)", f"increase ({cur})",
                     f"2nd-stage increase ({cur})"],
                    [[int(r["rank"]), r["target"], r["kind"], r["region"],
                      _num(r["expected_shortage_units"]),
                      _num(r["shortage_increase_units"]),
                      _num(r[f"shortage_increase_cost_{cur}"]),
                      _num(r[f"second_stage_increase_{cur}"])]
                     for _, r in df.iterrows()],
                    total=len(hurts), where="all in knockout.csv (--out)",
                    legend=([f"{len(table) - len(hurts)} knock-out(s) add no expected "
                             "shortage and are not listed."]
                            if len(hurts) < len(table) else [])
                    + [f"increase ({cur}): of the expected shortage penalty (not money); "
                       "2nd-stage: of transport, contract prices, holding and penalty."])
    for note in ko.notes:
        say(f"note: {note}")
    if ko.notes:
        say()


def _print_agreements(a: pd.DataFrame, top: int) -> None:
    print_table(f"Agreement centrality, top {top} by degree",
                ["region", "alliance", "lends to", "borrows from", "degree centrality",
                 "closeness in (1/hop)", "closeness out (1/hop)", "betweenness"],
                [[r.node, r.alliance, r.out_degree, r.in_degree, _num(r.degree_centrality),
                  _num(r.closeness_in_per_hop), _num(r.closeness_out_per_hop),
                  _num(r.betweenness_centrality)]
                 for r in _top(a, "degree_centrality", top).itertuples()],
                total=len(a), where="all in centrality_agreements.csv (--out)",
                legend=["closeness in: how near its lenders are; out: how near its "
                        "borrowers are."])


def register(app: typer.Typer) -> None:
    """Add the ``analyze`` command to ``app``."""
    app.command()(analyze)
