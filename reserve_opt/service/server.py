"""Start the service: data folder, storage, dispatcher, then uvicorn."""

from __future__ import annotations

import sys
from pathlib import Path

from reserve_opt.errors import InputError
from reserve_opt.service.runner import Limits, Runner
from reserve_opt.service.store import Store, store_for

MARKER = ".reserve-opt-service"
"""File that marks a folder as a service data folder (the server writes only there)."""


def data_folder(data: Path) -> Path:
    """``--data DIR``, created when missing; refused when it holds files not ours."""
    if data.exists() and not data.is_dir():
        raise InputError(f"--data {data}: is a file; give a folder for the service's data")
    if data.is_dir() and not (data / MARKER).exists() and any(data.iterdir()):
        raise InputError(f"--data {data}: is not empty and is not a reserve-opt service "
                         f"folder; give a new or empty folder")
    data.mkdir(parents=True, exist_ok=True)
    (data / MARKER).write_text("reserve-opt serve data folder: instances/ and jobs/ are "
                               "scratch copies of what the database holds\n")
    return data.resolve()


def open_store(data: Path, db: str | None) -> Store:
    """The store for ``--data`` and ``--db`` (its folder prepared)."""
    return store_for(data_folder(data), db)


def serve(data: Path, db: str | None, host: str, port: int, limits: Limits,
          max_request_mb: int, rate_per_s: float) -> None:
    """Run the service until it is stopped (Ctrl-C or SIGTERM)."""
    import uvicorn

    from reserve_opt.service.app import Settings, create_app

    folder = data_folder(data)
    store = store_for(folder, db)
    runner = Runner(store, folder, limits)
    runner.recover()
    settings = Settings(data=folder, limits=limits, max_request_mb=max_request_mb,
                        rate_per_s=rate_per_s, burst=max(10, int(rate_per_s * 4)))
    app = create_app(store, settings, runner)
    runner.start()
    where = f"PostgreSQL {db.split('@')[-1]}" if db else f"SQLite in {folder}"
    print(f"reserve-opt serve: http://{host}:{port} (storage: {where}; {limits.workers} "
          f"workers)", file=sys.stderr, flush=True)
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
    finally:
        runner.stop()
