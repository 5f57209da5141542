"""Rendering results for people (tables) and machines (JSON)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

import typer
from rich.console import Console
from rich.table import Table


class OutputFormat(StrEnum):
    """Output formats shared by every listing command."""

    TABLE = "table"
    JSON = "json"


def echo_json(data: Any) -> None:
    """Print ``data`` as indented JSON on stdout."""
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print a table with a title; numbers are right-aligned and thousands-separated."""
    table = Table(title=title, title_justify="left", show_edge=False, header_style="bold")
    numeric = [bool(rows) and all(isinstance(r[i], int | float) or r[i] is None for r in rows)
               for i in range(len(columns))]
    for name, num in zip(columns, numeric, strict=True):
        table.add_column(name, justify="right" if num else "left")
    for row in rows:
        table.add_row(*(_cell(v) for v in row))
    Console(width=160, soft_wrap=False).print(table)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:g}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, tuple | list):
        return ", ".join(map(str, value))
    return str(value)
