"""The engine over HTTP: a client of ``reserve-opt serve`` that mirrors the library.

>>> from reserve_opt.client import Client
>>> with Client("http://127.0.0.1:8000", token) as c:          # doctest: +SKIP
...     inst = c.upload("instances/toy")                       # a folder is zipped
...     plan = c.plan(inst, time_limit=60)                     # what `reserve-opt plan` prints
...     alloc = c.allocate(inst, scenario="typhoon", plan=c.last_job)

Each mirror (:meth:`Client.plan`, :meth:`Client.allocate`, :meth:`Client.route`,
:meth:`Client.site`, :meth:`Client.whatif`, :meth:`Client.sweep`, :meth:`Client.analyze`)
queues the CLI command of that name with the CLI's options (by parameter name), waits for it
and returns its JSON result. Bad input raises :class:`reserve_opt.errors.InputError` with the
CLI's one-line messages, as the library does; other refusals raise :class:`RemoteError`.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

from reserve_opt.errors import InputError, ReserveOptError


class RemoteError(ReserveOptError):
    """The service refused a request (an RFC 9457 problem), or a job failed otherwise.

    A job fails otherwise than by its input when it meets its limits, loses its worker or
    hits an internal error.
    """

    def __init__(self, status: int, detail: str, errors: list[str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors or [detail]


class Client:
    """A session with one service and one token.

    Parameters
    ----------
    url
        The service's base URL, e.g. ``http://127.0.0.1:8000``.
    token
        A Bearer token (``reserve-opt serve token create``).
    timeout_s
        Seconds each HTTP request may take.
    poll_s
        Seconds between status polls while a mirror waits for its job.
    """

    def __init__(self, url: str, token: str, timeout_s: float = 120.0,
                 poll_s: float = 0.5) -> None:
        self._http = httpx.Client(base_url=url.rstrip("/"), timeout=timeout_s,
                                  headers={"Authorization": f"Bearer {token}"})
        self.poll_s = poll_s
        self.last_job: dict[str, Any] | None = None

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    # -- plumbing --------------------------------------------------------------------------

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        while True:
            r = self._http.request(method, path, **kwargs)
            if r.status_code == 429:  # the token's rate: wait as told, then go on
                time.sleep(float(r.headers.get("Retry-After", "1")))
                continue
            if r.status_code >= 400:
                _raise(r)
            return r

    # -- instances -------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """``GET /health``."""
        result: dict[str, Any] = self._call("GET", "/health").json()
        return result

    def upload(self, instance: str | Path | dict[str, Any], name: str | None = None,
               alliance: str | None = None) -> dict[str, Any]:
        """Upload an instance folder (zipped here), a ``.json`` document or a document dict."""
        from reserve_opt.io.jsontext import dumps

        params = {k: v for k, v in (("name", name), ("alliance", alliance)) if v}
        if isinstance(instance, dict):
            body, ctype = dumps(instance).encode(), "application/json"
        else:
            path = Path(instance)
            if path.is_dir():
                from reserve_opt.service.uploads import zip_folder

                body, ctype = zip_folder(path), "application/zip"
                params.setdefault("name", path.name)
            else:
                body, ctype = path.read_bytes(), "application/json"
        result: dict[str, Any] = self._call("POST", "/v1/instances", content=body, params=params,
                                            headers={"Content-Type": ctype}).json()
        return result

    def instances(self) -> list[dict[str, Any]]:
        """The instances this token may see."""
        result: list[dict[str, Any]] = self._call("GET", "/v1/instances").json()
        return result

    def instance(self, instance: str | dict[str, Any]) -> dict[str, Any]:
        """One instance's record."""
        result: dict[str, Any] = self._call("GET", f"/v1/instances/{_id(instance)}").json()
        return result

    def document(self, instance: str | dict[str, Any]) -> bytes:
        """The instance as uploaded (JSON or zip bytes)."""
        return self._call("GET", f"/v1/instances/{_id(instance)}/document").content

    def delete(self, instance: str | dict[str, Any]) -> None:
        """Delete an instance and its jobs."""
        self._call("DELETE", f"/v1/instances/{_id(instance)}")

    # -- jobs ------------------------------------------------------------------------------

    def submit(self, instance: str | dict[str, Any], kind: str, **options: Any
               ) -> dict[str, Any]:
        """Queue a job; a job record (``options`` may name an earlier job record)."""
        body = {"instance": _id(instance), "kind": kind,
                "options": {k: _option(v) for k, v in options.items()}}
        job: dict[str, Any] = self._call("POST", "/v1/jobs", json=body).json()
        return job

    def job(self, job: str | dict[str, Any]) -> dict[str, Any]:
        """A job's record: state, phase, elapsed time."""
        result: dict[str, Any] = self._call("GET", f"/v1/jobs/{_id(job)}").json()
        return result

    def jobs(self, instance: str | dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Jobs this token may see (of one instance if given)."""
        params = {"instance": _id(instance)} if instance is not None else {}
        result: list[dict[str, Any]] = self._call("GET", "/v1/jobs", params=params).json()
        return result

    def cancel(self, job: str | dict[str, Any]) -> dict[str, Any]:
        """Cancel a queued or running job."""
        result: dict[str, Any] = self._call("POST", f"/v1/jobs/{_id(job)}/cancel").json()
        return result

    def wait(self, job: str | dict[str, Any], timeout_s: float | None = None
             ) -> dict[str, Any]:
        """Poll until the job ends; its final record."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            record = self.job(job)
            if record["state"] in ("finished", "failed", "cancelled"):
                return record
            if deadline is not None and time.monotonic() > deadline:
                raise RemoteError(408, f"job {record['id']}: still {record['state']} after "
                                  f"{timeout_s:g} s; wait longer or cancel it")
            time.sleep(self.poll_s)

    def result(self, job: str | dict[str, Any]) -> Any:
        """The job's JSON result (what ``--format json`` prints)."""
        return self._call("GET", f"/v1/jobs/{_id(job)}/result").json()

    def files(self, job: str | dict[str, Any]) -> list[dict[str, Any]]:
        """The job's result files (name, media type, SHA-256, size)."""
        result: list[dict[str, Any]] = self._call("GET", f"/v1/jobs/{_id(job)}/files").json()
        return result

    def file(self, job: str | dict[str, Any], name: str) -> bytes:
        """One result file's bytes."""
        return self._call("GET", f"/v1/jobs/{_id(job)}/files/{name}").content

    def run(self, instance: str | dict[str, Any], kind: str, **options: Any) -> Any:
        """Submit, wait and return the JSON result; a failed job raises its messages."""
        job = self.wait(self.submit(instance, kind, **options))
        self.last_job = job
        if job["state"] == "cancelled":
            raise RemoteError(409, f"job {job['id']}: was cancelled")
        if job["state"] == "failed":
            names = {f["name"] for f in self.files(job)}
            if job["exit_code"] == 1 and job["errors"]:
                if "result.json" in names:  # e.g. no plan: the result says why
                    return self.result(job)
                raise InputError(job["errors"])
            raise RemoteError(500, job["message"] or f"job {job['id']} failed",
                              job["errors"] or None)
        return self.result(job)

    # -- mirrors of the library (the CLI commands) --------------------------------------------

    def plan(self, instance: str | dict[str, Any], **options: Any) -> Any:
        """``reserve-opt plan``: placement under uncertainty."""
        return self.run(instance, "plan", **options)

    def allocate(self, instance: str | dict[str, Any], **options: Any) -> Any:
        """``reserve-opt allocate``: one event's allocation."""
        return self.run(instance, "allocate", **options)

    def route(self, instance: str | dict[str, Any], **options: Any) -> Any:
        """``reserve-opt route``: vehicles for one day of deliveries."""
        return self.run(instance, "route", **options)

    def site(self, instance: str | dict[str, Any], model: str, **options: Any) -> Any:
        """``reserve-opt site MODEL``: facility siting."""
        return self.run(instance, "site", model=model, **options)

    def whatif(self, instance: str | dict[str, Any], variant: list[str], **options: Any
               ) -> Any:
        """``reserve-opt whatif``: variants (files of the uploaded folder) against the base."""
        return self.run(instance, "whatif", variant=variant, **options)

    def sweep(self, instance: str | dict[str, Any], grid: str, **options: Any) -> Any:
        """``reserve-opt sweep``: a grid of variants (a file of the uploaded folder)."""
        return self.run(instance, "sweep", grid=grid, **options)

    def analyze(self, instance: str | dict[str, Any], **options: Any) -> Any:
        """``reserve-opt analyze``: the network's weak points."""
        return self.run(instance, "analyze", **options)


def _id(thing: str | dict[str, Any] | None) -> str:
    if isinstance(thing, dict):
        return str(thing["id"])
    return str(thing)


def _option(value: Any) -> Any:
    """A job record given as an option becomes a reference to that job's output."""
    if isinstance(value, dict) and "state" in value and "id" in value:
        return {"job": value["id"]}
    return value


def _raise(r: httpx.Response) -> None:
    try:
        body = r.json()
        detail, errors = str(body["detail"]), [str(e) for e in body.get("errors", [])]
    except (ValueError, KeyError, TypeError):
        detail, errors = f"HTTP {r.status_code}: {r.text[:200]}", []
    if r.status_code == 422:
        raise InputError(errors or [detail])
    raise RemoteError(r.status_code, detail, errors or None)
