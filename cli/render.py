"""Rendering results for people (tables) and machines (JSON).

Tables fit the terminal: the width is ``COLUMNS`` when set, else the terminal's when stdout is
one, else :data:`PIPE_WIDTH` (piped output is the same on every machine). A table that fits
wraps its cells at spaces, never inside a word or a number; one whose columns cannot fit
side by side is printed as one block per row, ``header: value`` a line.

Numbers in a column share one precision: money totals (a header naming the currency alone,
``(CNY)``) and goods (``(units)``) in whole units, other columns to three significant digits
of their smallest value, fill rates and other shares as percentages (:func:`pct`).
"""

from __future__ import annotations

import math
import os
import re
import shutil
import sys
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import typer
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table

from reserve_opt.io.jsontext import dumps

if TYPE_CHECKING:
    from reserve_opt.solvers.status import SolveStatus

#: Width of output that goes to a file or a pipe, when COLUMNS is not set.
PIPE_WIDTH = 100
#: Narrowest width we lay out for; below it lines may wrap.
MIN_WIDTH = 40
#: Rows of a per-region table printed when --top is not given.
DEFAULT_TOP = 20
TOP_HELP = (f"Rows of each long table to print (default {DEFAULT_TOP}; 0 prints all); --out "
            f"and --format json hold every row.")

#: One-line explanations of terms tables and options use (legends and --help).
CVAR_NOTE = ("CVaR (conditional value at risk) at level beta: the mean cost of the worst "
             "(1 - beta) share of scenarios, by probability.")

SHORTAGE_PENALTY_NOTE = (
    "shortage penalty: each commodity's shortage cost per unit short (commodities table) x "
    "the units short; a weight that makes the plan avoid shortage, not money spent.")
COMPENSATION_NOTE = (
    "(transfer) compensation: what borrowing regions pay lenders under sharing agreements; "
    "it moves money between regions, so it is not part of the money spent.")
TIER_NOTE = ("tier: the order stock is drawn in: 0 the region's own, 1 a neighbour's (bilateral "
             "agreement), 2 the alliance's, 3 a higher-level (parent) region's; 4 any other "
             "region's, moved by a central planner under pooled sharing (no agreements).")


class OutputFormat(StrEnum):
    """Output formats shared by every listing command."""

    TABLE = "table"
    JSON = "json"


@dataclass(frozen=True)
class Num:
    """A number already formatted for a table cell (right-aligned, never wrapped)."""

    text: str


def pct(fraction: float | None) -> Num | None:
    """A share (0-1) as a percentage with one decimal: 0.9671 -> ``96.7%``.

    A share just below 1 shows ``99.9%``, never a rounded ``100.0%`` that hides a shortage.
    """
    from reserve_opt.report.figures import percent  # one rule for the CLI and the report

    text = percent(fraction)
    return None if text is None else Num(text)


def width() -> int:
    """Width to lay output out for (see the module docstring)."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit():
        return max(MIN_WIDTH, int(columns))
    if sys.stdout.isatty():
        return max(MIN_WIDTH, shutil.get_terminal_size((PIPE_WIDTH, 24)).columns)
    return PIPE_WIDTH


def console() -> Console:
    """A console on stdout laid out for :func:`width`."""
    return Console(width=width(), soft_wrap=False)


def echo_json(data: Any) -> None:
    """Print ``data`` as indented, strict JSON on stdout (see :mod:`reserve_opt.io.jsontext`)."""
    typer.echo(dumps(data, indent=2, ensure_ascii=False))


def no_result_line(noun: str, status: SolveStatus) -> str:
    """Why a command has no ``noun`` to show: the status in words, and what to try."""
    hint = "; give it more seconds with --time-limit" if status.value == "no_solution" else ""
    return f"no {noun}: {status.sentence}{hint}."


def say(text: str = "") -> None:
    """Print prose on stdout, each line wrapped at spaces to :func:`width`.

    A wrapped line keeps its indent; a line that starts a list item (``- ``) is continued
    under the item's text.
    """
    limit = width()
    for line in text.split("\n"):
        if len(line) <= limit:
            typer.echo(line)
            continue
        indent = line[:len(line) - len(line.lstrip())]
        more = indent + "  "  # continues a "- " item under its text
        typer.echo(textwrap.fill(line, limit, initial_indent="", subsequent_indent=more,
                                 break_on_hyphens=False, break_long_words=False))


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]],
                legend: Sequence[str] = (), total: int = 0, where: str = "") -> None:
    """Print a table with a title; numbers right-aligned, one precision per column.

    ``legend`` lines are printed under the table: what a header's term or unit means.
    When the table holds the first ``len(rows)`` of ``total`` rows, a line under it says
    how many more there are and ``where`` they are.
    """
    cells = [[_cell(v) for v in row] for row in rows]
    numeric = [bool(rows) and all(_is_number(r[i]) for r in rows) for i in range(len(columns))]
    for i, name in enumerate(columns):
        plain = [r[i] for r in rows if isinstance(r[i], int | float) and not isinstance(r[i],
                                                                                      bool)]
        if plain:
            fmt = _column_format(name, plain)
            for row, text in zip(rows, cells, strict=True):
                v = row[i]
                if isinstance(v, int | float) and not isinstance(v, bool):
                    text[i] = fmt(v)
    out = console()
    widths = _fit(columns, cells, out.width)
    if widths is None:
        _print_blocks(title, columns, cells)
    else:
        table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False,
                      header_style="bold")
        for name, num, w in zip(columns, numeric, widths, strict=True):
            table.add_column(name, justify="right" if num else "left", width=w)
        for row in cells:
            table.add_row(*row)
        out.print(table)
    if total > len(rows):
        say(f"… and {total - len(rows):,} more; {where}")
    for line in legend:
        say(line)
    typer.echo("")


def _fit(columns: Sequence[str], cells: Sequence[Sequence[str]], limit: int) -> list[int] | None:
    """Column widths that fit ``limit`` without breaking a word or a number, or ``None``.

    Each column gets at least its longest word (a number is one word) and shares what is
    left in proportion to how much wider its longest line is; rich's own collapse may cut
    below the longest word, which breaks headers mid-word.
    """
    lows, highs = [], []
    for i, name in enumerate(columns):
        texts = [name, *(row[i] for row in cells)]
        words = [w for t in texts for w in t.split()] or [""]
        lows.append(max(cell_len(w) for w in words))
        highs.append(max(cell_len(line) for t in texts for line in t.splitlines() or [""]))
    room = limit - 3 * (len(columns) - 1)  # a space each side of a rule between columns
    if sum(highs) <= room:
        return highs
    if sum(lows) > room:
        return None
    # columns that unwrap fully with the least room first: most columns on one line
    spare = room - sum(lows)
    widths = list(lows)
    for i in sorted(range(len(columns)), key=lambda i: highs[i] - lows[i]):
        grow = min(highs[i] - lows[i], spare)
        widths[i] += grow
        spare -= grow
    return widths


def _print_blocks(title: str, columns: Sequence[str], cells: Sequence[Sequence[str]]) -> None:
    """A table too wide for the terminal: a paragraph per row of ``header: value`` pairs.

    A row starts with its first cell; the pairs are packed onto indented lines, and a pair
    is wrapped (at spaces) only when it is wider than a line on its own.
    """
    limit = width()
    say(title)
    for row in cells:
        # a bare number (a delivery, a rank) says nothing without its header
        head = f"{columns[0]} {row[0]}" if row[0].replace(",", "").isdigit() else row[0]
        line, sep = f" {head}", " — "
        for name, value in zip(columns[1:], row[1:], strict=True):
            if not value:
                continue
            pair = f"{name}: {value}"
            if cell_len(line) + len(sep) + cell_len(pair) > limit:
                say(line)
                line, sep = "    ", ""
            line += sep + pair
            sep = "; "
        say(line)


def _is_number(value: Any) -> bool:
    return value is None or isinstance(value, Num) or (
        isinstance(value, int | float) and not isinstance(value, bool))


_WHOLE = re.compile(r"\((?:[A-Z]{3}|units|persons|m3|kg)\)|\bunits\b")


def _column_format(header: str, values: Sequence[float]) -> Any:
    """One format for a column's numbers, from its header's unit and its values."""
    finite = [abs(v) for v in values if math.isfinite(v)]
    if _WHOLE.search(header) or all(float(v).is_integer() for v in finite):
        return lambda v: _number(v, 0)
    smallest = min((v for v in finite if v > 0), default=1.0)
    most = min(4, max(0, 2 - math.floor(math.log10(smallest))))
    # no more decimals than the values have: risk 0.2, 0.6 stays 0.2, not 0.200
    decimals = next(d for d in range(most + 1) if d == most or all(
        abs(round(v, d) - v) <= 1e-9 * max(1.0, v) for v in finite))
    return lambda v: _number(v, decimals)


def _number(value: float, decimals: int) -> str:
    if not math.isfinite(value):
        return str(value)
    text = f"{value:,.{decimals}f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.,") else text


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Num):
        return value.text
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:g}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, tuple | list):
        return ", ".join(map(str, value))
    return str(value)
