"""Run a sweep: many variants in parallel on Dask, resumable, into one Parquet table.

Why Dask rather than Ray: the runs are independent, coarse (a solve each) Python
functions, which is what ``dask.distributed`` futures do with nothing else to run; the
same client code talks to an embedded ``LocalCluster`` or to any existing scheduler by
address (``--scheduler``), it is pure Python on PyPI (Ray ships a large binary runtime),
and it is already a dependency.

Every run is keyed by a hash of the base instance, its changes and the options. When a run
finishes, the client writes its row to ``OUT/parts/<key>.parquet`` (written beside and
renamed into place, so a part is complete or absent). A sweep started again over the same
folder skips every run whose part exists, so an interrupted sweep resumes without redoing
finished work. ``OUT/results.parquet`` (one row per run, in run order) and
``OUT/sweep.json`` are rewritten atomically at the end of every invocation.
"""

from __future__ import annotations

import copy
import logging
import os
import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reserve_opt.errors import InputError, shown
from reserve_opt.io.jsontext import dumps
from reserve_opt.io.outdir import OutputFolder, replace_file
from reserve_opt.variants.compare import summary_row
from reserve_opt.variants.grid import Run, SweepSpec
from reserve_opt.variants.run import (
    NO_ROUTE_SWEEPS,
    ROUTE_FIELDS,
    RunOptions,
    resolve_for,
    run_model,
)
from reserve_opt.variants.variant import Change, stable_hash

if TYPE_CHECKING:
    import pandas as pd
    from dask.distributed import Client

    from reserve_opt.domain import Instance

PARTS = "parts"
RESULTS = "results.parquet"
META = "sweep.json"
MAX_LISTED_PROBLEMS = 20


@dataclass(frozen=True, slots=True)
class BaseRows:
    """The base instance as plain rows, as shipped to workers.

    Instances hold read-only mappings, which do not pickle; rows do. Region polygons are
    left out: no model reads them.
    """

    manifest: dict[str, Any]
    rows: dict[str, list[dict[str, Any]]]
    fingerprint: str

    @classmethod
    def of(cls, inst: Instance) -> BaseRows:
        """The rows of ``inst``."""
        from reserve_opt.io.export import instance_manifest, instance_tables

        manifest = instance_manifest(inst)
        rows = instance_tables(inst)
        return cls(manifest, rows, stable_hash({"manifest": manifest, "rows": rows}))

    def instance(self) -> Instance:
        """A fresh, validated copy of the base instance."""
        from reserve_opt.builder import InstanceBuilder

        b = InstanceBuilder(self.manifest["name"], self.manifest["currency"])
        b.manifest = copy.deepcopy(self.manifest)
        b.rows = copy.deepcopy(self.rows)
        return b.build()


def run_key(base: BaseRows, changes: Sequence[Change], opts: RunOptions) -> str:
    """The hash that names a run's part file: base, changes and options."""
    # route-only options are left out: they change no sweep run, and keys stay those of
    # sweeps started before route runs existed (they resume without repeating work)
    options = {k: v for k, v in opts.to_dict().items() if k not in ROUTE_FIELDS}
    return stable_hash({"base": base.fingerprint, "changes": [c.to_dict() for c in changes],
                        "options": options})


def execute(base: BaseRows, changes: Sequence[Change], opts: RunOptions,
            commodities: Sequence[str]) -> dict[str, Any]:
    """Apply the changes to the base, solve, and return the run's result row.

    Runs on a worker. Solver failures are results (status ``error`` and the message),
    so one bad run does not stop a sweep.
    """
    from reserve_opt.variants.variant import apply_changes

    t0 = time.perf_counter()
    inst = base.instance()
    try:
        patched, _ = apply_changes(inst, changes)
        run_opts, _ = resolve_for(inst, patched, opts)
        _, summary, _ = run_model(patched, run_opts)
        row = summary_row("", summary, commodities)
        row["error"] = ""
    except Exception as err:  # a run's failure is data, not a crash of the sweep
        row = {"status": "error", "error": f"{type(err).__name__}: {err}"}
    row.pop("name", None)
    row["wall_seconds"] = time.perf_counter() - t0
    return row


@dataclass
class SweepReport:
    """What one invocation of a sweep did.

    Attributes
    ----------
    total
        Runs in the sweep.
    reused
        Runs found finished in the output folder and not run again.
    ran
        Runs finished by this invocation.
    left
        Runs not done yet (``max_runs`` stopped early, or interrupted).
    results
        One row per finished run, in run order.
    wall_seconds
        Seconds spent running (cluster start-up included).
    solves
        Solves it took: runs with the same changes (a random choice that drew the same
        values) share one solve and one part.
    """

    total: int
    reused: int
    ran: int
    left: int
    results: pd.DataFrame
    wall_seconds: float
    solves: int = 0


def _write_part(path: Path, row: dict[str, Any]) -> None:
    import pandas as pd

    replace_file(path, lambda p: pd.DataFrame([row]).to_parquet(p, index=False))


TLS_SCHEMES = ("tls", "wss")
"""Dask address schemes that authenticate the scheduler with Dask's TLS certificates."""

_HOST = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?")


def checked_scheduler(address: str, trusted: bool = False) -> str:
    """``address`` if it is a Dask scheduler address this process may connect to.

    Dask's protocol sends pickles, so a scheduler, or a worker it hands runs to, can run
    code in this process. Accepted without ``trusted``: ``inproc://`` (this process), a
    loopback host (``localhost``, ``127.x.x.x``, ``[::1]``) and ``tls://`` / ``wss://``
    when Dask's TLS certificates are configured, so that only a holder of a certificate
    from that authority can answer. Any other host only when ``trusted``.

    Parameters
    ----------
    address
        E.g. ``tcp://127.0.0.1:8786`` or ``tls://scheduler.example.org:8786``.
    trusted
        The user vouches for everyone who can reach the address (``--trust-scheduler``).

    Returns
    -------
    str
        ``address`` unchanged.

    Raises
    ------
    InputError
        A malformed address, or a remote one neither TLS nor trusted.
    """
    import ipaddress

    from distributed.comm.addressing import parse_address, parse_host_port
    from distributed.comm.registry import backends

    flag = f"--scheduler '{shown(address)}'"
    form = "write SCHEME://HOST:PORT, e.g. tcp://127.0.0.1:8786"
    scheme, loc = parse_address(address, strict=False)
    if scheme not in backends:
        raise InputError(f"{flag}: '{shown(scheme, 20)}' is not an address scheme Dask "
                         f"speaks ({', '.join(sorted(backends))}); {form}")
    if scheme == "inproc":
        return address  # a scheduler inside this very process
    try:
        host, port = parse_host_port(loc)
    except ValueError:
        raise InputError(f"{flag}: is not an address with a host and a port; {form}") from None
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        if not _HOST.fullmatch(host):
            raise InputError(f"{flag}: '{shown(host, 40)}' is not a host name or IP address; "
                             f"{form}") from None
        loopback = host.lower() == "localhost"
    if not 1 <= port <= 65535:
        raise InputError(f"{flag}: port {port} is not between 1 and 65535; {form}")
    if scheme in TLS_SCHEMES:
        from distributed.security import Security

        if Security().get_connection_args("client")["ssl_context"] is None:  # type: ignore[no-untyped-call]
            raise InputError(
                f"{flag}: Dask has no TLS certificates configured; set "
                f"distributed.comm.tls.ca-file, .client.cert and .client.key in Dask's "
                f"configuration")
        return address
    if not loopback and not trusted:
        raise InputError(
            f"{flag}: is neither on this machine nor tls://, and Dask lets whoever answers "
            f"there run code as you; use tls:// (with Dask's TLS certificates) or add "
            f"--trust-scheduler if you trust everyone who can reach that address")
    return address


@contextmanager
def dask_client(workers: int | None, scheduler: str | None,
                trust_scheduler: bool = False) -> Iterator[Client]:
    """A client of an existing scheduler, or of an embedded local cluster.

    The local cluster has ``workers`` processes (default: the machine's cores) with one
    thread each: solvers are single-threaded, the parallelism is across runs. An existing
    scheduler's address must pass :func:`checked_scheduler`.
    """
    from dask.distributed import Client, LocalCluster

    if scheduler is not None:
        checked_scheduler(scheduler, trust_scheduler)
        try:
            client = Client(scheduler)  # type: ignore[no-untyped-call]
        except OSError as err:  # refused, or timed out (distributed.comm.timeouts.connect)
            raise InputError(f"--scheduler '{shown(scheduler)}': cannot connect "
                             f"({shown(err, 120)}); check that a Dask scheduler runs "
                             f"there") from None
        try:
            yield client
        finally:
            client.close()  # type: ignore[no-untyped-call]
        return
    n = workers or os.cpu_count() or 1
    # one solver thread per process: numeric libraries must not oversubscribe the cores
    env = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    # silence_logs: cancelled tasks after Ctrl-C would otherwise print warnings
    kwargs: dict[str, Any] = {"n_workers": n, "threads_per_worker": 1, "processes": True,
                              "dashboard_address": None, "env": env,
                              "silence_logs": logging.ERROR}
    cluster = LocalCluster(**kwargs)  # type: ignore[no-untyped-call]
    client = Client(cluster)  # type: ignore[no-untyped-call]
    try:
        yield client
    finally:
        client.close()  # type: ignore[no-untyped-call]
        cluster.close()


def check_runs(base: Instance, runs: Sequence[Run]) -> None:
    """Apply every run's changes to the base before anything is solved.

    Raises
    ------
    InputError
        The distinct problems found (at most twenty listed, with a count of the rest).
    """
    from reserve_opt.variants.variant import apply_changes

    problems: list[str] = []
    for run in runs:
        try:
            apply_changes(base, run.variant.changes)
        except InputError as err:
            problems += [p for p in err.problems if p not in problems]
    if len(problems) > MAX_LISTED_PROBLEMS:
        n = len(problems) - MAX_LISTED_PROBLEMS
        problems = [*problems[:MAX_LISTED_PROBLEMS], f"... and {n} more problem(s) like these"]
    if problems:
        raise InputError(problems)


def run_sweep(
    base: Instance,
    spec: SweepSpec,
    out: Path | OutputFolder,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    trust_scheduler: bool = False,
    serial: bool = False,
    max_runs: int | None = None,
    on_start: Callable[[int], None] | None = None,
    on_done: Callable[[], None] | None = None,
) -> SweepReport:
    """Run every run of ``spec`` not yet finished in ``out``; write the results table.

    Parameters
    ----------
    base
        The base instance.
    spec
        The sweep.
    out
        Output folder (created; reused to resume), or an
        :class:`~reserve_opt.io.outdir.OutputFolder` naming it. It must be new, empty or
        an earlier sweep's; one sweep at a time writes it, a second is refused.
    workers
        Local cluster processes (default: the machine's cores).
    scheduler
        Address of an existing Dask scheduler instead of a local cluster; see
        :func:`checked_scheduler` for those accepted.
    trust_scheduler
        Accept a remote ``scheduler`` that is not ``tls://``: everyone who can reach it
        can run code in this process.
    serial
        Run in this process, one run after the other, without Dask.
    max_runs
        Run at most this many new runs now (the rest stay for the next invocation).
    on_start, on_done
        Progress callbacks: the number of runs to do, then once per finished run.

    Returns
    -------
    SweepReport
        Counts and the results table (also in ``out/results.parquet``).
    """
    from reserve_opt.variants.run import check_scenario

    t0 = time.perf_counter()
    if scheduler is not None:
        checked_scheduler(scheduler, trust_scheduler)  # before any work, not after it
    if spec.options.model == "route":
        raise InputError(f"{spec.source}: {NO_ROUTE_SWEEPS}")
    check_scenario(base, spec.options, spec.source)
    runs = spec.runs()
    check_runs(base, runs)
    rows = BaseRows.of(base)
    opts = spec.options
    commodities = [c.id for c in base.commodities]
    keys = [run_key(rows, r.variant.changes, opts) for r in runs]
    dest = out if isinstance(out, OutputFolder) else OutputFolder(
        Path(out), "sweep", force_hint=None, in_place=True)
    with dest.update() as folder:
        parts = folder / PARTS
        parts.mkdir(parents=True, exist_ok=True)
        # runs with the same changes share one key and one part: solve them once
        unique = list({k: r for r, k in zip(runs, keys, strict=True)}.items())
        todo = [(r, k) for k, r in unique if not (parts / f"{k}.parquet").is_file()]
        pending = {k for _, k in todo}
        reused = sum(1 for k in keys if k not in pending)
        if max_runs is not None:
            todo = todo[:max_runs]
        if on_start:
            on_start(len(todo))
        solved: set[str] = set()
        try:
            if serial or not todo:
                for run, key in todo:
                    _write_part(parts / f"{key}.parquet",
                                execute(rows, run.variant.changes, opts, commodities))
                    solved.add(key)
                    if on_done:
                        on_done()
            else:
                from dask.distributed import as_completed

                with dask_client(workers, scheduler, trust_scheduler) as client:
                    base_future = client.scatter(rows, broadcast=True)  # type: ignore[no-untyped-call]
                    futures = {client.submit(execute, base_future, run.variant.changes, opts,
                                             commodities, key=f"run-{key}", pure=False): key
                               for run, key in todo}
                    for fut in as_completed(futures):  # type: ignore[no-untyped-call]
                        _write_part(parts / f"{futures[fut]}.parquet", fut.result())
                        solved.add(futures[fut])
                        if on_done:
                            on_done()
        finally:
            results = collect(folder, runs, keys, spec)
            _write_meta(folder, spec, base, runs, keys, results)
    ran = sum(1 for k in keys if k in solved)
    return SweepReport(len(runs), reused, ran, len(runs) - len(results), results,
                       time.perf_counter() - t0, len(solved))


def collect(out: Path, runs: Sequence[Run], keys: Sequence[str],
            spec: SweepSpec) -> pd.DataFrame:
    """Read the finished runs' parts into one table (run order) and write it atomically."""
    import pandas as pd

    frames = []
    for run, key in zip(runs, keys, strict=True):
        part = out / PARTS / f"{key}.parquet"
        if not part.is_file():
            continue
        frame = pd.read_parquet(part)
        head = {"run": run.index, "key": key, **{k: [v] for k, v in run.params.items()}}
        frames.append(pd.concat([pd.DataFrame(head), frame], axis=1))
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["run", "key", "status"])
    replace_file(out / RESULTS, lambda p: table.to_parquet(p, index=False))
    return table


def _write_meta(out: Path, spec: SweepSpec, base: Instance, runs: Sequence[Run],
                keys: Sequence[str], results: pd.DataFrame) -> None:
    meta = {
        "description": spec.description, "sweep_file": spec.source, "base": base.name,
        "options": spec.options.to_dict(), "runs": len(runs), "finished": len(results),
        "replicates": spec.replicates, "seed": spec.seed,
        "columns": {
            "run": "0-based run number", "key": "hash of base, changes and options",
            "objective, cost_*": f"{base.currency}",
            "expected_shortage_units_<c>": "units of commodity c",
            "fill_rate_<c>, lowest_fill_rate": "fraction 0-1",
            "solve_seconds, wall_seconds": "s",
        },
        "run_list": [{"run": r.index, "key": k, "params": dict(r.params),
                      "changes": [c.to_dict() for c in r.variant.changes]}
                     for r, k in zip(runs, keys, strict=True)],
    }
    replace_file(out / META, lambda p: p.write_text(dumps(meta, indent=1), encoding="utf-8"))
