"""Command-line options and helpers shared by the commands.

An option whose help text means the same in every command is an ``Annotated`` alias
(``SeedOption``); where the flag is shared but its meaning depends on the command (the
time limit of one solve or of all levels, what ``--out`` holds) a function builds the
option with the command's own help, so every flag keeps one spelling.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from reserve_opt.cli.render import OutputFormat, echo_json

if TYPE_CHECKING:
    import pandas as pd

SOLVERS_HELP = "highs, scip, pulp-cbc, ortools-cbc or auto."


def solver_option(help: str = SOLVERS_HELP) -> Any:
    """``--solver NAME`` with ``help`` (default: the MIP solvers the models accept)."""
    return typer.Option(help=help)


def time_limit_option(help: str) -> Any:
    """``--time-limit SECONDS``; ``help`` says what the limit bounds in this command."""
    return typer.Option("--time-limit", help=help)


def gap_option(help: str = "Relative MIP gap to stop at.") -> Any:
    """``--gap FRACTION``, the relative MIP gap."""
    return typer.Option(help=help)


def out_option(help: str) -> Any:
    """``--out/-o FOLDER``; ``help`` lists what the command writes there."""
    return typer.Option("--out", "-o", help=help)


def scenario_option(help: str) -> Any:
    """``--scenario/-s ID``, a scenario of the instance; ``help`` says what it is for."""
    return typer.Option("--scenario", "-s", help=help)


def parent_serves_option(help: str) -> Any:
    """``--parent-serves/--no-parent-serves``: parent regions serving children at tier 3."""
    return typer.Option("--parent-serves/--no-parent-serves", help=help)


InstancePath = Annotated[
    Path, typer.Argument(help="Instance folder (instance.toml + tables) or JSON document.")
]
FormatOption = Annotated[
    OutputFormat, typer.Option("--format", "-f", help="table for people, json for machines.")
]
SolverOption = Annotated[str, solver_option()]
GapOption = Annotated[float, gap_option()]
ThreadsOption = Annotated[int, typer.Option(help="Solver threads.")]
SeedOption = Annotated[int, typer.Option(help="Solver random seed.")]
SharingOption = Annotated[str, typer.Option(help="auto, pooled or agreements.")]
ResponseTimeOption = Annotated[bool, typer.Option(
    "--response-time", help="Count stock only where it reaches a region within the "
    "6/8/10 h standard.")]


@contextmanager
def progress(message: str) -> Iterator[None]:
    """A spinner on stderr while solving, only when stderr is a terminal."""
    if sys.stderr.isatty():
        from rich.console import Console

        with Console(stderr=True).status(message):
            yield
    else:
        yield


def warn_checker(violations: Sequence[str]) -> None:
    """Warn on stderr that the independent checker disagrees with the solver."""
    typer.echo("warning: the independent checker disagrees with the solver: "
               + "; ".join(violations), err=True)


def show(fmt: OutputFormat, as_json: Callable[[], Any], for_people: Callable[[], None],
         wrote: Path | None = None) -> None:
    """Print a result as JSON or for people; for people, name the folder ``wrote`` too."""
    if fmt is OutputFormat.JSON:
        echo_json(as_json())
    else:
        for_people()
        if wrote is not None:
            typer.echo(f"\nwrote {wrote}/")


def write_tables(folder: Path, tables: Mapping[str, pd.DataFrame]) -> None:
    """Write each table as ``<name>.csv`` in ``folder``, without the index."""
    for name, frame in tables.items():
        frame.to_csv(folder / f"{name}.csv", index=False)


def write_json(path: Path, data: Any, *, ensure_ascii: bool = True) -> None:
    """Write ``data`` as indented JSON; values JSON cannot hold are written as strings."""
    path.write_text(json.dumps(data, indent=1, ensure_ascii=ensure_ascii, default=str))
