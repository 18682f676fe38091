"""The job journal on its own: ids, records, endings, expiry queries, adoption, the shutdown flag.

Real SQLite files, real threads; the engine's use of it is in test_embedded_engine.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from app.embedded_engine import journal as journal_module
from app.embedded_engine.journal import Journal, JournalError
from app.engine.job import JobStatus
from app.errors import ShuttingDown

REQUEST = {"question": "Q"}


@pytest.fixture
def path(tmp_path: Path) -> str:
    name = str(tmp_path / "jobs.sqlite3")
    journal_module.prepare(name, [], 0)
    return name


def test_ids_count_up_from_one_and_are_unique_across_threads_and_journals(path):
    first, second = Journal(path), Journal(path)  # as two processes over one file
    numbers: list[int] = []
    lock = threading.Lock()

    def submit(journal: Journal) -> None:
        for _ in range(50):
            number = journal.accept("global_mean", REQUEST, "owner", time.time())
            with lock:
                numbers.append(number)

    threads = [threading.Thread(target=submit, args=(j,)) for j in (first, second) * 3]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(numbers) == list(range(1, 301))
    assert first.highest() == second.highest() == 300
    assert first.count_running() == 300


def test_a_record_holds_the_request_and_how_the_job_ended(path):
    journal = Journal(path)
    accepted = time.time()
    number = journal.accept("state_mean", {"question": "Q", "state": "Ohio"}, "me", accepted)
    record = journal.record(number)
    assert (record.endpoint, record.request, record.status) == (
        "state_mean",
        {"question": "Q", "state": "Ohio"},
        JobStatus.RUNNING,
    )
    assert record.accepted == accepted and record.started is record.finished is None
    journal.finish_many([(number, JobStatus.ERROR, accepted + 1, accepted + 2, "boom")])
    record = journal.record(number)
    assert (record.status, record.started, record.finished, record.reason) == (
        JobStatus.ERROR,
        accepted + 1,
        accepted + 2,
        "boom",
    )
    assert journal.counts() == {"running": 0, "done": 0, "error": 1}
    assert journal.record(number + 1) is None


def test_expired_lists_by_status_oldest_first_and_deleted_jobs_are_gone(path):
    journal = Journal(path)
    numbers = [journal.accept("global_mean", REQUEST, "me", 0.0) for _ in range(4)]
    ends = [(n, JobStatus.DONE if n % 2 else JobStatus.ERROR, 1.0, 10.0 - n, None) for n in numbers]
    journal.finish_many(ends)
    assert journal.expired(JobStatus.DONE, 100.0, 10) == [3, 1]  # finished at 7, then 9
    assert journal.expired(JobStatus.ERROR, 100.0, 1) == [4]
    assert journal.expired(JobStatus.DONE, 8.0, 10) == [3]
    journal.delete([1, 3])
    assert [n for n, _ in journal.statuses()] == [2, 4]
    assert journal.accept("global_mean", REQUEST, "me", 0.0) == 5  # ids are never reused


def test_adoption_moves_a_dead_owners_unfinished_jobs_only(path):
    journal = Journal(path)
    dead = [journal.accept("global_mean", REQUEST, "dead", 0.0) for _ in range(2)]
    journal.finish_many([(dead[1], JobStatus.DONE, 0.0, 1.0, None)])
    alive = journal.accept("global_mean", REQUEST, "alive", 0.0)
    assert journal.unfinished_owners() == {"dead", "alive"}
    assert [r.number for r in journal.adopt("dead", "heir")] == [dead[0]]
    assert journal.unfinished_owners() == {"heir", "alive"}
    assert journal.adopt("dead", "heir") == []
    assert journal.record(alive).status is JobStatus.RUNNING


def test_the_shutdown_flag_stops_every_journal_from_accepting_until_cleared(path):
    first, second = Journal(path), Journal(path)
    first.request_shutdown()
    assert second.shutting_down()
    with pytest.raises(ShuttingDown):
        second.accept("global_mean", REQUEST, "me", 0.0)
    second.clear_shutdown()
    assert not first.shutting_down()
    assert first.accept("global_mean", REQUEST, "me", 0.0) == 1


def test_a_journal_of_another_schema_is_refused_naming_the_file(tmp_path):
    name = str(tmp_path / "jobs.sqlite3")
    db = sqlite3.connect(name)
    db.execute("PRAGMA user_version=99")
    db.close()
    with pytest.raises(JournalError, match=f"job journal {name}: unknown schema version 99"):
        journal_module.prepare(name, [], 0)
