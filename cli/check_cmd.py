"""The ``check`` command: run a model's independent checker on a result folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from reserve_opt.cli.errors import reported_errors
from reserve_opt.cli.options import FormatOption, InstancePath, show
from reserve_opt.cli.render import OutputFormat

#: Violations printed for people; ``--format json`` gives them all.
SHOWN = 20


def check(
    path: InstancePath,
    result: Annotated[Path, typer.Argument(
        help="A result folder (or its solution.json) from 'plan --out' or 'allocate "
        "--out'.")],
    plan: Annotated[Path | None, typer.Option(
        "--plan", help="For an allocation made with 'allocate --plan': that plan's "
        "folder.")] = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Check a plan or an allocation against the instance, without solving anything.

    The model's independent checker recomputes every constraint and cost from the instance
    and the result's lines, and holds its status, bound and gap against each other. Exit
    code 0 when the result passes, 1 when it does not.
    """
    from reserve_opt.io import load_instance
    from reserve_opt.models.result_check import check_result

    with reported_errors():
        inst = load_instance(path)
        report = check_result(inst, result, plan=plan)

    def for_people() -> None:
        what = "plan" if report.kind == "plan" else "allocation"
        if report.ok:
            typer.echo(f"{result}: the {what} ({report.status}) passes the independent "
                       f"checker against instance {inst.name}.")
        else:
            n = len(report.violations)
            typer.echo(f"{result}: the {what} ({report.status}) fails the independent "
                       f"checker against instance {inst.name}: {n} problem"
                       f"{'s' if n > 1 else ''}.")
            for line in report.violations[:SHOWN]:
                typer.echo(f"- {line}")
            if n > SHOWN:
                typer.echo(f"... and {n - SHOWN} more (--format json lists them all).")
        for line in report.warnings:
            typer.echo(f"warning: {line}")

    show(fmt, report.to_dict, for_people)
    if not report.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the ``check`` command to ``app``."""
    app.command("check")(check)
