"""Progress on stderr, one home: bars for loops over runs, a spinner for a single solve.

Bars serve the loops over runs (knock-outs, sweep runs, what-if variants); the spinner
(``cli.options.progress``) a single solve whose length is unknown (plan, allocate, route).

A bar shows the label, a bar, done/total counts, time spent and an estimate of the time
left, on stderr, and only when stderr is a terminal (piped or captured output stays clean).
Before the total is known (a base plan still solving) the bar pulses.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypedDict

if TYPE_CHECKING:
    from rich.console import Console


class Hooks(TypedDict):
    """Callbacks a loop over runs calls: ``on_start(total)``, then ``on_done()`` per run."""

    on_start: Callable[[int], None] | None
    on_done: Callable[[], None] | None


@contextmanager
def progress_bar(label: str, console: Console | None = None) -> Iterator[Hooks]:
    """Callbacks driving a Rich progress bar with counts and an estimate.

    Parameters
    ----------
    label
        What runs, e.g. ``"knock-outs of liaoning"``.
    console
        Where to draw (tests pass a recording console); default stderr, and then only
        when stderr is a terminal: otherwise the callbacks are ``None``.

    Yields
    ------
    Hooks
        ``on_start`` and ``on_done``, to pass on to the loop.
    """
    hooks: Hooks = {"on_start": None, "on_done": None}
    if console is None and not sys.stderr.isatty():
        yield hooks
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("elapsed"), TimeElapsedColumn(), TextColumn("left"),
                  TimeRemainingColumn(), console=console or Console(stderr=True)) as bar:
        task = bar.add_task(label, total=None)
        hooks["on_start"] = lambda n: bar.update(task, total=n)
        hooks["on_done"] = lambda: bar.advance(task)
        yield hooks


@contextmanager
def spinner(message: str) -> Iterator[None]:
    """A spinner on stderr while one solve runs, only when stderr is a terminal."""
    if sys.stderr.isatty():
        from rich.console import Console

        with Console(stderr=True).status(message):
            yield
    else:
        yield
