"""The job lifecycle with a real pool: ids, results on disk, failures, restarts, shutdown."""

from __future__ import annotations

import json
import threading

import orjson
import pytest

from app.data_ingestor import load_dataset
from app.errors import JobNotFound, ShuttingDown
from app.job import JobStatus
from app.manager import JobManager
from app.store import ResultStore
from app.task import TASKS, Task
from app.task_runner import ThreadPool
from unittests.conftest import OBESITY, SMALL_CSV


@pytest.fixture(scope="module")
def dataset():
    return load_dataset(SMALL_CSV)


@pytest.fixture
def make_manager(dataset, tmp_path):
    managers: list[JobManager] = []

    def factory(threads: int = 2) -> JobManager:
        pool = ThreadPool(threads) if threads else None
        manager = JobManager(dataset, ResultStore(tmp_path / "results"), pool)
        managers.append(manager)
        return manager

    yield factory
    for manager in managers:
        manager.drain(timeout=10)


def states_mean() -> Task:
    return TASKS["states_mean"](OBESITY)


class Exploding(Task):
    """A task whose computation fails."""

    endpoint = "exploding"

    def compute(self, dataset):
        raise RuntimeError("boom")


def test_concurrent_submits_get_distinct_consecutive_ids(make_manager):
    manager = make_manager(threads=2)
    ids: list[str] = []
    lock = threading.Lock()

    def client() -> None:
        for _ in range(50):
            job_id = manager.submit(states_mean())
            with lock:
                ids.append(job_id)

    clients = [threading.Thread(target=client) for _ in range(16)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join()
    assert manager.drain(timeout=10)
    assert sorted(ids, key=lambda job_id: int(job_id.rsplit("_", 1)[1])) == [
        f"job_id_{n}" for n in range(1, 801)
    ]
    assert {status for _, status in manager.statuses()} == {JobStatus.DONE}


def test_result_file_is_the_answer_body_and_no_temporary_is_left(make_manager, tmp_path):
    manager = make_manager(threads=1)
    job_id = manager.submit(states_mean())
    manager.drain(timeout=10)
    body = (tmp_path / "results" / f"{job_id}.json").read_bytes()
    assert body == manager.result(job_id)
    assert json.loads(body)["status"] == "done"
    assert [p.name for p in (tmp_path / "results").iterdir() if p.suffix != ".json"] == [
        ".last_job_id"
    ]


def test_a_failing_job_reports_error_and_its_worker_serves_the_next(make_manager, lss_log):
    manager = make_manager(threads=1)
    failed = manager.submit(Exploding(OBESITY))
    fine = manager.submit(states_mean())
    manager.drain(timeout=10)
    assert orjson.loads(manager.result(failed)) == {
        "status": "error",
        "reason": "job failed: RuntimeError: boom",
    }
    assert orjson.loads(manager.result(fine))["status"] == "done"
    assert dict(manager.statuses()) == {failed: JobStatus.ERROR, fine: JobStatus.DONE}
    assert "RuntimeError: boom" in lss_log.text  # with its traceback


def test_an_unwritable_result_becomes_an_error_not_a_lost_job(make_manager, monkeypatch):
    manager = make_manager(threads=1)

    def disk_full(number: int, body: bytes) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(manager.store, "write", disk_full)
    job_id = manager.submit(states_mean())
    manager.drain(timeout=10)
    result = orjson.loads(manager.result(job_id))
    assert result == {
        "status": "error",
        "reason": "result could not be stored: [Errno 28] No space left on device",
    }
    assert dict(manager.statuses())[job_id] == JobStatus.ERROR


def test_no_job_is_accepted_when_its_id_cannot_be_recorded(make_manager, tmp_path):
    manager = make_manager(threads=1)
    results = tmp_path / "results"
    results.rmdir()
    results.write_text("a file where the results folder was")
    with pytest.raises(OSError):
        manager.submit(states_mean())
    assert manager.num_pending == 0
    assert list(manager.statuses()) == []


def test_unknown_and_malformed_ids_are_not_found(make_manager):
    manager = make_manager(threads=0)
    manager.submit(states_mean())
    for job_id in ("job_id_2", "job_id_0", "job_id_01", "job_1", "../job_id_1", "job_id_1.json"):
        with pytest.raises(JobNotFound):
            manager.result(job_id)


def test_ids_continue_after_a_restart_and_old_results_stay_readable(make_manager):
    first = make_manager(threads=1)
    old = [first.submit(states_mean()) for _ in range(3)]
    broken = first.submit(Exploding(OBESITY))
    first.drain(timeout=10)
    old_bodies = {job_id: first.result(job_id) for job_id in old}

    second = make_manager(threads=1)
    new = second.submit(states_mean())
    second.drain(timeout=10)
    assert new == "job_id_5"
    assert {job_id: second.result(job_id) for job_id in old} == old_bodies
    assert dict(second.statuses())[broken] == JobStatus.ERROR


def test_ids_are_never_reused_after_a_crash(make_manager, dataset, tmp_path):
    crashed = JobManager(dataset, ResultStore(tmp_path / "results"), pool=None)
    issued = [crashed.submit(states_mean()) for _ in range(3)]
    (tmp_path / "results" / f"{issued[-1]}.json").unlink()  # as if it died before this write

    after = make_manager(threads=0)  # the crashed one never drained: no exact mark on disk
    new = after.submit(states_mean())
    assert new not in issued
    assert int(new.rsplit("_", 1)[1]) > 3
    with pytest.raises(JobNotFound):  # reserved by the crashed run, never issued
        after.result("job_id_3")
    with pytest.raises(JobNotFound):
        after.result("job_id_40")
    assert [job_id for job_id, _ in after.statuses()] == [*issued[:2], new]


def test_close_refuses_new_jobs_but_finishes_accepted_ones(make_manager):
    manager = make_manager(threads=1)
    gate = threading.Event()

    class Slow(Task):
        endpoint = "slow"

        def compute(self, dataset):
            gate.wait(5)
            return {"ok": 1}

    accepted = [manager.submit(Slow(OBESITY)) for _ in range(3)]
    assert manager.close() == 3
    assert manager.num_pending == 3
    with pytest.raises(ShuttingDown):
        manager.submit(states_mean())
    gate.set()
    assert manager.drain(timeout=10)
    assert manager.num_pending == 0
    assert [orjson.loads(manager.result(job_id))["status"] for job_id in accepted] == ["done"] * 3
    assert manager.close() == 0  # closing again is harmless


def test_a_poll_may_wait_briefly_for_a_pending_job(make_manager):
    manager = make_manager(threads=1)
    gate = threading.Event()

    class Gated(Task):
        endpoint = "gated"

        def compute(self, dataset):
            gate.wait(5)
            return {"ok": 1}

    job_id = manager.submit(Gated(OBESITY))
    assert manager.result(job_id) == b'{"status":"running"}'  # no wait asked for
    assert manager.result(job_id, wait=0.02) == b'{"status":"running"}'  # still gated
    threading.Timer(0.05, gate.set).start()
    assert orjson.loads(manager.result(job_id, wait=5)) == {"status": "done", "data": {"ok": 1}}


def test_memory_does_not_grow_with_jobs_served(make_manager):
    manager = make_manager(threads=2)
    for _ in range(500):
        manager.submit(states_mean())
    manager.drain(timeout=10)
    assert manager.num_pending == 0
    assert len(manager._answers) == 1  # one serialized answer per distinct question
    assert manager._failure_bodies == {}


def test_recent_results_are_bounded_and_older_ones_are_read_from_their_files(
    make_manager, tmp_path, monkeypatch
):
    monkeypatch.setattr("app.manager.RECENT", 3)
    manager = make_manager(threads=0)
    ids = [manager.submit(TASKS["global_mean"](OBESITY)) for _ in range(5)]
    assert list(manager._recent) == [3, 4, 5]  # the newest three only
    done = {"status": "done", "data": {"global_mean": 369 / 13}}
    for job_id in ids:
        assert orjson.loads(manager.result(job_id)) == done
    (tmp_path / "results" / "job_id_1.json").unlink()  # older: answered from the file
    assert "no longer stored" in orjson.loads(manager.result("job_id_1"))["reason"]
    (tmp_path / "results" / "job_id_5.json").unlink()  # recent: answered from memory
    assert orjson.loads(manager.result("job_id_5")) == done
