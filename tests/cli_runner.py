"""Run the CLI in-process through Typer's runner, keeping stdout and stderr apart."""

from __future__ import annotations

from typer.testing import CliRunner, Result

from reserve_opt.cli.app import app


def run_cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))
