"""A real ``reserve-opt serve`` in a subprocess on 127.0.0.1, for the service tests."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
TOY = ROOT / "instances" / "toy"
LIAONING = ROOT / "instances" / "liaoning"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from reserve_opt.cli.app import main; main()",
                           *args], capture_output=True, text=True, cwd=ROOT, timeout=120)


def zipped(folder: Path, extra: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.suffix not in (".py", ".md"):
                archive.write(path, f"{folder.name}/{path.relative_to(folder).as_posix()}")
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


@dataclass
class Server:
    data: Path
    db: str | None = None
    workers: int = 2
    extra: list[str] = field(default_factory=list)
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def token(self, role: str = "admin", alliance: str | None = None) -> str:
        args = ["serve", "token", "create", "--role", role, "--data", str(self.data)]
        if self.db:
            args += ["--db", self.db]
        if alliance:
            args += ["--alliance", alliance]
        done = cli(*args)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def start(self) -> Server:
        self.port = free_port()
        args = ["serve", "--data", str(self.data), "--port", str(self.port),
                "--workers", str(self.workers), *self.extra]
        if self.db:
            args += ["--db", self.db]
        self.log = self.data.parent / f"{self.data.name}-server-{self.port}.log"
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", "from reserve_opt.cli.app import main; main()", *args],
                stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True,
                env={**os.environ, "COLUMNS": "100"})  # its own session, as a service runs
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"server did not start: {self.log.read_text()}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def client(self, token: str | None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)


def wait_job(client: httpx.Client, job_id: str, timeout_s: float = 300) -> dict[str, Any]:
    """Poll a job until it ends (a safety timeout, not a measure of speed)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        r = client.get(f"/v1/jobs/{job_id}")
        if r.status_code == 429:
            time.sleep(float(r.headers.get("Retry-After", "1")))
            continue
        assert r.status_code == 200, r.text
        job: dict[str, Any] = r.json()
        if job["state"] in ("finished", "failed", "cancelled"):
            return job
        time.sleep(0.25)
    raise AssertionError(f"job {job_id} did not end")
