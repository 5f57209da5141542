"""A restart loses nothing: kill -9 the server with two jobs running and one waiting.

Run on SQLite always and on PostgreSQL when RESERVE_OPT_TEST_PG_URL names a server (.ci/run
starts a throwaway one).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reserve_opt.service.runner import Limits, Runner
from reserve_opt.service.store import Store
from tests.service_server import LIAONING, Server, wait_job, zipped

PG_URL = os.environ.get("RESERVE_OPT_TEST_PG_URL")


def fresh_pg_database() -> Iterator[str]:
    """A new empty database on the test server; dropped afterwards."""
    import psycopg

    assert PG_URL is not None
    name = f"reserve_opt_test_{secrets.token_hex(4)}"
    with psycopg.connect(PG_URL, autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name}")
    base = PG_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as con:
            con.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest) -> Iterator[str | None]:
    if request.param == "sqlite":
        yield None
        return
    if not PG_URL:
        pytest.skip("RESERVE_OPT_TEST_PG_URL is not set (.ci/run starts a PostgreSQL)")
    yield from fresh_pg_database()


def workers_in(data: Path) -> list[int]:
    """Processes whose working folder is ``data`` (the server's job workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if Path(os.readlink(entry / "cwd")) == data.resolve():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_kill_9_with_two_running_and_one_waiting(tmp_path: Path, db: str | None) -> None:
    server = Server(tmp_path / "data", db=db, workers=2).start()
    try:
        token = server.token("planner", "liao")
        with server.client(token) as c:
            r = c.post("/v1/instances?name=liaoning", content=zipped(LIAONING),
                       headers={"Content-Type": "application/zip"})
            assert r.status_code == 201, r.text
            inst = r.json()
            # each job takes seconds (a process start, then 14 days of allocation)
            options = {"scenario": "typhoon_east", "periods": 14, "time_limit": 300}
            ids = [c.post("/v1/jobs", json={"instance": inst["id"], "kind": "allocate",
                                            "options": options}).json()["id"]
                   for _ in range(3)]
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                states = [c.get(f"/v1/jobs/{i}").json()["state"] for i in ids]
                if states == ["running", "running", "queued"]:
                    break
                time.sleep(0.1)
            assert states == ["running", "running", "queued"]
        assert server.proc is not None
        server.proc.kill()  # SIGKILL: no shutdown code runs
        server.proc.wait()
        deadline = time.monotonic() + 30  # the workers die with it (PR_SET_PDEATHSIG)
        while workers_in(server.data) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert workers_in(server.data) == []

        server.start()
        with server.client(token) as c:
            after = [c.get(f"/v1/jobs/{i}").json() for i in ids]
            assert all(j["state"] in ("queued", "running") for j in after), after
            for j in after[:2]:
                assert any("queued again: the server stopped while it ran, so its worker was "
                           "gone at restart" in h for h in j["history"]), j["history"]
            ends = [wait_job(c, i) for i in ids]
            assert [e["state"] for e in ends] == ["finished"] * 3, ends
            assert [e["attempts"] for e in ends] == [2, 2, 1]
            objectives = set()
            for e in ends:
                files = c.get(f"/v1/jobs/{e['id']}/files").json()
                assert {"result.json", "out/flows.csv"} <= {f["name"] for f in files}
                for f in files:
                    got = c.get(f"/v1/jobs/{e['id']}/files/{f['name']}")
                    assert got.status_code == 200
                    assert hashlib.sha256(got.content).hexdigest() == f["sha256"]
                result = c.get(f"/v1/jobs/{e['id']}/result").json()
                assert result["status"] == "optimal"
                objectives.add(round(result["objective"]))
            assert len(objectives) == 1
            doc = c.get(f"/v1/instances/{inst['id']}/document")
            assert hashlib.sha256(doc.content).hexdigest() == inst["sha256"]
            assert c.get(f"/v1/instances/{inst['id']}").json() == inst
    finally:
        server.stop()


def test_a_job_lost_twice_fails_with_the_reason(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    for job_id in ("once", "twice"):
        store.add_job({"id": job_id, "instance_id": "i", "alliance": "a", "kind": "plan",
                       "options": "{}", "argv": "[]", "created_by": "t"})
        assert store.claim(job_id)
    store.set_job("twice", attempts=2)
    Runner(store, tmp_path, Limits()).recover()
    once, twice = store.job("once"), store.job("twice")
    assert once is not None and twice is not None
    assert (once[7], once[8]) == ("queued", "waiting for a worker")
    assert (twice[7], twice[9]) == ("failed", "its worker was lost 2 times (the server stopped "
                                              "while it ran); not run again")


def test_health_says_postgresql(tmp_path: Path) -> None:
    if not PG_URL:
        pytest.skip("RESERVE_OPT_TEST_PG_URL is not set (.ci/run starts a PostgreSQL)")
    for url in fresh_pg_database():
        server = Server(tmp_path / "data", db=url).start()
        try:
            assert httpx.get(f"{server.url}/health").json() == {"status": "ok",
                                                                "storage": "postgresql"}
        finally:
            server.stop()
