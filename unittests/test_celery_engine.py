"""The Celery engine's parts against a real Redis: registry, lost jobs, expiry, health, settings.

The API contract and the checker cases run on this engine too (test_api_contract,
test_differential); the faults with real worker processes are in test_celery_faults.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from app import config
from app.celery_config import QUEUE
from app.job import JobStatus
from app.registry import PREFIX, JobRegistry
from app.task import StatesMean
from unittests.celery_stack import InProcessWorker, RedisServer
from unittests.conftest import OBESITY

TTL = {JobStatus.DONE: 60, JobStatus.ERROR: 30}


@pytest.fixture
def worker(celery_worker: InProcessWorker) -> InProcessWorker:
    """The session's in-process worker, with no job left from an earlier test."""
    celery_worker.reset()
    return celery_worker


@pytest.fixture
def registry(worker: InProcessWorker) -> JobRegistry:
    return JobRegistry(worker.url)


@pytest.fixture
def celery_app(worker: InProcessWorker, make_app: Callable[..., Flask]) -> Flask:
    """A synchronous-free app on the Celery engine, served by the in-process worker."""
    app = make_app(BROKER_URL=worker.url)
    worker.use(app.extensions["lss.engine"].dataset)
    return app


def wait_finished(registry: JobRegistry, number: int, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = registry.result(number)
        if found is not None and found[0] is not JobStatus.RUNNING:
            return found
        assert time.monotonic() < deadline, f"job {number} still {found} after {timeout} s"
        time.sleep(0.02)


def test_a_job_whose_message_was_lost_is_sent_again(
    registry: JobRegistry, celery_app: Flask
) -> None:
    """A recorded job that no queue holds (its message died in a killed worker's socket)."""
    number = registry.accept("global_mean", {"question": OBESITY}, TTL)  # and no task sent
    started = time.monotonic()
    status, body, _ = wait_finished(registry, number)
    assert status is JobStatus.DONE
    client = celery_app.test_client()
    assert client.get(f"/api/get_results/job_id_{number}").get_data() == body
    assert body == b'{"status":"done","data":{"global_mean":28.384615384615383}}'
    assert time.monotonic() - started < 6  # the grace (2 s) and a sweep (every 1 s)


def test_a_job_a_worker_holds_is_not_sent_again(
    registry: JobRegistry, celery_app: Flask, gated: threading.Event, monkeypatch
) -> None:
    """A job still running on a live worker is in kombu's unacked hash: the sweep leaves it."""
    runs = []
    answer = StatesMean.answer  # the gated one: it waits for the gate

    def counted(self: StatesMean, index: Any) -> Any:
        runs.append(self.question)
        return answer(self, index)

    monkeypatch.setattr(StatesMean, "answer", counted)
    client = celery_app.test_client()
    job_id = client.post("/api/states_mean", json={"question": OBESITY}).get_json()["job_id"]
    time.sleep(4)  # past the grace, several sweeps
    assert client.get(f"/api/get_results/{job_id}").get_json() == {"status": "running"}
    gated.set()
    wait_finished(registry, int(job_id.rsplit("_", 1)[1]))
    assert runs == [OBESITY]


def test_two_web_processes_share_ids_jobs_and_the_shutdown_flag(
    worker: InProcessWorker, make_app: Callable[..., Flask], gated: threading.Event
) -> None:
    """Two apps on one Redis, as two web processes (or machines) would be."""
    first, second = (make_app(BROKER_URL=worker.url).test_client() for _ in range(2))
    worker.use(first.application.extensions["lss.engine"].dataset)
    ids = [
        client.post("/api/states_mean", json={"question": OBESITY}).get_json()["job_id"]
        for client in (first, second, first)
    ]
    assert ids == ["job_id_1", "job_id_2", "job_id_3"]
    for client in (first, second):
        assert client.get("/api/num_jobs").get_json() == {"num_jobs": 3}  # gated: running
        assert client.get("/api/jobs").get_json()["data"] == [{i: "running"} for i in ids]
    assert second.get("/api/graceful_shutdown").get_json() == {"status": "running"}
    refused = first.post("/api/best5", json={"question": OBESITY})
    assert (refused.status_code, refused.get_json()["reason"]) == (503, "shutting down")
    assert first.get("/api/health").get_json() == {"status": "error", "reason": "shutting down"}
    gated.set()
    deadline = time.monotonic() + 10
    while first.get("/api/graceful_shutdown").get_json() != {"status": "done"}:
        assert time.monotonic() < deadline, "accepted jobs never finished"
        time.sleep(0.02)
    for job_id in ids:
        assert second.get(f"/api/get_results/{job_id}").get_json()["status"] == "done"


def test_a_second_run_keeps_the_first_answer(registry: JobRegistry) -> None:
    number = registry.accept("global_mean", {"question": OBESITY}, TTL)
    assert registry.start(number)
    assert registry.finish(number, JobStatus.DONE, b"first", None)
    assert not registry.start(number)  # a second delivery is not run
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
    monkeypatch.setattr("app.registry.BATCH", 7)
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


def test_health_says_when_no_worker_answers(
    redis_server: RedisServer, make_app: Callable[..., Flask]
) -> None:
    """Database 2 of the Redis has no worker: /api/health is 503 and says why."""
    client = make_app(BROKER_URL=redis_server.url(2)).test_client()
    response = client.get("/api/health")
    assert response.status_code == 503
    body = response.get_json()
    assert body["reason"] == "no Celery worker answered within 1 s"
    assert (body["engine"], body["redis"], body["worker"]) == (
        "celery",
        f"127.0.0.1:{redis_server.port}/2",
        None,
    )


def test_health_names_the_worker_that_answers(celery_app: Flask) -> None:
    body = celery_app.test_client().get("/api/health").get_json()
    answering = celery_app.extensions["lss.engine"]._worker_answering()
    assert body["status"] == "ok"
    assert answering is not None and body["worker"] == answering


def test_local_redis_listens_on_loopback_only_and_keeps_its_data(
    redis_server: RedisServer,
) -> None:
    """What `make redis` runs: loopback only, append-only file in its folder, no eviction."""
    settings = dict(redis_server.client().config_get("*"))
    assert settings["bind"] == "127.0.0.1"
    assert settings["appendonly"] == "yes"
    assert settings["maxmemory-policy"] == "noeviction"
    assert settings["dir"] == str(redis_server.folder)


def test_the_queue_is_the_services_own(celery_app: Flask, worker: InProcessWorker) -> None:
    """Jobs travel on the `lss` queue, so another Celery app on the same Redis never takes one."""
    assert worker.celery.conf.task_default_queue == QUEUE == "lss"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("amqp://guest@localhost//", "LSS_BROKER_URL must be a redis:// or rediss:// URL"),
        ("redis://localhost:port/0", "got 'redis://localhost:port/0'"),
        ("127.0.0.1:6379", "LSS_BROKER_URL must be a redis:// or rediss:// URL"),
    ],
)
def test_a_bad_broker_url_is_refused_naming_the_variable(raw: str, message: str) -> None:
    with pytest.raises(config.ConfigError, match=message):
        config.load({"LSS_BROKER_URL": raw})


def test_broker_settings_and_the_workers_default() -> None:
    assert config.load({})["BROKER_URL"] is None  # the embedded engine
    assert config.load({"LSS_BROKER_URL": " "})["BROKER_URL"] is None
    settings = config.load({"LSS_REDIS_PORT": "6400"})
    assert config.worker_broker_url(settings) == "redis://127.0.0.1:6400/0"
    settings = config.load({"LSS_BROKER_URL": "rediss://:secret@cache.example:6380/3"})
    assert config.worker_broker_url(settings) == "rediss://:secret@cache.example:6380/3"
