"""The embedded engine with a real pool and a real journal: ids, results, failures, restarts,
crash recovery, expiry, several engines (as several processes) over one journal, shutdown."""

from __future__ import annotations

import json
import threading
import time

import orjson
import pytest

from app.config import journal_path
from app.embedded_engine import owners
from app.embedded_engine.engine import EmbeddedEngine
from app.embedded_engine.journal import Journal
from app.embedded_engine.store import SHARED_FOLDER, ResultStore
from app.engine.job import JobStatus
from app.errors import JobExpired, JobNotFound, ShuttingDown, Unavailable
from app.startup import prepare_results
from app.task import TASKS, Task
from app.task_runner import ThreadPool
from unittests.conftest import OBESITY

GLOBAL_MEAN = {"status": "done", "data": {"global_mean": 369 / 13}}


@pytest.fixture
def make_engine(small_dataset, tmp_path):
    """Engines over tmp_path/results (as `create_app` builds them, without Flask)."""
    engines: list[EmbeddedEngine] = []
    settings = {"RESULTS_DIR": str(tmp_path / "results"), "JOURNAL": None}

    def factory(threads: int = 2, prepare: bool = True, start: bool = True, **options):
        store = ResultStore(settings["RESULTS_DIR"])
        if prepare:
            prepare_results(store, settings)
        pool = ThreadPool(threads) if threads else None
        engine = EmbeddedEngine(
            small_dataset, store, Journal(journal_path(settings)), pool, **options
        )
        engines.append(engine)
        if start:
            engine.start()
        return engine

    yield factory
    for engine in engines:
        engine.drain(timeout=10)


def global_mean() -> Task:
    return TASKS["global_mean"](OBESITY)


def number(job_id: str) -> int:
    return int(job_id.rsplit("_", 1)[1])


class Exploding(Task):
    """A task whose computation fails."""

    endpoint = "exploding"

    def compute(self, dataset):
        raise RuntimeError("boom\nwith a second line")


def test_concurrent_submits_get_distinct_consecutive_ids(make_engine):
    engine = make_engine(threads=2)
    ids: list[str] = []
    lock = threading.Lock()

    def client() -> None:
        for _ in range(50):
            job_id = engine.submit(global_mean())
            with lock:
                ids.append(job_id)

    clients = [threading.Thread(target=client) for _ in range(16)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join()
    assert engine.drain(timeout=10)
    assert sorted(ids, key=number) == [f"job_id_{n}" for n in range(1, 801)]
    assert {status for _, status in engine.statuses()} == {JobStatus.DONE}


def test_a_job_is_in_the_journal_before_its_id_is_answered(make_engine, gated):
    engine = make_engine(threads=1)
    job_id = engine.submit(TASKS["states_mean"](OBESITY))
    record = engine.journal.record(number(job_id))
    assert record is not None and record.status is JobStatus.RUNNING
    assert (record.endpoint, record.request) == ("states_mean", {"question": OBESITY})
    assert record.accepted <= time.time() and record.finished is None
    gated.set()
    assert engine.drain(timeout=10)
    record = engine.journal.record(number(job_id))
    assert record.status is JobStatus.DONE
    assert record.accepted <= record.started <= record.finished <= time.time()


def test_result_file_is_the_answer_body_and_no_temporary_is_left(make_engine, tmp_path):
    engine = make_engine(threads=1)
    job_id = engine.submit(global_mean())
    engine.drain(timeout=10)
    body = (tmp_path / "results" / f"{job_id}.json").read_bytes()
    assert body == engine.result(job_id)
    assert json.loads(body) == GLOBAL_MEAN
    leftovers = {p.name for p in (tmp_path / "results").iterdir() if p.suffix != ".json"}
    assert leftovers <= {"jobs.sqlite3", "jobs.sqlite3-wal", "jobs.sqlite3-shm", SHARED_FOLDER}
    assert [p.suffix for p in (tmp_path / "results" / SHARED_FOLDER).iterdir()] == [".json"]


def test_jobs_with_the_same_answer_have_one_file_under_each_of_their_names(make_engine, tmp_path):
    """A result file is a link to its answer's one file: every job has its own complete file, and
    the disk holds each distinct answer once."""
    engine = make_engine(threads=1)
    same = [engine.submit(global_mean()) for _ in range(3)]
    other = engine.submit(TASKS["best5"].from_payload({"question": OBESITY}, engine.dataset))
    engine.drain(timeout=10)
    results = tmp_path / "results"
    inodes = {(results / f"{job_id}.json").stat().st_ino for job_id in same}
    assert len(inodes) == 1
    assert (results / f"{other}.json").stat().st_ino not in inodes
    for job_id in same:
        assert json.loads((results / f"{job_id}.json").read_bytes()) == GLOBAL_MEAN
    assert len(list((results / SHARED_FOLDER).iterdir())) == 2


def test_a_failing_job_reports_error_and_its_worker_serves_the_next(make_engine, lss_log):
    engine = make_engine(threads=1)
    failed = engine.submit(Exploding(OBESITY))
    fine = engine.submit(global_mean())
    engine.drain(timeout=10)
    error = {"status": "error", "reason": "job failed: RuntimeError: boom with a second line"}
    assert orjson.loads(engine.result(failed)) == error
    assert orjson.loads(engine.result(fine)) == GLOBAL_MEAN
    assert dict(engine.statuses()) == {failed: JobStatus.ERROR, fine: JobStatus.DONE}
    assert engine.journal.record(number(failed)).reason == error["reason"]
    assert f"{failed} (exploding) failed" in lss_log.text
    assert "RuntimeError: boom" in lss_log.text  # with its traceback


def test_a_dead_pool_thread_is_replaced_and_its_job_marked_error(make_engine, lss_log):
    class Fatal(Task):
        endpoint = "fatal"

        def compute(self, dataset):
            raise SystemExit("pulled the plug")

    engine = make_engine(threads=1)
    lost = engine.submit(Fatal(OBESITY))
    after = engine.submit(global_mean())
    assert orjson.loads(engine.result(after, wait=5)) == GLOBAL_MEAN
    assert orjson.loads(engine.result(lost, wait=1)) == {
        "status": "error",
        "reason": "pool thread died: SystemExit: pulled the plug",
    }
    reasons, figures = engine.health()
    assert reasons == []
    assert (figures["threads"], figures["threads_alive"], figures["threads_replaced"]) == (1, 1, 1)
    assert f"{lost} (fatal) failed on lss-pool-1" in lss_log.text


def test_an_unwritable_result_becomes_an_error_not_a_lost_job(make_engine, monkeypatch):
    engine = make_engine(threads=1)

    def disk_full(number: int, body: bytes, shared: bool = False) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(engine.store, "write", disk_full)
    job_id = engine.submit(global_mean())
    engine.drain(timeout=10)
    error = {
        "status": "error",
        "reason": "result could not be stored: [Errno 28] No space left on device",
    }
    assert orjson.loads(engine.result(job_id)) == error
    engine.local.recent.clear()  # answered from the journal once it is out of memory
    assert orjson.loads(engine.result(job_id)) == error
    assert dict(engine.statuses())[job_id] == JobStatus.ERROR


def test_no_job_is_accepted_when_the_journal_cannot_record_it(make_engine, tmp_path):
    engine = make_engine(threads=1)
    engine.journal.close()
    for suffix in ("-wal", "-shm"):
        (tmp_path / "results" / f"jobs.sqlite3{suffix}").unlink(missing_ok=True)
    (tmp_path / "results" / "jobs.sqlite3").write_bytes(b"not a database" * 100)
    with pytest.raises(Unavailable, match="job journal unavailable: file is not a database"):
        engine.submit(global_mean())
    assert engine.local.pending == set()
    assert not list((tmp_path / "results").glob("*.json"))
    reasons, _ = engine.health()
    assert reasons == ["job journal unavailable: file is not a database"]


def test_unknown_and_malformed_ids_are_not_found(make_engine):
    engine = make_engine(threads=0)
    engine.submit(global_mean())
    for job_id in ("job_id_2", "job_id_0", "job_id_01", "job_1", "../job_id_1", "job_id_1.json"):
        with pytest.raises(JobNotFound):
            engine.result(job_id)


def test_ids_continue_after_a_restart_and_old_results_stay_readable(make_engine):
    first = make_engine(threads=1)
    old = [first.submit(global_mean()) for _ in range(3)]
    broken = first.submit(Exploding(OBESITY))
    first.drain(timeout=10)
    old_bodies = {job_id: first.result(job_id) for job_id in old}

    second = make_engine(threads=1)
    new = second.submit(global_mean())
    second.drain(timeout=10)
    assert new == "job_id_5"
    assert {job_id: second.result(job_id) for job_id in old} == old_bodies
    assert dict(second.statuses())[broken] == JobStatus.ERROR


def test_a_journal_with_unfinished_jobs_runs_them_first_after_a_restart(make_engine, tmp_path):
    """As a `kill -9` leaves it: rows accepted by a process that is gone, no result files."""
    crashed = make_engine(threads=0)
    journal = crashed.journal
    requests = [
        ("global_mean", {"question": OBESITY}),
        ("state_mean", {"question": OBESITY, "state": "Ohio"}),
        ("best5", {"question": OBESITY}),
        ("state_mean", {"question": OBESITY, "state": "Atlantis"}),  # no longer valid
    ]
    dead = "999999999:1:1"  # a pid no process has
    numbers = [journal.accept(e, r, dead, time.time()) for e, r in requests]
    crashed.drain(timeout=10)

    restarted = make_engine(threads=1)
    new = restarted.submit(global_mean())
    assert restarted.drain(timeout=10)
    answers = [orjson.loads(restarted.result(f"job_id_{n}")) for n in numbers]
    expected = [
        TASKS[endpoint].from_payload(request, restarted.dataset).compute(restarted.dataset)
        for endpoint, request in requests[:3]
    ]
    assert [a.get("data") for a in answers[:3]] == expected
    assert answers[3]["status"] == "error"
    assert "cannot run it again" in answers[3]["reason"] and "Atlantis" in answers[3]["reason"]
    started = {n: restarted.journal.record(n).started for n in [*numbers[:3], number(new)]}
    assert max(started[n] for n in numbers[:3]) <= started[number(new)]  # before new ones
    assert restarted.num_pending() == 0


def test_jobs_of_a_live_process_are_not_taken_over(make_engine):
    live = make_engine(threads=0)
    numbers = [
        live.journal.accept("global_mean", {"question": OBESITY}, live.token, time.time())
    ]  # as if still queued in `live`
    other = make_engine(threads=0, prepare=False)
    assert other.recover() == 0
    assert live.journal.record(numbers[0]).status is JobStatus.RUNNING
    owners.release(live.token)  # `live` stopped without finishing it
    assert other.recover() == 1
    assert orjson.loads(other.result(f"job_id_{numbers[0]}")) == GLOBAL_MEAN


def test_a_results_folder_of_the_earlier_layout_is_taken_in(make_engine, tmp_path):
    """Result files and an id mark, no journal: old ids stay readable, new ids go above them."""
    results = tmp_path / "results"
    results.mkdir()
    done = orjson.dumps(GLOBAL_MEAN)
    (results / "job_id_1.json").write_bytes(done)
    (results / "job_id_2.json").write_bytes(b'{"status":"error","reason":"job failed: x"}')
    (results / "job_id_7.json").write_bytes(done)
    (results / "notes.txt").write_text("not a result")
    (results / ".last_job_id").write_text("1030\n")

    engine = make_engine(threads=0)
    assert not (results / ".last_job_id").exists()
    assert engine.submit(global_mean()) == "job_id_1031"
    assert dict(engine.statuses()) == {
        "job_id_1": JobStatus.DONE,
        "job_id_2": JobStatus.ERROR,
        "job_id_7": JobStatus.DONE,
        "job_id_1031": JobStatus.DONE,
    }
    assert engine.result("job_id_1") == done
    with pytest.raises(JobExpired):  # issued by the earlier layout, its result gone
        engine.result("job_id_3")
    with pytest.raises(JobNotFound):
        engine.result("job_id_1032")


def test_expired_jobs_are_purged_and_answer_410(make_engine, tmp_path):
    engine = make_engine(threads=0, result_ttl=10, error_ttl=5)
    done = engine.submit(global_mean())
    failed = engine.submit(Exploding(OBESITY))
    later = engine.submit(global_mean())
    finished = {n: engine.journal.record(n).finished for n in (1, 2, 3)}
    tick = engine.purge

    tick(now=finished[2] + 4)  # nothing old enough yet
    assert len(list(engine.statuses())) == 3
    tick(now=finished[2] + 6)  # the failure's 5 s are over, not the answers' 10 s
    assert [job_id for job_id, _ in engine.statuses()] == [done, later]
    assert not (tmp_path / "results" / f"{failed}.json").exists()
    with pytest.raises(JobExpired) as expired:
        engine.result(failed)
    assert (expired.value.status_code, expired.value.reason) == (410, f"job {failed} expired")

    tick(now=finished[3] + 11)
    assert list(engine.statuses()) == []
    for job_id in (done, failed, later):
        with pytest.raises(JobExpired):
            engine.result(job_id)
    assert sorted(p.name for p in (tmp_path / "results").glob("*.json")) == []
    assert list((tmp_path / "results" / SHARED_FOLDER).iterdir()) == []  # no job links to it
    with pytest.raises(JobNotFound):
        engine.result("job_id_4")
    assert engine.submit(global_mean()) == "job_id_4"  # purged ids are never issued again


def test_a_time_to_live_of_zero_keeps_jobs_forever(make_engine):
    engine = make_engine(threads=0, result_ttl=0, error_ttl=0)
    job_id = engine.submit(global_mean())
    engine.purge(time.time() + 10**9)
    assert orjson.loads(engine.result(job_id)) == GLOBAL_MEAN


def test_two_engines_over_one_journal_act_as_one_service(make_engine, gated):
    """As two server processes: any answers any id, counts are global, shutdown reaches both."""
    first = make_engine(threads=1)
    second = make_engine(threads=1, prepare=False)
    held = first.submit(TASKS["states_mean"](OBESITY))  # gated: stays running
    quick = second.submit(global_mean())
    assert [number(held), number(quick)] == [1, 2]
    assert orjson.loads(second.result(quick, wait=5)) == GLOBAL_MEAN  # its own
    assert orjson.loads(first.result(quick)) == GLOBAL_MEAN  # the other's
    assert second.result(held) == b'{"status":"running"}'
    # second first: it records its own job's end, which its pool thread may still be writing.
    assert second.num_pending() == first.num_pending() == 1
    assert second.recent(10)["counts"] == {"running": 1, "done": 1, "error": 0}

    assert first.close() == 1
    assert second.closed is True
    with pytest.raises(ShuttingDown):
        second.submit(global_mean())
    gated.set()
    assert first.drain(timeout=10)
    assert second.close() == 0
    assert orjson.loads(second.result(held))["status"] == "done"


def test_a_poll_may_wait_briefly_for_a_pending_job(make_engine):
    engine = make_engine(threads=1)
    gate = threading.Event()

    class Gated(Task):
        endpoint = "gated"

        def compute(self, dataset):
            gate.wait(5)
            return {"ok": 1}

    job_id = engine.submit(Gated(OBESITY))
    assert engine.result(job_id) == b'{"status":"running"}'  # no wait asked for
    assert engine.result(job_id, wait=0.02) == b'{"status":"running"}'  # still gated
    threading.Timer(0.05, gate.set).start()
    assert orjson.loads(engine.result(job_id, wait=5)) == {"status": "done", "data": {"ok": 1}}


def test_memory_does_not_grow_with_jobs_served(make_engine):
    engine = make_engine(threads=2)
    for _ in range(500):
        engine.submit(global_mean())
    engine.drain(timeout=10)
    assert engine.num_pending() == 0
    assert len(engine.local.answers) == 1  # one serialized answer per distinct question
    assert engine.local.pending == set() and engine.local.waiters == {}


def test_recent_results_are_bounded_and_older_ones_are_read_from_their_files(
    make_engine, tmp_path, monkeypatch
):
    monkeypatch.setattr("app.embedded_engine.local_jobs.RECENT", 3)
    engine = make_engine(threads=0)
    ids = [engine.submit(global_mean()) for _ in range(5)]
    assert list(engine.local.recent) == [3, 4, 5]  # the newest three only
    for job_id in ids:
        assert orjson.loads(engine.result(job_id)) == GLOBAL_MEAN
    (tmp_path / "results" / "job_id_1.json").unlink()  # older: answered from the file
    with pytest.raises(JobExpired):
        engine.result("job_id_1")
    (tmp_path / "results" / "job_id_5.json").unlink()  # recent: answered from memory
    assert orjson.loads(engine.result("job_id_5")) == GLOBAL_MEAN
