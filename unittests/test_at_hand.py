"""Polls answered at hand: a poll of a job whose final answer the server process holds in memory
is answered on granian's event loop, without a hand-over to a request thread (app/serving); every
other request still goes to a thread. The answer is the one a thread would give, byte for byte."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
import requests

from app.gateway import AT_HAND
from app.serving.adapter import BufferedWSGI
from unittests.conftest import OBESITY


def _done_job(app: Any) -> str:
    client = app.test_client()
    job_id = client.post("/api/global_mean", json={"question": OBESITY}).get_json()["job_id"]
    assert client.get(f"/api/get_results/{job_id}").get_json()["status"] == "done"
    return job_id


def test_a_done_jobs_poll_is_at_hand_with_the_body_a_thread_would_give(make_app) -> None:
    app = make_app()
    job_id = _done_job(app)
    at_hand = app.extensions["lss.at_hand"]
    found = at_hand("GET", f"/api/get_results/{job_id}", "")
    assert found == {AT_HAND: (job_id, app.extensions["lss.engine"].result(job_id))}
    assert at_hand("HEAD", f"/api/get_results/{job_id}", "") is not None
    # answered with it, the poll is the same answer, ETag included
    client = app.test_client()
    plain = client.get(f"/api/get_results/{job_id}")
    held = client.get(f"/api/get_results/{job_id}", environ_overrides=found)
    assert (held.status_code, held.data, held.headers["ETag"]) == (
        plain.status_code,
        plain.data,
        plain.headers["ETag"],
    )


@pytest.mark.parametrize(
    ("method", "path", "query"),
    [
        ("GET", "/api/get_results/{job}", "format=csv"),  # reads the journal for the question
        ("POST", "/api/get_results/{job}", ""),
        ("GET", "/api/get_results/job_id_99999", ""),  # never issued
        ("GET", "/api/get_results/nonsense", ""),
        ("GET", "/api/jobs", ""),
        ("POST", "/api/global_mean", ""),
    ],
)
def test_anything_else_is_not_at_hand(make_app, method: str, path: str, query: str) -> None:
    app = make_app()
    job_id = _done_job(app)
    assert app.extensions["lss.at_hand"](method, path.format(job=job_id), query) is None


class _Scope:
    """The parts of granian's RSGI scope that the layer reads."""

    server = "127.0.0.1:5000"
    client = "127.0.0.1:40000"
    http_version = "1.1"
    scheme = "http"
    authority = "127.0.0.1:5000"
    query_string = ""

    def __init__(self, method: str, path: str) -> None:
        self.method = method
        self.path = path
        self.headers = {"host": "127.0.0.1:5000"}


class _Proto:
    """granian's RSGI protocol object, as far as an answer of known length goes."""

    def __init__(self) -> None:
        self.answered_in: threading.Thread | None = None
        self.answer: tuple[int, bytes] | None = None
        self.done = threading.Event()

    def response_bytes(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.answered_in = threading.current_thread()
        self.answer = (status, body)
        self.done.set()


def _app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    body = environ.get("lss.test", b"from a thread")
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]


def test_the_layer_answers_at_hand_on_the_loop_and_the_rest_in_a_thread() -> None:
    def at_hand(method: str, path: str, query: str) -> dict[str, Any] | None:
        return {"lss.test": b"at hand"} if path == "/at-hand" else None

    layer = BufferedWSGI(_app, threads=1, max_body=100, body_timeout=1.0, at_hand=at_hand)
    loop = asyncio.new_event_loop()
    layer.__rsgi_init__(loop)
    try:
        quick, other = _Proto(), _Proto()
        loop.run_until_complete(layer.__rsgi__(_Scope("GET", "/at-hand"), quick))
        assert quick.answered_in is threading.current_thread()  # the loop's own thread
        assert quick.answer == (200, b"at hand")
        waiting = layer.__rsgi__(_Scope("GET", "/elsewhere"), other)
        assert other.done.wait(5)
        assert other.answered_in is not threading.current_thread()
        assert other.answer == (200, b"from a thread")
        loop.run_until_complete(asyncio.wait_for(waiting, 5))
    finally:
        layer.__rsgi_del__(loop)
        loop.close()


def test_a_poll_at_hand_still_meets_the_request_policy(start_server) -> None:
    """On a real server with one process (so the poll reaches the process that holds the answer):
    the poll answered on the loop is still refused for a foreign Host (421, SPEC §16.1), still
    carries nosniff, and still is the thread's answer for everyone else."""
    server = start_server(LSS_WORKERS="1")
    submitted = requests.post(
        f"{server.url}/api/global_mean", json={"question": OBESITY}, timeout=10
    ).json()
    url = f"{server.url}/api/get_results/{submitted['job_id']}"
    deadline = time.monotonic() + 10
    while requests.get(url, timeout=10).json()["status"] != "done":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    plain = requests.get(url, timeout=10)
    assert plain.status_code == 200 and plain.headers["X-Content-Type-Options"] == "nosniff"
    rebound = requests.get(url, headers={"Host": f"rebind.test:{server.port}"}, timeout=10)
    assert rebound.status_code == 421
    assert "rebind.test" in rebound.json()["reason"]
