"""The ``reserve-opt`` command line: parses, calls the library, renders."""

from __future__ import annotations

from typing import Annotated

import typer

import reserve_opt.cli.allocate_cmd as allocate_cmd
import reserve_opt.cli.analyze_cmd as analyze_cmd
import reserve_opt.cli.compare_cmd as compare_cmd
import reserve_opt.cli.convert_cmd as convert_cmd
import reserve_opt.cli.report_cmd as report_cmd
import reserve_opt.cli.review_cmd as review_cmd
import reserve_opt.cli.roads_cmd as roads_cmd
import reserve_opt.cli.route_cmd as route_cmd
import reserve_opt.cli.serve_cmd as serve_cmd
import reserve_opt.cli.site_cmd as site_cmd
from reserve_opt.cli import check_cmd, instance_cmds, map_cmd, plan_cmd, sweep_cmd, whatif_cmd
from reserve_opt.cli.errors import DEBUG

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["--help", "-h"]},
    help="Plan emergency material reserves: where to hold what, how to share it, how to "
    "deliver it.",
)


def _version(value: bool) -> None:
    if value:
        from reserve_opt import __version__

        typer.echo(f"reserve-opt {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    DEBUG["on"] = debug


instance_cmds.register(app)
map_cmd.register(app)
plan_cmd.register(app)
allocate_cmd.register(app)
whatif_cmd.register(app)
sweep_cmd.register(app)
site_cmd.register(app)
analyze_cmd.register(app)
route_cmd.register(app)
check_cmd.register(app)
review_cmd.register(app)
roads_cmd.register(app)
report_cmd.register(app)
convert_cmd.register(app)
compare_cmd.register(app)
serve_cmd.register(app)


def main() -> None:
    """Run the ``reserve-opt`` command line."""
    app()
