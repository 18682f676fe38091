"""Group commit of journal writes: batches under load, per-statement failures, failed commits."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from app.embedded_engine.committer import Committer

SCHEMA = "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, value TEXT NOT NULL UNIQUE)"
INSERT = "INSERT INTO t (value) VALUES (?) RETURNING id"


@pytest.fixture
def path(tmp_path: Path) -> str:
    db = sqlite3.connect(tmp_path / "j.sqlite3")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(SCHEMA)
    db.commit()
    db.close()
    return str(tmp_path / "j.sqlite3")


class Traced:
    """Connections that count the transactions they begin, and may hold the first write."""

    def __init__(self, hold_first: bool = False) -> None:
        self.begins = 0
        self.hold = threading.Event()
        self.holding = threading.Event()
        if not hold_first:
            self.holding.set()

    def connect(self, path: str) -> sqlite3.Connection:
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10)
        db.set_trace_callback(self._trace)
        return db

    def _trace(self, statement: str) -> None:
        if statement.startswith("BEGIN") or statement.startswith("INSERT"):
            self.begins += statement.startswith("BEGIN")
            if not self.holding.is_set():
                self.holding.set()
                self.hold.wait(10)


def rows(path: str) -> list[tuple[int, str]]:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT id, value FROM t ORDER BY id").fetchall()


def test_writes_queued_during_a_commit_go_in_one_transaction(path: str) -> None:
    traced = Traced(hold_first=True)
    committer = Committer(path, traced.connect)
    results: dict[str, list[tuple[int]]] = {}

    def write(value: str) -> None:
        results[value] = committer.write(INSERT, (value,))

    first = threading.Thread(target=write, args=("first",))
    first.start()
    assert traced.holding.wait(5)  # the first commit is under way and held
    others = [threading.Thread(target=write, args=(f"v{n}",)) for n in range(15)]
    for thread in others:
        thread.start()
    while len(committer._queue) < 15:  # all queued behind the held commit
        threading.Event().wait(0.001)
    traced.hold.set()
    for thread in [first, *others]:
        thread.join(10)
    assert traced.begins == 1  # the 15 followers: one transaction (the first ran on its own)
    ids = sorted(row[0][0] for row in results.values())
    assert ids == list(range(1, 17))
    assert len(rows(path)) == 16


def test_a_failing_statement_fails_its_writer_only(path: str) -> None:
    traced = Traced()
    committer = Committer(path, traced.connect)
    committer.write(INSERT, ("taken",))
    outcomes: dict[str, object] = {}
    barrier = threading.Barrier(8)

    def write(value: str) -> None:
        barrier.wait(5)
        try:
            outcomes[value] = committer.write(INSERT, (value,))
        except sqlite3.IntegrityError as error:
            outcomes[value] = error

    threads = [threading.Thread(target=write, args=(v,)) for v in ["taken", *"abcdefg"]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert isinstance(outcomes["taken"], sqlite3.IntegrityError)
    assert sorted(value for _, value in rows(path)) == sorted(["taken", *"abcdefg"])


def test_a_failed_commit_fails_every_writer_and_the_next_write_opens_afresh(
    path: str, tmp_path: Path
) -> None:
    traced = Traced()
    committer = Committer(path, traced.connect)
    committer.write(INSERT, ("before",))
    committer.close()
    Path(path).write_bytes(b"not a database" * 100)
    for leftover in (Path(f"{path}-wal"), Path(f"{path}-shm")):
        leftover.unlink(missing_ok=True)
    with pytest.raises(sqlite3.DatabaseError, match="not a database"):
        committer.write(INSERT, ("lost",))
    Path(path).unlink()
    db = sqlite3.connect(path)
    db.execute(SCHEMA)
    db.commit()
    db.close()
    assert committer.write(INSERT, ("after",)) == [(1,)]


def test_two_committers_on_one_journal_never_see_it_locked(path: str) -> None:
    """As two server processes: each waits its turn on the file lock, none fails."""
    committers = [Committer(path, Traced().connect) for _ in range(2)]
    errors: list[BaseException] = []

    def write(committer: Committer, base: int) -> None:
        try:
            for n in range(100):
                committer.write(INSERT, (f"{base}-{n}",))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=write, args=(committers[k % 2], k)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert len(rows(path)) == 800


def test_an_insert_asked_for_its_id_gets_the_id_of_its_own_row(path: str) -> None:
    """`inserted=True`: each writer of a shared transaction gets its row's id; an INSERT that
    adds no row (its guard said no) gets no id."""
    traced = Traced(hold_first=True)
    committer = Committer(path, traced.connect)
    plain = "INSERT INTO t (value) SELECT ? WHERE ? = 'yes'"
    results: dict[str, list[tuple[int]]] = {}

    def write(value: str, allowed: str = "yes") -> None:
        results[value] = committer.write(plain, (value, allowed), inserted=True)

    first = threading.Thread(target=write, args=("first",))
    first.start()
    assert traced.holding.wait(5)
    others = [threading.Thread(target=write, args=(f"v{n}", "no" if n % 3 == 0 else "yes"))
              for n in range(9)]  # fmt: skip
    for thread in others:
        thread.start()
    while len(committer._queue) < 9:
        threading.Event().wait(0.001)
    traced.hold.set()
    for thread in [first, *others]:
        thread.join(10)
    assert traced.begins == 1
    stored = dict((value, number) for number, value in rows(path))
    for value, got in results.items():
        assert got == ([(stored[value],)] if value in stored else []), value
    assert sorted(stored) == sorted(v for v in results if v == "first" or int(v[1:]) % 3)
