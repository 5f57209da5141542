"""How the command line reports errors: one line per problem, exit code 1."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from reserve_opt.errors import InputError, ReserveOptError

MAX_SHOWN = 100
"""Most problems printed at once (a table of two million bad rows is not two million lines)."""

DEBUG = {"on": False}
"""Set by the global ``--debug`` flag: re-raise errors with their traceback."""


def print_problems(problems: tuple[str, ...] | list[str]) -> None:
    """Print each problem on its own line on stderr.

    A message that quotes input holding a line break (a cell with a newline inside
    quotes) is flattened, so one problem is always one line; past :data:`MAX_SHOWN`
    problems, one line says how many more there are.
    """
    for problem in problems[:MAX_SHOWN]:
        line = problem if problem.isprintable() else " ".join(problem.split())
        typer.echo(f"error: {line}", err=True)
    if len(problems) > MAX_SHOWN:
        typer.echo(f"error: ... and {len(problems) - MAX_SHOWN:,} more problems not shown; "
                   f"fix those above and run again", err=True)


@contextmanager
def reported_errors() -> Iterator[None]:
    """Turn reserve-opt errors into one-line messages and exit code 1.

    Unexpected exceptions are reported in one line too (exit code 2) unless ``--debug``
    asks for the traceback.
    """
    try:
        yield
    except typer.Exit:
        raise
    except InputError as err:
        if DEBUG["on"]:
            raise
        print_problems(err.problems)
        raise typer.Exit(1) from None
    except ReserveOptError as err:
        if DEBUG["on"]:
            raise
        print_problems([str(err)])
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        raise typer.Exit(130) from None
    except MemoryError:
        if DEBUG["on"]:
            raise
        # not a bug to report: the work is larger than the memory this process may use
        typer.echo("error: ran out of memory; the input is larger than this process may hold "
                   "(its files, rows or limits), so give it more memory or a smaller input",
                   err=True)
        raise typer.Exit(1) from None
    except Exception as err:
        if DEBUG["on"]:
            raise
        typer.echo(
            f"error: internal error {type(err).__name__}: {err} (run with --debug for the "
            f"traceback, and please report it)",
            err=True,
        )
        raise typer.Exit(2) from None


def stdout_is_terminal() -> bool:
    """Whether stdout is an interactive terminal (progress displays only there)."""
    return sys.stdout.isatty()
