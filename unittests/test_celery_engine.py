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
from app.celery_engine.registry import JobRegistry
from app.celery_engine.settings import QUEUE
from app.engine.job import JobStatus
from app.task import StatesMean
from unittests.conftest import OBESITY
from unittests.support.celery_stack import InProcessWorker, RedisServer

TTL = {JobStatus.DONE: 60, JobStatus.ERROR: 30}


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
    answering = celery_app.extensions["lss.engine"].status.worker_answering()
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
