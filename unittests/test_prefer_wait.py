"""`Prefer: wait=N` on the POSTs (SPEC §14): one request for a quick answer, on both engines;
the usual job id when the job takes longer or the server holds enough requests already; and a
real server that keeps answering reads while 64 clients all wait on jobs that cannot finish."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from app.prefer import MAX_WAIT_S, wanted_wait
from app.task import TASKS
from unittests.conftest import OBESITY
from unittests.support.celery_stack import RedisServer, WorkerProcess
from unittests.support.servers import Server

BODY = {"question": OBESITY}


@pytest.mark.parametrize(
    ("header", "wait"),
    [
        ("wait=5", 5),
        ("WAIT=5", 5),
        ("respond-async, wait=3", 3),
        ("wait=3; foo=bar", 3),
        ('wait="7"', 7),
        (" wait = 2 ", 2),
        ("wait=100", MAX_WAIT_S),
        ("wait=0", 0),
        ("wait=-1", None),
        ("wait=1.5", None),
        ("wait=abc", None),
        ("wait", None),
        ("handling=lenient", None),
        ("", None),
    ],
)
def test_the_prefer_header_is_read_as_rfc_7240_says(header, wait):
    assert wanted_wait(header) == wait


@pytest.fixture
def client(make_engine_app):
    return make_engine_app(THREADS=2).test_client()


def test_a_quick_job_answers_in_one_request_with_its_id_and_answer(client):
    response = client.post("/api/best5", json=BODY, headers={"Prefer": "wait=5"})
    assert response.status_code == 200
    assert response.headers["Preference-Applied"] == "wait=5"
    held = response.get_json()
    assert list(held) == ["job_id", "status", "data"]
    polled = client.get(f"/api/get_results/{held['job_id']}").get_json()
    assert held == {"job_id": held["job_id"], **polled} and polled["status"] == "done"
    assert response.headers["Content-Length"] == str(len(response.get_data()))


def test_without_the_header_or_with_a_wait_of_zero_nothing_changes(client):
    for headers in ({}, {"Prefer": "wait=0"}, {"Prefer": "respond-async"}):
        response = client.post("/api/best5", json=BODY, headers=headers)
        assert list(response.get_json()) == ["job_id"]
        assert "Preference-Applied" not in response.headers


def test_a_failed_job_answers_its_error_with_its_id(make_engine_app, monkeypatch):
    def broken(self, dataset):
        raise RuntimeError("broken on purpose")

    monkeypatch.setattr(TASKS["global_mean"], "compute", broken)
    client = make_engine_app(THREADS=2).test_client()
    response = client.post("/api/global_mean", json=BODY, headers={"Prefer": "wait=5"})
    assert response.status_code == 200 and response.headers["Preference-Applied"] == "wait=5"
    body = response.get_json()
    assert body["status"] == "error" and "broken on purpose" in body["reason"]
    assert list(body) == ["job_id", "status", "reason"]


def test_a_refused_body_is_refused_as_without_the_header(client):
    response = client.post("/api/state_mean", json=BODY, headers={"Prefer": "wait=5"})
    assert response.status_code == 400 and "field 'state'" in response.get_json()["reason"]
    assert "Preference-Applied" not in response.headers


def test_a_job_slower_than_the_wait_gets_its_id_after_the_wait(make_app, gated):
    client = make_app(THREADS=1).test_client()
    started = time.monotonic()
    response = client.post("/api/states_mean", json=BODY, headers={"Prefer": "wait=1"})
    elapsed = time.monotonic() - started
    assert 0.9 <= elapsed < 5, elapsed
    assert list(response.get_json()) == ["job_id"]
    assert "Preference-Applied" not in response.headers
    gated.set()


def test_no_more_requests_are_held_than_the_server_threads_but_one(make_app, gated):
    """Two request threads: one held at most, so the second POST is answered at once."""
    client = make_app(THREADS=1, SERVER_THREADS=2).test_client()
    held: list[float] = []

    def hold() -> None:
        started = time.monotonic()
        client.post("/api/states_mean", json=BODY, headers={"Prefer": "wait=3"})
        held.append(time.monotonic() - started)

    first = threading.Thread(target=hold)
    first.start()
    time.sleep(0.3)  # the first request is held by now
    started = time.monotonic()
    response = client.post("/api/states_mean", json=BODY, headers={"Prefer": "wait=3"})
    assert time.monotonic() - started < 1.0
    assert list(response.get_json()) == ["job_id"]
    gated.set()  # the jobs finish: the held request answers with its result
    first.join(10)
    assert held and held[0] < 3


def test_64_clients_waiting_leave_the_server_answering_reads(
    tmp_path: Path, redis_server: RedisServer, start_server: Callable[..., Server]
):
    """On a real server over a Celery worker that is frozen, so no job can finish: every POST
    holds or not, none fails, and the reads answer at once meanwhile."""
    url = redis_server.url(7)
    redis_server.client(7).flushdb()
    worker = WorkerProcess(tmp_path / "worker", url)
    worker.wait_ready()
    try:
        server = start_server(LSS_BROKER_URL=url)
        worker.proc.send_signal(signal.SIGSTOP)  #: the worker takes nothing more
        answers: list[int] = []

        def wait_for_a_job(_: int) -> dict:
            response = requests.post(
                f"{server.url}/api/best5", json=BODY, headers={"Prefer": "wait=4"}, timeout=30
            )
            answers.append(response.status_code)
            return response.json()

        with ThreadPoolExecutor(64) as clients:
            pending = [clients.submit(wait_for_a_job, n) for n in range(64)]
            time.sleep(1.0)
            for path in ("/api/num_jobs", "/api/questions", "/api/jobs/recent?limit=5"):
                started = time.monotonic()
                response = requests.get(f"{server.url}{path}", timeout=5)
                assert response.status_code == 200, path
                assert time.monotonic() - started < 1.0, path
            bodies = [p.result(timeout=60) for p in pending]
        assert answers == [200] * 64
        assert all(list(body) == ["job_id"] for body in bodies)  # none could finish
        worker.proc.send_signal(signal.SIGCONT)  # the jobs run, none was lost
        deadline = time.monotonic() + 30
        while requests.get(f"{server.url}/api/num_jobs", timeout=5).json()["num_jobs"]:
            assert time.monotonic() < deadline, "jobs left unfinished"
            time.sleep(0.1)
    finally:
        worker.proc.send_signal(signal.SIGCONT)
        worker.close()
