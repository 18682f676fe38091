"""The Celery engine's job registry against a real Redis: one run per job, expiry by outcome,
listings across batches. Its use by the engine is in test_celery_engine."""

from __future__ import annotations

import time

from flask import Flask

from app.celery_engine.registry import PREFIX, JobRegistry
from app.engine.job import JobStatus
from unittests.conftest import OBESITY
from unittests.support.celery_stack import InProcessWorker

TTL = {JobStatus.DONE: 60, JobStatus.ERROR: 30}


def test_a_second_run_keeps_the_first_answer(registry: JobRegistry) -> None:
    number = registry.accept("global_mean", {"question": OBESITY}, TTL)
    assert registry.finish(number, JobStatus.DONE, b"first", None)
    assert not registry.finish(number, JobStatus.ERROR, b"second", "late")
    assert registry.result(number) == (JobStatus.DONE, b"first", None)
    assert registry.count_running() == 0


def test_answers_expire_by_outcome_and_are_then_410(
    registry: JobRegistry, worker: InProcessWorker, celery_app: Flask
) -> None:
    """Redis keeps an answer LSS_RESULT_TTL_S or LSS_ERROR_TTL_S; purge forgets the number."""
    done = registry.accept("global_mean", {"question": OBESITY}, TTL)
    failed = registry.accept("global_mean", {"question": OBESITY}, TTL)
    forever = registry.accept("global_mean", {"question": OBESITY}, {s: 0 for s in TTL})
    registry.finish(done, JobStatus.DONE, b"{}", None)
    registry.finish(failed, JobStatus.ERROR, b"{}", "broken")
    registry.finish(forever, JobStatus.DONE, b"{}", None)
    assert 55 < worker.client.ttl(f"{PREFIX}job:{done}") <= 60
    assert 25 < worker.client.ttl(f"{PREFIX}job:{failed}") <= 30
    assert worker.client.ttl(f"{PREFIX}job:{forever}") == -1  # kept
    assert registry.purge(time.time() + 45) == 1  # the failure only
    assert registry.purge(time.time() + 365 * 86400) == 1
    client = celery_app.test_client()
    for number in (done, failed):
        response = client.get(f"/api/get_results/job_id_{number}")
        assert response.status_code == 410
        assert response.get_json()["reason"] == f"job job_id_{number} expired"
    assert client.get(f"/api/get_results/job_id_{forever + 1}").status_code == 404
    assert client.get("/api/jobs").get_json()["data"] == [{f"job_id_{forever}": "done"}]
    assert registry.counts() == {"running": 0, "done": 1, "error": 0}


def test_jobs_and_recent_list_every_live_job_across_batches(
    registry: JobRegistry, celery_app: Flask, monkeypatch
) -> None:
    monkeypatch.setattr("app.celery_engine.registry.BATCH", 7)
    numbers = [registry.accept("best5", {"question": OBESITY}, TTL) for _ in range(20)]
    for number in numbers[:15]:
        registry.finish(number, JobStatus.DONE, b"{}", None)  # the rest stay queued
    client = celery_app.test_client()
    listed = client.get("/api/jobs").get_json()["data"]
    assert [next(iter(item)) for item in listed] == [f"job_id_{n}" for n in numbers]
    recent = client.get("/api/jobs/recent?limit=3").get_json()
    assert [job["job_id"] for job in recent["jobs"]] == [f"job_id_{n}" for n in numbers[:-4:-1]]
    assert recent["jobs"][0]["accepted"].endswith("Z") and recent["jobs"][0]["finished"] is None
    for number in numbers[15:]:
        registry.finish(number, JobStatus.DONE, b"{}", None)


def test_a_wait_on_a_job_finished_long_ago_or_gone_ends_at_once(
    registry: JobRegistry, worker: InProcessWorker
) -> None:
    """A finished job's wake-up list lives seconds; a wait after it expired (or on a job Redis
    does not have) must still answer at once, not after the whole wait."""
    number = registry.accept("global_mean", {"question": OBESITY}, TTL)
    registry.finish(number, JobStatus.DONE, b"answer", None)
    worker.client.delete(f"{PREFIX}wake:{number}")  # as if WAKE_TTL_S passed
    for asked, expected in ((number, (JobStatus.DONE, b"answer", None)), (number + 99, None)):
        started = time.monotonic()
        assert registry.result(asked, wait=1.5) == expected
        assert time.monotonic() - started < 0.5
