"""The API document fuzzed with schemathesis (bounded runs) against a real server.

Each upload that parses as JSON is validated in a worker process (seconds), so the default
run fuzzes uploads in the fuzzing phase only; the slow run gives every operation every phase.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.service_server import Server

CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,"
          "response_schema_conformance")
UPLOAD = "upload_v1_instances_post"


def schemathesis(server: Server, token: str, *args: str) -> None:
    st = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert st is not None, "schemathesis is in the test extra"
    done = subprocess.run(
        [st, "run", f"{server.url}/openapi.json", "-H", f"Authorization: Bearer {token}",
         "--seed", "0", "--workers", "1", "--checks", CHECKS,
         # an upload is validated in a worker process: seconds, more on a busy machine
         "--request-timeout", "120", *args],
        capture_output=True, text=True, timeout=900, cwd=server.data.parent)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    summary = done.stdout.split("SUMMARY")[-1]
    assert " passed" in summary and "failure" not in summary


def test_schemathesis_bounded_run(tmp_path: Path) -> None:
    server = Server(tmp_path / "data", workers=1).start()
    try:
        token = server.token("admin")
        schemathesis(server, token, "--max-examples", "5",
                     "--phases", "examples,coverage,fuzzing", "--exclude-operation-id", UPLOAD)
        schemathesis(server, token, "--max-examples", "5", "--phases", "fuzzing",
                     "--include-operation-id", UPLOAD)
    finally:
        server.stop()


@pytest.mark.slow
def test_schemathesis_longer_run(tmp_path: Path) -> None:
    server = Server(tmp_path / "data", workers=1).start()
    try:
        token = server.token("admin")
        schemathesis(server, token, "--max-examples", "30",
                     "--phases", "examples,coverage,fuzzing")
    finally:
        server.stop()
