"""The ``sweep`` command (being built)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add ``sweep`` to ``app`` (nothing yet)."""
