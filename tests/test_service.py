"""reserve-opt serve over real HTTP: a server subprocess on 127.0.0.1, every endpoint."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cli_runner import run_cli
from tests.service_server import TOY, Server, wait_job, zipped


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server(tmp_path_factory.mktemp("service") / "data",
                    extra=["--rate", "20", "--max-request-mb", "2"]).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def tokens(srv: Server) -> dict[str, str]:
    admin = srv.token("admin")
    out = {"admin": admin}
    with srv.client(admin) as c:
        for name, role, alliance in [("planner_a", "planner", "bay"),
                                     ("viewer_a", "viewer", "bay"),
                                     ("planner_b", "planner", "gulf")]:
            r = c.post("/v1/tokens", json={"role": role, "alliance": alliance, "label": name})
            assert r.status_code == 201, r.text
            assert r.json()["role"] == role
            out[name] = r.json()["token"]
    return out


@pytest.fixture(scope="module")
def toy_json(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    from reserve_opt.io import load_instance, save_instance

    path = tmp_path_factory.mktemp("doc") / "toy.json"
    save_instance(load_instance(TOY), path)
    return path.read_bytes()


@pytest.fixture(scope="module")
def instances(srv: Server, tokens: dict[str, str], toy_json: bytes) -> dict[str, Any]:
    with srv.client(tokens["planner_a"]) as c:
        folder = c.post("/v1/instances?name=toy", content=zipped(TOY),
                        headers={"Content-Type": "application/zip"})
        assert folder.status_code == 201, folder.text
        doc = c.post("/v1/instances", content=toy_json,
                     headers={"Content-Type": "application/json"})
        assert doc.status_code == 201, doc.text
    return {"folder": folder.json(), "json": doc.json(), "zip_bytes": zipped(TOY)}


def problem_of(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = r.json()
    assert body["status"] == status and body["detail"] == body["errors"][0]
    return body


def run_job(c: httpx.Client, instance: str, kind: str, **options: Any) -> dict[str, Any]:
    r = c.post("/v1/jobs", json={"instance": instance, "kind": kind, "options": options})
    assert r.status_code == 202, r.text
    return wait_job(c, r.json()["id"])


# -- service basics --------------------------------------------------------------------------

def test_health_and_openapi_need_no_token(srv: Server) -> None:
    with srv.client(None) as c:
        assert c.get("/health").json() == {"status": "ok", "storage": "sqlite"}
        doc = c.get("/openapi.json").json()
        assert {"/v1/instances", "/v1/jobs", "/v1/jobs/{job_id}/result",
                "/v1/jobs/{job_id}/cancel"} <= set(doc["paths"])


def test_everything_else_needs_a_bearer_token(srv: Server) -> None:
    with srv.client(None) as c:
        body = problem_of(c.get("/v1/instances"), 401)
        assert body["detail"] == ("Authorization: this endpoint needs 'Authorization: Bearer "
                                  "TOKEN'; create one with reserve-opt serve token create")
    with srv.client("ro_nope") as c:
        body = problem_of(c.get("/v1/jobs"), 401)
        assert body["detail"] == ("Authorization: the token is not known or was revoked; ask "
                                  "an admin for a token")


def test_tokens_are_stored_hashed(srv: Server, tokens: dict[str, str]) -> None:
    import sqlite3

    con = sqlite3.connect(srv.data / "service.sqlite3")
    stored = {r[0] for r in con.execute("SELECT secret_sha256 FROM tokens")}
    con.close()
    for token in tokens.values():
        assert hashlib.sha256(token.encode()).hexdigest() in stored
        assert token not in stored


def test_serve_command_line_refusals(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = run_cli("serve", "token", "create", "--role", "viewer", "--data", str(data))
    assert (result.exit_code, result.stderr) == (
        1, "error: --role viewer: needs --alliance (the alliance whose instances it may see)\n")
    result = run_cli("serve", "token", "create", "--role", "root", "--data", str(data))
    assert result.stderr == "error: --role root: is not a role; give admin, planner or viewer\n"
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("mine")
    result = run_cli("serve", "token", "create", "--role", "admin", "--data", str(foreign))
    assert result.stderr == (f"error: --data {foreign}: is not empty and is not a reserve-opt "
                             f"service folder; give a new or empty folder\n")
    assert sorted(p.name for p in foreign.iterdir()) == ["keep.txt"]
    result = run_cli("serve", "token", "create", "--role", "admin", "--data", str(data),
                     "--db", "mysql://x")
    assert result.stderr == ("error: --db mysql://x: is not a database URL; give postgresql://"
                             "USER@HOST:PORT/DB, or leave --db out for SQLite in --data\n")


def test_unknown_endpoint_is_a_problem(srv: Server, tokens: dict[str, str]) -> None:
    with srv.client(tokens["admin"]) as c:
        assert problem_of(c.get("/v1/nothing"), 404)["detail"] == (
            "no such endpoint; see GET /openapi.json")


def test_kinds_list_the_cli_options(srv: Server, tokens: dict[str, str]) -> None:
    with srv.client(tokens["viewer_a"]) as c:
        kinds = {k["kind"]: k for k in c.get("/v1/kinds").json()}
    assert set(kinds) >= {"plan", "allocate", "route", "site", "whatif", "sweep", "analyze"}
    assert "time_limit" in kinds["plan"]["options"] and "out" not in kinds["plan"]["options"]
    assert kinds["allocate"]["file_options"] == ["event", "plan"]


# -- instances ---------------------------------------------------------------------------------

def test_upload_list_fetch_delete(srv: Server, tokens: dict[str, str],
                                  instances: dict[str, Any], toy_json: bytes) -> None:
    folder, doc = instances["folder"], instances["json"]
    assert folder["name"] == "toy" and folder["format"] == "folder"
    assert folder["alliance"] == "bay"
    assert folder["summary"] == ("upload: valid (4 regions, 2 commodities, 5 facilities, "
                                 "1 agreements, 3 scenarios)")
    assert doc["sha256"] == hashlib.sha256(toy_json).hexdigest()
    with srv.client(tokens["viewer_a"]) as c:
        ids = [i["id"] for i in c.get("/v1/instances").json()]
        assert folder["id"] in ids and doc["id"] in ids
        assert c.get(f"/v1/instances/{doc['id']}").json() == doc
        got = c.get(f"/v1/instances/{doc['id']}/document")
        assert got.content == toy_json
        assert got.headers["content-type"] == "application/json"
        got = c.get(f"/v1/instances/{folder['id']}/document")
        assert hashlib.sha256(got.content).hexdigest() == folder["sha256"]
        assert got.headers["content-type"] == "application/zip"
    with srv.client(tokens["planner_a"]) as c:
        extra = c.post("/v1/instances", content=toy_json,
                       headers={"Content-Type": "application/json"}).json()
        assert c.delete(f"/v1/instances/{extra['id']}").status_code == 204
        problem_of(c.get(f"/v1/instances/{extra['id']}"), 404)


def test_invalid_instance_gets_the_cli_message(srv: Server, tokens: dict[str, str],
                                               toy_json: bytes, tmp_path: Path) -> None:
    doc = json.loads(toy_json)
    doc["regions"][1]["population"] = "abc"
    path = tmp_path / "instance.json"  # the name the server gives a document
    path.write_text(json.dumps(doc))
    cli = run_cli("validate", str(path))
    assert cli.exit_code == 1
    cli_lines = [line.removeprefix("error: ") for line in cli.stderr.splitlines()]
    with srv.client(tokens["planner_a"]) as c:
        body = problem_of(c.post("/v1/instances", content=path.read_bytes(),
                                 headers={"Content-Type": "application/json"}), 422)
    assert body["errors"] == cli_lines
    assert "population 'abc'" in body["detail"]


@pytest.mark.parametrize("member, message", [
    ("../evil.csv", "upload: member '../evil.csv' would be written outside the instance "
                    "folder; zip the folder with relative names"),
    ("/etc/evil.csv", "upload: member '/etc/evil.csv' would be written outside the instance "
                      "folder; zip the folder with relative names"),
])
def test_zip_slip_is_refused(srv: Server, tokens: dict[str, str], member: str,
                             message: str) -> None:
    data = zipped(TOY, {member: b"x"})
    with srv.client(tokens["planner_a"]) as c:
        body = problem_of(c.post("/v1/instances", content=data,
                                 headers={"Content-Type": "application/zip"}), 422)
    assert body["detail"] == message
    assert not (srv.data.parent / "evil.csv").exists()


def test_zip_bomb_and_links_are_refused(srv: Server, tokens: dict[str, str]) -> None:
    bomb = zipped(TOY, {"toy/zeros.csv": b"0" * 50_000_000})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        link = zipfile.ZipInfo("toy/regions.csv")
        link.external_attr = (0o120777 << 16)
        archive.writestr(link, "/etc/passwd")
    with srv.client(tokens["planner_a"]) as c:
        body = problem_of(c.post("/v1/instances", content=bomb,
                                 headers={"Content-Type": "application/zip"}), 422)
        assert body["detail"].startswith("upload: member 'toy/zeros.csv' unpacks 50,000,000 "
                                         "bytes from ")
        assert body["detail"].endswith("(over 200x); a zip bomb is refused")
        body = problem_of(c.post("/v1/instances", content=buffer.getvalue(),
                                 headers={"Content-Type": "application/zip"}), 422)
        assert body["detail"] == ("upload: member 'toy/regions.csv' is a link or special "
                                  "file; zip only plain files and folders")
        body = problem_of(c.post("/v1/instances", content=b"not a zip",
                                 headers={"Content-Type": "application/zip"}), 422)
        assert body["detail"].startswith("upload: is not a zip archive;")
        body = problem_of(c.post("/v1/instances", content=b"x",
                                 headers={"Content-Type": "text/plain"}), 415)
        assert body["detail"] == ("Content-Type: 'text/plain' is not an instance; send "
                                  "application/json (a document) or application/zip (a "
                                  "zipped folder)")


def test_request_size_limit(srv: Server, tokens: dict[str, str]) -> None:
    with srv.client(tokens["planner_a"]) as c:
        body = problem_of(c.post("/v1/instances", content=b"0" * (3 * 2**20),
                                 headers={"Content-Type": "application/zip"}), 413)
    assert body["detail"] == ("request: the body is larger than 2 MiB, the most this service "
                              "accepts (serve --max-request-mb); send a smaller one")


# -- who may do what -------------------------------------------------------------------------

def test_other_alliance_gets_404_never_data(srv: Server, tokens: dict[str, str],
                                            instances: dict[str, Any]) -> None:
    inst = instances["folder"]["id"]
    with srv.client(tokens["planner_a"]) as c:
        job = c.post("/v1/jobs", json={"instance": inst, "kind": "plan",
                                       "options": {"time_limit": 60}}).json()
    with srv.client(tokens["planner_b"]) as c:
        assert c.get("/v1/instances").json() == []
        assert c.get("/v1/jobs").json() == []
        for path in [f"/v1/instances/{inst}", f"/v1/instances/{inst}/document",
                     f"/v1/jobs/{job['id']}", f"/v1/jobs/{job['id']}/result",
                     f"/v1/jobs/{job['id']}/files"]:
            body = problem_of(c.get(path), 404)
            assert "toy" not in json.dumps(body) and "bay" not in json.dumps(body)
        problem_of(c.delete(f"/v1/instances/{inst}"), 404)
        problem_of(c.post(f"/v1/jobs/{job['id']}/cancel"), 404)
        body = problem_of(c.post("/v1/jobs", json={"instance": inst, "kind": "plan"}), 404)
        assert body["detail"] == (f"instance '{inst}' does not exist; list them with GET "
                                  f"/v1/instances")
    with srv.client(tokens["planner_a"]) as c:
        wait_job(c, job["id"])


def test_viewer_reads_but_does_not_run(srv: Server, tokens: dict[str, str],
                                       instances: dict[str, Any]) -> None:
    inst = instances["folder"]["id"]
    with srv.client(tokens["viewer_a"]) as c:
        assert c.get(f"/v1/instances/{inst}").status_code == 200
        body = problem_of(c.post("/v1/jobs", json={"instance": inst, "kind": "plan"}), 403)
        assert body["detail"].endswith("role viewer may not do this; it needs admin or planner")
        problem_of(c.post("/v1/instances", content=b"{}",
                          headers={"Content-Type": "application/json"}), 403)
        problem_of(c.post("/v1/tokens", json={"role": "admin"}), 403)
        problem_of(c.get("/v1/audit"), 403)


def test_admin_sees_all_and_reads_the_audit_log(srv: Server, tokens: dict[str, str],
                                                instances: dict[str, Any]) -> None:
    with srv.client(tokens["admin"]) as c:
        ids = [i["id"] for i in c.get("/v1/instances").json()]
        assert instances["folder"]["id"] in ids
        log = c.get("/v1/audit", params={"limit": 1000}).json()
    actions = {(e["action"], e["instance"]) for e in log}
    assert ("upload", instances["folder"]["id"]) in actions
    assert any(e["action"] == "create token" and e["role"] == "admin" for e in log)


def test_rate_limit_per_token(tmp_path: Path) -> None:
    # 0.5 requests a second, bursts of 10: the 11th request within 2 s is over the rate on
    # any machine that answers a request in under 0.2 s
    server = Server(tmp_path / "data", extra=["--rate", "0.5"]).start()
    try:
        own, other = server.token("viewer", "bay"), server.token("viewer", "bay")
        codes = []
        with server.client(own) as c:
            for _ in range(11):
                r = c.get("/v1/instances")
                codes.append(r.status_code)
        assert codes == [200] * 10 + [429]
        body = problem_of(r, 429)
        assert body["detail"].startswith(f"token {own.split('_')[1]}: more than 0.5 requests "
                                         f"a second; wait ")
        assert int(r.headers["Retry-After"]) >= 1
        with server.client(other) as c:  # another token is not slowed down
            assert c.get("/v1/instances").status_code == 200
    finally:
        server.stop()


def test_token_bucket_refills_at_the_rate() -> None:
    from reserve_opt.service.app import Buckets

    now = [0.0]
    buckets = Buckets(rate=2.0, burst=3, clock=lambda: now[0])
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a") == pytest.approx(0.5)
    assert buckets.take("b") == 0.0
    now[0] = 0.5  # one request's worth refilled
    assert buckets.take("a") == 0.0
    assert buckets.take("a") > 0


# -- jobs --------------------------------------------------------------------------------------

def test_plan_then_allocate_its_plan(srv: Server, tokens: dict[str, str],
                                     instances: dict[str, Any]) -> None:
    inst = instances["folder"]["id"]
    with srv.client(tokens["planner_a"]) as c:
        plan = run_job(c, inst, "plan", time_limit=60, parent_serves=False)
        assert plan["state"] == "finished" and plan["exit_code"] == 0
        result = c.get(f"/v1/jobs/{plan['id']}/result").json()
        assert result["status"] == "optimal"
        files = {f["name"]: f for f in c.get(f"/v1/jobs/{plan['id']}/files").json()}
        assert {"result.json", "out/stock.csv", "out/plan.gpkg",
                "geojson/plan.geojson"} <= set(files)
        for name in ("out/stock.csv", "geojson/plan.geojson"):
            got = c.get(f"/v1/jobs/{plan['id']}/files/{name}")
            assert hashlib.sha256(got.content).hexdigest() == files[name]["sha256"]
        assert got.json()["type"] == "FeatureCollection"
        assert c.get(f"/v1/jobs/{plan['id']}/files/out/stock.csv").headers[
            "content-type"].startswith("text/csv")
        alloc = run_job(c, inst, "allocate", plan={"job": plan["id"]}, scenario="typhoon")
        assert alloc["state"] == "finished", alloc
        result = c.get(f"/v1/jobs/{alloc['id']}/result").json()
        assert (result["status"], result["event"]) == ("optimal", "typhoon")
        assert alloc["options"] == {"plan": {"job": plan["id"]}, "scenario": "typhoon"}


def test_the_json_document_runs_too(srv: Server, tokens: dict[str, str],
                                    instances: dict[str, Any]) -> None:
    with srv.client(tokens["planner_a"]) as c:
        job = run_job(c, instances["json"]["id"], "site", model="p-median", facilities=2)
        assert job["state"] == "finished", job
        assert c.get(f"/v1/jobs/{job['id']}/result").json()["status"] == "optimal"


def test_whatif_with_a_variant_file_of_the_instance(srv: Server, tokens: dict[str, str],
                                                    instances: dict[str, Any]) -> None:
    with srv.client(tokens["planner_a"]) as c:
        job = run_job(c, instances["folder"]["id"], "whatif",
                      variant=["variants/north_withdraws.toml"], time_limit=60)
        assert job["state"] == "finished", job
        assert "north_withdraws" in c.get(f"/v1/jobs/{job['id']}/result").text


def test_failed_job_carries_the_cli_message(srv: Server, tokens: dict[str, str],
                                            instances: dict[str, Any]) -> None:
    cli = run_cli("allocate", str(TOY), "--scenario", "nope")
    assert cli.exit_code == 1
    expected = cli.stderr.strip().removeprefix("error: ")
    with srv.client(tokens["planner_a"]) as c:
        job = run_job(c, instances["folder"]["id"], "allocate", scenario="nope")
        assert job["state"] == "failed" and job["exit_code"] == 1
        assert job["message"] == expected and job["errors"] == [expected]
        files = [f["name"] for f in c.get(f"/v1/jobs/{job['id']}/files").json()]
        assert files == ["stderr.txt"]
        body = problem_of(c.get(f"/v1/jobs/{job['id']}/result"), 404)
        assert body["detail"] == (f"job {job['id']}: has no result 'result.json'; list them "
                                  f"with GET /v1/jobs/{job['id']}/files")


@pytest.mark.parametrize("request_body, message", [
    ({"kind": "plan", "options": {"bogus": 1}},
     "options.bogus: is not an option of plan; give one of solver, time_limit, gap, threads, "
     "seed, sharing, response_time, service_level, risk_weight, cvar_level, parent_serves, "
     "method, workers"),
    ({"kind": "plan", "options": {"out": "/tmp/x"}},
     "options.out: is not available over the service; the service writes each job's output "
     "and serves it under /v1/jobs/ID/files"),
    ({"kind": "plan", "options": {"time_limit": "abc"}},
     "options.time_limit: Invalid value for '--time-limit': Input should be a valid number, "
     "unable to parse string as a number"),
    ({"kind": "plan", "options": {"response_time": "yes"}},
     "options.response_time: \"yes\" is not true or false; give true or false"),
    ({"kind": "map"}, "kind 'map' is not a job kind; give one of plan, allocate, route, site, "
                      "whatif, sweep, analyze, report"),
    ({"kind": "allocate", "options": {"event": "/etc/passwd"}},
     "options.event = \"/etc/passwd\" is an absolute path; give the file's path inside the "
     "instance folder"),
    ({"kind": "allocate", "options": {"event": "../../service.sqlite3"}},
     None),
    ({"kind": "sweep", "options": {"scheduler": "tcp://10.0.0.1:8786"}},
     "options.scheduler: is not available over the service; jobs run on the service's own "
     "workers"),
])
def test_bad_job_requests(srv: Server, tokens: dict[str, str], instances: dict[str, Any],
                          request_body: dict[str, Any], message: str | None) -> None:
    with srv.client(tokens["planner_a"]) as c:
        body = problem_of(c.post("/v1/jobs", json={"instance": instances["folder"]["id"],
                                                   **request_body}), 422)
    if message is None:
        assert body["detail"].startswith('options.event = "../../service.sqlite3" ')
    else:
        assert body["detail"] == message


def test_cancel_a_queued_job(srv: Server, tokens: dict[str, str],
                             instances: dict[str, Any]) -> None:
    inst = instances["folder"]["id"]
    with srv.client(tokens["planner_a"]) as c:
        ids = [c.post("/v1/jobs", json={"instance": inst, "kind": "analyze",
                                        "options": {"knockout": False}}).json()["id"]
               for _ in range(3)]
        last = c.post(f"/v1/jobs/{ids[-1]}/cancel")
        assert last.status_code == 200, last.text
        assert last.json()["state"] in ("cancelled", "running")
        ends = [wait_job(c, i) for i in ids]
        assert [e["state"] for e in ends[:2]] == ["finished", "finished"]
        assert ends[2]["state"] == "cancelled"
        body = problem_of(c.post(f"/v1/jobs/{ids[-1]}/cancel"), 409)
        assert body["detail"] == (f"job {ids[-1]}: is cancelled; only a queued or running "
                                  f"job can be cancelled")
        listed = [j["id"] for j in c.get("/v1/jobs", params={"instance": inst}).json()]
        assert set(ids) <= set(listed)


# -- the Python client ------------------------------------------------------------------------

def test_client_mirrors_the_library(srv: Server, tokens: dict[str, str]) -> None:
    from reserve_opt.client import Client, RemoteError
    from reserve_opt.errors import InputError

    with Client(srv.url, tokens["planner_a"], poll_s=0.25) as c:
        assert c.health()["status"] == "ok"
        inst = c.upload(TOY)
        assert inst["name"] == "toy"
        plan = c.plan(inst, time_limit=60)
        assert plan["status"] == "optimal"
        plan_job = c.last_job
        alloc = c.allocate(inst, scenario="typhoon", plan=plan_job)
        assert alloc["status"] in ("optimal", "feasible")
        cli = run_cli("allocate", str(TOY), "--scenario", "nope")
        with pytest.raises(InputError) as err:
            c.allocate(inst, scenario="nope")
        assert list(err.value.problems) == [cli.stderr.strip().removeprefix("error: ")]
        with pytest.raises(InputError) as err:
            c.plan(inst, bogus=1)
        assert err.value.problems[0].startswith("options.bogus: is not an option of plan")
        files = {f["name"] for f in c.files(plan_job)}
        assert "out/stock.csv" in files
        assert c.file(plan_job, "out/stock.csv").startswith(b"\xef\xbb\xbf")  # CSV with BOM
    with Client(srv.url, tokens["planner_b"]) as other, pytest.raises(RemoteError) as err:
        other.instance(inst)
    assert err.value.status == 404


def test_the_html_report_of_an_instance(srv: Server, tokens: dict[str, str],
                                        instances: dict[str, Any]) -> None:
    with srv.client(tokens["planner_a"]) as c:
        job = run_job(c, instances["folder"]["id"], "report", lang="zh", time_limit=60)
        assert job["state"] == "finished" and job["exit_code"] == 0, job
        files = {f["name"]: f for f in c.get(f"/v1/jobs/{job['id']}/files").json()}
        assert "out/report.html" in files
        page = c.get(f"/v1/jobs/{job['id']}/files/out/report.html")
        assert page.headers["content-type"].startswith("text/html")
        assert hashlib.sha256(page.content).hexdigest() == files["out/report.html"]["sha256"]
        assert "应急物资储备报告" in page.text and "Content-Security-Policy" in page.text
