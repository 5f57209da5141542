"""The ``allocate`` command: an event hit; who ships what to whom, day by day."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from reserve_opt.cli.errors import reported_errors
from reserve_opt.cli.options import (
    ForceOption,
    FormatOption,
    InstancePath,
    SeedOption,
    SharingOption,
    TopOption,
    out_option,
    output_folder,
    parent_serves_option,
    progress,
    scenario_option,
    show,
    solver_option,
    time_limit_option,
    warn_checker,
    write_json,
    write_tables,
)
from reserve_opt.cli.render import (
    COMPENSATION_NOTE,
    DEFAULT_TOP,
    TIER_NOTE,
    Num,
    OutputFormat,
    no_result_line,
    pct,
    print_table,
    say,
)
from reserve_opt.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

    from reserve_opt.domain import Instance, Scenario
    from reserve_opt.models.allocation import AllocationResult
    from reserve_opt.models.allocation.loop import LoopResult

DEFAULT_TIME_LIMIT_S = 60.0
#: Explanation lines shown per short (region, commodity) in the table.
EXPLAIN_PER_PAIR = 3


def allocate(
    path: InstancePath,
    scenario: Annotated[str | None, scenario_option(
        "Scenario id of the instance to allocate for.")] = None,
    event: Annotated[Path | None, typer.Option(
        "--event", "-e", help="Event file (.toml, .yaml, .json): affected persons, demand, "
        "damage, outages.")] = None,
    plan: Annotated[Path | None, typer.Option(
        "--plan", help="A plan's solution.json (reserve-opt plan --out): allocate its stock "
        "and the contracts it signs instead of today's.")] = None,
    periods: Annotated[int, typer.Option(help="Number of periods (days).")] = 3,
    period_h: Annotated[float, typer.Option("--period-h", help="Hours per period.")] = 24.0,
    fairness: Annotated[bool, typer.Option(
        "--fairness", help="First raise the lowest fill rate among regions as far as it "
        "goes.")] = False,
    tiers: Annotated[bool, typer.Option(
        "--tiers/--no-tiers", help="Draw own stock first, then neighbours, alliance, higher "
        "levels.")] = True,
    parent_serves: Annotated[bool, parent_serves_option(
        "Let parent regions serve their children at tier 3.")] = True,
    sharing: SharingOption = "auto",
    fleet_limits: Annotated[bool, typer.Option(
        "--fleet-limits/--no-fleet-limits", help="Limit what a depot ships per period by "
        "its fleet's vehicle-hours.")] = True,
    solver: Annotated[str, solver_option("LP solver: highs, pulp-cbc or scip.")] = "highs",
    time_limit: Annotated[float, time_limit_option(
        "Seconds over all levels; the best allocation so far is returned.")] = (
        DEFAULT_TIME_LIMIT_S),
    seed: SeedOption = 0,
    route: Annotated[bool, typer.Option(
        "--route", help="Route each day of the allocation on the fleet and, where the "
        "trucks leave units unmet, cap what each source sends that day at what its trucks "
        "carried and allocate again, until the two agree or --rounds is reached.")] = False,
    rounds: Annotated[int | None, typer.Option(
        "--rounds", help="With --route: most allocations (default 5).")] = None,
    route_iterations: Annotated[int, typer.Option(
        "--route-iterations", help="With --route: routing iterations per day (PyVRP).")] = 200,
    out: Annotated[Path | None, out_option(
        "Folder for flows, fill, settlement, response and explanation tables (CSV), flows "
        "as GeoPackage lines, and solution.json.")] = None,
    force: ForceOption = False,
    fmt: FormatOption = OutputFormat.TABLE,
    top: TopOption = DEFAULT_TOP,
) -> None:
    """Allocate supplies for one event, day by day, under the sharing agreements."""
    from reserve_opt.io import load_instance
    from reserve_opt.models.allocation import (
        AllocationOptions,
        check_allocation,
        read_event,
        read_plan,
        solve_allocation,
    )
    from reserve_opt.solvers import SolverOptions

    with reported_errors():
        dest = output_folder(out, "allocate", [path, event, plan], force)
        if (scenario is None) == (event is None):
            raise InputError("Give exactly one of --scenario ID (a scenario of the instance) "
                             "or --event FILE (an event file).")
        loop_rounds = _loop_rounds(route, rounds, event, route_iterations)
        inst = load_instance(path)
        stock = None
        if plan is not None:
            inst, stock = read_plan(plan, inst)
        ev = read_event(event, inst) if event is not None else str(scenario)
        options = AllocationOptions(periods=periods, period_h=period_h, fairness=fairness,
                                    tiers=tiers, parent_serves=parent_serves,
                                    fleet_limits=fleet_limits,
                                    sharing=sharing)  # type: ignore[arg-type]
        sopts = SolverOptions(time_limit_s=time_limit, seed=seed)
        label = ev if isinstance(ev, str) else ev.id
        loop: LoopResult | None = None
        if loop_rounds is not None:
            from reserve_opt.models.allocation.loop import allocate_and_route

            with progress(f"allocating and routing {label} with {solver} (at most "
                          f"{loop_rounds} rounds)"):
                loop = allocate_and_route(inst, str(ev), options, rounds=loop_rounds,
                                          solver=solver, solver_options=sopts, stock=stock,
                                          max_iterations=route_iterations, seed=seed)
            result = loop.allocation
        else:
            with progress(f"allocating for {label} with {solver}"):
                result = solve_allocation(inst, ev, options, solver=solver,
                                          solver_options=sopts, stock=stock)
        if result.has_plan:
            report = check_allocation(inst, ev, result, stock=stock)
            if not report.ok:
                warn_checker(report.violations[:5])
        if dest is not None:
            with dest.write() as folder:
                write_allocation(inst, result, folder, ev)
                if loop is not None:
                    write_tables(folder, {"trucks": _trucks_frame(loop)})
                    write_json(folder / "loop.json", _loop_dict(loop))
    if loop is not None:
        done = loop

        def for_people() -> None:
            print_allocation(inst, result, top)
            print_loop(done)

        show(fmt, lambda: {**result.to_dict(), "route": _loop_dict(done)}, for_people,
             wrote=out)
    else:
        show(fmt, result.to_dict, lambda: print_allocation(inst, result, top), wrote=out)
    if not result.has_plan:
        raise typer.Exit(1)


def write_allocation(inst: Instance, result: AllocationResult, folder: Path,
                     event: str | Scenario | None = None) -> None:
    """Write the result tables (CSV), flows as lines (GeoPackage) and solution.json.

    ``flows.gpkg`` holds one line per flow and receiving point, drawn along the travel
    path with its ``path_kind`` (see :mod:`reserve_opt.path_lines`); ``event`` is the
    allocated event (default the result's scenario of ``inst``).
    """
    from reserve_opt.models.allocation import event_instance
    from reserve_opt.path_lines import flow_lines

    write_tables(folder, result.tables())
    f = result.flows
    if len(f):
        ev_inst, ev = event_instance(inst, result.event if event is None else event)
        geo = flow_lines(ev_inst, ev.id, f)
        if len(geo):
            geo.to_file(folder / "flows.gpkg", layer="flows", driver="GPKG")
    write_json(folder / "solution.json", result.to_dict())


def _hours(v: float) -> str:
    return "never" if v == float("inf") else f"{max(v, 0.0):.1f}"




def print_allocation(inst: Instance, result: AllocationResult, top: int = DEFAULT_TOP) -> None:
    """Print an allocation for people: status, shortage, tiers, settlement, response, why.

    ``top`` rows of each per-region table at most (0: all).
    """
    cur = inst.currency
    say(f"{inst.name}, event {result.event}: {result.status.value} in "
        f"{result.solve_seconds:.1f} s with {result.solver}, "
        f"{result.options.periods} periods of {result.options.period_h:g} h (sharing: "
        f"{result.sharing})")
    if not result.has_plan:
        say(no_result_line("allocation", result.status))
        if result.message:
            say(result.message)
        return
    if result.status.value != "optimal":
        say(f"not every level was solved: {result.message}; gap unknown")
    lowest = pct(result.min_fill_rate)
    say(f"overall fill rate {_text(pct(result.fill_rate))}"
        + (f", lowest regional fill rate {_text(lowest)}" if lowest is not None else "")
        + "\n")
    tiered = any(lv.name.startswith("tier") or lv.name == "pooled" for lv in result.levels)
    print_table("Objectives, in the order they were optimised",
                ["level", "optimum", "unit", "status"],
                [[lv.name, lv.value, lv.unit, lv.status] for lv in result.levels],
                legend=[TIER_NOTE] if tiered else [])
    fin = result.final()
    rates = result.fill_rates()
    short = result.total_shortage()
    periods = result.shortage_periods()
    print_table("By commodity", ["commodity", "unit", "demand (units)", "delivered (units)",
                                 "never delivered (units)", "late (units x periods)",
                                 "fill rate"],
                [[k, inst.commodity(k).unit, float(g["demand"].sum()),
                  float(g["delivered"].sum()), short.get(str(k), 0.0),
                  periods.get(str(k), 0.0), pct(rates.get(str(k), 1.0))]
                 for k, g in fin.groupby("commodity", sort=False)],
                legend=["units: each commodity's own unit (column unit)."])
    f = result.flows
    if len(f):
        by = f.groupby(["tier", "commodity"], as_index=False)["quantity"].sum()
        names = {0: "0 own", 1: "1 neighbour", 2: "2 alliance", 3: "3 higher level",
                 4: "4 pooled"}
        print_table("Supply by tier", ["tier", "commodity", "units"],
                    [[names.get(int(r["tier"]), str(r["tier"])), r["commodity"],
                      float(r["quantity"])] for r in by.to_dict(orient="records")],
                    legend=[] if tiered else [TIER_NOTE])
    if len(f):
        # a trip that spans a night arrives later than its travel time (the rest)
        night = f[f["arrive_h"] - f["depart_h"] > f["time_h"] + 1e-6]
        if len(night):
            say(f"Overnight trips: {len(night)} flows ({float(night['quantity'].sum()):,.0f} "
                "units) have a round trip that does not fit the rest of their vehicles' "
                "working day: the driver stops when it ends, rests the night (24 h - "
                "max_hours) and goes on; the "
                "vehicle is charged a working day for each day it is away (fleet column "
                "overnight, default true).\n")
    c = result.costs()
    print_table(f"Costs ({cur})", ["term", "amount"], [
        ["transport", c["transport"]], ["contract unit prices", c["contract_prices"]],
        ["money spent", c["transport"] + c["contract_prices"]],
        ["(transfer) compensation between regions", c["compensation_transfer"]]],
        legend=[COMPENSATION_NOTE])
    owed = result.settlement_totals()
    if owed:
        shown_owed = owed if top == 0 else owed[:top]
        print_table(f"Settlement: who owes whom ({cur})", ["debtor", "creditor", "kind",
                                                          "units", "amount"],
                    [[o["debtor"], o["creditor"], o["kind"], o["units"], o["amount"]]
                     for o in shown_owed],
                     total=len(owed), where="all in settlement.csv (--out)")
    resp = result.response
    if len(resp):
        late = resp[~resp["met"].astype(bool)]
        if not len(late):
            say("Response time: every region's first batch arrives within its standard.\n")
        else:
            rows = late.to_dict(orient="records")
            shown_rows = rows if top == 0 else rows[:top]
            print_table("Response time: regions whose first batch misses the standard (h)",
                        ["region", "level", "standard", "first arrival", "fastest possible"],
                        [[r["region"], r["level"], r["standard_h"], _hours(r["first_arrival_h"]),
                          _hours(r["fastest_possible_h"])] for r in shown_rows],
                          total=len(rows), where="all in response.csv (--out)")
    pts = result.response_points
    if len(pts):
        # the last point of each region to get goods: what the region's response hinges on
        last = (pts.sort_values(["first_arrival_h", "region"], ascending=[False, True],
                                kind="stable").drop_duplicates("region"))
        rows = last.to_dict(orient="records")
        print_table(f"Last demand point reached in each region (of {len(pts)} points)",
                    ["region", "point", "first arrival (h)", "from", "distance (km)"],
                    [[r["region"], r["point"], _hours(r["first_arrival_h"]), r["source"],
                      r["distance_km"]] for r in (rows if top == 0 else rows[:top])],
                    total=len(rows), where="every point in response_points.csv (--out)")
    ex = result.explanations
    if len(ex):
        # per short region and commodity: the structural reasons, then the strongest few
        # binding constraints and outages (the rest are in explanations.csv and the JSON)
        # largest shortages first, so --top shows where most is missing
        shown = (ex.sort_values(["shortage", "region", "commodity", "worth"],
                                ascending=[False, True, True, False], kind="stable",
                                na_position="first")
                 .groupby(["region", "commodity"], sort=False).head(EXPLAIN_PER_PAIR))
        limit = len(shown) if top == 0 else min(len(shown), 2 * top)
        print_table("Why shortages happen (largest first; strongest reasons first)",
                    ["region", "commodity", "short (units)", "reason", "detail", "periods",
                     "worth", "method"],
                    [[r["region"], r["commodity"], r["shortage"], r["reason"], r["detail"],
                      r["periods"], None if r["worth"] is None or r["worth"] != r["worth"]
                      else float(r["worth"]), r["method"]]
                     for r in shown.head(limit).to_dict(orient="records")],
                    legend=[
                        "worth (dual): units x periods of that commodity's shortage avoided "
                        "per extra unit of stock, cap or surplus; shortage penalty x periods "
                        f"({cur} x periods) avoided per extra kg, m3 or kg x h of fleet "
                        "capacity. worth (re-solve): units x periods avoided by repairing "
                        "the link."],
                        total=len(ex), where="all in explanations.csv (--out) or the JSON output")
    else:
        say("No shortage: every demand is met on time.")


def _loop_rounds(route: bool, rounds: int | None, event: Path | None,
                 iterations: int) -> int | None:
    """The loop's round limit, or ``None`` without --route; refuses what does not fit."""
    from reserve_opt.models.allocation.loop import check_rounds

    if not route:
        if rounds is not None:
            raise InputError(f"--rounds {rounds}: counts the allocations of --route; add "
                             "--route, or leave --rounds out.")
        return None
    if event is not None:
        raise InputError(f"--route: routes a scenario of the instance, and {event} is an "
                         "event file; give --scenario ID instead of --event.")
    if iterations < 1:
        raise InputError(f"--route-iterations {iterations}: give a whole number of 1 or "
                         "more, e.g. 200.")
    limit: int = check_rounds(5 if rounds is None else rounds)
    return limit


def _trucks_frame(loop: LoopResult) -> pd.DataFrame:
    """Per day and commodity: units promised by the allocation and units on the trucks."""
    import pandas as pd

    parts = []
    for d in loop.days:
        g = d.report.groupby("commodity", as_index=False)[["quantity", "delivered",
                                                            "unmet"]].sum()
        g.insert(0, "day", d.period)
        parts.append(g)
    cols = ["day", "commodity", "promised_units", "on_trucks_units", "unmet_units"]
    if not parts:
        return pd.DataFrame(columns=cols)
    out: pd.DataFrame = pd.concat(parts, ignore_index=True)
    out.columns = pd.Index(cols)
    return out


def _loop_dict(loop: LoopResult) -> dict[str, object]:
    """The loop's outcome for JSON: rounds, agreement and each day on the trucks."""
    first = {d.period: d for d in loop.first[1]}
    return {
        "rounds": loop.rounds, "agree": loop.agree, "tolerance": loop.tolerance,
        "route_caps_kg": [list(c) for c in loop.caps],
        "days": [{"day": d.period, "promised_units": d.promised_units,
                  "on_trucks_units": d.routed_units, "unmet_units": d.unmet_units,
                  "vehicles": d.result.vehicles_used, "distance_km": d.result.distance,
                  "first_promised_units": first[d.period].promised_units
                  if d.period in first else 0.0,
                  "first_on_trucks_units": first[d.period].routed_units
                  if d.period in first else 0.0} for d in loop.days],
        "trucks": _trucks_frame(loop).to_dict(orient="records"),
    }


def print_loop(loop: LoopResult) -> None:
    """Print what the trucks deliver each day, and how the loop got there."""
    verdict = ("allocation and routes agree" if loop.agree else
               f"allocation and routes still differ by more than {loop.tolerance:.0%} of a "
               "day's units")
    say(f"\nOn trucks: {verdict} after {loop.rounds} round{'s' if loop.rounds > 1 else ''} "
        f"({len(loop.caps)} route caps); the first allocation promised "
        f"{loop.first_promised_units:,.0f} units, its trucks carried "
        f"{sum(d.routed_units for d in loop.first[1]):,.0f}.")
    first = {d.period: d for d in loop.first[1]}
    print_table("What the trucks deliver each day",
                ["day", "promised (units)", "on trucks (units)", "unmet (units)", "vehicles",
                 "distance (km)", "first round: promised (units)",
                 "first round: on trucks (units)"],
                [[d.period, d.promised_units, d.routed_units, d.unmet_units,
                  d.result.vehicles_used, d.result.distance,
                  first[d.period].promised_units if d.period in first else 0.0,
                  first[d.period].routed_units if d.period in first else 0.0]
                 for d in loop.days])
    t = _trucks_frame(loop)
    print_table("On trucks by day and commodity",
                ["day", "commodity", "promised (units)", "on trucks (units)", "unmet (units)"],
                [[int(r["day"]), r["commodity"], float(r["promised_units"]),
                  float(r["on_trucks_units"]), float(r["unmet_units"])]
                 for r in t.to_dict(orient="records")],
                legend=["units: each commodity's own unit; unmet: promised that day but on no "
                        "route (route --plan DIR --period N names the reasons)."])


def _text(value: Num | None) -> str:
    return "" if value is None else value.text


def register(app: typer.Typer) -> None:
    """Add the ``allocate`` command to ``app``."""
    app.command()(allocate)
