"""A Redis with a memory cap (SPEC §16.3): a full Redis refuses new jobs with a 503 and
Retry-After, leaves no half-written job, and still records the answer of every job it accepted;
each distinct answer is kept once. Against real redis-servers with a few MB of maxmemory, filled
by the test, the real web process (`api_server.py`) and a real worker process.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
import requests
from flask import Flask

from app import config
from app.celery_engine.answers import ANSWER_KEY, digest
from app.celery_engine.headroom import CHECK_EVERY_S, reserve
from app.celery_engine.message import task_message
from app.celery_engine.outages import FULL_RETRY_AFTER_S
from app.celery_engine.registry import PREFIX, JobRegistry
from app.celery_engine.settings import QUEUE, make_celery
from app.config import ConfigError
from app.engine.job import JobStatus
from app.errors import Unavailable
from unittests.conftest import BUNDLED_CSV, OBESITY
from unittests.support.celery_stack import InProcessWorker, RedisServer, WorkerProcess
from unittests.support.e2e import check_answer, job_mix, post, wait_done
from unittests.support.reference import Reference
from unittests.support.servers import Server

TTL = {JobStatus.DONE: 60, JobStatus.ERROR: 30}
FILLER = "filler:"


def fill(client: redis.Redis, below: int | None = None) -> int:
    """Write 1 KB keys until Redis refuses one (or, with `below`, until it uses that much)."""
    count = 0
    try:
        while below is None or client.info("memory")["used_memory"] < below:
            client.set(f"{FILLER}{count}", b"x" * 1000)
            count += 1
    except redis.OutOfMemoryError:
        pass
    return count


def empty(admin: redis.Redis) -> None:
    """Take the filler out again."""
    keys = list(admin.scan_iter(match=f"{FILLER}*", count=1000))
    if keys:
        admin.delete(*keys)


def jobs_state(admin: redis.Redis) -> tuple[object, ...]:
    """What a POST writes: the ids, the queue, the job records."""
    return admin.get(f"{PREFIX}ids"), admin.llen(QUEUE), sorted(admin.scan_iter(f"{PREFIX}job:*"))


@pytest.fixture
def small_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of this test's own, as `make redis` runs it with 4 MB of maxmemory."""
    server = RedisServer(tmp_path / "redis", maxmemory="4mb")
    yield server
    server.stop()


def test_a_full_redis_refuses_a_job_whole_and_records_the_answers_it_owes(
    small_redis: RedisServer,
) -> None:
    """The accept script on a Redis past maxmemory writes nothing (no id, no record, no
    message); the finish script of a job accepted before records its answer all the same."""
    url = small_redis.url()
    registry, celery = JobRegistry(url), make_celery(url, 30)
    request = {"question": OBESITY}

    def accept() -> int:
        return registry.accept("global_mean", request, TTL, QUEUE, task_message(celery, "x", {}))

    owed = accept()
    admin = small_redis.client()
    assert fill(small_redis.service_client()) > 1000
    before = (jobs_state(admin), admin.dbsize())
    for _ in range(3):
        with pytest.raises(Unavailable) as refused:
            accept()
        assert refused.value.status_code == 503
        assert refused.value.retry_after == FULL_RETRY_AFTER_S
        assert refused.value.reason == (
            f"job store full: Redis at 127.0.0.1:{small_redis.port}/0 is at its maxmemory"
        )
    assert (jobs_state(admin), admin.dbsize()) == before
    answer = b'{"status": "done", "data": "' + b"x" * 200_000 + b'"}'
    assert registry.finish(owed, JobStatus.DONE, answer, None)
    assert registry.result(owed) == (JobStatus.DONE, answer, None)
    assert admin.info("memory")["used_memory"] > 4 << 20  # written past maxmemory
    with pytest.raises(redis.OutOfMemoryError):
        small_redis.service_client().set("more", 1)  # and Redis is still full
    registry.request_shutdown()  # a graceful shutdown reaches every web process all the same
    assert registry.shutting_down()
    registry.close()


def test_a_full_redis_is_a_503_and_every_accepted_job_is_answered(
    small_redis: RedisServer,
    tmp_path: Path,
    start_server: Callable[..., Server],
    reference: Reference,
) -> None:
    """Jobs queued while the worker is stopped, then Redis filled: POSTs are 503 with
    Retry-After and write nothing, /api/health says why; the worker, let go, answers every
    accepted job (most answers past maxmemory) without stopping; emptied, Redis takes jobs
    again. Then the room kept for the workers: within it, POSTs are 503 too."""
    worker = WorkerProcess(tmp_path / "worker", small_redis.url())
    worker.wait_ready()
    server = start_server(LSS_BROKER_URL=small_redis.url())
    admin, service = small_redis.client(), small_redis.service_client()
    worker.proc.send_signal(signal.SIGSTOP)
    jobs = job_mix(reference, 120, seed=7)
    accepted = {}
    with requests.Session() as session:
        try:
            for job in jobs:
                response = post(session, server, job)
                assert response.status_code == 200, response.text
                accepted[response.json()["job_id"]] = job
            fill(service)
            before = jobs_state(admin)
            for job in jobs[:5]:
                response = post(session, server, job)
                assert response.status_code == 503, response.text
                assert response.headers["Retry-After"] == str(FULL_RETRY_AFTER_S)
                assert response.headers["Content-Type"] == "application/json"
                assert response.json()["status"] == "error"
                assert response.json()["reason"].startswith("job store full: Redis at 127.0.0.1")
            assert jobs_state(admin) == before  # nothing half-written
            time.sleep(CHECK_EVERY_S + 0.2)  # each web process looks at Redis's memory anew
            health = session.get(f"{server.url}/api/health", timeout=5)
            assert health.status_code == 503, health.text
            assert health.json()["reason"].startswith("job store full: Redis at 127.0.0.1")
        finally:
            worker.proc.send_signal(signal.SIGCONT)
        for job_id, job in accepted.items():
            check_answer(reference, job, wait_done(session, server, job_id, timeout=60), job_id)
        assert worker.proc.poll() is None, worker.text  # a full Redis did not stop it
        used = admin.info("memory")["used_memory"]
        assert used > 4 << 20, used  # answers past maxmemory
        empty(admin)
        time.sleep(CHECK_EVERY_S + 0.2)
        response = post(session, server, jobs[0])
        assert response.status_code == 200, (response.text, admin.info("memory")["used_memory"])
        check_answer(reference, jobs[0], wait_done(session, server, response.json()["job_id"]), "")
        # Within the room kept for the workers, below maxmemory: refused all the same.
        limit = 4 << 20
        fill(service, below=limit - reserve(limit) + (64 << 10))
        time.sleep(CHECK_EVERY_S + 0.2)
        response = post(session, server, jobs[0])
        assert response.status_code == 503, (response.text, admin.info("memory")["used_memory"])
        assert response.headers["Retry-After"] == str(FULL_RETRY_AFTER_S)
        assert response.json()["reason"] == (
            f"job store full: Redis at 127.0.0.1:{small_redis.port}/0 is within 1.0 MiB of its "
            "maxmemory (4.0 MiB)"
        )
        assert session.get(f"{server.url}/api/health", timeout=5).status_code == 503
        empty(admin)
        time.sleep(CHECK_EVERY_S + 0.2)
        response = post(session, server, jobs[0])
        assert response.status_code == 200, (response.text, admin.info("memory")["used_memory"])
    worker.close()


def test_identical_answers_are_kept_once(
    worker: InProcessWorker, make_app: Callable[..., Flask]
) -> None:
    """300 identical mean_by_category jobs (80 KB each on the bundled data) keep one copy of the
    answer: each job costs Redis its record, about 1.4 KB (83.6 KB each before)."""
    app = make_app(BROKER_URL=worker.url, DATA_FILE=str(BUNDLED_CSV))
    worker.use(app.extensions["lss.engine"].dataset)
    client, admin = app.test_client(), worker.client

    def run(count: int) -> list[str]:
        ids = [
            client.post("/api/mean_by_category", json={"question": OBESITY}).json["job_id"]
            for _ in range(count)
        ]
        deadline = time.monotonic() + 60
        while admin.zcard(f"{PREFIX}running"):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        wake = list(admin.scan_iter(f"{PREFIX}wake:*"))  # they live seconds, not a job's TTL
        if wake:
            admin.delete(*wake)
        return ids

    first = run(1)
    used = admin.info("memory")["used_memory"]
    ids = first + run(300)
    per_job = (admin.info("memory")["used_memory"] - used) / 300
    body = client.get(f"/api/get_results/{ids[0]}").data
    assert len(body) > 50_000 and per_job < 2500, (len(body), per_job)  # 83,600 before
    assert list(admin.scan_iter(f"{ANSWER_KEY}*")) == [f"{ANSWER_KEY}{digest(body)}".encode()]
    tags, tables = set(), set()
    for job_id in ids[::30]:
        response = client.get(f"/api/get_results/{job_id}")
        assert response.data == body
        tags.add(response.headers["ETag"])
        number = job_id.rpartition("_")[2]
        assert admin.hget(f"{PREFIX}job:{number}", "answer") == digest(body).encode()
        csv = client.get(f"/api/get_results/{job_id}?format=csv")
        assert csv.status_code == 200 and csv.mimetype == "text/csv"
        tables.add(csv.data)
    assert len(tags) == 1 and len(tables) == 1


def test_an_answer_outlives_every_job_that_points_to_it(
    registry: JobRegistry, worker: InProcessWorker, celery_app: Flask
) -> None:
    body = b'{"status": "done", "data": 42}'
    key = f"{ANSWER_KEY}{digest(body)}"

    def finished(ttl: int) -> int:
        number = registry.accept("global_mean", {"question": OBESITY}, {**TTL, JobStatus.DONE: ttl})
        assert registry.finish(number, JobStatus.DONE, body, None)
        return number

    finished(60)
    assert 60_000 < worker.client.pttl(key) <= 61_000  # a second past the job's own
    finished(120)
    assert 120_000 < worker.client.pttl(key) <= 121_000  # as long as the longest-lived job
    finished(30)
    assert worker.client.pttl(key) > 119_000  # never shortened
    forever = finished(0)
    assert worker.client.pttl(key) == -1
    finished(10)
    assert worker.client.pttl(key) == -1
    # Gone (as if expired) while this process believes it stored it: sent again when asked for.
    worker.client.delete(key)
    again = finished(60)
    assert worker.client.get(key) == body and 60_000 < worker.client.pttl(key) <= 61_000
    assert registry.result(again) == (JobStatus.DONE, body, None)
    # A job whose answer is gone answers as an expired one.
    worker.client.delete(key)
    client = celery_app.test_client()
    assert client.get(f"/api/get_results/job_id_{forever}").status_code == 410
    failed = registry.accept("global_mean", {"question": OBESITY}, TTL)
    assert registry.finish(failed, JobStatus.ERROR, b'{"status": "error"}', "broken")
    assert registry.result(failed) == (JobStatus.ERROR, b'{"status": "error"}', "broken")


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [("4mb", "4mb"), (" 2GB ", "2gb"), ("0", "0"), ("1048576", "1048576"), ("512k", "512k")],
)
def test_the_memory_cap_is_written_as_redis_reads_it(raw: str, parsed: str) -> None:
    assert config.load({"LSS_REDIS_MAXMEMORY": raw})["REDIS_MAXMEMORY"] == parsed


@pytest.mark.parametrize("raw", ["512 MB", "-1", "lots", "²mb", "1.5gb", "12tb", ""])
def test_a_memory_cap_redis_would_not_read_stops_the_start(raw: str) -> None:
    with pytest.raises(ConfigError, match="LSS_REDIS_MAXMEMORY must be a size such as 512mb"):
        config.load({"LSS_REDIS_MAXMEMORY": raw})
