"""The ``report`` command: one self-contained HTML file a planner takes to the meeting."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from reserve_opt.cli.errors import reported_errors
from reserve_opt.cli.options import (
    GapOption,
    InstancePath,
    SeedOption,
    SolverOption,
    output_file,
    progress,
    scenario_option,
    time_limit_option,
    warn_checker,
)
from reserve_opt.cli.plan_cmd import DEFAULT_TIME_LIMIT_S
from reserve_opt.variants.run import ROUTE_TIME_LIMIT_S, RunOptions

if TYPE_CHECKING:
    from reserve_opt.domain import Instance
    from reserve_opt.report import PlanFigures
    from reserve_opt.variants.route import RouteRun

#: Days the event is allocated over when the routed day is earlier (allocate's default).
EVENT_DAYS = 3


def report(
    path: InstancePath,
    out: Annotated[Path, typer.Option(
        "--out", "-o", help="The .html file to write (a file reserve-opt did not write is "
        "never replaced).")],
    lang: Annotated[str, typer.Option(
        "--lang", help="zh: Chinese labels; en: English labels. Names are shown as "
        "given.")] = "en",
    plan: Annotated[Path | None, typer.Option(
        "--plan", help="A plan's output folder (reserve-opt plan --out), read and checked as "
        "allocate --plan does, instead of planning now.")] = None,
    scenario: Annotated[str | None, scenario_option(
        "Add this event: its allocation of the plan's stock and contracts, why each "
        "shortage happens, and the routes of --period.")] = None,
    period: Annotated[int | None, typer.Option(
        help="Day of the event whose routes are drawn (default 1); the event is allocated "
        f"over {EVENT_DAYS} days or up to this day.", show_default=False)] = None,
    variant: Annotated[list[str] | None, typer.Option(
        "--variant", "-v", help="Add a what-if comparison with this variant (TOML/YAML, as "
        "whatif --variant; repeat for more): plans, or allocations of --scenario.")] = None,
    actuals: Annotated[Path | None, typer.Option(
        "--actuals", help="An event's actuals folder (as reserve-opt review takes it): add "
        "its review: fill rates, response times, settlement due vs paid, and what the "
        "engine would have done in hindsight, against the plan's stock.")] = None,
    solver: SolverOption = "highs",
    time_limit: Annotated[float, time_limit_option(
        "Seconds per plan or allocation solve.")] = DEFAULT_TIME_LIMIT_S,
    gap: GapOption = 1e-4,
    seed: SeedOption = 0,
    engine: Annotated[str, typer.Option(help="Routing engine: pyvrp or ortools.")] = "pyvrp",
    route_time_limit: Annotated[float, typer.Option(
        "--route-time-limit", help="Seconds for the routing engine.")] = ROUTE_TIME_LIMIT_S,
    max_iterations: Annotated[int | None, typer.Option(
        "--max-iterations", help="Stop routing after this many iterations (PyVRP) or "
        "solutions (OR-Tools) instead of at its time limit: the same routes on any "
        "machine.")] = None,
) -> None:
    """Write one self-contained HTML report: the plan, an event and a what-if comparison."""
    from reserve_opt.cli.whatif_cmd import variant_paths
    from reserve_opt.errors import InputError
    from reserve_opt.io import load_instance
    from reserve_opt.report import ReportData, check_lang, write_report

    with reported_errors():
        language = check_lang(lang)
        if out.suffix.lower() not in (".html", ".htm"):
            raise InputError(f"--out {out}: a report is written as .html; change the file "
                             "name")
        if period is not None and scenario is None:
            raise InputError(f"--period {period}: give --scenario ID too; the period is a day "
                             "of that event")
        if max_iterations is not None and max_iterations < 1:
            raise InputError(f"--max-iterations {max_iterations}: give a whole number of 1 "
                             "or more.")
        dest = output_file(out, "--out", [path, plan, actuals,
                                          *variant_paths(variant or [])])
        inst = load_instance(path)
        if scenario is not None and scenario not in inst.scenario_index:
            raise InputError(f"--scenario {scenario}: {inst.name} has no such scenario; use "
                             f"one of {', '.join(s.id for s in inst.scenarios)}.")
        day = 1 if period is None else period
        if scenario is not None:
            from reserve_opt.cli.route_cmd import _check_period

            _check_period(inst, scenario, day)
        variants = _variants(variant or [])
        # actuals are read now, so a bad file costs no solve
        acts = None
        if actuals is not None:
            from reserve_opt.review import read_actuals

            acts = read_actuals(actuals, inst)
        # the event's options are checked before the plan is solved, so a typo costs no solve
        event_opts = None if scenario is None else RunOptions(
            model="route", solver=solver, time_limit_s=time_limit, seed=seed,
            scenario=scenario, periods=max(EVENT_DAYS, day), period=day, engine=engine,
            route_time_limit_s=route_time_limit, route_max_iterations=max_iterations)
        figures, planned, stock = _plan(inst, plan, solver, time_limit, gap, seed)
        event = None
        if event_opts is not None:
            event = _event(planned, stock, event_opts)
        whatif = None
        if variants:
            whatif = _whatif(inst, str(path), variants, scenario, solver, time_limit, gap,
                             seed)
        extra = [] if acts is None else [_review(planned, stock, acts, solver, time_limit)]
        data = ReportData(instance=inst, source=str(path), plan=figures,
                          plan_from=None if plan is None else str(plan), event=event,
                          whatif=whatif)
        assert dest is not None
        write_report(data, dest, language, extra)
    typer.echo(f"wrote {out}")


def _review(planned: Instance, stock: dict[tuple[str, str], float] | None, acts: Any,
            solver: str, time_limit: float) -> Any:
    """The review section of an event's actuals, against the plan's stock and contracts."""
    from reserve_opt.report.review import review_section
    from reserve_opt.review import review
    from reserve_opt.solvers import SolverOptions

    return review_section(review(planned, acts, stock, solver=solver,
                                 solver_options=SolverOptions(time_limit_s=time_limit)))


def _variants(args: list[str]) -> list[Any]:
    """The variants, read (and refused in one line each) before anything is solved."""
    if not args:
        return []
    from reserve_opt.cli.whatif_cmd import load_variants

    return list(load_variants(args))


def _plan(inst: Instance, plan: Path | None, solver: str, time_limit: float, gap: float,
          seed: int) -> tuple[PlanFigures, Instance, dict[tuple[str, str], float] | None]:
    """The plan's figures, the instance with its contracts, and its stock (``None``: today's).

    ``--plan`` is read and checked by allocate's own ``read_plan``; without it the plan is
    solved now, as ``reserve-opt plan`` solves it.
    """
    from reserve_opt.models.placement import check_placement, solve_placement
    from reserve_opt.report import plan_figures

    if plan is not None:
        from reserve_opt.models.allocation import read_plan
        from reserve_opt.models.result_check import read_placement

        planned, stock = read_plan(plan, inst)  # checked by the independent plan checker
        return plan_figures(read_placement(plan)), planned, stock
    from reserve_opt.models.placement import PlacementOptions
    from reserve_opt.solvers import SolverOptions

    with progress(f"solving {inst.name} with {solver}"):
        result = solve_placement(inst, PlacementOptions(), solver=solver,
                                 solver_options=SolverOptions(time_limit_s=time_limit,
                                                              mip_gap=gap, seed=seed))
    if result.costs is None:
        from reserve_opt.errors import SolverError

        raise SolverError(f"no plan for {inst.name}: {result.status.value} "
                          f"{result.message}".strip())
    verdict = check_placement(inst, result)
    if not verdict.ok:
        warn_checker(verdict.violations)
    from reserve_opt.models.allocation import apply_plan

    planned, stock = apply_plan(result.to_dict(), inst, "the plan")
    return plan_figures(result), planned, stock


def _event(inst: Instance, stock: dict[tuple[str, str], float] | None,
           opts: RunOptions) -> RouteRun:
    """The event's allocation of the plan's stock and the routes of one day of it."""
    from reserve_opt.variants.route import route_event

    with progress(f"allocating and routing {opts.scenario}"):
        return route_event(inst, opts, opts.solver_options(), stock=stock)


def _whatif(inst: Instance, base: str, variants: list[Any], scenario: str | None,
            solver: str, time_limit: float, gap: float, seed: int) -> dict[str, Any]:
    """The comparison ``whatif`` prints: plans, or allocations of ``scenario``."""
    from reserve_opt.cli.whatif_cmd import run_whatif

    opts = RunOptions(model="plan" if scenario is None else "allocate", solver=solver,
                      time_limit_s=time_limit, mip_gap=gap, seed=seed, scenario=scenario)
    doc: dict[str, Any] = run_whatif(inst, base, variants, opts)["json"]
    return doc


def register(app: typer.Typer) -> None:
    """Add the ``report`` command to ``app``."""
    app.command()(report)
