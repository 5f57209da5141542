"""Command-line options and helpers shared by the commands.

An option whose help text means the same in every command is an ``Annotated`` alias
(``SeedOption``); where the flag is shared but its meaning depends on the command (the
time limit of one solve or of all levels, what ``--out`` holds) a function builds the
option with the command's own help, so every flag keeps one spelling.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from reserve_opt.cli.progress import spinner
from reserve_opt.cli.render import TOP_HELP, OutputFormat, echo_json
from reserve_opt.io.outdir import OutputFile, OutputFolder

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


FORCE_HELP = (
    "Also replace an --out folder reserve-opt wrote for another command, or whose files were "
    "edited or added to since; files reserve-opt did not write are kept as they are. Without "
    "it --out must be new, empty, or this command's own earlier output left unchanged (then "
    "it is replaced). A folder reserve-opt did not write is never replaced.")


def _waiting(label: str) -> Callable[[], None]:
    return lambda: typer.echo(f"waiting: another reserve-opt run is writing {label}", err=True)


def output_folder(out: Path | None, command: str, inputs: Sequence[Path | None] = (),
                  force: bool = False, in_place: bool = False) -> OutputFolder | None:
    """``--out`` of ``command`` under the output rules, checked now, before any solve.

    Returns ``None`` without ``--out``. See :mod:`reserve_opt.io.outdir` for the rules. An
    ``--out`` ending in ``.xlsx`` is one workbook of the command's tables instead of a
    folder (:class:`reserve_opt.io.workbook.OutputWorkbook`).
    """
    if out is None:
        return None
    kind = OutputFolder
    if out.suffix.lower() == ".xlsx":
        from reserve_opt.io.workbook import OutputWorkbook

        kind = OutputWorkbook
    dest = kind(out, command, inputs=tuple(inputs), force=force, name=f"--out {out}",
                        force_hint=None if in_place else "--force", in_place=in_place,
                        on_wait=_waiting(str(out)))
    dest.check()
    return dest


def output_file(path: Path | None, flag: str, inputs: Sequence[Path | None] = ()
                ) -> OutputFile | None:
    """A single output file (``--out map.png``, ``--map day1.html``), checked now."""
    if path is None:
        return None
    dest = OutputFile(path, inputs=tuple(inputs), name=f"{flag} {path}",
                      on_wait=_waiting(str(path)))
    dest.check()
    return dest


def scenario_option(help: str) -> Any:
    """``--scenario/-s ID``, a scenario of the instance; ``help`` says what it is for."""
    return typer.Option("--scenario", "-s", help=help)


def scheduler_option(what: str) -> Any:
    """``--scheduler ADDRESS``: an existing Dask scheduler that runs ``what``."""
    return typer.Option(help=f"Address of an existing Dask scheduler for {what}: on this "
                        "machine, e.g. tcp://127.0.0.1:8786, or a tls:// one (another machine "
                        "needs TLS or --trust-scheduler).")


def parent_serves_option(help: str) -> Any:
    """``--parent-serves/--no-parent-serves``: parent regions serving children at tier 3."""
    return typer.Option("--parent-serves/--no-parent-serves", help=help)


InstancePath = Annotated[
    Path, typer.Argument(help="Instance folder (instance.toml + tables), JSON document or "
                         ".xlsx workbook (a sheet per table).")
]
FormatOption = Annotated[
    OutputFormat, typer.Option("--format", "-f", help="table for people, json for machines.")
]
SolverOption = Annotated[str, solver_option()]
GapOption = Annotated[float, gap_option()]
ThreadsOption = Annotated[int, typer.Option(help="Solver threads.")]
ForceOption = Annotated[bool, typer.Option("--force", help=FORCE_HELP)]
SeedOption = Annotated[int, typer.Option(help="Solver random seed.")]
SharingOption = Annotated[str, typer.Option(help=(
    "How regions share stock: pooled (a central planner: any stock may serve any region), "
    "agreements (a region draws on its own stock, its sharing agreements and its parent "
    "regions only), or auto (agreements when the instance has any, else pooled)."))]
TopOption = Annotated[int, typer.Option("--top", min=0, help=TOP_HELP)]
TrustSchedulerOption = Annotated[bool, typer.Option(
    "--trust-scheduler", help="Accept a --scheduler on another machine without TLS. Dask sends "
    "pickles: everyone who can reach that address (and every worker it uses) can run code as "
    "you.")]
ResponseTimeOption = Annotated[bool, typer.Option(
    "--response-time", help="Count stock only where it reaches a region within the "
    "6/8/10 h standard.")]


progress = spinner  # the one solve's spinner lives with the progress bars


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
            typer.echo(f"\nwrote {wrote}" + ("" if wrote.suffix.lower() == ".xlsx" else "/"))


#: Output CSVs start with a UTF-8 byte-order mark: Excel (on Chinese Windows above all) reads
#: a CSV without one in the ANSI code page and garbles every name beyond ASCII. Our readers,
#: pandas and Python's ``utf-8-sig`` all skip the mark.
CSV_ENCODING = "utf-8-sig"


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to ``path`` as CSV for Excel: no index, UTF-8 with a byte-order mark.

    In the folder of an ``--out FILE.xlsx`` the frame becomes a sheet of the workbook instead.
    """
    from reserve_opt.io.workbook import staged

    if staged(frame, path):
        return
    frame.to_csv(path, index=False, encoding=CSV_ENCODING)


def write_tables(folder: Path, tables: Mapping[str, pd.DataFrame]) -> None:
    """Write each table as ``<name>.csv`` in ``folder`` (see :func:`write_csv`)."""
    for name, frame in tables.items():
        write_csv(frame, folder / f"{name}.csv")


def write_json(path: Path, data: Any, *, ensure_ascii: bool = True) -> None:
    """Write ``data`` as indented, strict JSON (see :mod:`reserve_opt.io.jsontext`)."""
    from reserve_opt.io.jsontext import dumps

    path.write_text(dumps(data, indent=1, ensure_ascii=ensure_ascii), encoding="utf-8")
