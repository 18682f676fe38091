"""The client against faults a real server cannot be made to show on demand (scripted server):
dropped and refused connections, transient 503s, each error answer, slow jobs, the bulk bound.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from lss_client import (
    AsyncClient,
    BadRequest,
    Client,
    JobExpired,
    JobFailed,
    JobNotFound,
    JobTimeout,
    LssError,
    Policy,
    ServerError,
    ServerUnavailable,
    ServerUnreachable,
    ShuttingDown,
)
from lss_client._httpx import httpx
from unittests.support.scripted_server import DROP, QUESTION, SHUTTING_DOWN, scripted_server
from unittests.support.servers import free_port

#: Quick to give up, so that the tests of giving up are quick too.
FAST = Policy(
    timeout=5, retries=3, retry_delay=0.01, retry_delay_max=0.02, poll_delay=0.002,
    poll_delay_max=0.01, job_timeout=10,
)  # fmt: skip
UNAVAILABLE = (503, {"status": "error", "reason": "journal unavailable"})
KINDS = ["sync", "async"]


def ask(kind: str, url: str, *args: Any, policy: Policy = FAST) -> Any:
    """`ask` through Client or AsyncClient."""
    if kind == "sync":
        with Client(url, policy=policy) as client:
            return client.ask(*args)

    async def run() -> Any:
        async with AsyncClient(url, policy=policy) as client:
            return await client.ask(*args)

    return asyncio.run(run())


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "script, posts, gets",
    [
        ([DROP, DROP], 3, 1),  # the submission's connection dropped twice
        ([None, DROP, DROP, DROP], 1, 4),  # the poll's, three times (every retry but one)
        ([UNAVAILABLE, UNAVAILABLE], 3, 1),  # a transient 503 on the submission
        ([None, UNAVAILABLE], 1, 2),  # and on the poll
    ],
    ids=["drop-submit", "drop-poll", "503-submit", "503-poll"],
)
def test_transient_failures_are_retried_and_the_answer_comes(
    kind: str, script: list[Any], posts: int, gets: int
) -> None:
    with scripted_server() as server:
        server.script.extend(script)
        assert ask(kind, server.url, "best5", QUESTION) == {"echo": {"question": QUESTION}}
        assert (server.count("POST"), server.count("GET")) == (posts, gets)
        assert len(server.bodies) == 1


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "failure, error",
    [(DROP, ServerUnreachable), (UNAVAILABLE, ServerUnavailable)],
    ids=["dropped", "503"],
)
def test_retries_are_bounded_then_one_clear_error(
    kind: str, failure: Any, error: type[LssError]
) -> None:
    with scripted_server() as server:
        server.script.extend([failure] * 10)
        with pytest.raises(error) as raised:
            ask(kind, server.url, "best5", QUESTION)
        assert server.count("POST") == FAST.retries + 1
        assert "after 3 retries" in raised.value.reason


@pytest.mark.parametrize("kind", KINDS)
def test_shutting_down_is_raised_at_once_without_a_retry(kind: str) -> None:
    with scripted_server() as server:
        server.script.extend([SHUTTING_DOWN] * 10)
        with pytest.raises(ShuttingDown, match="shutting down"):
            ask(kind, server.url, "best5", QUESTION)
        assert server.count("POST") == 1


class CountingTransport(httpx.HTTPTransport):
    """Counts the requests the client tried to send, refused connections included."""

    attempts = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.attempts += 1
        return super().handle_request(request)


def test_a_refused_connection_is_retried_then_reported_unreachable() -> None:
    transport = CountingTransport()
    url = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    with Client(url, policy=FAST, transport=transport) as client, pytest.raises(ServerUnreachable):
        client.ask("best5", QUESTION)
    assert transport.attempts == FAST.retries + 1
    assert time.monotonic() - started >= 0.01 + 0.02 + 0.02  # it waited between the attempts


def test_a_server_that_comes_up_during_the_retries_is_reached() -> None:
    port = free_port()
    patient = Policy(retries=8, retry_delay=0.05, retry_delay_max=0.2, poll_delay=0.002)
    result: dict[str, Any] = {}

    def client_thread() -> None:
        try:
            result["data"] = ask(
                "sync", f"http://127.0.0.1:{port}", "best5", QUESTION, policy=patient
            )
        except LssError as error:
            result["error"] = error

    thread = threading.Thread(target=client_thread)
    thread.start()
    time.sleep(0.3)  # the first attempts are refused
    with scripted_server(port=port):
        thread.join(10)
    assert result == {"data": {"echo": {"question": QUESTION}}}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "script, error, reason",
    [
        ([(400, {"status": "error", "reason": "missing field 'state'"})], BadRequest,
         "missing field 'state'"),
        ([(413, {"status": "error", "reason": "request body too large"})], BadRequest,
         "too large"),
        ([None, (404, {"status": "error", "reason": "Invalid job_id"})], JobNotFound,
         "job_id_1: Invalid job_id"),
        ([None, (410, {"status": "error", "reason": "job job_id_1 expired"})], JobExpired,
         "job job_id_1 expired"),
        ([None, (200, {"status": "error", "reason": "ZeroDivisionError"})], JobFailed,
         "job_id_1 failed: ZeroDivisionError"),
        ([(500, {"status": "error", "reason": "internal error"})], ServerError, "internal error"),
        ([(200, b"<html>not the API</html>")], ServerError, "not the API"),
        ([None, (200, {"status": "pending"})], ServerError, "unexpected answer for job_id_1"),
    ],
    ids=["400", "413", "404", "410", "job-error", "500", "not-json", "unknown-status"],
)  # fmt: skip
def test_each_failure_raises_its_own_exception_with_the_server_reason(
    kind: str, script: list[Any], error: type[LssError], reason: str
) -> None:
    with scripted_server() as server:
        server.script.extend(script)
        with pytest.raises(error) as raised:
            ask(kind, server.url, "state_mean", QUESTION)
        assert reason in raised.value.reason
        assert len(server.requests) == len(script)  # none of these is retried


def test_an_unknown_endpoint_names_the_valid_ones() -> None:
    with scripted_server() as server:
        server.script.append((404, {"status": "error", "reason": "no such endpoint"}))
        with pytest.raises(BadRequest, match=r"no endpoint 'best6'.*best5"):
            ask("sync", server.url, "best6", QUESTION)


@pytest.mark.parametrize("kind", KINDS)
def test_a_job_that_never_ends_times_out_and_polls_back_off(kind: str) -> None:
    with scripted_server(running_polls=10**9) as server:
        impatient = Policy(poll_delay=0.005, poll_delay_max=0.05, job_timeout=0.5)
        with pytest.raises(JobTimeout, match=r"job_id_1 still running after 0\.5 s"):
            ask(kind, server.url, "best5", QUESTION, policy=impatient)
        # Without back-off it would poll every 5 ms (100 times); doubling to 50 ms: about 15.
        assert 5 <= server.polls["job_id_1"] <= 25


def bulk(url: str, questions: list[dict[str, Any]], concurrency: int) -> list[Any]:
    """AsyncClient.bulk on its own event loop."""

    async def run() -> list[Any]:
        async with AsyncClient(url, policy=FAST) as client:
            return await client.bulk(questions, concurrency)

    return asyncio.run(run())


@pytest.mark.parametrize("concurrency", [1, 7, 25])
def test_bulk_keeps_exactly_n_jobs_in_flight_as_the_server_counts_them(concurrency: int) -> None:
    questions = [{"endpoint": "best5", "question": f"q{n}"} for n in range(60)]
    with scripted_server(running_polls=3) as server:
        answers = bulk(server.url, questions, concurrency)
        assert server.peak_in_flight == concurrency
        assert len(server.bodies) == 60
    assert [answer.data for answer in answers] == [
        {"echo": {"question": f"q{n}"}} for n in range(60)
    ]
    assert len({answer.job_id for answer in answers}) == 60


def test_bulk_stops_sending_once_the_server_shuts_down_but_finishes_what_it_accepted() -> None:
    questions = [{"endpoint": "best5", "question": f"q{n}"} for n in range(60)]
    with scripted_server(running_polls=2) as server:
        server.accept_limit = 10
        answers = bulk(server.url, questions, concurrency=5)
        posts = server.count("POST")
    assert sum(answer.status == "done" for answer in answers) == 10  # accepted, all awaited
    assert posts <= 10 + 5  # at most one refused submission per worker, then nothing more
    for n, answer in enumerate(answers):
        if answer.status == "done":
            assert answer.data == {"echo": {"question": f"q{n}"}}
            continue
        assert isinstance(answer.error, ShuttingDown) and answer.job_id is None
        assert answer.reason in ("shutting down", "not sent: shutting down")
        with pytest.raises(ShuttingDown):
            answer.result()


def test_the_sync_client_runs_bulk_too() -> None:
    with scripted_server(running_polls=1) as server, Client(server.url, policy=FAST) as client:
        seen: list[int] = []
        answers = client.bulk(
            [{"endpoint": "best5", "question": f"q{n}"} for n in range(20)],
            concurrency=4,
            on_answer=lambda index, _answer: seen.append(index),
        )
        assert server.peak_in_flight == 4
    assert [answer.result() for answer in answers] == [
        {"echo": {"question": f"q{n}"}} for n in range(20)
    ]
    assert sorted(seen) == list(range(20))


def test_bulk_refuses_a_concurrency_below_one() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        bulk("http://127.0.0.1:1", [], concurrency=0)
