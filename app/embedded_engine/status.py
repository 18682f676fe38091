"""What the embedded engine says of itself: health, readiness, and what it holds (for /metrics).

Readiness asks for a real write: a permission bit says little (the service may run as root) and
nothing of a journal that another process holds locked, or that is damaged. The probe commits a
write on a connection of its own, outside the group commit, with a short timeout, at most once a
second per process. What the results folder holds is read by walking it, at most once a minute.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import urllib.parse
from collections.abc import Callable
from typing import Any

from app.data_ingestor import Dataset
from app.embedded_engine.journal import Journal
from app.embedded_engine.local_jobs import LocalJobs
from app.embedded_engine.store import SHARED_FOLDER, ResultStore
from app.engine.interface import Inventory
from app.engine.readiness import NO_ROWS, SHUTTING_DOWN, CachedCheck, shutdown_or_store
from app.errors import Unavailable
from app.task_runner import ThreadPool

#: Seconds the probe's write waits for a journal that another connection holds locked.
WRITE_TIMEOUT_S = 1.0
#: Seconds a probe's write to the journal is trusted before another is made.
WRITE_EVERY_S = 1.0
#: Seconds the results folder's file count and size are trusted before it is walked again.
USAGE_EVERY_S = 60.0


class JournalProbe:
    """Commits a write that changes no value (the id sequence set to itself) in the journal."""

    def __init__(self, path: str, timeout: float = WRITE_TIMEOUT_S) -> None:
        self.path = path
        self.timeout = timeout
        self._db: sqlite3.Connection | None = None

    def __call__(self) -> str | None:
        """None if the write committed within the timeout, else why not (one line). One caller
        at a time: readiness runs it under the lock of its cached check."""
        try:
            if self._db is None:
                uri = f"file:{urllib.parse.quote(self.path)}?mode=rw"  # never creates a file
                self._db = sqlite3.connect(
                    uri, uri=True, timeout=self.timeout, isolation_level=None,
                    check_same_thread=False,
                )  # fmt: skip
            self._db.execute("UPDATE sqlite_sequence SET seq = seq WHERE name = 'jobs'")
        except sqlite3.Error as error:
            self.close()
            return f"job journal {self.path} cannot take a write: {error}"
        return None

    def close(self) -> None:
        """Close its connection (the next call opens one again)."""
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db = None


def folder_usage(folder: str) -> tuple[int, int]:
    """(result files, bytes) in a results folder and its shared answers: every job's file
    counts, a file's bytes once however many names it has (shared answers are hard links)."""
    files, size, seen = 0, 0, set()
    for where, is_results in ((folder, True), (f"{folder}/{SHARED_FOLDER}", False)):
        with contextlib.suppress(FileNotFoundError), os.scandir(where) as entries:
            for entry in entries:
                if not entry.name.endswith(".json") or entry.name.startswith("."):
                    continue
                with contextlib.suppress(FileNotFoundError):
                    info = entry.stat(follow_symlinks=False)
                    files += is_results
                    if info.st_ino not in seen:
                        seen.add(info.st_ino)
                        size += info.st_size
    return files, size


def free_bytes(folder: str) -> int:
    """Bytes an unprivileged writer may still use on the file system of `folder`."""
    stats = os.statvfs(folder)
    return stats.f_bavail * stats.f_frsize


class Status:
    """The checks and figures of one process's embedded engine."""

    def __init__(
        self,
        dataset: Dataset,
        store: ResultStore,
        journal: Journal,
        pool: ThreadPool | None,
        local: LocalJobs,
    ) -> None:
        self.dataset = dataset
        self.store = store
        self.journal = journal
        self.pool = pool
        self.local = local
        self.probe = JournalProbe(journal.path)
        self._writes = CachedCheck(self.probe, WRITE_EVERY_S)
        self._usage = CachedCheck(lambda: folder_usage(str(store.folder)), USAGE_EVERY_S)

    def pool_down(self) -> str | None:
        """Why the pool cannot run all the jobs it should (some of its threads are dead)."""
        pool = self.pool
        if pool is None or pool.alive >= pool.num_threads:
            return None
        return f"{pool.num_threads - pool.alive} of {pool.num_threads} pool threads down"

    def health(self) -> tuple[list[str], dict[str, Any]]:
        """/api/health's reasons and counters (the engine adds who it is)."""
        reasons = [] if self.dataset.rows_used else [NO_ROWS]
        if not self.store.writable():
            reasons.append(f"results folder {self.store.folder} is not writable")
        details: dict[str, Any] = {"jobs_issued": None, "jobs_pending": None}
        try:
            self.local.record()
            details["jobs_issued"] = self.journal.highest()
            details["jobs_pending"] = self.journal.count_running()
            if not os.access(self.journal.path, os.W_OK):
                reasons.append(f"job journal {self.journal.path} is not writable")
        except Unavailable as error:
            reasons.append(error.reason)
        pool, down = self.pool, self.pool_down()
        reasons += [down] if down else []
        return reasons, {
            "threads": pool.num_threads if pool else 0,
            "threads_alive": pool.alive if pool else 0,
            "threads_replaced": pool.replaced if pool else 0,
            **details,
        }

    def ready(self, closed_here: bool, closed: Callable[[], bool]) -> list[str]:
        """/api/readyz's reasons; `closed` asks the journal whether a shutdown began anywhere."""
        if closed_here:
            return [SHUTTING_DOWN]  # known here: no need to ask the journal
        shutdown = shutdown_or_store(closed)
        if shutdown == SHUTTING_DOWN:
            return [shutdown]
        reasons = [] if self.dataset.rows_used else [NO_ROWS]
        if not self.store.writable():
            reasons.append(f"results folder {self.store.folder} is not writable")
        problems = (shutdown, self._writes(), self.pool_down())
        return reasons + [problem for problem in problems if problem]

    def inventory(self) -> Inventory:
        """Pending jobs and rows by status (the journal), result files and bytes, free disk."""
        self.local.record()
        stored = self.journal.counts()
        files, size = self._usage()
        folders = {"results": str(self.store.folder), "journal": os.path.dirname(self.journal.path)}
        return Inventory(
            pending=stored.get("running", 0),
            stored=stored,
            result_files=files,
            result_bytes=size,
            free_bytes={role: free_bytes(folder) for role, folder in folders.items()},
        )
