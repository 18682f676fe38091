"""LSS_WORKER_EVENTS=1: a real worker on a real Redis sends heartbeats and task events, which
Celery's own event receiver (what Flower reads) sees; without it, the worker sends none."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.celery_engine.settings import TASK_NAME, make_celery
from unittests.conftest import OBESITY
from unittests.support.celery_stack import RedisServer, WorkerProcess

pytestmark = pytest.mark.e2e

#: Seconds events are listened for: more than two heartbeats (one every 2 s).
LISTEN_S = 5.0


@pytest.fixture
def redis_proc(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    yield server
    server.stop()


def events_while_a_job_runs(url: str) -> list[dict]:
    """Every event the broker carries for LISTEN_S seconds, during which one job is sent."""
    celery = make_celery(url, visibility_timeout=10)
    seen: list[dict] = []
    listening = threading.Event()
    with celery.connection_for_read() as connection:
        receiver = celery.events.Receiver(connection, handlers={"*": seen.append})

        def listen() -> None:
            listening.set()
            receiver.capture(limit=None, timeout=None, wakeup=False)

        thread = threading.Thread(target=listen, daemon=True)
        thread.start()
        listening.wait(5)
        time.sleep(0.5)  # the receiver's queue is bound
        celery.send_task(TASK_NAME, args=("global_mean", {"question": OBESITY}), task_id="job_id_1")
        time.sleep(LISTEN_S)
        receiver.should_stop = True
        thread.join(5)
    return seen


@pytest.mark.parametrize("events", ["1", "0"])
def test_workers_send_events_and_heartbeats_only_when_asked(
    redis_proc: RedisServer, tmp_path: Path, events: str
) -> None:
    worker = WorkerProcess(tmp_path / "worker", redis_proc.url(), LSS_WORKER_EVENTS=events)
    try:
        worker.wait_ready()
        seen = events_while_a_job_runs(redis_proc.url())
        # The job ran either way: the worker took it off the queue.
        assert redis_proc.client().llen("lss") == 0
    finally:
        worker.close()
    kinds = [event["type"] for event in seen]
    if events == "1":
        assert kinds.count("worker-heartbeat") >= 2, kinds
        assert {"task-received", "task-started", "task-succeeded"} <= set(kinds), kinds
        (hostname,) = {event["hostname"] for event in seen}
        assert hostname.startswith(f"lss-{worker.proc.pid}@")  # the worker's own name
    else:
        assert kinds == []
