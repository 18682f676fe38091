"""Group commit for a process's journal writes: what many threads ask, in one transaction.

A commit costs more than the small statements it commits, and threads that each commit their own
statement queue up behind SQLite's write lock one by one. Here a thread that wants to write queues
its statement; if no commit is under way it leads: it takes every statement queued so far, runs
them in one transaction, wakes their threads with their rows, and hands the lead to the next
thread waiting, if any. Alone, a thread commits its own statement at once; under load one
transaction carries the writes of several jobs. No thread of its own, so no extra hand-over.

Between processes a lock on the journal file orders the commits: a process waits its turn in the
kernel, woken as soon as the lock is free, rather than in SQLite's busy handler, which sleeps in
steps of milliseconds.
"""

from __future__ import annotations

import _thread
import contextlib
import fcntl
import os
import sqlite3
import threading
from collections.abc import Callable
from typing import Any


class _Write:
    """One queued statement: `execute` (or `executemany`) parameters, then its outcome."""

    __slots__ = ("error", "inserted", "lead", "many", "params", "rows", "sql", "woken")

    def __init__(self, sql: str, params: Any, many: bool, inserted: bool) -> None:
        self.sql = sql
        self.params = params
        self.many = many
        self.inserted = inserted
        self.rows: list[Any] = []
        self.error: sqlite3.Error | None = None
        self.lead = False
        self.woken = _thread.allocate_lock()
        self.woken.acquire()  # released once its outcome is known, or when it is to lead


class Committer:
    """Runs the journal writes of every thread of this process, group-committed."""

    def __init__(self, path: str, connect: Callable[[str], sqlite3.Connection]) -> None:
        self.path = path
        self._connect = connect
        self._lock = threading.Lock()
        self._queue: list[_Write] = []
        self._leading = False
        self._db: sqlite3.Connection | None = None
        self._turn = -1  # the journal file, open for its lock

    def write(
        self, sql: str, params: Any = (), many: bool = False, inserted: bool = False
    ) -> list[Any]:
        """Run `sql` in the next transaction and return its rows; sqlite3.Error if it failed
        (nothing of it was committed then). With `inserted` the rows are [(the new row's id,)]
        if an INSERT added a row, else []: one step of the statement, where RETURNING takes two
        (and every step gives up the GIL)."""
        item = _Write(sql, params, many, inserted)
        with self._lock:
            self._queue.append(item)
            if not self._leading:
                self._leading = item.lead = True
        if not item.lead:
            item.woken.acquire()
        if item.lead:
            self._lead()
        if item.error is not None:
            raise item.error
        return item.rows

    def _lead(self) -> None:
        """Commit everything queued, wake its writers, hand the lead on (or give it up)."""
        with self._lock:
            batch, self._queue = self._queue, []
        self._commit(batch)
        with self._lock:
            successor = self._queue[0] if self._queue else None
            if successor is None:
                self._leading = False
            else:
                successor.lead = True
        for item in batch:
            if not item.lead:
                item.woken.release()
        if successor is not None:
            successor.woken.release()

    def _commit(self, batch: list[_Write]) -> None:
        """Run `batch` in one transaction, holding the journal's lock between processes; on a
        failure every write of it gets the error."""
        try:
            if self._db is None:
                self._db = self._connect(self.path)
                self._turn = os.open(self.path, os.O_RDONLY)
            db = self._db
            fcntl.flock(self._turn, fcntl.LOCK_EX)
            try:
                if len(batch) == 1:  # its own transaction: no BEGIN and COMMIT to send
                    _execute(db, batch[0])
                else:
                    db.execute("BEGIN IMMEDIATE")
                    try:
                        for item in batch:
                            _execute(db, item)
                        db.execute("COMMIT")
                    except BaseException:
                        with contextlib.suppress(sqlite3.Error):
                            db.execute("ROLLBACK")
                        raise
            finally:
                fcntl.flock(self._turn, fcntl.LOCK_UN)
        except (sqlite3.Error, OSError) as error:
            failure = error if isinstance(error, sqlite3.Error) else sqlite3.Error(error)
            for item in batch:
                item.error, item.rows = item.error or failure, []
            self._disconnect()  # open afresh next time: the journal may have been replaced

    def close(self) -> None:
        """Close the connection and the lock file unless a commit is under way (a later write
        opens them again)."""
        with self._lock:
            if not self._leading:
                self._disconnect()

    def _disconnect(self) -> None:
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db = None
        if self._turn >= 0:
            os.close(self._turn)
            self._turn = -1


def _execute(db: sqlite3.Connection, item: _Write) -> None:
    """One statement of the transaction. A constraint it breaks is its writer's failure alone;
    any other error (I/O, a damaged journal) ends the transaction for all."""
    try:
        if item.many:
            db.executemany(item.sql, item.params)
        elif item.inserted:
            cursor = db.execute(item.sql, item.params)
            item.rows = [(cursor.lastrowid,)] if cursor.rowcount > 0 else []
        else:
            item.rows = db.execute(item.sql, item.params).fetchall()
    except sqlite3.IntegrityError as error:
        item.error = error
