"""The ``serve`` command: the engine as an HTTP service, and ``serve token create``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from reserve_opt.cli.errors import reported_errors

DataOption = Annotated[Path, typer.Option(
    "--data", help="Folder for the service's data (SQLite database, scratch copies).")]
DbOption = Annotated[str | None, typer.Option(
    "--db", help="PostgreSQL URL (postgresql://USER@HOST:PORT/DB) instead of SQLite in "
    "--data.")]

serve_app = typer.Typer(no_args_is_help=False, add_completion=False,
                        help="Run the HTTP service (see GET /openapi.json once it runs).")
token_app = typer.Typer(no_args_is_help=True, help="Manage API tokens.")
serve_app.add_typer(token_app, name="token")


@serve_app.callback(invoke_without_command=True)
def serve(
    ctx: typer.Context,
    data: DataOption = Path("reserve-opt-data"),
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(
        help="Jobs that run at once, each in its own process.", min=1)] = 2,
    job_time_limit: Annotated[float, typer.Option(
        "--job-time-limit", help="Seconds a job may run before it is stopped.", min=1)] = 3600,
    job_memory_mb: Annotated[int, typer.Option(
        "--job-memory-mb", help="Address space a job may use, MiB.", min=256)] = 4096,
    max_request_mb: Annotated[int, typer.Option(
        "--max-request-mb", help="Largest request body accepted, MiB.", min=1)] = 64,
    rate: Annotated[float, typer.Option(
        help="Requests a second each token may make (bursts of 4 s allowed).", min=0.1)] = 50,
) -> None:
    """Start the service: GET /health, GET /openapi.json, the API under /v1."""
    if ctx.invoked_subcommand is not None:
        return
    from reserve_opt.service.runner import Limits
    from reserve_opt.service.server import serve as run

    with reported_errors():
        run(data, db, host, port, Limits(workers=workers, time_limit_s=job_time_limit,
                                         memory_mb=job_memory_mb), max_request_mb, rate)


@token_app.command("create")
def token_create(
    role: Annotated[str, typer.Option(help="admin, planner or viewer.")],
    data: DataOption = Path("reserve-opt-data"),
    db: DbOption = None,
    alliance: Annotated[str | None, typer.Option(
        help="Alliance whose instances the token may see (planner and viewer).")] = None,
    label: Annotated[str, typer.Option(help="Who holds it, for the audit log.")] = "",
) -> None:
    """Print a new token once (only its hash is stored)."""
    from reserve_opt.service.app import new_token
    from reserve_opt.service.server import open_store

    with reported_errors():
        store = open_store(data, db)
        out = new_token(store, role, alliance, label)
        store.audit(None, "create token", None, None, f"{out.id} {out.role} {out.alliance} "
                    f"(command line)")
    typer.echo(out.token)


def register(app: typer.Typer) -> None:
    """Add ``serve`` to ``app``."""
    app.add_typer(serve_app, name="serve")
