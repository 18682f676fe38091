"""The probes: /api/livez answers while the process runs, /api/readyz says whether to send it
requests, and why not: a journal that takes no write, Redis down, no worker, a shutdown begun.
Where the reason crosses processes (a lock held by another process, a shutdown begun by
another server process, a worker or Redis stopped) the test runs real ones."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask

from app.engine.readiness import SHUTTING_DOWN, CachedCheck
from unittests.support.celery_stack import RedisServer, WorkerProcess
from unittests.support.servers import Server

HTTP_TIMEOUT = 10.0


def _poll(url: str, want: int, timeout: float = 15.0) -> dict:
    """GET `url` (a fresh connection each time) until it answers `want`; its body."""
    deadline = time.monotonic() + timeout
    while True:
        answer = requests.get(url, timeout=HTTP_TIMEOUT)
        if answer.status_code == want:
            return answer.json()
        if time.monotonic() > deadline:
            pytest.fail(f"{url} still answers {answer.status_code} {answer.text}")
        time.sleep(0.1)


# -- in one process ----------------------------------------------------------------------------


def test_a_cached_check_runs_once_per_interval_and_callers_share_it() -> None:
    started = threading.Event()
    release = threading.Event()

    def slow() -> str:
        started.set()
        release.wait(5)
        return "broken"

    check = CachedCheck(slow, ttl=60)
    outcomes: list[str] = []
    threads = [threading.Thread(target=lambda: outcomes.append(check())) for _ in range(8)]
    for thread in threads:
        thread.start()
    assert started.wait(5)
    release.set()
    for thread in threads:
        thread.join(5)
    assert outcomes == ["broken"] * 8 and check.runs == 1
    check.forget()
    assert check() == "broken" and check.runs == 2


def test_ready_and_live_on_a_healthy_app(make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()
    ready = client.get("/api/readyz")
    assert (ready.status_code, ready.get_json()["status"]) == (200, "ok")
    assert client.get("/api/livez").get_json()["status"] == "ok"


def test_a_damaged_journal_is_not_ready_but_the_process_is_live(
    make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    app = make_app()
    engine = app.extensions["lss.engine"]
    engine.journal.close()
    engine.status.probe.close()
    for suffix in ("-wal", "-shm"):
        (tmp_path / "results" / f"jobs.sqlite3{suffix}").unlink(missing_ok=True)
    (tmp_path / "results" / "jobs.sqlite3").write_bytes(b"not a database" * 100)
    client = app.test_client()
    ready = client.get("/api/readyz")
    assert ready.status_code == 503
    journal = tmp_path / "results" / "jobs.sqlite3"
    assert ready.get_json()["reasons"] == [
        "job journal unavailable: file is not a database",  # it cannot say whether to shut down
        f"job journal {journal} cannot take a write: file is not a database",
    ]
    assert client.get("/api/livez").status_code == 200


def test_readiness_pings_the_workers_once_per_interval(celery_app: Flask) -> None:
    status = celery_app.extensions["lss.engine"].status
    client = celery_app.test_client()
    pings = status.worker.runs
    for _ in range(20):
        assert client.get("/api/readyz").status_code == 200
    assert status.worker.runs - pings <= 1


def test_with_no_worker_on_its_queue_celery_is_not_ready(
    make_app: Callable[..., Flask], redis_server: RedisServer
) -> None:
    client = make_app(BROKER_URL=redis_server.url(5)).test_client()  # no worker on db 5
    ready = client.get("/api/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["reasons"] == ["no Celery worker answered within 1 s"]
    assert client.get("/api/livez").status_code == 200


# -- across processes --------------------------------------------------------------------------


def test_a_journal_another_process_holds_locked_is_not_ready_until_released(
    start_server: Callable[..., Server],
) -> None:
    server = start_server(LSS_WORKERS="1")
    _poll(f"{server.url}/api/readyz", 200)
    journal = server.results / "jobs.sqlite3"
    holder = sqlite3.connect(journal, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # the write lock, as a stuck writer would keep it
    try:
        body = _poll(f"{server.url}/api/readyz", 503)
        assert body["reasons"] == [f"job journal {journal} cannot take a write: database is locked"]
        started = time.monotonic()
        assert requests.get(f"{server.url}/api/livez", timeout=HTTP_TIMEOUT).status_code == 200
        assert time.monotonic() - started < 1.0  # never waits for the journal
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    _poll(f"{server.url}/api/readyz", 200)


def test_every_server_process_is_not_ready_once_a_graceful_shutdown_began(
    start_server: Callable[..., Server],
) -> None:
    server = start_server(LSS_WORKERS="2")

    def answers(want: int) -> set[int]:
        """The pids that answered readyz with `want`, over fresh connections, until both did."""
        seen: set[int] = set()
        deadline = time.monotonic() + 20
        while len(seen) < 2 and time.monotonic() < deadline:
            answer = requests.get(f"{server.url}/api/readyz", timeout=HTTP_TIMEOUT)
            assert answer.status_code == want, answer.text
            seen.add(answer.json()["pid"])
        return seen

    before = answers(200)
    assert len(before) == 2
    requests.get(f"{server.url}/api/graceful_shutdown", timeout=HTTP_TIMEOUT)
    after = answers(503)
    assert after == before
    body = requests.get(f"{server.url}/api/readyz", timeout=HTTP_TIMEOUT).json()
    assert body["reasons"] == [SHUTTING_DOWN]
    assert requests.get(f"{server.url}/api/livez", timeout=HTTP_TIMEOUT).status_code == 200


@pytest.fixture
def redis_proc(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    yield server
    server.stop()


def test_on_celery_readiness_follows_the_workers_and_redis(
    redis_proc: RedisServer, start_server: Callable[..., Server], tmp_path: Path
) -> None:
    url = redis_proc.url()
    worker = WorkerProcess(tmp_path / "worker1", url)
    worker.wait_ready()
    server = start_server(LSS_BROKER_URL=url, LSS_WORKERS="1")
    ready = f"{server.url}/api/readyz"
    _poll(ready, 200)
    worker.close()
    body = _poll(ready, 503)  # within the ping's 5 s of trust
    assert body["reasons"] == ["no Celery worker answered within 1 s"]
    again = WorkerProcess(tmp_path / "worker2", url)
    try:
        again.wait_ready()
        _poll(ready, 200)
        redis_proc.stop()
        body = _poll(ready, 503)
        address = f"127.0.0.1:{redis_proc.port}/0"
        assert body["reasons"] == [f"job store unavailable: Redis at {address} does not answer"]
        assert requests.get(f"{server.url}/api/livez", timeout=HTTP_TIMEOUT).status_code == 200
    finally:
        again.close()
