"""The ``sweep`` command: many variants at once, on a local Dask cluster or an existing one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from reserve_opt.cli.errors import reported_errors
from reserve_opt.cli.options import (
    FormatOption,
    InstancePath,
    TrustSchedulerOption,
    out_option,
    output_folder,
    scheduler_option,
)
from reserve_opt.cli.progress import progress_bar
from reserve_opt.cli.render import OutputFormat, echo_json, print_table


def sweep(
    base: InstancePath,
    grid: Annotated[Path, typer.Option("--grid", "-g", help="Sweep file (TOML/YAML): grid "
                                       "axes and/or a Monte Carlo sample.")],
    out: Annotated[Path | None, out_option(
        "Output folder (kept to resume); default <grid file stem>.sweep beside the grid "
        "file. Only a new or empty folder or an earlier sweep's is written.")] = None,
    workers: Annotated[int | None, typer.Option(help="Local cluster worker processes "
                                                "(default: the machine's cores).")] = None,
    scheduler: Annotated[str | None, scheduler_option("the runs")] = None,
    trust_scheduler: TrustSchedulerOption = False,
    serial: Annotated[bool, typer.Option("--serial", help="Run in this process without "
                                         "Dask (for debugging).")] = False,
    max_runs: Annotated[int | None, typer.Option("--max-runs", help="Run at most this many "
                                                 "new runs now; run again to go on.")] = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Expand a grid or random sample of variants and run them in parallel, resumably."""
    from reserve_opt.io import load_instance
    from reserve_opt.variants.grid import read_sweep
    from reserve_opt.variants.sweep import RESULTS, run_sweep

    with reported_errors():
        if workers is not None and workers < 1:
            from reserve_opt.errors import InputError

            raise InputError(f"--workers {workers}: give at least 1 worker process")
        if max_runs is not None and max_runs < 0:
            from reserve_opt.errors import InputError

            raise InputError(f"--max-runs {max_runs}: give 0 or more runs (0 runs none now "
                             f"and writes the results table of the runs already done)")
        if scheduler is not None:
            from reserve_opt.variants.sweep import checked_scheduler

            checked_scheduler(scheduler, trust_scheduler)  # before reading or solving
        target = out if out is not None else grid.with_suffix(".sweep")
        dest = output_folder(target, "sweep", [base, grid], in_place=True)
        spec = read_sweep(grid)
        inst = load_instance(base)
        try:
            with progress_bar(f"sweep {grid.stem}") as hooks:
                report = run_sweep(inst, spec, dest or target, workers=workers,
                                   scheduler=scheduler, trust_scheduler=trust_scheduler,
                                   serial=serial, max_runs=max_runs, **hooks)
        except KeyboardInterrupt:
            typer.echo(f"interrupted: finished runs are kept in {target}/; run the same "
                       f"command again to resume", err=True)
            raise typer.Exit(130) from None
    summary = {
        "sweep": str(grid), "out": str(target), "results": str(target / RESULTS),
        "runs": report.total, "reused": report.reused, "ran": report.ran,
        "left": report.left, "solves": report.solves, "wall_seconds": report.wall_seconds,
        "status": {str(k): int(v) for k, v in report.results["status"].value_counts().items()},
    }
    if fmt is OutputFormat.JSON:
        echo_json(summary)
    else:
        typer.echo(f"{spec.description}\n{report.total} runs: {report.ran} run now "
                   f"({report.solves} solves; runs with the same changes share one), "
                   f"{report.reused} already done, {report.left} left; "
                   f"{report.wall_seconds:.1f} s")
        _print_overview(report.results, inst.currency)
        typer.echo(f"\nresults: {target / RESULTS}")
        if report.left:
            typer.echo("run the same command again to finish the sweep")
    if report.left or (report.results["status"] == "error").any():
        raise typer.Exit(1)


def _print_overview(results: Any, currency: str) -> None:
    if results.empty:
        return
    rows = [[str(k), int(v)] for k, v in results["status"].value_counts().items()]
    print_table("Runs by status", ["status", "runs"], rows)
    cols = [c for c in ("objective", "cost_shortage", "lowest_fill_rate")
            if c in results.columns]
    stats = []
    for c in cols:
        s = results[c].dropna().astype(float)
        if len(s):
            unit = currency if c != "lowest_fill_rate" else "fraction"
            stats.append([f"{c} ({unit})", float(s.min()), float(s.median()),
                          float(s.mean()), float(s.max())])
    if stats:
        print_table("Over the runs", ["figure", "min", "median", "mean", "max"], stats)


def register(app: typer.Typer) -> None:
    """Add ``sweep`` to ``app``."""
    app.command()(sweep)
