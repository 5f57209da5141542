"""Run fuzz cases through the command line and sort each outcome.

A case's files are written into its own folder, the command runs in-process
(``tests/cli_runner.py::run_cli``) with that folder as the working directory, and a
per-case deadline (``SIGALRM`` in the main thread) turns a hang into an outcome. The
outcome is one of :data:`OUTCOMES`; those in :data:`FAILURES` are defects. Besides the
exit code and the messages, every case checks that no input file was changed or removed
and that ``secret.txt`` (outside the instance) never shows in the output.

``run_isolated`` runs a case in a forked child under a memory cap instead, for resource
bombs and for anything that might take the whole process down.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import resource
import select
import shlex
import signal
import sys
import time
import warnings
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from tests.fuzz_cases import FOLDER, INVALID, SECRET, VALID, Case, Files, Link

OUTCOMES = ("valid", "clean error", "usage error", "internal error", "traceback", "hang",
            "silent acceptance", "wrongly refused", "unclean error", "data loss", "leak",
            "crash")
"""Every outcome, in report order."""

FAILURES = frozenset(OUTCOMES) - {"valid", "clean error", "usage error"}
"""Outcomes that are defects.

``usage error`` is Click's own refusal of an argument it cannot parse (``--seed abc``):
exit 2 with a ``Usage:`` line and the reason, before reserve-opt runs; it is a clear
message, so it is not counted as an internal error.
"""

_MESSAGE = re.compile(r"^(error|warning): \S")


class CaseTimeout(BaseException):
    """Raised by the deadline alarm; a BaseException so no ``except Exception`` eats it."""


@dataclass
class Outcome:
    """What one case did."""

    case: str
    family: str
    outcome: str
    exit_code: int | None
    seconds: float
    stdout: str
    stderr: str
    detail: str = ""
    expect: str | None = None
    why: str = ""
    command: str = ""

    @property
    def failed(self) -> bool:
        """Whether the outcome is a defect."""
        return self.outcome in FAILURES

    def first_line(self) -> str:
        """The most telling line of the output, for reports."""
        for text in (self.detail, self.stderr, self.stdout):
            for line in text.splitlines():
                if line.strip():
                    return line.strip()[:300]
        return ""


def materialize(files: Files, folder: Path) -> None:
    """Write ``files`` under ``folder`` (``{case}`` in contents becomes the folder)."""
    folder.mkdir(parents=True, exist_ok=True)
    for rel, content in sorted(files.items()):
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Link):
            path.symlink_to(content.target.replace("{case}", str(folder)))
        elif content is FOLDER or not isinstance(content, bytes):
            path.mkdir(exist_ok=True)
        else:
            path.write_bytes(content.replace(b"{case}", str(folder).encode()))


def changed_inputs(files: Files, folder: Path) -> list[str]:
    """Input files the command changed or removed (none may be)."""
    out = []
    for rel, content in sorted(files.items()):
        path = folder / rel
        if isinstance(content, bytes):
            want = content.replace(b"{case}", str(folder).encode())
            if path.is_symlink() or not path.is_file() or path.read_bytes() != want:
                out.append(rel)
        elif isinstance(content, Link):
            if not path.is_symlink():
                out.append(rel)
        elif not path.is_dir():
            out.append(rel)
    return out


def command_line(args: list[str]) -> str:
    """The shell command a user would type for ``args``."""
    return "reserve-opt " + " ".join(shlex.quote(a) for a in args)


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise :class:`CaseTimeout` in the main thread after ``seconds``."""
    def alarm(signum: int, frame: object) -> None:
        raise CaseTimeout()
    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def classify(case: Case, code: int | None, stdout: str, stderr: str, exc: BaseException | None,
             changed: list[str], args: Sequence[str] = ()) -> tuple[str, str]:
    """The outcome of a finished run and a detail line.

    ``secret.txt`` lies outside every instance: its content in the output means a path
    in an input file reached it, unless the user named the file on the command line.
    """
    text = stdout + stderr
    if exc is not None and not isinstance(exc, SystemExit):
        return "traceback", f"{type(exc).__name__}: {exc}"[:500]
    if "Traceback (most recent call last)" in text:
        return "traceback", "a traceback in the output"
    if SECRET in text and not any("secret.txt" in a for a in args):
        return "leak", "the content of secret.txt (outside the instance) is in the output"
    if changed:
        return "data loss", f"changed or removed: {', '.join(changed[:5])}"
    if code == 0:
        if case.expect == INVALID:
            return "silent acceptance", f"exit 0, but {case.why}"
        return "valid", ""
    if code == 2:
        if "internal error" in stderr:
            return "internal error", ""
        if stderr.startswith("Usage:"):
            return "usage error", ""
        return "internal error", "exit 2 without 'internal error'"
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    if code == 1:
        if lines and all(_MESSAGE.match(ln) for ln in lines) and any(
                ln.startswith("error: ") for ln in lines):
            if case.expect == VALID:
                return "wrongly refused", f"exit 1, but {case.why}"
            return "clean error", ""
        if not lines:
            return "unclean error", "exit 1 without an 'error: ...' line"
        bad = next(ln for ln in lines if not _MESSAGE.match(ln))
        return "unclean error", f"a line that is not 'error: ...': {bad[:200]!r}"
    return "crash", f"exit code {code}"


def run_case(case: Case, folder: Path, deadline_s: float = 20.0) -> Outcome:
    """Build ``case`` in ``folder``, run its command there, and sort the outcome."""
    from tests.cli_runner import run_cli

    work = case.build()
    materialize(work.files, folder)
    cwd = os.getcwd()
    start = time.perf_counter()
    code: int | None = None
    stdout = stderr = ""
    exc: BaseException | None = None
    hang = False
    os.chdir(folder)
    try:
        with warnings.catch_warnings(), deadline(deadline_s):
            # warnings go to pytest or nowhere, never into the messages judged here
            warnings.simplefilter("ignore")
            result = run_cli(*work.args)
        code = result.exit_code
        stdout, stderr = result.stdout, result.stderr
        exc = result.exception
    except CaseTimeout:
        hang = True
    finally:
        os.chdir(cwd)
    seconds = time.perf_counter() - start
    command = command_line(work.args)
    if hang:
        return Outcome(case.id, case.family, "hang", None, seconds, "", "",
                       f"no answer within {deadline_s:g} s", case.expect, case.why, command)
    outcome, detail = classify(case, code, stdout, stderr, exc,
                               changed_inputs(work.files, folder), work.args)
    return Outcome(case.id, case.family, outcome, code, seconds, stdout, stderr, detail,
                   case.expect, case.why, command)


def _vm_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    return 0


def run_isolated(case: Case, folder: Path, deadline_s: float = 20.0,
                 mem_mb: int = 2048) -> Outcome:
    """Run ``case`` in a forked child, its address space capped ``mem_mb`` above now.

    The child reports through a pipe; a child that dies, or does not answer within the
    deadline plus a grace period, is reported as a crash or a hang.
    """
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_fd)
        try:
            limit = _vm_bytes() + mem_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            out = run_case(case, folder, deadline_s)
            data = json.dumps(asdict(out)).encode()
        except BaseException as err:  # report anything, then leave without cleanup
            data = json.dumps({"crash": f"{type(err).__name__}: {err}"[:500]}).encode()
        with os.fdopen(write_fd, "wb") as fh:
            fh.write(data)
        os._exit(0)
    os.close(write_fd)
    start = time.perf_counter()
    chunks: list[bytes] = []
    grace = deadline_s + 30.0
    with os.fdopen(read_fd, "rb", buffering=0) as fh:
        while True:
            left = grace - (time.perf_counter() - start)
            ready, _, _ = select.select([fh], [], [], max(left, 0))
            if not ready:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return Outcome(case.id, case.family, "hang", None, time.perf_counter() - start,
                               "", "", f"the child did not answer within {grace:g} s",
                               case.expect, case.why)
            chunk = fh.read(1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    seconds = time.perf_counter() - start
    raw = b"".join(chunks)
    if not raw:
        sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
        return Outcome(case.id, case.family, "crash", None, seconds, "", "",
                       f"the child died (signal {sig})", case.expect, case.why)
    data = json.loads(raw)
    if "crash" in data:
        return Outcome(case.id, case.family, "crash", None, seconds, "", "", data["crash"],
                       case.expect, case.why)
    return Outcome(**data)


def write_reproducer(case: Case, out: Outcome, folder: Path) -> Path:
    """Write the case's files, its command and what it did into ``folder``.

    An existing ``folder`` is left alone: the files go to ``folder-2``, ``folder-3``, ...
    """
    base, n = folder, 1
    while folder.exists():
        n += 1
        folder = base.with_name(f"{base.name}-{n}")
    work = case.build()
    materialize(work.files, folder)
    (folder / "REPRODUCE.txt").write_text(
        f"case: {case.id}\nfamily: {case.family}\noutcome: {out.outcome}\n"
        f"expected: {case.expect or 'valid or a clean error'}"
        f"{' (' + case.why + ')' if case.why else ''}\n"
        f"run from this folder:\n  cd {shlex.quote(str(folder))} && "
        f"{command_line(work.args)}\n"
        f"rebuild anywhere:\n  .venv/bin/python bench/fuzz_inputs.py --case "
        f"{shlex.quote(case.id)} --write DIR\n"
        f"detail: {out.detail}\nexit code: {out.exit_code}\n--- stderr\n{out.stderr}\n"
        f"--- stdout (first 2000 characters)\n{out.stdout[:2000]}\n",
        encoding="utf-8")
    return folder


def slug(case_id: str) -> str:
    """A file-name-safe, unique form of a case id."""
    return f"{re.sub(r'[^A-Za-z0-9._=-]+', '_', case_id)[:120]}-{zlib.crc32(case_id.encode()):08x}"


def describe(out: Outcome) -> str:
    """One line per failure: outcome, case id, command and the telling line."""
    return (f"[{out.outcome}] {out.case}: {out.command} -> {out.first_line()}"
            + (f" (expected {out.expect}: {out.why})" if out.expect else ""))


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use bench/fuzz_inputs.py")
