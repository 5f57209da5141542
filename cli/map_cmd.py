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
    tiles: Annotated[str | None, typer.Option(
        "--tiles", help="HTML only: draw map tiles from this URL template "
        "(https://.../{z}/{x}/{y}.png) under the regions; the page then loads tiles from "
        "that server. Without it the page needs no network.", show_default=False)] = None,
) -> None:
    """Draw regions (shaded), facilities by kind (open or candidate) and agreements as lines.

    The HTML map needs no network (Leaflet and the data are inside the file); the PNG sets
    Chinese names in a system CJK font, or a bundled one.
    """
    from reserve_opt.errors import InputError
    from reserve_opt.io import load_instance
    from reserve_opt.maps import draw_map

    with reported_errors():
        if shade not in ("population", "risk"):
            raise InputError(f"--shade {shade}: use population or risk")
        kind: Literal["population", "risk"] = "population" if shade == "population" else "risk"
        if tiles is not None:
            from reserve_opt.maps import check_tiles

            check_tiles(tiles, out.suffix.lower())
        dest = output_file(out, "--out", [path])
        written = draw_map(load_instance(path), dest or out, kind, tiles=tiles)
    typer.echo(f"wrote {written}")


def register(app: typer.Typer) -> None:
    """Add the ``map`` command to ``app``."""
    app.command("map")(map_)
