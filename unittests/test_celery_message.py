"""The task message a POST queues from the accept script (app.celery_engine.message) against the
one Celery's own `send_task` queues, on a real Redis with no worker: the same message, field by
field. That workers run it is what every Celery engine test shows."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import redis

from app.celery_engine.message import task_message
from app.celery_engine.registry import JobRegistry
from app.celery_engine.settings import QUEUE, TASK_NAME, make_celery
from app.engine.job import JobStatus
from unittests.conftest import OBESITY
from unittests.support.celery_stack import RedisServer

#: A database no worker of the test session takes jobs from.
DB = 7
TTL = {JobStatus.DONE: 60, JobStatus.ERROR: 30}
#: A request whose text looks like the pieces of a message, to show it cannot split one.
TRICKY = {"question": OBESITY, "state": 'lss-job-id-", "id": "x\\u0000'}


@pytest.fixture
def client(redis_server: RedisServer) -> Iterator[redis.Redis]:
    client = redis_server.client(DB)
    client.flushdb()
    yield client
    client.flushdb()


def _queued(client: redis.Redis) -> list[dict[str, Any]]:
    """The messages on the queue, oldest first, their bodies decoded."""
    messages = [orjson.loads(raw) for raw in reversed(client.lrange(QUEUE, 0, -1))]
    for message in messages:
        message["body"] = orjson.loads(base64.b64decode(message["body"]))
    return messages


@pytest.mark.parametrize("payload", [{"question": OBESITY}, TRICKY])
def test_the_accept_script_queues_what_send_task_would(
    redis_server: RedisServer, client: redis.Redis, payload: dict[str, str]
) -> None:
    url = redis_server.url(DB)
    celery = make_celery(url, visibility_timeout=30)
    registry = JobRegistry(url)
    number = registry.accept(
        "state_mean", payload, TTL, QUEUE, task_message(celery, "state_mean", payload)
    )
    celery.send_task(TASK_NAME, args=("state_mean", payload), task_id=f"job_id_{number}")
    ours, celerys = _queued(client)
    # Unique per message (kombu's key for it while a worker holds it), and where replies would
    # go: no reply is ever sent, the answer is in the job's record.
    for message in (ours, celerys):
        assert message["properties"].pop("delivery_tag")
        message["properties"].pop("reply_to")
    # The arguments as text, for logs and monitors: the plain repr, where Celery's saferepr
    # writes a backslash as it is (so the two differ for a request with one).
    argsrepr = ours["headers"].pop("argsrepr")
    assert argsrepr == repr(("state_mean", payload))
    if payload is not TRICKY:
        assert argsrepr == celerys["headers"]["argsrepr"]
    celerys["headers"].pop("argsrepr")
    assert ours == celerys
    assert ours["headers"]["id"] == ours["properties"]["correlation_id"] == f"job_id_{number}"
    assert ours["body"][0] == ["state_mean", payload]
    registry.close()


def test_a_refused_job_queues_nothing(redis_server: RedisServer, client: redis.Redis) -> None:
    """After a graceful shutdown began the script neither records nor queues the job."""
    url = redis_server.url(DB)
    registry = JobRegistry(url)
    registry.request_shutdown()
    message = task_message(make_celery(url, 30), "global_mean", {"question": OBESITY})
    assert registry.accept("global_mean", {"question": OBESITY}, TTL, QUEUE, message) == 0
    assert client.llen(QUEUE) == 0
    assert registry.highest() == 0
    registry.close()


def test_every_message_has_its_own_delivery_tag(redis_server: RedisServer) -> None:
    """kombu keys a message a worker holds by its tag: two alike would clash."""
    celery = make_celery(redis_server.url(DB), 30)
    tags = {
        orjson.loads(b"0".join(task_message(celery, "best5", {"question": OBESITY})))["properties"][
            "delivery_tag"
        ]
        for _ in range(50)
    }
    assert len(tags) == 50
