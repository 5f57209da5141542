"""The HTTP API of ``reserve-opt serve`` (FastAPI).

Every answer that is not a success is an RFC 9457 problem (``application/problem+json``)
whose ``detail`` is the one-line message the CLI prints for the same input, and whose
``errors`` lists every such line. Everything but ``/health`` and ``/openapi.json`` needs
``Authorization: Bearer TOKEN``; a member sees only its alliance's instances and jobs (others
are 404, as if they did not exist).
"""

from __future__ import annotations

import hmac
import json
import secrets
import shutil
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reserve_opt.errors import InputError
from reserve_opt.service import kinds
from reserve_opt.service.runner import (
    Limits,
    Runner,
    instance_path,
    materialise_instance,
    run_validate,
    write_instance,
)
from reserve_opt.service.store import Store, sha256

ROLES = ("admin", "planner", "viewer")
PROBLEM = "application/problem+json"
ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
TOKEN_CACHE_S = 10.0
"""Seconds a known token is trusted without asking the database again."""


@dataclass(frozen=True)
class Settings:
    """What ``serve`` was started with."""

    data: Path
    limits: Limits
    max_request_mb: int = 64
    rate_per_s: float = 50.0
    burst: int = 200


class ApiError(Exception):
    """A problem to answer with (RFC 9457)."""

    def __init__(self, status: int, title: str, detail: str,
                 errors: list[str] | None = None, headers: dict[str, str] | None = None
                 ) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail
        self.errors = errors or [detail]
        self.headers = headers or {}


def problem(status: int, title: str, detail: str, errors: list[str] | None = None,
            headers: dict[str, str] | None = None) -> JSONResponse:
    """An RFC 9457 problem response."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail,
            "errors": errors or [detail]}
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def invalid(err: InputError) -> ApiError:
    """A 422 problem carrying an InputError's lines."""
    lines = list(err.problems)
    return ApiError(422, "Invalid input", lines[0], lines)


def not_found(what: str, ident: str) -> ApiError:
    """A 404 problem; also what a member gets for another alliance's things."""
    return ApiError(404, "Not found", f"{what} '{ident[:64]}' does not exist; list them "
                    f"with GET /v1/{what}s")


# -- models (the OpenAPI document) -----------------------------------------------------------

class Problem(BaseModel):
    """An RFC 9457 problem."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[str]


class Health(BaseModel):
    """Liveness and storage kind."""

    status: str
    storage: str


class InstanceOut(BaseModel):
    """A stored instance."""

    id: str
    name: str
    alliance: str
    format: str = Field(description="json (a JSON document) or folder (a zipped folder)")
    sha256: str
    size_bytes: int
    summary: str
    warnings: list[str]
    created: float = Field(description="seconds since 1970-01-01 UTC")


class JobIn(BaseModel):
    """A job to run: a CLI command on an instance, with the CLI's options."""

    instance: str = Field(pattern=ID_PATTERN)
    kind: str = Field(description="plan, allocate, route, site, whatif, sweep, analyze or "
                      "report")
    options: dict[str, Any] = Field(
        default_factory=dict,
        description="CLI options by parameter name (time_limit, parent_serves, ...); a file "
                    "option names a file inside the uploaded folder or {\"job\": ID}")


class JobOut(BaseModel):
    """A job and where it stands."""

    id: str
    instance: str
    alliance: str
    kind: str
    options: dict[str, Any]
    state: str = Field(description="queued, running, finished, failed or cancelled")
    phase: str
    elapsed_s: float | None = Field(description="seconds since it started (or it ran)")
    attempts: int
    message: str | None
    errors: list[str]
    exit_code: int | None
    created: float
    started: float | None
    finished: float | None
    history: list[str]


class FileOut(BaseModel):
    """One stored result file."""

    name: str
    media_type: str
    sha256: str
    size_bytes: int


class TokenIn(BaseModel):
    """A token to create (admin only)."""

    role: str = Field(description="admin, planner or viewer")
    alliance: str | None = Field(default=None, max_length=64,
                                 description="required for planner and viewer")
    label: str = Field(default="", max_length=200)


class TokenOut(BaseModel):
    """A new token; the secret is shown only here."""

    id: str
    role: str
    alliance: str | None
    token: str


class KindOut(BaseModel):
    """A job kind and its options."""

    kind: str
    options: list[str]
    file_options: list[str]


class AuditOut(BaseModel):
    """One audit entry."""

    seq: int
    at: float
    token: str | None
    role: str | None
    alliance: str | None
    action: str
    instance: str | None
    job: str | None
    detail: str


# -- tokens, roles, rate limits ----------------------------------------------------------------

@dataclass(frozen=True)
class Principal:
    """Who is asking."""

    token_id: str
    role: str
    alliance: str | None

    @property
    def who(self) -> tuple[str, str, str | None]:
        """For the audit log."""
        return self.token_id, self.role, self.alliance

    def sees(self, alliance: str) -> bool:
        """Whether this principal may see things of ``alliance``."""
        return self.role == "admin" or self.alliance == alliance

    def scope(self) -> str | None:
        """The alliance a listing is limited to (None: all, for admins)."""
        return None if self.role == "admin" else self.alliance


def new_token(store: Store, role: str, alliance: str | None, label: str = "") -> TokenOut:
    """Create a token; the secret is returned once and only its SHA-256 is stored."""
    if role not in ROLES:
        raise InputError(f"--role {role}: is not a role; give admin, planner or viewer")
    if role != "admin" and not alliance:
        raise InputError(f"--role {role}: needs --alliance (the alliance whose instances it "
                         f"may see)")
    token_id = secrets.token_hex(6)
    secret = f"ro_{token_id}_{secrets.token_urlsafe(32)}"
    store.add_token(token_id, sha256(secret.encode()), role, alliance, label)
    return TokenOut(id=token_id, role=role, alliance=alliance, token=secret)


class Buckets:
    """Per-token token buckets, in this process (one server per database)."""

    def __init__(self, rate: float, burst: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self.clock = rate, burst, clock
        self._state: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """0 when a request may go now, else the seconds to wait."""
        with self._lock:
            now = self.clock()
            level, last = self._state.get(key, (float(self.burst), now))
            level = min(float(self.burst), level + (now - last) * self.rate)
            if level < 1:
                self._state[key] = (level, now)
                return (1 - level) / self.rate
            self._state[key] = (level - 1, now)
            return 0.0


class BodyLimit:
    """Refuse request bodies over a size (413) before the application reads them.

    Also says how long the service took in a ``Server-Timing: app;dur=MS`` header.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on with its body read, or answer 413."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        chunks: list[bytes] = []
        total, more = 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            total += len(chunk)
            if total > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        sent = False
        began = time.perf_counter()

        async def timed(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Server-Timing (W3C): time in the service, apart from the network and client
                took = (time.perf_counter() - began) * 1000
                message = {**message, "headers": [*message.get("headers", []),
                                                  (b"server-timing", f"app;dur={took:.2f}"
                                                   .encode())]}
            await send(message)

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, timed)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        mib = self.max_bytes / 2**20
        response = problem(413, "Request too large",
                           f"request: the body is larger than {mib:g} MiB, the most this "
                           f"service accepts (serve --max-request-mb); send a smaller one")
        await response(scope, receive, send)


async def _principal(request: Request) -> Principal:
    # async, as the quick reads are: a token lookup is one indexed query, cheaper on the
    # event loop than a hop to the thread pool
    authenticate: Callable[[Request], Awaitable[Principal]] = request.app.state.authenticate
    return await authenticate(request)


Who = Annotated[Principal, Depends(_principal)]
"""The caller, from its Bearer token (401 without one, 429 over its rate)."""


# -- the application -----------------------------------------------------------------------------

def create_app(store: Store, settings: Settings, runner: Runner | None = None) -> FastAPI:
    """The service's ASGI application over ``store``; ``runner`` dispatches its jobs."""
    app = FastAPI(title="reserve-opt", version=_version(),
                  description="Plan emergency material reserves over HTTP: upload instances, "
                  "run the CLI's commands as jobs, fetch their results. Errors are RFC 9457 "
                  "problems carrying the CLI's one-line messages.",
                  responses={401: {"model": Problem}, 422: {"model": Problem},
                             429: {"model": Problem}})
    buckets = Buckets(settings.rate_per_s, settings.burst)
    known: dict[str, tuple[float, tuple[Any, ...]]] = {}  # token hash -> (until, row)
    data = settings.data

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, err: ApiError) -> Response:
        return problem(err.status, err.title, err.detail, err.errors, err.headers)

    @app.exception_handler(InputError)
    async def _input_error(_: Request, err: InputError) -> Response:
        e = invalid(err)
        return problem(e.status, e.title, e.detail, e.errors)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, err: RequestValidationError) -> Response:
        lines = []
        for e in err.errors():
            where = ".".join(str(p) for p in e.get("loc", ()))
            lines.append(f"{where}: {e.get('msg', 'is not valid')}")
        return problem(422, "Invalid request", lines[0] if lines else "invalid request",
                       lines)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, err: StarletteHTTPException) -> Response:
        detail = err.detail if isinstance(err.detail, str) else str(err.detail)
        if err.status_code == 404:
            detail = "no such endpoint; see GET /openapi.json"
        elif err.status_code == 405:
            detail = "this endpoint does not take that method; see GET /openapi.json"
        return problem(err.status_code, detail.split(";")[0].capitalize(), detail,
                       headers=dict(err.headers or {}))

    @app.exception_handler(Exception)
    async def _internal(_: Request, err: Exception) -> Response:
        return problem(500, "Internal error", f"internal error {type(err).__name__}: {err} "
                       f"(please report it)")

    app.add_middleware(BodyLimit, max_bytes=settings.max_request_mb * 2**20)

    async def principal(request: Request) -> Principal:
        header = request.headers.get("authorization", "")
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise ApiError(401, "Unauthorized", "Authorization: this endpoint needs "
                           "'Authorization: Bearer TOKEN'; create one with reserve-opt serve "
                           "token create", headers={"WWW-Authenticate": "Bearer"})
        digest = sha256(secret.strip().encode())
        now = time.monotonic()
        cached = known.get(digest)
        if cached is not None and cached[0] > now:
            row: tuple[Any, ...] | None = cached[1]
        else:
            row = store.token_by_hash(digest)
            if row is not None:
                known[digest] = (now + TOKEN_CACHE_S, row)
        if row is None or not hmac.compare_digest(str(row[1]), digest):
            raise ApiError(401, "Unauthorized", "Authorization: the token is not known or was "
                           "revoked; ask an admin for a token",
                           headers={"WWW-Authenticate": "Bearer"})
        wait = buckets.take(str(row[0]))
        if wait > 0:
            raise ApiError(429, "Too many requests", f"token {row[0]}: more than "
                           f"{settings.rate_per_s:g} requests a second; wait {wait:.2f} s",
                           headers={"Retry-After": str(max(1, round(wait)))})
        return Principal(str(row[0]), str(row[2]), row[3])

    app.state.authenticate = principal

    def require(p: Principal, *roles: str) -> None:
        if p.role not in roles:
            raise ApiError(403, "Forbidden", f"token {p.token_id}: role {p.role} may not do "
                           f"this; it needs {' or '.join(roles)}")

    def own_instance(p: Principal, instance_id: str) -> tuple[Any, ...]:
        row = store.instance(instance_id)
        if row is None or not p.sees(str(row[1])):
            raise not_found("instance", instance_id)
        return row

    def own_job(p: Principal, job_id: str) -> tuple[Any, ...]:
        row = store.job(job_id)
        if row is None or not p.sees(str(row[3])):
            raise not_found("job", job_id)
        return row

    @app.get("/health", response_model=Health, tags=["service"])
    async def health() -> Health:
        """200 while the service is up; no token needed."""
        return Health(status="ok", storage=store.kind)

    @app.get("/v1/kinds", response_model=list[KindOut], tags=["jobs"])
    def list_kinds(p: Who) -> list[KindOut]:
        """The job kinds this version runs and the options each takes."""
        out = []
        for kind, params in kinds.available().items():
            names = [q.name for q in params if not q.argument or q.name not in
                     kinds.INSTANCE_ARGUMENTS]
            names = [n for n in names if n not in kinds.SERVICE_OWNED]
            out.append(KindOut(kind=kind, options=names,
                               file_options=[q.name for q in params if q.names_file
                                             and q.name in names]))
        return out

    # -- instances -----------------------------------------------------------------------

    upload_body = {"requestBody": {"required": True, "content": {
        "application/json": {"schema": {"type": "object"}},
        "application/zip": {"schema": {"type": "string", "format": "binary"}}}}}

    @app.post("/v1/instances", response_model=InstanceOut, status_code=201, tags=["instances"],
              openapi_extra=upload_body,
              responses={413: {"model": Problem}, 403: {"model": Problem}})
    async def upload(request: Request, p: Who,
                     name: Annotated[str | None, Query(max_length=200)] = None,
                     alliance: Annotated[str | None, Query(max_length=64)] = None
                     ) -> InstanceOut:
        """Upload an instance: a JSON document or a zipped folder; validated like the CLI."""
        require(p, "admin", "planner")
        if p.role == "admin":
            if not alliance:
                raise ApiError(422, "Invalid request", "alliance: an admin uploads for an "
                               "alliance; give ?alliance=NAME")
            owner = alliance
        else:
            if alliance is not None and alliance != p.alliance:
                raise ApiError(403, "Forbidden", f"alliance: token {p.token_id} uploads only "
                               f"for its own alliance {p.alliance}")
            owner = str(p.alliance)
        body = await request.body()
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype in ("application/json", "application/geo+json"):
            fmt = "json"
            try:
                doc = json.loads(body)
            except (ValueError, RecursionError):
                raise ApiError(422, "Invalid input", "upload: is not valid JSON; send the "
                               "instance document (reserve-opt schema)") from None
            default_name = doc.get("name") if isinstance(doc, dict) else None
        elif ctype in ("application/zip", "application/x-zip-compressed"):
            fmt, default_name = "folder", None
        else:
            raise ApiError(415, "Unsupported media type", f"Content-Type: '{ctype[:60]}' is "
                           f"not an instance; send application/json (a document) or "
                           f"application/zip (a zipped folder)")
        label = name or (default_name if isinstance(default_name, str) else None) or "instance"
        instance_id = secrets.token_hex(8)
        result = await _in_thread(_validate_upload, data, instance_id, fmt, body,
                                  settings.limits)
        code, errors, warnings, summary = result
        if code != 0:
            store.audit(p.who, "upload refused", None, None, errors[0] if errors else "")
            first = errors[0] if errors else "upload: could not be validated"
            raise ApiError(422, "Invalid input", first, errors or [first])
        try:
            store.add_instance({"id": instance_id, "alliance": owner, "name": label[:200],
                                "format": fmt, "summary": summary,
                                "warnings": json.dumps(warnings), "created_by": p.token_id},
                               body)
            (data / "instances" / instance_id / ".complete").write_text(sha256(body))
        except Exception:
            shutil.rmtree(data / "instances" / instance_id, ignore_errors=True)
            raise
        store.audit(p.who, "upload", instance_id, None, f"{fmt}, {len(body)} bytes")
        row = store.instance(instance_id)
        assert row is not None
        return _instance_out(row)

    @app.get("/v1/instances", response_model=list[InstanceOut], tags=["instances"])
    def list_instances(p: Who) -> list[InstanceOut]:
        """The instances this token may see."""
        return [_instance_out(r) for r in store.instances(p.scope())]

    @app.get("/v1/instances/{instance_id}", response_model=InstanceOut, tags=["instances"],
             responses={404: {"model": Problem}})
    async def get_instance(instance_id: str, p: Who) -> InstanceOut:
        """One instance."""
        return _instance_out(own_instance(p, instance_id))

    @app.get("/v1/instances/{instance_id}/document", tags=["instances"],
             responses={404: {"model": Problem}, 200: {"content": {
                 "application/json": {}, "application/zip": {}}}})
    def get_document(instance_id: str, p: Who) -> Response:
        """The document as uploaded (checked against its stored hash)."""
        row = own_instance(p, instance_id)
        document, digest = store.instance_document(instance_id)
        if sha256(document) != digest:
            raise ApiError(500, "Corrupted", f"instance {instance_id}: its stored document "
                           f"does not match its hash")
        media = "application/json" if row[3] == "json" else "application/zip"
        return Response(document, media_type=media, headers={"ETag": f'"{digest}"'})

    @app.delete("/v1/instances/{instance_id}", status_code=204, tags=["instances"],
                responses={404: {"model": Problem}, 409: {"model": Problem}})
    def delete_instance(instance_id: str, p: Who) -> Response:
        """Delete an instance with its finished jobs and results."""
        require(p, "admin", "planner")
        own_instance(p, instance_id)
        active = [j for j in store.jobs(None, instance_id) if j[7] in ("queued", "running")]
        if active:
            raise ApiError(409, "Conflict", f"instance {instance_id}: job {active[0][0]} is "
                           f"{active[0][7]}; cancel its jobs first")
        store.delete_instance(instance_id)
        shutil.rmtree(data / "instances" / instance_id, ignore_errors=True)
        store.audit(p.who, "delete instance", instance_id)
        return Response(status_code=204)

    # -- jobs ------------------------------------------------------------------------------

    @app.post("/v1/jobs", response_model=JobOut, status_code=202, tags=["jobs"],
              responses={404: {"model": Problem}, 403: {"model": Problem}})
    def create_job(job: JobIn, p: Who) -> JobOut:
        """Queue a job: a CLI command on an instance with the CLI's options."""
        require(p, "admin", "planner")
        inst = own_instance(p, job.instance)
        folder = data / "instances" / job.instance / "folder"
        if inst[3] == "folder":  # its files are named by file options; rebuilt if missing
            materialise_instance(store, data, job.instance)

        def resolve_file(option: str, value: str) -> str:
            from reserve_opt.io.paths import confined_path

            if inst[3] != "folder":
                raise InputError(f"options.{option}: the instance is a JSON document, which "
                                 f"holds no files; upload a zipped folder holding "
                                 f"'{value[:60]}'")
            parts = value.split("+") if option == "variant" else [value]
            for part in parts:
                path = confined_path(folder, part, f"options.{option}")
                if not path.exists():
                    raise InputError(f"options.{option} = \"{part[:60]}\": is not a file of "
                                     f"the instance; give a file's path inside the uploaded "
                                     f"folder")
            return "+".join(f"instances/{job.instance}/folder/{part}" for part in parts)

        def resolve_job(option: str, ref: str) -> str:
            row = store.job(ref)
            if row is None or not p.sees(str(row[3])):
                raise InputError(f"options.{option}: job '{ref[:64]}' does not exist; give "
                                 f"the id of a finished job")
            if row[7] != "finished":
                raise InputError(f"options.{option}: job {ref} is {row[7]}; give a finished "
                                 f"job")
            return f"jobs/{ref}/out"

        known = kinds.available().get(job.kind)
        if known is None:
            raise kinds.refuse_kind(job.kind)
        params = {q.name for q in known}
        job_id = secrets.token_hex(8)
        owned: list[str] = []
        if "out" in params:
            # a report is one .html file; every other command writes a folder
            owned += ["--out", f"jobs/{job_id}/out" + ("/report.html" if job.kind == "report"
                                                       else "")]
        if "fmt" in params:
            owned += ["--format", "json"]
        argv = kinds.build_argv(job.kind, job.options,
                                instance_path(data, job.instance, str(inst[3])),
                                resolve_file, resolve_job, owned)
        store.add_job({"id": job_id, "instance_id": job.instance, "alliance": inst[1],
                       "kind": job.kind, "options": json.dumps(job.options),
                       "argv": json.dumps(argv), "created_by": p.token_id})
        store.note(job_id, f"queued by token {p.token_id}")
        store.audit(p.who, f"run {job.kind}", job.instance, job_id,
                    json.dumps(job.options)[:1000])
        if runner is not None:
            runner.wake()
        row = store.job(job_id)
        assert row is not None
        return _job_out(row)

    @app.get("/v1/jobs", response_model=list[JobOut], tags=["jobs"])
    def list_jobs(p: Who, instance: Annotated[str | None, Query(max_length=64)] = None
                  ) -> list[JobOut]:
        """The jobs this token may see, oldest first; of one instance if given."""
        return [_job_out(r) for r in store.jobs(p.scope(), instance)]

    @app.get("/v1/jobs/{job_id}", response_model=JobOut, tags=["jobs"],
             responses={404: {"model": Problem}})
    async def get_job(job_id: str, p: Who) -> JobOut:
        """A job's state, phase and time so far."""
        return _job_out(own_job(p, job_id))

    @app.post("/v1/jobs/{job_id}/cancel", response_model=JobOut, tags=["jobs"],
              responses={404: {"model": Problem}, 409: {"model": Problem}})
    def cancel_job(job_id: str, p: Who) -> JobOut:
        """Cancel a queued or running job."""
        require(p, "admin", "planner")
        row = own_job(p, job_id)
        if row[7] not in ("queued", "running"):
            raise ApiError(409, "Conflict", f"job {job_id}: is {row[7]}; only a queued or "
                           f"running job can be cancelled")
        if not store.cancel_queued(job_id):
            store.set_job(job_id, cancel_requested=1, phase="cancelling")
            if runner is not None:
                runner.wake()
        store.audit(p.who, "cancel", row[2], job_id)
        done = store.job(job_id)
        assert done is not None
        return _job_out(done)

    @app.get("/v1/jobs/{job_id}/result", tags=["results"],
             responses={404: {"model": Problem}, 409: {"model": Problem},
                        200: {"content": {"application/json": {}}}})
    async def get_result(job_id: str, p: Who) -> Response:
        """The command's JSON output (what ``--format json`` prints)."""
        row = own_job(p, job_id)
        if row[7] in ("queued", "running"):
            raise ApiError(409, "Not ready", f"job {job_id}: is {row[7]}; poll GET "
                           f"/v1/jobs/{job_id} until it is finished")
        return _file(job_id, "result.json")

    @app.get("/v1/jobs/{job_id}/files", response_model=list[FileOut], tags=["results"],
             responses={404: {"model": Problem}})
    async def list_files(job_id: str, p: Who) -> list[FileOut]:
        """A job's result files: JSON, CSV, GeoPackage with GeoJSON copies, HTML."""
        own_job(p, job_id)
        return [FileOut(name=r[0], media_type=r[1], sha256=r[2], size_bytes=int(r[3]))
                for r in store.result_list(job_id)]

    @app.get("/v1/jobs/{job_id}/files/{name:path}", tags=["results"],
             responses={404: {"model": Problem}})
    async def get_file(job_id: str, name: str, p: Who) -> Response:
        """One result file by the name GET /v1/jobs/ID/files lists."""
        own_job(p, job_id)
        return _file(job_id, name)

    def _file(job_id: str, name: str) -> Response:
        got = store.result(job_id, name)
        if got is None:
            raise ApiError(404, "Not found", f"job {job_id}: has no result '{name[:100]}'; "
                           f"list them with GET /v1/jobs/{job_id}/files")
        media, digest, content = got
        if sha256(content) != digest:
            raise ApiError(500, "Corrupted", f"job {job_id}: stored result {name} does not "
                           f"match its hash")
        return Response(content, media_type=media, headers={"ETag": f'"{digest}"'})

    # -- admin -----------------------------------------------------------------------------

    @app.post("/v1/tokens", response_model=TokenOut, status_code=201, tags=["admin"],
              responses={403: {"model": Problem}})
    def create_token(body: TokenIn, p: Who) -> TokenOut:
        """Create a member token (admin only); its secret is shown once."""
        require(p, "admin")
        out = new_token(store, body.role, body.alliance, body.label)
        store.audit(p.who, "create token", None, None, f"{out.id} {out.role} {out.alliance}")
        return out

    @app.get("/v1/audit", response_model=list[AuditOut], tags=["admin"],
             responses={403: {"model": Problem}})
    def audit(p: Who, limit: Annotated[int, Query(ge=1, le=10_000)] = 100) -> list[AuditOut]:
        """Who ran what on which instance, newest first (admin only)."""
        require(p, "admin")
        return [AuditOut(seq=r[0], at=r[1], token=r[2], role=r[3], alliance=r[4],
                         action=r[5], instance=r[6], job=r[7], detail=r[8])
                for r in store.audit_log(limit)]

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            from fastapi.openapi.utils import get_openapi

            doc = get_openapi(title=app.title, version=app.version,
                              description=app.description, routes=app.routes)
            problem_problem_json(doc)
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def problem_problem_json(doc: dict[str, Any]) -> None:
    """Every error answer in the API document is a Problem as ``application/problem+json``.

    FastAPI documents error models as ``application/json`` and its own validation error
    shape; the service answers every error with a problem, whatever the status (``default``).
    """
    ref = {"$ref": "#/components/schemas/Problem"}
    doc.setdefault("components", {}).setdefault("schemas", {}).pop("HTTPValidationError", None)
    doc["components"]["schemas"].pop("ValidationError", None)
    for path, operations in doc.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            if path.startswith("/v1/"):
                responses.setdefault("401", {"description": "No or unknown token"})
                responses.setdefault("429", {"description": "Over the token's rate"})
            responses.setdefault("default", {"description": "A problem (RFC 9457)"})
            for code, response in responses.items():
                if code == "default" or int(code) >= 400:
                    response["content"] = {PROBLEM: {"schema": ref}}


async def _in_thread(fn: Callable[..., Any], *args: Any) -> Any:
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(fn, *args)


def _validate_upload(data: Path, instance_id: str, fmt: str, body: bytes, limits: Limits
                     ) -> tuple[int, list[str], list[str], str]:
    """Unpack an upload into its scratch folder and validate it as the CLI does."""
    try:
        folder = write_instance(data, instance_id, fmt, body)
    except InputError as err:
        shutil.rmtree(data / "instances" / instance_id, ignore_errors=True)
        return 1, list(err.problems), [], ""
    relative = instance_path(data, instance_id, fmt)
    code, errors, warnings, summary = run_validate(data, relative, limits)
    # messages name files as the user knows them, not where the server keeps them
    prefix = relative + "/" if fmt == "folder" else f"instances/{instance_id}/"
    errors = [e.replace(prefix, "").replace(relative, "upload") for e in errors]
    warnings = [w.replace(prefix, "").replace(relative, "upload") for w in warnings]
    summary = " ".join(summary.replace(relative, "upload").split())
    if code != 0:
        shutil.rmtree(folder, ignore_errors=True)
    return code, errors, warnings, summary


def _instance_out(r: tuple[Any, ...]) -> InstanceOut:
    return InstanceOut(id=r[0], alliance=r[1], name=r[2], format=r[3], sha256=r[4],
                       size_bytes=int(r[5]), summary=r[6], warnings=json.loads(r[7]),
                       created=float(r[8]))


def _job_out(r: tuple[Any, ...]) -> JobOut:
    state, started, finished = r[7], r[14], r[15]
    elapsed = None
    if started is not None:
        elapsed = round((finished if finished is not None else time.time()) - started, 3)
    message = r[9]
    return JobOut(id=r[0], instance=r[2], alliance=r[3], kind=r[4], options=json.loads(r[5]),
                  state=state, phase=r[8], elapsed_s=elapsed, attempts=int(r[11]),
                  message=message.splitlines()[0] if message else None,
                  errors=message.splitlines() if message and state == "failed" else [],
                  exit_code=r[10], created=float(r[13]), started=started, finished=finished,
                  history=[h for h in str(r[17]).splitlines() if h])


def _version() -> str:
    from reserve_opt import __version__

    return str(__version__)


Handler = Callable[[Request], Awaitable[Response]]
