"""The ``plan`` command: where to hold what, under uncertainty."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from reserve_opt.cli.errors import reported_errors
from reserve_opt.cli.options import (
    ForceOption,
    FormatOption,
    GapOption,
    InstancePath,
    ResponseTimeOption,
    SeedOption,
    SharingOption,
    SolverOption,
    ThreadsOption,
    TopOption,
    TrustSchedulerOption,
    out_option,
    output_folder,
    parent_serves_option,
    scheduler_option,
    show,
    time_limit_option,
    warn_checker,
    write_json,
    write_tables,
)
from reserve_opt.cli.options import progress as progress  # whatif_cmd imports it here
from reserve_opt.cli.render import (
    COMPENSATION_NOTE,
    CVAR_NOTE,
    DEFAULT_TOP,
    SHORTAGE_PENALTY_NOTE,
    OutputFormat,
    no_result_line,
    pct,
    print_table,
    say,
)
from reserve_opt.errors import InputError

if TYPE_CHECKING:
    from reserve_opt.domain import Instance
    from reserve_opt.models.placement import PlacementResult

DEFAULT_TIME_LIMIT_S = 120.0


def plan(
    path: InstancePath,
    solver: SolverOption = "highs",
    time_limit: Annotated[float, time_limit_option(
        "Seconds; the best plan found so far is returned with its gap.")] = (
        DEFAULT_TIME_LIMIT_S),
    gap: GapOption = 1e-4,
    threads: ThreadsOption = 1,
    seed: SeedOption = 0,
    sharing: SharingOption = "auto",
    response_time: ResponseTimeOption = False,
    service_level: Annotated[float | None, typer.Option(
        help="Floor on each region's expected fill rate, 0-1.")] = None,
    risk_weight: Annotated[float, typer.Option(
        help="lambda, 0 (risk neutral) to 1: minimise E[cost] + lambda x CVaR of the "
        "scenario's second-stage cost (transport, contract prices, holding, shortage "
        "penalty); the first stage counts once, in E[cost].")] = 0.0,
    cvar_level: Annotated[float, typer.Option(help=f"CVaR confidence level beta. {CVAR_NOTE}")
                          ] = 0.9,
    parent_serves: Annotated[bool, parent_serves_option(
        "Let parent regions serve their children at tier 3 (with agreements).")] = True,
    out: Annotated[Path | None, out_option(
        "Folder for solution tables (CSV, GeoPackage) and solution.json.")] = None,
    force: ForceOption = False,
    fmt: FormatOption = OutputFormat.TABLE,
    top: TopOption = DEFAULT_TOP,
    method: Annotated[str | None, typer.Option(
        help="extensive (one MILP) or decomposition (scenario L-shaped method on Dask; "
        "every option but --service-level). Default: decomposition when it applies and the "
        "model has more than 250,000 flow columns.")] = None,
    workers: Annotated[int | None, typer.Option(
        help="Local Dask worker processes for the decomposition (default: the cores).")
        ] = None,
    scheduler: Annotated[str | None, scheduler_option("the decomposition")] = None,
    trust_scheduler: TrustSchedulerOption = False,
) -> None:
    """Decide which warehouses to open, what to stock and which contracts to sign."""
    from reserve_opt.io import load_instance
    from reserve_opt.models.placement import PlacementOptions, check_placement
    from reserve_opt.solvers import SolverOptions

    with reported_errors():
        dest = output_folder(out, "plan", [path], force)
        inst = load_instance(path)
        options = PlacementOptions(sharing=sharing, response_time=response_time,  # type: ignore[arg-type]
                                   service_level=service_level, risk_weight=risk_weight,
                                   cvar_level=cvar_level, parent_serves=parent_serves)
        solver_options = SolverOptions(time_limit_s=time_limit, mip_gap=gap, threads=threads,
                                       seed=seed)
        result, ran = _solve(inst, options, solver_options, solver, method, workers,
                             scheduler, trust_scheduler)
        if result.costs is not None:
            report = check_placement(inst, result)
            if not report.ok:
                warn_checker(report.violations)
        if dest is not None:
            with dest.write() as folder:
                write_plan(inst, result, folder)
    def for_people() -> None:
        print_plan(inst, result, top)
        if ran.startswith("decomposition") and result.costs is not None:
            say(f"\n{result.message}")
        say(f"\nmethod: {ran}")

    show(fmt, lambda: {**result.to_dict(), "method": ran}, for_people, wrote=out)
    if result.costs is None:
        raise typer.Exit(1)


def _solve(inst: Instance, options: Any, solver_options: Any, solver: str,
           method: str | None, workers: int | None, scheduler: str | None,
           trust_scheduler: bool) -> tuple[PlacementResult, str]:
    """Solve by the method asked for or chosen by size; the result and what ran, why."""
    from reserve_opt.models.placement import solve_placement
    from reserve_opt.models.placement.decomposition import choose_method, solve_decomposition

    if workers is not None and workers < 1:
        raise InputError(f"--workers {workers}: give at least 1 worker process")
    if scheduler is not None:
        from reserve_opt.variants.sweep import checked_scheduler

        checked_scheduler(scheduler, trust_scheduler)  # before any solving
    chosen, why, data = choose_method(inst, options, method)
    if chosen == "extensive":
        if workers is not None or scheduler is not None:
            raise InputError(f"--workers/--scheduler run the decomposition, but the extensive "
                             f"form was {why}; add --method decomposition or drop them")
        with progress(f"solving {inst.name} with {solver}"):
            return (solve_placement(inst, options, solver=solver, solver_options=solver_options,
                                    data=data), f"extensive ({why})")
    if solver not in ("highs", "auto"):
        raise InputError(f"--solver {solver}: the decomposition solves its LPs and master "
                         f"with HiGHS; drop --solver or add --method extensive")
    result = solve_decomposition(inst, options, solver_options, workers=workers,
                                 scheduler=scheduler, trust_scheduler=trust_scheduler,
                                 progress=lambda line: typer.echo(line, err=True), data=data)
    return result, f"decomposition ({why})"


def write_plan(inst: Instance, result: PlacementResult, folder: Path) -> None:
    """Write solution tables (CSV), facilities with their plan (GeoPackage), solution.json.

    ``folder`` exists and is empty; the command swaps it into ``--out`` (see
    :class:`reserve_opt.io.outdir.OutputFolder`).
    """
    import geopandas as gpd
    from shapely.geometry import Point

    tables = result.tables()
    write_tables(folder, tables)
    per_facility: dict[str, dict[str, Any]] = {}
    for row in tables["stock"].itertuples():
        per_facility.setdefault(str(row.facility), {})[f"stock_{row.commodity}"] = row.total
    opened = {o.facility: o.size for o in result.opened}
    rows = []
    for f in inst.facilities:
        rows.append({"id": f.id, "kind": f.kind.value, "region": f.region,
                     "opened_size": opened.get(f.id, "existing" if f.existing else ""),
                     **per_facility.get(f.id, {}), "geometry": Point(f.lon, f.lat)})
    gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326").to_file(
        folder / "plan.gpkg", layer="facilities", driver="GPKG")
    write_json(folder / "solution.json", result.to_dict())




def print_plan(inst: Instance, result: PlacementResult, top: int = DEFAULT_TOP) -> None:
    """Print a plan for people: status, money vs penalty, openings, stock, shortages.

    ``top`` rows of the fill-rate table at most (0: all).
    """
    cur = inst.currency
    gap = ("n/a" if result.gap is None or not math.isfinite(result.gap)
           else f"{result.gap:.2%}")
    bound = ("n/a" if result.bound is None or not math.isfinite(result.bound)
             else f"{result.bound:,.0f} {cur}")
    say(f"{inst.name}: {result.status.value} in {result.solve_seconds:.1f} s with "
        f"{result.solver} (sharing: {result.sharing})")
    if result.costs is None:
        obj = "n/a" if result.objective is None else f"{result.objective:,.0f} {cur}"
        say(f"objective {obj}, bound {bound}, gap {gap}\n")
        if result.infeasibility is not None:
            say("why no plan exists:")
            for line in result.infeasibility.messages:
                say(f"  - {line}")
            return
        say(no_result_line("plan", result.status))
        if result.message:
            say(f"solver: {result.message}")
        return
    c = result.costs
    spent = c.total - c.shortage
    risk = (result.objective or 0.0) - c.total
    say(f"money spent (expected) {spent:,.0f} {cur}; expected shortage penalty "
        f"{c.shortage:,.0f} {cur} (not money)")
    say(f"objective {result.objective or 0.0:,.0f} = money + penalty"
        + (f" + risk term {risk:,.0f}" if abs(risk) >= 0.5 else "")
        + f"; bound {bound}, gap {gap}\n")
    rows: list[list[Any]] = [
        ["fixed (warehouses)", c.fixed], ["purchase (new stock)", c.purchase],
        ["retainers (contracts)", c.retainer], ["expected transport", c.transport],
        ["expected contract unit prices", c.unit_prices], ["expected holding", c.holding],
        ["money spent", spent], ["expected shortage penalty", c.shortage],
        ["money + penalty", c.total]]
    if abs(risk) >= 0.5:
        rows.append(["risk term (lambda x CVaR)", risk])
    rows.append(["(transfer) expected compensation", c.expected_compensation])
    print_table(f"Costs ({cur})", ["term", "amount"], rows,
                legend=[SHORTAGE_PENALTY_NOTE, COMPENSATION_NOTE]
                + ([CVAR_NOTE] if abs(risk) >= 0.5 else []))
    b = result.budget_use
    if b is not None:
        say(f"budget {b.budget:,.0f} {cur}: {b.spent:,.0f} spent on new warehouses, stock and "
            "contracts; " + (f"it binds: one more {cur} of budget lowers the expected cost by "
                             f"{b.worth:,.2f} {cur}" if b.binding and b.worth > 0 else
                             "it is all spent" if b.binding else
                             f"{b.budget - b.spent:,.0f} {cur} left (it does not bind)") + "\n")
    if result.opened:
        print_table("Warehouses to open", ["facility", "region", "size", "capacity (m3)",
                                           f"fixed cost ({cur})"],
                    [[o.facility, o.region, o.size, o.capacity_m3, o.fixed_cost]
                     for o in result.opened])
    else:
        say("No candidate warehouse is opened.\n")
    totals: dict[str, list[float]] = {}
    for s in result.stock:
        t = totals.setdefault(s.commodity, [0.0, 0.0, 0.0])
        t[0] += s.existing
        t[1] += s.added
        t[2] += s.total
    print_table("Government stock by commodity", ["commodity", "unit", "existing (units)",
                                                  "to buy (units)", "total (units)"],
                [[k, inst.commodity(k).unit, *v] for k, v in totals.items()])
    if result.contracts:
        contracts = result.contracts if top == 0 else result.contracts[:top]
        print_table("Enterprise contracts", ["contract", "facility", "commodity",
                                             "decision", f"retainer ({cur})"],
                    [[d.contract, d.facility, d.commodity,
                      "in force" if d.signed_before else ("sign" if d.signed else "do not sign"),
                      d.retainer] for d in contracts],
                    total=len(result.contracts), where="all in contracts.csv (--out)")
    trucks = [d for d in result.vehicles if d.provider is not None or not d.signed_before]
    if trucks:
        shown = trucks if top == 0 else trucks[:top]
        print_table("Logistics contracts (trucks)", ["vehicles", "provider", "depot",
                                                     "trucks", "capacity (kg)", "decision",
                                                     f"retainer ({cur})"],
                    [[d.vehicle, d.provider or "", d.depot, d.count, d.capacity_kg,
                      "in force" if d.signed_before else ("sign" if d.signed else "do not sign"),
                      d.retainer] for d in shown],
                    total=len(trucks), where="all in vehicles.csv (--out)")
    fill = result.expected_fill_rates()
    if len(fill):
        short = fill[fill["fill_rate"] < 1 - 1e-9].sort_values("fill_rate", kind="stable")
        if not len(short):
            say("Expected fill rates: all regions fully served (100%) in every scenario.")
            return
        shown = short if top == 0 else short.head(top)
        print_table("Lowest expected fill rates (regions below 100%)",
                    ["region", "commodity", "expected demand (units)",
                     "expected shortage (units)", "fill rate"],
                    [[r.region, r.commodity, r.expected_demand, r.expected_shortage,
                      pct(float(r.fill_rate))] for r in shown.itertuples()],
                      total=len(short), where="each shortage is in shortages.csv (--out)")
        _print_reasons(result, cur, top)


def _print_reasons(result: PlacementResult, cur: str, top: int) -> None:
    """Why each expected shortage happens: the plan's counterpart of allocate's table."""
    if not result.reasons:
        return
    pairs = list(dict.fromkeys((r.region, r.commodity) for r in result.reasons))
    keep = set(pairs if top == 0 else pairs[:top])
    shown = [r for r in result.reasons if (r.region, r.commodity) in keep]
    print_table("Why expected shortages happen (largest first; strongest reasons first)",
                ["region", "commodity", "expected short (units)", "reason", "detail",
                 "worth", "worth unit"],
                [[r.region, r.commodity, r.expected_shortage, r.reason, r.detail, r.worth,
                  r.worth_unit] for r in shown],
                legend=["reason: structure (no source can reach it in some scenarios), binding "
                        "(the budget or a warehouse's space is used up; worth is what one more "
                        f"{cur} of budget or m3 of space lowers the expected cost by), cost "
                        "(holding more costs more than the expected penalty it avoids; worth "
                        f"is that penalty, {cur} per unit)."],
                total=len(result.reasons), where="all in reasons.csv (--out)")


def register(app: typer.Typer) -> None:
    """Add the ``plan`` command to ``app``."""
    app.command()(plan)
