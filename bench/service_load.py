"""Load on reserve-opt serve: 50 async clients for 2 minutes while two solves run.

Starts a real server on 127.0.0.1 (SQLite, and PostgreSQL when --pg-url or
RESERVE_OPT_TEST_PG_URL names one), uploads the toy and Liaoning instances, finishes one plan
whose result the clients read, then keeps two Liaoning plans running in the server's workers
while each client (its own viewer token) polls a job's status and fetches a result, pausing
--think-s between requests. Prints requests served, errors (any answer that is not 200, or a
transport error) and p50/p95/p99 latency in ms for status reads and result reads.

    .venv/bin/python bench/service_load.py                 # SQLite, then PostgreSQL if set
    .venv/bin/python bench/service_load.py --seconds 20    # a short look
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import secrets
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.service_server import LIAONING, TOY, Server, wait_job, zipped  # noqa: E402


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0-1) of ``values`` in ms (inclusive method)."""
    if len(values) < 2:
        return values[0] * 1000 if values else float("nan")
    return statistics.quantiles(values, n=1000, method="inclusive")[int(q * 1000) - 1] * 1000


async def client_loop(url: str, token: str, job_ids: list[str], result_id: str,
                      stop_at: float, think_s: float, lat: dict[str, list[float]],
                      errors: list[str]) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=30,
                                 headers={"Authorization": f"Bearer {token}"}) as c:
        i = 0
        while time.monotonic() < stop_at:
            kind = "status" if i % 2 == 0 else "result"
            path = (f"/v1/jobs/{job_ids[i // 2 % len(job_ids)]}" if kind == "status"
                    else f"/v1/jobs/{result_id}/result")
            began = time.perf_counter()
            try:
                r = await c.get(path)
                took = time.perf_counter() - began
                if r.status_code != 200:
                    errors.append(f"{r.status_code} {path}: {r.text[:120]}")
                else:
                    lat[kind].append(took)
                    timing = r.headers.get("server-timing", "")
                    if timing.startswith("app;dur="):
                        lat[f"{kind}_server"].append(float(timing[8:]) / 1000)
            except httpx.HTTPError as err:
                errors.append(f"{type(err).__name__} {path}")
            i += 1
            await asyncio.sleep(think_s)


def client_group(url: str, tokens: list[str], job_ids: list[str], result_id: str,
                 stop_at: float, think_s: float) -> tuple[dict[str, list[float]], list[str],
                                                          float]:
    """Run some clients in this process (latencies, errors, CPU seconds used)."""
    lat: dict[str, list[float]] = {"status": [], "result": [], "status_server": [],
                                   "result_server": []}
    errors: list[str] = []

    async def all_clients() -> None:
        await asyncio.gather(*(client_loop(url, t, job_ids, result_id, stop_at, think_s, lat,
                                           errors) for t in tokens))

    cpu0 = own_cpu_s()
    asyncio.run(all_clients())
    return lat, errors, own_cpu_s() - cpu0


def keep_two_solves(admin: httpx.Client, instance: str, stop_at: float,
                    started: list[str]) -> None:
    """Keep two Liaoning plans running until ``stop_at``; the ids it started."""
    active: list[str] = []
    while time.monotonic() < stop_at:
        active = [j for j in active
                  if admin.get(f"/v1/jobs/{j}").json()["state"] in ("queued", "running")]
        while len(active) < 2:
            r = admin.post("/v1/jobs", json={"instance": instance, "kind": "plan",
                                             "options": {"time_limit": 300}})
            r.raise_for_status()
            active.append(r.json()["id"])
            started.append(active[-1])
        time.sleep(1)
    for j in active:
        admin.post(f"/v1/jobs/{j}/cancel")


async def run(db: str | None, clients: int, seconds: float, think_s: float,
              procs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="reserve-opt-load-") as tmp:
        server = Server(Path(tmp) / "data", db=db, workers=2).start()
        try:
            admin_token = server.token("admin")
            with server.client(admin_token) as admin:
                ids = {}
                for name, folder in (("toy", TOY), ("liaoning", LIAONING)):
                    r = admin.post(f"/v1/instances?alliance=bench&name={name}",
                                   content=zipped(folder),
                                   headers={"Content-Type": "application/zip"})
                    r.raise_for_status()
                    ids[name] = r.json()["id"]
                done = admin.post("/v1/jobs", json={"instance": ids["toy"], "kind": "plan",
                                                    "options": {"time_limit": 60}}).json()
                assert wait_job(admin, done["id"])["state"] == "finished"
                tokens = [admin.post("/v1/tokens", json={"role": "viewer",
                                                         "alliance": "bench"}).json()["token"]
                          for _ in range(clients)]
                stop_at = time.monotonic() + seconds
                started: list[str] = []
                solver = asyncio.get_running_loop().run_in_executor(
                    None, keep_two_solves, admin, ids["liaoning"], stop_at, started)
                while len(started) < 2:
                    await asyncio.sleep(0.1)
                assert server.proc is not None
                cpu0, load0 = cpu_s(server.proc.pid), os.getloadavg()[0]
                wait0 = runqueue_wait_s(server.proc.pid)
                watched = [*started[:2], done["id"]]
                began = time.monotonic()
                # clients in several processes: one event loop starved of CPU on a busy
                # machine would measure itself, not the server
                loop = asyncio.get_running_loop()
                with ProcessPoolExecutor(procs) as pool:
                    groups = await asyncio.gather(*(
                        loop.run_in_executor(pool, client_group, server.url, tokens[k::procs],
                                             watched, done["id"], stop_at, think_s)
                        for k in range(procs)))
                wall = time.monotonic() - began
                server_cpu = cpu_s(server.proc.pid) - cpu0
                server_wait = runqueue_wait_s(server.proc.pid) - wait0
                bench_cpu = sum(g[2] for g in groups)
                lat = {k: [x for g in groups for x in g[0][k]] for k in groups[0][0]}
                errors = [e for g in groups for e in g[1]]
                load1 = os.getloadavg()[0]
                await solver
                finished = sum(1 for j in started
                               if admin.get(f"/v1/jobs/{j}").json()["state"] == "finished")
        finally:
            server.stop()
    served = len(lat["status"]) + len(lat["result"])  # answered 200
    return {"storage": "postgresql" if db else "sqlite", "clients": clients,
            "seconds": round(wall, 1), "served": served, "per_s": round(served / wall, 1),
            "errors": len(errors), "first_errors": errors[:5],
            "solves_started": len(started), "solves_finished": finished,
            "server_cpu_ms_per_request": round(server_cpu / max(served, 1) * 1000, 2),
            "server_cpu_share": round(server_cpu / wall, 2),
            "server_waiting_for_cpu_share": round(server_wait / wall, 2),
            "bench_cpu_share": round(bench_cpu / wall, 2),
            "load_avg_1min": f"{load0:.1f}->{load1:.1f}",
            **{f"{k}_{q}_ms": round(pct(v, p), 1) for k, v in lat.items()
               for q, p in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))}}


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) process ``pid`` has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def runqueue_wait_s(pid: int) -> float:
    """Seconds the threads of ``pid`` spent runnable but waiting for a CPU (schedstat)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return total / 1e9


def own_cpu_s() -> float:
    """CPU seconds this bench process has used (its 50 clients)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def fresh_pg(url: str) -> str:
    """A new database on the server at ``url`` for this run."""
    import psycopg

    name = f"reserve_opt_load_{secrets.token_hex(4)}"
    with psycopg.connect(url, autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name}")
    return f"{url.rsplit('/', 1)[0]}/{name}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--think-s", type=float, default=0.1,
                    help="pause of each client between its requests (s)")
    ap.add_argument("--procs", type=int, default=5, help="processes the clients run in")
    ap.add_argument("--pg-url", default=os.environ.get("RESERVE_OPT_TEST_PG_URL"))
    ap.add_argument("--only", choices=["sqlite", "postgresql"])
    args = ap.parse_args()
    runs: list[str | None] = []
    if args.only != "postgresql":
        runs.append(None)
    if args.only != "sqlite" and args.pg_url:
        runs.append(fresh_pg(args.pg_url))
    rows = [asyncio.run(run(db, args.clients, args.seconds, args.think_s, args.procs))
            for db in runs]
    head = ["storage", "clients", "seconds", "served", "per_s", "errors", "status_p50_ms",
            "status_p95_ms", "status_p99_ms", "result_p50_ms", "result_p95_ms",
            "result_p99_ms", "status_server_p50_ms", "status_server_p95_ms",
            "status_server_p99_ms", "result_server_p50_ms", "result_server_p95_ms",
            "result_server_p99_ms", "solves_started", "solves_finished",
            "server_cpu_ms_per_request",
            "server_cpu_share", "server_waiting_for_cpu_share", "bench_cpu_share", "load_avg_1min"]
    print(" | ".join(head))
    for row in rows:
        print(" | ".join(str(row[h]) for h in head))
        for line in row["first_errors"]:
            print(f"  error: {line}")


if __name__ == "__main__":
    main()
