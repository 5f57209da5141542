"""Where the service keeps what must survive a restart: SQLite in the data folder or PostgreSQL.

One schema, one set of queries (written with ``?`` placeholders; PostgreSQL gets ``%s``).
Instance documents and result files are stored in the database with their SHA-256, so the
data folder holds only scratch copies the server can rebuild. Each thread has its own
connection; every statement commits on its own (autocommit) except the few claims that
must be atomic, which are single ``UPDATE ... WHERE state = ...`` statements.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from reserve_opt.errors import InputError

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS tokens (
        id TEXT PRIMARY KEY, secret_sha256 TEXT NOT NULL UNIQUE, role TEXT NOT NULL,
        alliance TEXT, label TEXT, created REAL NOT NULL, revoked INTEGER NOT NULL DEFAULT 0)""",
    """CREATE TABLE IF NOT EXISTS instances (
        id TEXT PRIMARY KEY, alliance TEXT NOT NULL, name TEXT NOT NULL, format TEXT NOT NULL,
        sha256 TEXT NOT NULL, size_bytes INTEGER NOT NULL, document BLOB NOT NULL,
        summary TEXT NOT NULL, warnings TEXT NOT NULL, created REAL NOT NULL,
        created_by TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS jobs (
        id TEXT PRIMARY KEY, seq INTEGER NOT NULL, instance_id TEXT NOT NULL,
        alliance TEXT NOT NULL, kind TEXT NOT NULL, options TEXT NOT NULL, argv TEXT NOT NULL,
        state TEXT NOT NULL, phase TEXT NOT NULL, message TEXT, exit_code INTEGER,
        attempts INTEGER NOT NULL DEFAULT 0, cancel_requested INTEGER NOT NULL DEFAULT 0,
        created REAL NOT NULL, started REAL, finished REAL, created_by TEXT NOT NULL,
        history TEXT NOT NULL DEFAULT '')""",
    "CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state, seq)",
    """CREATE TABLE IF NOT EXISTS results (
        job_id TEXT NOT NULL, name TEXT NOT NULL, media_type TEXT NOT NULL,
        sha256 TEXT NOT NULL, size_bytes INTEGER NOT NULL, content BLOB NOT NULL,
        PRIMARY KEY (job_id, name))""",
    """CREATE TABLE IF NOT EXISTS audit (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, token_id TEXT,
        role TEXT, alliance TEXT, action TEXT NOT NULL, instance_id TEXT, job_id TEXT,
        detail TEXT NOT NULL DEFAULT '')""",
]

JOB_COLUMNS = ("id, seq, instance_id, alliance, kind, options, argv, state, phase, message, "
               "exit_code, attempts, cancel_requested, created, started, finished, "
               "created_by, history")
INSTANCE_COLUMNS = ("id, alliance, name, format, sha256, size_bytes, summary, warnings, "
                    "created, created_by")


def sha256(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


class Store:
    """The service's database: SQLite (a file) or PostgreSQL (a ``postgresql://`` URL).

    Parameters
    ----------
    url
        ``sqlite:///ABSOLUTE/PATH`` or ``postgresql://user@host:port/db``.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite:///"):
            self.kind = "sqlite"
            self._path = url[len("sqlite:///"):]
        elif url.startswith(("postgresql://", "postgres://")):
            self.kind = "postgresql"
            self._path = ""
        else:
            raise InputError(f"--db {url}: is not a database URL; give postgresql://USER@HOST:"
                             f"PORT/DB, or leave --db out for SQLite in --data")
        self._local = threading.local()
        self._lock = threading.Lock()
        with self._connection() as con:
            cur = con.cursor()
            for statement in SCHEMA:
                cur.execute(self._sql(statement))

    def _sql(self, statement: str) -> str:
        if self.kind == "postgresql":
            statement = (statement.replace("BLOB", "BYTEA")
                         .replace("INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY")
                         .replace("?", "%s"))
        return statement

    def _connect(self) -> Any:
        if self.kind == "sqlite":
            con = sqlite3.connect(self._path, timeout=30, isolation_level=None,
                                  check_same_thread=False)
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=NORMAL")
            return con
        import psycopg

        try:
            return psycopg.connect(self.url, autocommit=True, connect_timeout=10)
        except psycopg.OperationalError as err:
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise InputError(f"--db: cannot connect to PostgreSQL ({first}); start the server "
                             f"or give the right URL") from None

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        con = getattr(self._local, "con", None)
        if con is None:
            con = self._connect()
            self._local.con = con
        yield con

    def execute(self, statement: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; the number of rows it changed."""
        with self._connection() as con:
            cur = con.cursor()
            cur.execute(self._sql(statement), tuple(params))
            return int(cur.rowcount)

    def query(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one query; its rows."""
        with self._connection() as con:
            cur = con.cursor()
            cur.execute(self._sql(statement), tuple(params))
            return [tuple(r) for r in cur.fetchall()]

    def close(self) -> None:
        """Close this thread's connection."""
        con = getattr(self._local, "con", None)
        if con is not None:
            con.close()
            self._local.con = None

    # -- tokens -------------------------------------------------------------------------

    def add_token(self, token_id: str, secret_sha256: str, role: str, alliance: str | None,
                  label: str) -> None:
        """Store a token by the hash of its secret."""
        self.execute("INSERT INTO tokens (id, secret_sha256, role, alliance, label, created) "
                     "VALUES (?, ?, ?, ?, ?, ?)",
                     (token_id, secret_sha256, role, alliance, label, time.time()))

    def token_by_hash(self, secret_sha256: str) -> tuple[Any, ...] | None:
        """``(id, secret_sha256, role, alliance)`` of the live token with that hash."""
        rows = self.query("SELECT id, secret_sha256, role, alliance FROM tokens "
                          "WHERE secret_sha256 = ? AND revoked = 0", (secret_sha256,))
        return rows[0] if rows else None

    # -- instances ----------------------------------------------------------------------

    def add_instance(self, row: dict[str, Any], document: bytes) -> None:
        """Store an instance document with its hash."""
        self.execute(
            "INSERT INTO instances (id, alliance, name, format, sha256, size_bytes, document, "
            "summary, warnings, created, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (row["id"], row["alliance"], row["name"], row["format"], sha256(document),
             len(document), document, row["summary"], row["warnings"], time.time(),
             row["created_by"]))

    def instances(self, alliance: str | None) -> list[tuple[Any, ...]]:
        """Instances of ``alliance`` (all when None), oldest first."""
        if alliance is None:
            return self.query(f"SELECT {INSTANCE_COLUMNS} FROM instances ORDER BY created")
        return self.query(f"SELECT {INSTANCE_COLUMNS} FROM instances WHERE alliance = ? "
                          f"ORDER BY created", (alliance,))

    def instance(self, instance_id: str) -> tuple[Any, ...] | None:
        """One instance's metadata row."""
        rows = self.query(f"SELECT {INSTANCE_COLUMNS} FROM instances WHERE id = ?",
                          (instance_id,))
        return rows[0] if rows else None

    def instance_document(self, instance_id: str) -> tuple[bytes, str]:
        """An instance's stored document and the hash it was stored with."""
        rows = self.query("SELECT document, sha256 FROM instances WHERE id = ?", (instance_id,))
        return bytes(rows[0][0]), str(rows[0][1])

    def delete_instance(self, instance_id: str) -> None:
        """Remove an instance, its jobs and their results."""
        for (job_id,) in self.query("SELECT id FROM jobs WHERE instance_id = ?", (instance_id,)):
            self.execute("DELETE FROM results WHERE job_id = ?", (job_id,))
        self.execute("DELETE FROM jobs WHERE instance_id = ?", (instance_id,))
        self.execute("DELETE FROM instances WHERE id = ?", (instance_id,))

    # -- jobs ---------------------------------------------------------------------------

    def add_job(self, row: dict[str, Any]) -> None:
        """Queue a job."""
        with self._lock:
            seq = self.query("SELECT COALESCE(MAX(seq), 0) + 1 FROM jobs")[0][0]
            self.execute(
                "INSERT INTO jobs (id, seq, instance_id, alliance, kind, options, argv, state, "
                "phase, created, created_by, history) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', 'waiting for a worker', ?, ?, '')",
                (row["id"], seq, row["instance_id"], row["alliance"], row["kind"],
                 row["options"], row["argv"], time.time(), row["created_by"]))

    def job(self, job_id: str) -> tuple[Any, ...] | None:
        """One job's row (:data:`JOB_COLUMNS`)."""
        rows = self.query(f"SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?", (job_id,))
        return rows[0] if rows else None

    def jobs(self, alliance: str | None, instance_id: str | None = None
             ) -> list[tuple[Any, ...]]:
        """Jobs, oldest first, of ``alliance`` (all when None) and of one instance if given."""
        where, params = [], []
        if alliance is not None:
            where.append("alliance = ?")
            params.append(alliance)
        if instance_id is not None:
            where.append("instance_id = ?")
            params.append(instance_id)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        return self.query(f"SELECT {JOB_COLUMNS} FROM jobs{clause} ORDER BY seq", params)

    def jobs_in(self, states: Sequence[str]) -> list[tuple[Any, ...]]:
        """Jobs in any of ``states``, in the order they were queued."""
        marks = ", ".join("?" for _ in states)
        return self.query(f"SELECT {JOB_COLUMNS} FROM jobs WHERE state IN ({marks}) "
                          f"ORDER BY seq", list(states))

    def claim(self, job_id: str) -> bool:
        """Move a queued job to running; False if another state won the race (a cancel)."""
        return self.execute(
            "UPDATE jobs SET state = 'running', phase = 'solving', started = ?, "
            "attempts = attempts + 1 WHERE id = ? AND state = 'queued'",
            (time.time(), job_id)) == 1

    def set_job(self, job_id: str, **fields: Any) -> None:
        """Update some columns of a job."""
        names = list(fields)
        self.execute(f"UPDATE jobs SET {', '.join(f'{n} = ?' for n in names)} WHERE id = ?",
                     [*(fields[n] for n in names), job_id])

    def note(self, job_id: str, line: str) -> None:
        """Add a line to a job's history (what happened to it, with the time)."""
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self.execute("UPDATE jobs SET history = history || ? WHERE id = ?",
                     (f"{stamp} {line}\n", job_id))

    def cancel_queued(self, job_id: str) -> bool:
        """Cancel a job that has not started; False if it is no longer queued."""
        return self.execute(
            "UPDATE jobs SET state = 'cancelled', phase = 'cancelled before it started', "
            "finished = ?, message = 'cancelled' WHERE id = ? AND state = 'queued'",
            (time.time(), job_id)) == 1

    # -- results ------------------------------------------------------------------------

    def add_results(self, job_id: str, files: Sequence[tuple[str, str, bytes]]) -> None:
        """Store a job's result files ``(name, media type, content)`` with their hashes."""
        self.execute("DELETE FROM results WHERE job_id = ?", (job_id,))
        for name, media_type, content in files:
            self.execute("INSERT INTO results (job_id, name, media_type, sha256, size_bytes, "
                         "content) VALUES (?, ?, ?, ?, ?, ?)",
                         (job_id, name, media_type, sha256(content), len(content), content))

    def result_list(self, job_id: str) -> list[tuple[Any, ...]]:
        """``(name, media_type, sha256, size_bytes)`` of a job's files."""
        return self.query("SELECT name, media_type, sha256, size_bytes FROM results "
                          "WHERE job_id = ? ORDER BY name", (job_id,))

    def result(self, job_id: str, name: str) -> tuple[str, str, bytes] | None:
        """``(media_type, sha256, content)`` of one result file."""
        rows = self.query("SELECT media_type, sha256, content FROM results "
                          "WHERE job_id = ? AND name = ?", (job_id, name))
        if not rows:
            return None
        return str(rows[0][0]), str(rows[0][1]), bytes(rows[0][2])

    # -- audit --------------------------------------------------------------------------

    def audit(self, who: tuple[str, str, str | None] | None, action: str,
              instance_id: str | None = None, job_id: str | None = None,
              detail: str = "") -> None:
        """Record who did what on which instance or job."""
        token_id, role, alliance = who if who is not None else (None, None, None)
        self.execute("INSERT INTO audit (at, token_id, role, alliance, action, instance_id, "
                     "job_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     (time.time(), token_id, role, alliance, action, instance_id, job_id,
                      detail))

    def audit_log(self, limit: int) -> list[tuple[Any, ...]]:
        """The last ``limit`` audit entries, newest first."""
        return self.query("SELECT seq, at, token_id, role, alliance, action, instance_id, "
                          "job_id, detail FROM audit ORDER BY seq DESC LIMIT ?", (limit,))


def store_for(data: Path, db: str | None) -> Store:
    """The store ``serve --data DIR [--db URL]`` uses: ``--db`` or SQLite in ``DIR``."""
    if db is None:
        return Store(f"sqlite:///{(data / 'service.sqlite3').resolve()}")
    return Store(db)
