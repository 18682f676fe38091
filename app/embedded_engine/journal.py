"""The job journal: every live job in one SQLite table, shared by all of the server's processes.

WAL mode lets readers go on while one process writes; synchronous=NORMAL makes a commit an append
to the write-ahead log without waiting for the disk (a power cut may lose the last commits, a
crashed process loses nothing). The log is copied back into the database (checkpointed, with an
fsync) by the maintenance thread twice a second, not by the commits of jobs. Each job is a row
from the moment it is accepted; its id is the row's AUTOINCREMENT key, so ids are unique across
threads, processes and restarts and never reused, even after the row is purged. Times are UTC,
in seconds since the epoch.
"""

from __future__ import annotations

import contextlib
import os
import queue
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from app.config import StartupError
from app.embedded_engine.committer import Committer
from app.engine.job import JobStatus
from app.errors import ShuttingDown, Unavailable

#: How long a statement waits for another process's write before it fails, in seconds.
BUSY_TIMEOUT_S = 10.0
SCHEMA_VERSION = 1
#: Bytes per database page (SQLite's default is 4096).
PAGE_SIZE = 1024
#: Log pages after which a commit checkpoints the journal itself (16 MiB). Normally the
#: maintenance thread checkpoints first, twice a second; this only bounds the log if it does not.
AUTOCHECKPOINT_PAGES = 16384
_SCHEMA = (
    """CREATE TABLE jobs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        endpoint TEXT NOT NULL,
        request TEXT NOT NULL,
        status TEXT NOT NULL,
        accepted REAL NOT NULL,
        started REAL,
        finished REAL,
        reason TEXT,
        owner TEXT
    )""",
    # Serves the pending count, the expiry scan, the counts by status and adoption.
    "CREATE INDEX jobs_by_status ON jobs (status, finished)",
    # Service-wide switches; today only 'shutdown' (a graceful shutdown began).
    "CREATE TABLE flags (name TEXT PRIMARY KEY)",
)
_COLUMNS = "id, endpoint, request, status, accepted, started, finished, reason"
_RUNNING = JobStatus.RUNNING.value


@dataclass(frozen=True)
class JobRecord:
    """One job as the journal knows it."""

    number: int
    endpoint: str
    request: dict[str, Any]
    status: JobStatus
    accepted: float
    started: float | None
    finished: float | None
    reason: str | None

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> JobRecord:
        number, endpoint, request, status, *times, reason = row
        return cls(number, endpoint, orjson.loads(request), JobStatus(status), *times, reason)


class JournalError(StartupError):
    """The journal cannot be created, opened or written; the message names its file."""


def _connect(path: str) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), for any thread."""
    db = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
    )
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")
    return db


def prepare(path: str, legacy: Iterable[tuple[int, JobStatus, float]], highest: int) -> None:
    """Create the journal, or check the one there; fail with a JournalError naming the file.

    A new journal takes in what a results folder of the earlier layout holds: `legacy` gives
    (number, status, time) of its result files, `highest` the highest id it may have issued, so
    that new ids go on above every old one and old answers expire like any other.
    """
    try:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    except (OSError, sqlite3.Error) as error:
        raise JournalError(f"job journal {path}: cannot create it ({error})") from None
    try:
        # Small pages: every commit appends each page it changed to the log, and a job's rows
        # are a few hundred bytes. Only a new database takes it (before WAL mode is set).
        db.execute(f"PRAGMA page_size={PAGE_SIZE}")
        if db.execute("PRAGMA journal_mode=WAL").fetchone()[0].lower() != "wal":
            raise JournalError(f"job journal {path}: cannot switch it to WAL mode")
        db.execute("BEGIN IMMEDIATE")
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version == 0:
            for statement in _SCHEMA:
                db.execute(statement)
            db.executemany(
                "INSERT INTO jobs (id, endpoint, request, status, accepted, finished) "
                "VALUES (?, '', '{}', ?, ?, ?)",
                ((number, status.value, at, at) for number, status, at in legacy),
            )
            # Inserting the legacy rows made the sequence their highest id, if there were any.
            if not db.execute(
                "UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = 'jobs'", (highest,)
            ).rowcount:
                db.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('jobs', ?)", (highest,))
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        elif version != SCHEMA_VERSION:
            raise JournalError(f"job journal {path}: unknown schema version {version}")
        db.execute("SELECT count(*) FROM jobs WHERE status = ?", (_RUNNING,)).fetchone()
        db.execute("COMMIT")
    except sqlite3.Error as error:
        raise JournalError(f"job journal {path}: not usable ({error})") from None
    finally:
        db.close()


class Journal:
    """The journal of one process: reads on a small pool of connections, writes group-committed
    (`app.embedded_engine.committer`): what several threads ask at once goes in one transaction."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._idle: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._committer = Committer(path, _connect)

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        """A connection for one statement or transaction; any SQLite failure is a 503."""
        try:
            db = self._idle.get_nowait()
        except queue.Empty:
            try:
                db = _connect(self.path)
            except sqlite3.Error as error:
                raise Unavailable(f"job journal unavailable: {error}") from None
        try:
            yield db
        except sqlite3.Error as error:
            with contextlib.suppress(sqlite3.Error):
                if db.in_transaction:
                    db.execute("ROLLBACK")
            raise Unavailable(f"job journal unavailable: {error}") from None
        finally:
            self._idle.put(db)

    def _one(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        """The first row of a query (or None)."""
        with self._db() as db:
            return db.execute(sql, params).fetchone()

    def _write(
        self, sql: str, params: Any = (), many: bool = False, inserted: bool = False
    ) -> list[Any]:
        """Run one writing statement in the next group commit; its rows."""
        try:
            return self._committer.write(sql, params, many, inserted)
        except sqlite3.Error as error:
            raise Unavailable(f"job journal unavailable: {error}") from None

    # -- the life of a job ----------------------------------------------------------------------

    def accept(self, endpoint: str, request: dict[str, Any], owner: str, now: float) -> int:
        """Record a new job and return its number; ShuttingDown once a shutdown began."""
        rows = self._write(
            "INSERT INTO jobs (endpoint, request, status, accepted, owner) "
            "SELECT ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM flags WHERE name = 'shutdown')",
            (endpoint, orjson.dumps(request).decode(), _RUNNING, now, owner),
            inserted=True,
        )
        if not rows:
            raise ShuttingDown()
        return rows[0][0]

    def finish_many(self, ends: list[tuple[int, JobStatus, float, float, str | None]]) -> None:
        """Record how jobs ended: (number, status, started, finished, reason) each."""
        self._write(
            "UPDATE jobs SET status = ?, started = ?, finished = ?, reason = ? WHERE id = ?",
            [(status.value, started, finished, reason, n) for n, status, started, finished,
             reason in ends],
            many=True,
        )  # fmt: skip

    def adopt(self, owner: str, new_owner: str) -> list[JobRecord]:
        """Take over the unfinished jobs of `owner` (a process that died) for `new_owner`."""
        rows = self._write(
            f"UPDATE jobs SET owner = ? WHERE status = ? AND owner IS ? RETURNING {_COLUMNS}",
            (new_owner, _RUNNING, owner),
        )
        return sorted((JobRecord.from_row(row) for row in rows), key=lambda r: r.number)

    def delete(self, numbers: list[int]) -> None:
        """Forget jobs `numbers` (their answers are gone)."""
        self._write("DELETE FROM jobs WHERE id = ?", [(number,) for number in numbers], many=True)

    # -- queries --------------------------------------------------------------------------------

    def record(self, number: int) -> JobRecord | None:
        """Job `number`, or None if the journal has no such row (never issued, or purged)."""
        row = self._one(f"SELECT {_COLUMNS} FROM jobs WHERE id = ?", (number,))
        return None if row is None else JobRecord.from_row(row)

    def highest(self) -> int:
        """The highest job number ever issued (0 before the first)."""
        row = self._one("SELECT seq FROM sqlite_sequence WHERE name = 'jobs'")
        return row[0] if row else 0

    def count_running(self) -> int:
        """Jobs accepted and not finished, by every process."""
        return self._one("SELECT count(*) FROM jobs WHERE status = ?", (_RUNNING,))[0]

    def count_live(self, after: int = 0) -> tuple[int, int]:
        """(jobs numbered above `after`, the highest number issued), read in one snapshot. With
        `after` 0 every row (a scan of the status index); else a range of the newest ids."""
        with self._db() as db:
            db.execute("BEGIN")
            try:
                row = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'jobs'").fetchone()
                if after:
                    query = db.execute("SELECT count(*) FROM jobs WHERE id > ?", (after,))
                else:
                    query = db.execute("SELECT count(*) FROM jobs")
                return query.fetchone()[0], row[0] if row else 0
            finally:
                db.execute("COMMIT")

    def counts(self) -> dict[str, int]:
        """Live jobs by status."""
        counts = dict.fromkeys((status.value for status in JobStatus), 0)
        with self._db() as db:
            for status in counts:
                query = "SELECT count(*) FROM jobs WHERE status = ?"
                counts[status] = db.execute(query, (status,)).fetchone()[0]
        return counts

    def statuses(self) -> Iterator[tuple[int, JobStatus]]:
        """(number, status) of every live job, in id order, read as it is consumed."""
        with self._db() as db:
            for number, status in db.execute("SELECT id, status FROM jobs ORDER BY id"):
                yield number, JobStatus(status)

    def latest(self, limit: int) -> list[JobRecord]:
        """The `limit` most recently accepted live jobs, latest first."""
        with self._db() as db:
            rows = db.execute(f"SELECT {_COLUMNS} FROM jobs ORDER BY id DESC LIMIT ?", (limit,))
            return [JobRecord.from_row(row) for row in rows]

    def unfinished_owners(self) -> set[str | None]:
        """The owners of every unfinished job."""
        with self._db() as db:
            rows = db.execute("SELECT DISTINCT owner FROM jobs WHERE status = ?", (_RUNNING,))
            return {owner for (owner,) in rows}

    def expired(self, status: JobStatus, before: float, limit: int) -> list[int]:
        """Up to `limit` jobs with `status` that finished before `before`, oldest first."""
        with self._db() as db:
            rows = db.execute(
                "SELECT id FROM jobs WHERE status = ? AND finished < ? ORDER BY finished LIMIT ?",
                (status.value, before, limit),
            )
            return [number for (number,) in rows]

    # -- the shutdown flag ----------------------------------------------------------------------

    def request_shutdown(self) -> None:
        """From now on no process accepts a job."""
        self._write("INSERT OR IGNORE INTO flags (name) VALUES ('shutdown')")

    def shutting_down(self) -> bool:
        """True once any process began a graceful shutdown."""
        return self._one("SELECT 1 FROM flags WHERE name = 'shutdown'") is not None

    def clear_shutdown(self) -> None:
        """A new run of the server accepts jobs again."""
        self._write("DELETE FROM flags WHERE name = 'shutdown'")

    def checkpoint(self) -> None:
        """Copy the write-ahead log back into the database, without waiting for readers or
        writers (SQLite's PASSIVE mode): the log stays small and no commit pays for it."""
        self._one("PRAGMA wal_checkpoint(PASSIVE)")

    def close(self) -> None:
        """Close the connections (the journal opens new ones if it is used again)."""
        self._committer.close()
        with contextlib.suppress(queue.Empty):
            while True:
                self._idle.get_nowait().close()
