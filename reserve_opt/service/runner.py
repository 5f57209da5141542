"""Jobs run outside the web process, one child process each, a few at a time.

State machine of a job (column ``state``)::

    queued --claim--> running --exit 0--> finished
       |                 |----exit != 0 / limit / lost twice--> failed
       |                 '----cancel--> cancelled
       '----cancel--> cancelled

A child gets ``RLIMIT_AS`` (memory) and ``RLIMIT_CPU`` limits and is killed past the wall-clock
limit; ``PR_SET_PDEATHSIG`` kills it when the server dies, so after a restart a job still
marked running has no worker: it is queued again once (its history says why) and failed with
the reason the second time. Queued jobs simply run after a restart.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import mimetypes
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reserve_opt.service.store import Store, sha256

MAX_ATTEMPTS = 2
"""A job whose worker was lost this many times is failed, not queued again."""
MAX_RESULT_BYTES = 256 * 1024 * 1024
"""Most bytes of output a job may store."""
PR_SET_PDEATHSIG = 1
JOB_NICENESS = 10
"""How much lower than the server's a job's CPU priority is."""


@dataclass(frozen=True)
class Limits:
    """Per-job limits and the concurrency limit."""

    workers: int = 2
    time_limit_s: float = 3600.0
    memory_mb: int = 4096


def _child_setup(limits: Limits) -> Any:
    def setup() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        # solves yield the CPU to the web process, so status and result reads stay quick;
        # the child leads its own session, hence (Linux autogroups) its own scheduling group,
        # whose niceness is the one that counts against other groups
        os.nice(JOB_NICENESS)
        with contextlib.suppress(OSError):
            Path("/proc/self/autogroup").write_text(str(JOB_NICENESS))
        memory = limits.memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        cpu = int(limits.time_limit_s) + 5
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    return setup


def child_env() -> dict[str, str]:
    """Environment of a worker: plain output, one thread per numeric library."""
    env = dict(os.environ)
    env.update({"COLUMNS": "100", "NO_COLOR": "1", "PYTHONUNBUFFERED": "1",
                "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"})
    return env


def run_validate(data: Path, relative: str, limits: Limits
                 ) -> tuple[int, list[str], list[str], str]:
    """Run ``reserve-opt validate`` on an unpacked instance in a limited child process.

    Returns
    -------
    tuple
        Exit code, error lines, warning lines (without their ``error:``/``warning:``
        prefix) and the summary line.
    """
    try:
        done = subprocess.run(
            [sys.executable, "-m", "reserve_opt.service.worker", "validate", relative],
            cwd=data, capture_output=True, text=True, env=child_env(),
            preexec_fn=_child_setup(limits), timeout=min(limits.time_limit_s, 600))
    except subprocess.TimeoutExpired:
        return 1, ["upload: validating it took longer than the service allows; send a "
                   "smaller instance"], [], ""
    errors, warnings = split_stderr(done.stderr)
    if done.returncode not in (0, 1) and not errors:
        errors = [f"upload: validation stopped ({_signal_text(done.returncode)})"]
    return done.returncode, errors, warnings, done.stdout.strip()


def split_stderr(text: str) -> tuple[list[str], list[str]]:
    """The ``error:`` and ``warning:`` lines of a command's stderr, prefixes removed."""
    errors, warnings = [], []
    for line in text.splitlines():
        if line.startswith("error: "):
            errors.append(line[len("error: "):])
        elif line.startswith("warning: "):
            warnings.append(line[len("warning: "):])
    return errors, warnings


def _signal_text(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


class Runner:
    """The dispatcher thread: starts queued jobs, watches running ones, stores results.

    Parameters
    ----------
    store
        The database.
    data
        The server's data folder (instances and job folders are scratch copies there).
    limits
        Per-job limits and how many jobs run at once.
    """

    def __init__(self, store: Store, data: Path, limits: Limits) -> None:
        self.store = store
        self.data = data
        self.limits = limits
        self._running: dict[str, tuple[subprocess.Popen[bytes], float]] = {}
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def recover(self) -> None:
        """Settle jobs a previous server left running: queue them again once, then fail."""
        for row in self.store.jobs_in(["running"]):
            job_id, attempts = row[0], int(row[11])
            if attempts >= MAX_ATTEMPTS:
                reason = (f"its worker was lost {attempts} times (the server stopped while it "
                          f"ran); not run again")
                self.store.set_job(job_id, state="failed", phase="failed", message=reason,
                                   finished=time.time())
                self.store.note(job_id, f"failed: {reason}")
            else:
                self.store.set_job(job_id, state="queued", phase="waiting for a worker",
                                   started=None)
                self.store.note(job_id, "queued again: the server stopped while it ran, so "
                                "its worker was gone at restart")

    def start(self) -> None:
        """Start the dispatcher thread (it owns every child, for PR_SET_PDEATHSIG)."""
        self._thread = threading.Thread(target=self._loop, name="reserve-opt-jobs",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop dispatching; running children are killed and their jobs queued again."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def wake(self) -> None:
        """Look for work now (a job was queued or a cancel asked)."""
        self._wake.set()

    def _loop(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    self._tick()
                except Exception as err:  # keep dispatching; the job concerned says why
                    print(f"reserve-opt serve: dispatcher: {type(err).__name__}: {err}",
                          file=sys.stderr)
                self._wake.wait(0.2)
                self._wake.clear()
        finally:
            for job_id, (proc, _) in list(self._running.items()):
                _kill(proc)
                self.store.set_job(job_id, state="queued", phase="waiting for a worker",
                                   started=None)
                self.store.note(job_id, "queued again: the server was stopped while it ran")
            self.store.close()

    def _tick(self) -> None:
        now = time.monotonic()
        for job_id, (proc, began) in list(self._running.items()):
            row = self.store.job(job_id)
            if row is None:  # deleted with its instance
                _kill(proc)
                del self._running[job_id]
                continue
            code = proc.poll()
            if code is not None:
                del self._running[job_id]
                self._settle(job_id, code)
            elif row[12]:
                _kill(proc)
                del self._running[job_id]
                self.store.set_job(job_id, state="cancelled", phase="cancelled while running",
                                   message="cancelled", finished=time.time())
                self.store.note(job_id, "cancelled while running")
            elif now - began > self.limits.time_limit_s:
                _kill(proc)
                del self._running[job_id]
                self._settle(job_id, None, limit=(
                    f"stopped: it ran longer than the job time limit of "
                    f"{self.limits.time_limit_s:g} s (serve --job-time-limit)"))
        if len(self._running) >= self.limits.workers:
            return
        for row in self.store.jobs_in(["queued"]):
            if len(self._running) >= self.limits.workers:
                break
            if self.store.claim(row[0]):
                self._launch(row)

    def _launch(self, row: tuple[Any, ...]) -> None:
        job_id, instance_id, options = row[0], row[2], json.loads(row[5])
        argv = json.loads(row[6])
        self.store.note(job_id, f"started (attempt {int(row[11]) + 1})")
        try:
            materialise_instance(self.store, self.data, instance_id)
            for value in options.values():
                for v in value if isinstance(value, list) else [value]:
                    if isinstance(v, dict) and "job" in v:
                        materialise_output(self.store, self.data, v["job"])
            folder = self.data / "jobs" / job_id
            if folder.exists():  # a lost attempt's scratch copy: ours, written by this server
                shutil.rmtree(folder)
            folder.mkdir(parents=True)
        except Exception as err:
            self.store.set_job(job_id, state="failed", phase="failed", finished=time.time(),
                               message=f"could not prepare the job's files: {err}")
            return
        with open(folder / "stdout", "wb") as out, open(folder / "stderr", "wb") as err_file:
            proc = subprocess.Popen(
                [sys.executable, "-m", "reserve_opt.service.worker", *argv],
                cwd=self.data, stdout=out, stderr=err_file, stdin=subprocess.DEVNULL,
                env=child_env(), preexec_fn=_child_setup(self.limits),
                start_new_session=True)
        self._running[job_id] = (proc, time.monotonic())

    def _settle(self, job_id: str, code: int | None, limit: str | None = None) -> None:
        folder = self.data / "jobs" / job_id
        self.store.set_job(job_id, phase="storing results")
        stdout = (folder / "stdout").read_bytes()
        stderr = (folder / "stderr").read_text(encoding="utf-8", errors="replace")
        errors, warnings = split_stderr(stderr)
        files: list[tuple[str, str, bytes]] = []
        try:
            json.loads(stdout)
            files.append(("result.json", "application/json", stdout))
        except ValueError:
            if stdout.strip():
                files.append(("stdout.txt", "text/plain; charset=utf-8", stdout))
        for sub in ("out", "geojson"):
            base = folder / sub
            if not base.is_dir():
                continue
            for path in sorted(base.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    name = path.relative_to(folder).as_posix()
                    files.append((name, media_type(path.name), path.read_bytes()))
        if stderr.strip():
            files.append(("stderr.txt", "text/plain; charset=utf-8", stderr.encode()))
        total = sum(len(c) for _, _, c in files)
        if total > MAX_RESULT_BYTES:
            files = [f for f in files if f[0] in ("result.json", "stderr.txt")]
            warnings.append(f"the output ({total / 2**20:.0f} MiB) is larger than the service "
                            f"stores ({MAX_RESULT_BYTES // 2**20} MiB); only result.json kept")
        self.store.add_results(job_id, files)
        if limit is not None:
            state, message = "failed", limit
        elif code == 0:
            state, message = "finished", None
        else:
            state = "failed"
            message = ("\n".join(errors) if errors else
                       f"the worker stopped ({_signal_text(code or 0)}); the job's memory "
                       f"limit is {self.limits.memory_mb} MiB (serve --job-memory-mb)")
        self.store.set_job(job_id, state=state, phase=state, exit_code=code, message=message,
                           finished=time.time())
        self.store.note(job_id, f"{state} (exit code {code})")
        shutil.rmtree(folder / "out", ignore_errors=True)  # stored; rebuilt from the database
        shutil.rmtree(folder / "geojson", ignore_errors=True)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def media_type(name: str) -> str:
    """The media type a result file is served with."""
    known = {".geojson": "application/geo+json", ".json": "application/json",
             ".csv": "text/csv; charset=utf-8", ".html": "text/html; charset=utf-8",
             ".gpkg": "application/geopackage+sqlite3", ".txt": "text/plain; charset=utf-8"}
    suffix = Path(name).suffix.lower()
    return known.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def instance_path(data: Path, instance_id: str, fmt: str) -> str:
    """Where (relative to the data folder) a job reads an instance."""
    return (f"instances/{instance_id}/instance.json" if fmt == "json"
            else f"instances/{instance_id}/folder")


def write_instance(data: Path, instance_id: str, fmt: str, document: bytes) -> Path:
    """Write an instance's scratch copy (a new folder); the folder it lives in."""
    from reserve_opt.service.uploads import unpack_zip

    folder = data / "instances" / instance_id
    if folder.exists():  # an unfinished copy of ours: the marker is written last
        shutil.rmtree(folder)
    if fmt == "json":
        folder.mkdir(parents=True)
        (folder / "instance.json").write_bytes(document)
    else:
        root = unpack_zip(document, folder / "unpacked")
        root.rename(folder / "folder")
    return folder


def materialise_instance(store: Store, data: Path, instance_id: str) -> None:
    """Write the scratch copy of an instance from the database when it is missing."""
    row = store.instance(instance_id)
    if row is None:
        raise ValueError(f"instance {instance_id} is gone")
    folder = data / "instances" / instance_id
    if (folder / ".complete").exists():
        return
    document, digest = store.instance_document(instance_id)
    if sha256(document) != digest:
        raise ValueError(f"instance {instance_id}: its stored document does not match its "
                         f"hash")
    write_instance(data, instance_id, str(row[3]), document)
    (folder / ".complete").write_text(digest)


def materialise_output(store: Store, data: Path, job_id: str) -> None:
    """Write a finished job's output folder back from the database when it is missing."""
    target = data / "jobs" / job_id / "out"
    if target.exists():
        return
    for name, _, digest, _ in store.result_list(job_id):
        if not name.startswith("out/"):
            continue
        got = store.result(job_id, name)
        if got is None or sha256(got[2]) != digest:
            raise ValueError(f"job {job_id}: stored result {name} does not match its hash")
        path = data / "jobs" / job_id / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(got[2])
