"""SPEC §16.2, against real server processes: slow clients cannot starve the service.

2 x LSS_WORKERS x LSS_SERVER_THREADS connections each send a declared body one byte a second (a
new one opened as soon as the server is done with one, so the attack lasts the whole window);
/api/health, asked from another client every 0.5 s for 15 s, answers each time within 100 ms, and
each slow request gets 408 with the JSON error body, the connection closed, once
LSS_BODY_TIMEOUT_S passed after its headers. On both engines (the Celery one with a real
redis-server and worker). Clients that never finish their headers hold no thread either.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pytest
import requests

from app.config import SETTINGS
from unittests.conftest import OBESITY
from unittests.support.celery_stack import RedisServer, WorkerProcess
from unittests.support.servers import Server
from unittests.support.slow_clients import SlowBodies, SlowHeaders, health_times

pytestmark = pytest.mark.e2e

WORKERS = SETTINGS["WORKERS"][1]
THREADS = SETTINGS["SERVER_THREADS"][1]
#: The attack of SPEC §16.2: twice as many slow connections as the server has request threads.
SLOW = 2 * WORKERS * THREADS
#: A short body timeout keeps the test short; the window is the SPEC's 15 s all the same.
BODY_TIMEOUT_S = 3
WINDOW_S, EVERY_S, WITHIN_S = 15.0, 0.5, 0.1
#: How much later than the body timeout a 408 may come (the loop's timer, a loaded machine).
LATE_S = 1.5


@pytest.fixture(params=["embedded", "celery"])
def server(
    request: pytest.FixtureRequest, tmp_path: Path, start_server: Callable[..., Server]
) -> Iterator[Server]:
    """The service with its default server processes and threads, on each engine."""
    env = {"LSS_BODY_TIMEOUT_S": str(BODY_TIMEOUT_S)}
    if request.param == "celery":
        redis = RedisServer(tmp_path / "redis")
        request.addfinalizer(redis.stop)
        worker = WorkerProcess(tmp_path / "worker", redis.url())
        request.addfinalizer(worker.close)
        worker.wait_ready()
        env["LSS_BROKER_URL"] = redis.url()
    yield start_server(**env)


def test_slow_bodies_get_408_and_health_stays_quick(server: Server) -> None:
    with SlowBodies(server.port, SLOW) as attack:
        took = health_times(server.port, WINDOW_S, EVERY_S)
    slow = [t for t in took if t > WITHIN_S]
    assert not slow, f"{len(slow)} of {len(took)} health answers over {WITHIN_S} s: {slow}"
    assert len(took) >= WINDOW_S / EVERY_S - 2
    # Every slow request the server was done with: a 408 once the timeout passed, then closed.
    ended = attack.outcomes
    assert len(ended) >= SLOW * (WINDOW_S // (BODY_TIMEOUT_S + LATE_S)), ended
    for outcome in ended:
        assert outcome.kind == "answer", outcome
        assert outcome.status == 408, outcome.raw[:300]
        assert orjson.loads(outcome.body.removesuffix(b"<still open>")) == {
            "status": "error",
            "reason": f"request body not received within {BODY_TIMEOUT_S} s",
        }
        assert "connection: close" in outcome.header_block
        assert not outcome.raw.endswith(b"<still open>"), "the connection stayed open"
        assert BODY_TIMEOUT_S - 0.05 <= outcome.after <= BODY_TIMEOUT_S + LATE_S, outcome
    # The service is unharmed: a job goes through, and the log shows each 408 as a request (and
    # those the attackers stopped waiting for at the end of the window).
    reply = requests.post(f"{server.url}/api/global_mean", json={"question": OBESITY}, timeout=5)
    assert reply.status_code == 200, reply.text
    assert server.stop() == 0
    log = server.log_file.read_text()
    assert len(ended) <= log.count("<- POST /api/states_mean 408") <= len(ended) + SLOW


def test_headers_never_finished_hold_no_thread(server: Server) -> None:
    """Connections that send a header line a second and never end the headers: granian waits for
    them outside the app (and drops them after its header timeout, 30 s), so the threads stay
    free."""
    with SlowHeaders(server.port, SLOW) as attack:
        took = health_times(server.port, 5.0, EVERY_S)
    slow = [t for t in took if t > WITHIN_S]
    assert not slow, f"{len(slow)} of {len(took)} health answers over {WITHIN_S} s: {slow}"
    assert attack.outcomes == []  # still sending their headers: not answered, not closed
