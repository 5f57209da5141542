"""The ``route`` command: vehicle routes for an allocation, or for a benchmark file."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from reserve_opt.cli.errors import reported_errors
from reserve_opt.cli.options import (
    ForceOption,
    FormatOption,
    out_option,
    output_file,
    output_folder,
    progress,
    scenario_option,
    show,
    time_limit_option,
    write_csv,
    write_json,
)
from reserve_opt.cli.render import OutputFormat, print_table, say

if TYPE_CHECKING:
    import pandas as pd

    from reserve_opt.domain import Instance
    from reserve_opt.io.outdir import OutputFolder
    from reserve_opt.models.routing import DeliveryProblem, RoutingProblem, RoutingResult

INPUT_FORMATS = ("vrplib", "solomon", "cordeau")
DEFAULT_TIME_LIMIT_S = 10.0
MAX_UNMET_ROWS = 12


def route(
    path: Annotated[Path, typer.Argument(
        help="Instance folder or JSON document (with --scenario), or a benchmark file "
        "(with --input-format).")],
    input_format: Annotated[str | None, typer.Option(
        "--input-format", help="Benchmark file format: vrplib, solomon or cordeau.")] = None,
    scenario: Annotated[str | None, scenario_option(
        "Scenario whose allocation is routed (instances).")] = None,
    period: Annotated[int | None, typer.Option(
        help="Day of the allocation (or of a --deliveries file with a period column) to "
        "route, from 1 to the event's last day (default 1).",
        show_default=False)] = None,
    deliveries: Annotated[Path | None, typer.Option(
        help="CSV of deliveries (source, region, commodity, quantity in units, optional "
        "ready_h and period) to route instead of solving the allocation; with a period "
        "column only --period's rows are routed.")] = None,
    plan: Annotated[Path | None, typer.Option(
        "--plan", help="A plan's folder or solution.json (reserve-opt plan --out): route "
        "the allocation of its stock and contracts, as allocate --plan allocates them.")
        ] = None,
    engine: Annotated[str, typer.Option(help="pyvrp or ortools (driver breaks need "
                                        "ortools).")] = "pyvrp",
    time_limit: Annotated[float, time_limit_option("Seconds for the routing engine.")] = (
        DEFAULT_TIME_LIMIT_S),
    seed: Annotated[int, typer.Option(help="Random seed (PyVRP), 0 to 4294967295.")] = 0,
    max_iterations: Annotated[int | None, typer.Option(
        "--max-iterations", help="Stop after this many iterations (PyVRP) or solutions "
        "(OR-Tools) instead of at the time limit: the same routes on any machine.")] = None,
    break_min: Annotated[float | None, typer.Option(
        "--break-min", help="Driver break length, minutes, for every vehicle (with "
        "--drive-h; China: 20 after 4 h).")] = None,
    drive_h: Annotated[float | None, typer.Option(
        "--drive-h", help="Most working hours between breaks.")] = None,
    max_trips: Annotated[int | None, typer.Option(
        "--max-trips", help="Most trips per vehicle where a depot has more loads than "
        "vehicles (default 3).", show_default=False)] = None,
    max_vehicle_kg: Annotated[list[str] | None, typer.Option(
        "--max-vehicle-kg", help="POINT=KG: only vehicles up to KG capacity reach this "
        "distribution point (or region); repeat for several.")] = None,
    fleetless: Annotated[str | None, typer.Option(
        help="A shipping facility without vehicles borrows from the nearest fleet depot in "
        "its region (region, the default), anywhere (nearest), or not at all (none).",
        show_default=False)] = None,
    out: Annotated[Path | None, out_option(
        "Folder for routes.csv, routes.geojson, unmet.csv, deliveries.csv and "
        "solution.json.")] = None,
    map_file: Annotated[Path | None, typer.Option(
        "--map", help="Draw the routes over the instance map: .png or .html (a file "
        "reserve-opt did not write is never replaced).")] = None,
    tiles: Annotated[str | None, typer.Option(
        "--tiles", help="With an .html --map: draw map tiles from this URL template "
        "(https://.../{z}/{x}/{y}.png); without it the map needs no network.",
        show_default=False)] = None,
    force: ForceOption = False,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Plan vehicle routes: an allocation's deliveries, or a VRP benchmark file."""
    from reserve_opt.errors import InputError
    from reserve_opt.models.routing.solve import check_seed

    with reported_errors():
        if engine not in ("pyvrp", "ortools"):
            raise InputError(f"--engine {engine}: use pyvrp or ortools.")
        check_seed(seed, "--seed")
        dest = output_folder(out, "route", [path, deliveries, plan], force)
        if max_iterations is not None and max_iterations < 1:
            raise InputError(f"--max-iterations {max_iterations}: give a whole number of 1 "
                             "or more.")
        if input_format is not None:
            given = [flag for flag, value in (
                ("--scenario", scenario), ("--deliveries", deliveries), ("--map", map_file),
                ("--period", period), ("--plan", plan), ("--break-min", break_min),
                ("--drive-h", drive_h), ("--max-trips", max_trips),
                ("--max-vehicle-kg", max_vehicle_kg), ("--fleetless", fleetless),
                ("--tiles", tiles))
                if value is not None]
            if given:
                raise InputError(f"{', '.join(given)}: for instances only; a benchmark file "
                                 "takes --input-format with the engine, time, seed and output "
                                 "options.")
            summary = _route_benchmark(path, input_format, engine, time_limit, seed, dest,
                                       max_iterations)
        else:
            if scenario is None:
                raise InputError(f"{path}: give --scenario ID to route an instance's "
                                 "allocation, or --input-format for a benchmark file.")
            if plan is not None and deliveries is not None:
                raise InputError("--plan, --deliveries: give one; --plan routes the "
                                 "allocation of the plan's stock, --deliveries a file's.")
            limits = _limits(max_vehicle_kg or [])
            summary = _route_instance(path, scenario, period, deliveries, engine, time_limit,
                                      seed, break_min, drive_h, fleetless or "region", dest,
                                      map_file, 3 if max_trips is None else max_trips, limits,
                                      max_iterations, plan, tiles)
    show(fmt, lambda: summary, lambda: _print_summary(summary), wrote=out)
    if fmt is OutputFormat.TABLE and map_file is not None:
        typer.echo(f"wrote {map_file}")
    if summary["status"] == "no_solution":
        raise typer.Exit(1)


# --------------------------------------------------------------------------- benchmarks


def _read_benchmark(path: Path, input_format: str) -> RoutingProblem:
    from reserve_opt.errors import InputError
    from reserve_opt.models.routing import read_cordeau, read_solomon, read_vrplib

    if input_format not in INPUT_FORMATS:
        raise InputError(f"--input-format {input_format}: use one of "
                         f"{', '.join(INPUT_FORMATS)}.")
    if not path.is_file():
        raise InputError(f"{path}: no such file; give a {input_format} benchmark file.")
    reader = {"vrplib": read_vrplib, "solomon": read_solomon, "cordeau": read_cordeau}
    return reader[input_format](path)


def known_best(path: Path, problem: RoutingProblem) -> float | None:
    """The best-known cost of a benchmark file, or ``None``.

    Looked up in a ``BKS.csv`` in the file's folder or the one above, then in a ``.sol``
    beside it. These files are not the user's input: one that cannot be read, has another
    layout, or describes another size of problem is named in a one-line warning on stderr
    and skipped, and the run goes on without the comparison.
    """
    from reserve_opt.errors import InputError
    from reserve_opt.models.routing import read_bks, read_solution

    def skip(why: str) -> None:
        typer.echo(f"warning: {why.rstrip('.')}; going on without the best-known "
                   "comparison.", err=True)

    sol = path.with_suffix(".sol")
    for folder in (path.parent, path.parent.parent):
        table = folder / "BKS.csv"
        if table.is_file():
            try:
                entries = read_bks(table)
            except InputError as err:
                skip(err.problems[0])
                return None
            entry = entries.get(path.stem)
            if entry is None:
                continue
            sizes = ((entry.n_customers, problem.n_clients, "customers"),
                     (entry.n_depots, problem.n_depots, "depots"))
            for listed, found, what in sizes:
                if listed is not None and listed != found:
                    skip(f"{table} lists {path.stem} with {listed} {what}, but {path.name} "
                         f"has {found}")
                    return None
            return float(entry.bks)
    if sol.is_file() and sol != path:
        try:
            return float(read_solution(sol).cost)
        except InputError as err:
            skip(err.problems[0])
    return None


def _route_benchmark(path: Path, input_format: str, engine: str, time_limit: float, seed: int,
                     out: OutputFolder | None,
                     max_iterations: int | None = None) -> dict[str, Any]:
    from reserve_opt.errors import SolverError
    from reserve_opt.models.routing import check, solve

    problem = _read_benchmark(path, input_format)
    # files beside the user's are read before the solve, so a warning comes first
    best = known_best(path, problem)
    with progress(f"routing {path.name} with {engine}"):
        result = solve(problem, engine, time_limit_s=time_limit, seed=seed,
                       max_iterations=max_iterations)
    report = check(problem, result)
    if not report.ok:
        raise SolverError("the independent route checker rejected the plan: "
                          + "; ".join(report.violations))
    summary = _common(result)
    summary.update({
        "instance": path.stem,
        "clients": problem.n_clients,
        "bks": best,
        # rounding can put an optimal plan a hair below the published value
        "gap": None if not best or not result.routes else
        round((result.cost - best) / best, 9) + 0.0,
        "unserved": [{"client": u.name, "missing": list(u.missing), "reason": u.reason}
                     for u in result.unserved],
    })
    if out is not None:
        with out.write() as tmp:
            write_csv(_visits_frame(problem, result, None), tmp / "routes.csv")
            write_csv(_unserved_frame(result), tmp / "unmet.csv")
            write_json(tmp / "solution.json", {**summary, "routes": _routes_json(result)})
    return summary


# --------------------------------------------------------------------------- instances


def _allocation_deliveries(inst: Instance, scenario: str, period: int,
                           time_limit: float, plan: Path | None = None) -> pd.DataFrame:
    """Day ``period``'s deliveries of the scenario's allocation, of ``plan``'s stock if given.

    The allocation covers days 1 to ``period`` (day N of ``allocate --periods N``, as
    ``whatif --model route`` does), and a plan is read and checked by ``allocate``'s own
    ``read_plan``, so ``route --plan --period N`` routes day N of what
    ``allocate --plan --periods N`` allocated.
    """
    from reserve_opt.errors import InputError

    try:
        from reserve_opt.models.allocation import (
            AllocationOptions,
            solve_allocation,
        )
    except ImportError:
        raise InputError("the allocation model is not available in this version; give "
                         "--deliveries FILE.csv (source, region, commodity, quantity) to "
                         "route hand-made deliveries.") from None
    from reserve_opt.models.allocation import read_plan
    from reserve_opt.solvers import SolverOptions

    stock = None
    if plan is not None:
        inst, stock = read_plan(plan, inst)
    with progress(f"allocating {inst.name} for {scenario}"):
        res = solve_allocation(inst, scenario, AllocationOptions(periods=max(period, 1)),
                               solver="highs",
                               solver_options=SolverOptions(time_limit_s=max(60.0, time_limit)),
                               stock=stock)
    if str(res.status) not in ("optimal", "feasible") and not str(res.status).endswith(
            ("optimal", "feasible")):
        raise InputError(f"the allocation for {scenario} is {res.status}; nothing to route.")
    frame: pd.DataFrame = res.deliveries(period)
    return frame


def _limits(items: list[str]) -> dict[str, float]:
    """``--max-vehicle-kg POINT=KG`` items as point -> kg (a positive finite number)."""
    from reserve_opt.errors import InputError

    out: dict[str, float] = {}
    for item in items:
        point, eq, kg = (part.strip() for part in item.partition("="))
        try:
            value = float(kg)
        except ValueError:
            value = math.nan
        if not eq or not point:
            raise InputError(f"--max-vehicle-kg {item}: write POINT=KG, e.g. "
                             "D_dl_school=2000.")
        if not (math.isfinite(value) and value > 0):
            raise InputError(f"--max-vehicle-kg {item}: KG must be a positive number of "
                             "kilograms, e.g. D_dl_school=2000.")
        if point in out:
            raise InputError(f"--max-vehicle-kg {item}: {point} is given a second time; give "
                             "each point once.")
        out[point] = value
    return out


#: Columns of a ``--deliveries`` file (``ready_h``, hours from the event's start, and
#: ``period``, the 1-based day, optional).
DELIVERY_FILE_COLUMNS = ("source, region, commodity, quantity and an optional ready_h and "
                         "period")


def _day_of(frame: pd.DataFrame, path: Path, period: int) -> tuple[pd.DataFrame, int]:
    """The rows of day ``period`` of a deliveries table, and how many rows are of other days.

    A table without a ``period`` column is one day's: all of it is routed, as before.
    """
    import pandas as pd

    from reserve_opt.errors import InputError

    if "period" not in frame.columns:
        return frame, 0
    days = pd.to_numeric(frame["period"], errors="coerce")
    for row, (given, day) in enumerate(zip(frame["period"], days, strict=True), start=2):
        if not (math.isfinite(day) and day >= 1 and float(day).is_integer()):
            raise InputError(f"--deliveries {path} line {row}: period {given!r} is not a day; "
                             "give a whole number of 1 or more.")
    mine = days == period
    return frame[mine].reset_index(drop=True), int((~mine).sum())


def _read_deliveries_csv(path: Path) -> pd.DataFrame:
    import pandas as pd

    from reserve_opt.errors import InputError

    if not path.is_file():
        raise InputError(f"--deliveries {path}: no such file; give a CSV with columns "
                         f"{DELIVERY_FILE_COLUMNS}.")
    try:
        frame = pd.read_csv(path, dtype={"source": str, "region": str, "commodity": str},
                            encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise InputError(f"--deliveries {path}: the file is empty; give a header line with "
                         f"{DELIVERY_FILE_COLUMNS}, and one line per delivery.") from None
    except UnicodeDecodeError:
        raise InputError(f"--deliveries {path}: is not UTF-8 text; save it as UTF-8 "
                         "CSV.") from None
    except (pd.errors.ParserError, ValueError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise InputError(f"--deliveries {path}: is not a valid CSV table ({first}); fix "
                         "it.") from None
    if frame.empty:
        raise InputError(f"--deliveries {path}: lists no delivery under its header; add one "
                         "line per delivery, or route the allocation without --deliveries.")
    return frame


def _check_period(inst: Instance, scenario: str, period: int) -> None:
    """Refuse a day outside the event: 1 .. its days (at least the allocation's horizon)."""
    from reserve_opt.errors import InputError
    from reserve_opt.models.allocation import AllocationOptions

    days = inst.scenario(scenario).days
    last = max(math.ceil(days), AllocationOptions().periods)
    if not 1 <= period <= last:
        raise InputError(f"--period {period}: scenario {scenario} ({days:g} days) is allocated "
                         f"over periods 1 to {last}; give a period from 1 to {last}.")


def _route_instance(path: Path, scenario: str, period: int | None, deliveries: Path | None,
                    engine: str, time_limit: float, seed: int, break_min: float | None,
                    drive_h: float | None, fleetless: str, out: OutputFolder | None,
                    map_file: Path | None, max_trips: int = 3,
                    limits: dict[str, float] | None = None,
                    max_iterations: int | None = None,
                    plan_path: Path | None = None,
                    tiles: str | None = None) -> dict[str, Any]:
    from reserve_opt.errors import InputError, SolverError
    from reserve_opt.io import load_instance
    from reserve_opt.io.outdir import inside
    from reserve_opt.models.routing import (
        DeliveryOptions,
        check_deliveries,
        check_vehicle_limits,
        delivery_report,
        from_allocation,
        route_lines,
        routed_status,
        solve,
    )

    if map_file is not None and map_file.suffix.lower() not in (".png", ".html"):
        raise InputError(f"--map {map_file}: a map is written as .png or .html; change the "
                         "file name.")
    if out is not None and map_file is not None and inside(map_file, out.path):
        raise InputError(f"--map {map_file}: is inside --out {out.path}, which is written as "
                         "a whole; put the map beside it")
    if tiles is not None:
        from reserve_opt.maps import check_tiles

        if map_file is None:
            raise InputError(f"--tiles {tiles}: draws under the --map; give --map FILE.html "
                             "too, or leave --tiles out")
        check_tiles(tiles, map_file.suffix.lower())
    map_dest = output_file(map_file, "--map", [path, deliveries])
    inst = load_instance(path)
    if scenario not in inst.scenario_index:
        raise InputError(f"--scenario {scenario}: {inst.name} has no such scenario; use one "
                         f"of {', '.join(s.id for s in inst.scenarios)}.")
    period = 1 if period is None else period
    _check_period(inst, scenario, period)
    check_vehicle_limits(inst, limits or {})
    # options are checked before the allocation is solved, so a typo costs no solve
    options = DeliveryOptions(fleetless=fleetless, break_min=break_min,  # type: ignore[arg-type]
                              drive_h_before_break=drive_h, max_trips=max_trips,
                              max_vehicle_kg=dict(limits or {}))
    other_days: list[str] = []
    if deliveries is not None:
        table, elsewhere = _day_of(_read_deliveries_csv(deliveries), deliveries, period)
        if elsewhere:
            other_days.append(f"{elsewhere} deliveries of other days in {deliveries.name} "
                              f"left for their own day (route them with --period N)")
    else:
        table = _allocation_deliveries(inst, scenario, period, time_limit, plan_path)
    plan = from_allocation(inst, table, scenario, period=period, options=options)
    with progress(f"routing {len(plan.problem.clients)} loads with {engine}"):
        result = solve(plan.problem, engine, time_limit_s=time_limit, seed=seed,
                       max_iterations=max_iterations)
    verdict = check_deliveries(plan, result)
    if not verdict.ok:
        raise SolverError("the independent checker rejected the plan: "
                          + "; ".join(verdict.violations))
    report = delivery_report(plan, result)
    unmet = report[report["unmet"] > 1e-9]
    lines = route_lines(plan, result, inst)
    summary = _common(result)
    summary.update({
        "instance": inst.name,
        "scenario": scenario,
        "period": period,
        "currency": inst.currency,
        "loads": plan.problem.n_clients,
        "deliveries": len(plan.deliveries),
        "delivered_units": verdict.delivered,
        "unmet_units": verdict.unmet,
        "unserved": [{"delivery": int(r["delivery"]), "source": r["source"],
                      "region": r["region"], "point": r["point"],
                      "commodity": r["commodity"], "unmet_units": float(r["unmet"]),
                      "reason": r["reason"]} for r in unmet.to_dict("records")],
        "notes": other_days + list(plan.notes) + _away_notes(plan, result),
        "status": routed_status(plan, result).value,
    })
    if out is not None:
        with out.write() as tmp:
            write_csv(_visits_frame(plan.problem, result, plan), tmp / "routes.csv")
            lines.to_file(tmp / "routes.geojson", driver="GeoJSON")
            write_csv(unmet, tmp / "unmet.csv")
            write_csv(report, tmp / "deliveries.csv")
            write_json(tmp / "solution.json", {**summary, "routes": _routes_json(result)})
    if map_dest is not None:
        from reserve_opt.maps import draw_map

        draw_map(inst, map_dest, routes=lines, scenario=scenario, period=period, unmet=unmet,
                 tiles=tiles)
    return summary


# --------------------------------------------------------------------------- output


def _common(result: RoutingResult) -> dict[str, Any]:
    return {
        "status": result.status.value,
        "engine": result.engine,
        "cost": result.cost,
        "distance": result.distance,
        "vehicles_used": result.vehicles_used,
        "runtime_s": result.runtime_s,
        "seed": result.seed,
        "checked": True,
    }


def _visits_frame(problem: RoutingProblem, result: RoutingResult,
                  plan: DeliveryProblem | None) -> pd.DataFrame:
    """The result's visits with depot names; for deliveries, points and units in the names."""
    from reserve_opt.models.routing import clock_h

    frame: pd.DataFrame = result.tables()["routes"]
    frame["depot"] = [problem.depots[d].name for d in frame["depot"]]
    if plan is None:
        return frame
    # the table's rows are the routes' visits in order
    locs = [problem.client_location(v.client) for r in result.routes for v in r.visits]
    frame["point"] = [plan.location_ids[loc] for loc in locs]
    frame["lon"] = [plan.location_lonlat[loc][0] for loc in locs]
    frame["lat"] = [plan.location_lonlat[loc][1] for loc in locs]
    # an overnight vehicle's times are working hours: shown on the clock, nights added
    kinds = [r.vehicle_type for r in result.routes for _ in r.visits]
    for col in ("departure", "arrival", "start"):
        if col in frame.columns:
            frame[col] = [clock_h(plan, k, float(h)) for k, h in zip(kinds, frame[col],
                                                                      strict=True)]
    renamed: pd.DataFrame = frame.rename(columns={
        "departure": "departure_h", "arrival": "arrival_h", "start": "start_h",
        "delivered_weight": "delivered_kg", "delivered_volume": "delivered_m3"})
    return renamed


def _away_notes(plan: DeliveryProblem, result: RoutingResult) -> list[str]:
    """Which vehicles this day's overnight trips keep away on later days."""
    from reserve_opt.models.routing import vehicles_away

    return [f"day {day}: " + ", ".join(
                f"{len(hours)} of {row} (back at " + ", ".join(f"{h:.2f}" for h in hours)
                + " h)" for row, hours in rows.items())
            + " still out on this day's overnight trips (the driver rests each night, "
            "24 h - max_hours; fleet column overnight, default true)."
            for day, rows in sorted(vehicles_away(plan, result).items())]


def _unserved_frame(result: RoutingResult) -> pd.DataFrame:
    unserved: pd.DataFrame = result.tables()["unmet"]
    return unserved


def _routes_json(result: RoutingResult) -> list[dict[str, Any]]:
    return [{"vehicle_type": r.vehicle_type_name, "vehicle": r.vehicle, "depot": r.depot,
             "start": r.start, "end": r.end, "distance": r.distance, "cost": r.cost,
             "breaks": [[b.start, b.duration] for b in r.breaks],
             "trips": [[v.name for v in t.visits] for t in r.trips]} for r in result.routes]


_HEADERS = {"unmet_units": "unmet (units)", "missing": "missing (kg, m3)"}


def _print_summary(s: dict[str, Any]) -> None:
    what = s.get("scenario")
    head = f"{s['instance']}" + (f" {what} day {s['period']}" if what else "")
    say(f"{head}: {s['status']} with {s['engine']} in {s['runtime_s']:.1f} s; "
        f"{s['vehicles_used']} vehicles, cost "
        # money to the currency unit; a benchmark's cost is its own measure, kept exact
        + (f"{s['cost']:,.0f}" if s.get("currency") else f"{s['cost']:,.2f}")
        + (f" {s['currency']}" if s.get("currency") else "")
        + f", distance {s['distance']:,.1f}" + (" km" if what else ""))
    if "gap" in s:
        if s["bks"] is None:
            say("no best-known solution found beside the file")
        elif s["gap"] is not None:
            say(f"best known {s['bks']:,.1f}, gap {s['gap']:.2%}")
    if what:
        say(f"{s['deliveries']} deliveries in {s['loads']} loads: "
            f"{s['delivered_units']:,.0f} units on routes, "
            f"{s['unmet_units']:,.0f} unmet")
        for note in s["notes"]:
            say(f"  note: {note}")
    if s["unserved"]:
        shown = s["unserved"][:MAX_UNMET_ROWS]
        cols = list(shown[0])
        print_table("Unmet", [_HEADERS.get(c, c) for c in cols],
                    [[_short(r[c]) for c in cols] for r in shown], total=len(s["unserved"]),
                    where="all in unmet.csv (--out) or --format json")


def _short(value: Any) -> Any:
    if isinstance(value, float) and math.isfinite(value):
        return round(value, 2)
    if isinstance(value, list):
        return ", ".join(f"{x:g}" for x in value)
    return value


def register(app: typer.Typer) -> None:
    """Add the ``route`` command to ``app``."""
    app.command()(route)
