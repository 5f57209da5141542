"""The ``reserve-opt`` command line."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False)


def main() -> None:
    """Run the ``reserve-opt`` command line."""
    app()
