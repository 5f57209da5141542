"""The ``map`` command: draw an instance as a PNG or an interactive HTML map."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from reserve_opt.cli.errors import reported_errors
from reserve_opt.cli.options import InstancePath, out_option, output_file


def map_(
    path: InstancePath,
    out: Annotated[Path, out_option(
        "Output file: .png or .html (a file reserve-opt did not write is never replaced).")],
    shade: Annotated[str, typer.Option(help="Shade regions by population or risk.")] = (
        "population"),
) -> None:
    """Draw regions (shaded), facilities by kind and agreements as lines."""
    from reserve_opt.errors import InputError
    from reserve_opt.io import load_instance
    from reserve_opt.maps import draw_map

    with reported_errors():
        if shade not in ("population", "risk"):
            raise InputError(f"--shade {shade}: use population or risk")
        kind: Literal["population", "risk"] = "population" if shade == "population" else "risk"
        dest = output_file(out, "--out", [path])
        written = draw_map(load_instance(path), dest or out, kind)
    typer.echo(f"wrote {written}")


def register(app: typer.Typer) -> None:
    """Add the ``map`` command to ``app``."""
    app.command("map")(map_)
