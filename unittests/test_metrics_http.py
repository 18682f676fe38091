"""The HTTP layer's metrics (SPEC §17), counted: answers by route and status, refusals by reason,
held requests, after known requests over two real server processes; and every metric SPEC §17
names, on /metrics (on Celery, on the web's and a real worker's together)."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from flask import Flask

from app.metrics.http import HELD_OUTCOMES, REFUSALS
from unittests.conftest import OBESITY
from unittests.support.celery_stack import RedisServer, WorkerProcess
from unittests.support.servers import Server, free_port
from unittests.test_metrics import Samples, parse, scrape

TIMEOUT = 10
TOKEN = "metrics-test-token"
JOB = {"question": OBESITY}
#: Every metric SPEC §17 names (a histogram by its count), and those only the embedded engine has:
#: Celery runs a worker's threads itself, and keeps the answers in Redis, not in files.
SPEC_METRICS = {
    "lss_jobs_accepted_total", "lss_jobs_finished_total", "lss_job_seconds_count",
    "lss_job_seconds_bucket", "lss_job_seconds_sum", "lss_jobs_pending", "lss_pool_threads",
    "lss_pool_threads_alive", "lss_pool_threads_replaced_total", "lss_http_answers_total",
    "lss_http_refusals_total", "lss_http_held_requests_total", "lss_result_files",
    "lss_result_bytes", "lss_journal_rows", "lss_dataset_info", "lss_build_info",
}  # fmt: skip
EMBEDDED_ONLY = {
    "lss_pool_threads", "lss_pool_threads_alive", "lss_pool_threads_replaced_total",
    "lss_result_files", "lss_result_bytes",
}  # fmt: skip


def _names(samples: Samples) -> set[str]:
    return {name for name, _ in samples}


def _by(samples: Samples, name: str, *keys: str) -> dict[tuple[str, ...], float]:
    """The samples of `name`, by the values of the labels `keys`."""
    return {
        tuple(dict(labels)[k] for k in keys): value
        for (sample, labels), value in samples.items()
        if sample == name
    }


def _grown(before: dict, after: dict) -> dict:
    """What grew between two samplings, without what did not."""
    grown = {key: value - before.get(key, 0) for key, value in after.items()}
    return {key: value for key, value in grown.items() if value}


def _late_body(port: int) -> int:
    """A POST whose body never comes: the status it gets (408 after LSS_BODY_TIMEOUT_S)."""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as slow:
        slow.sendall(
            b"POST /api/global_mean HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 40\r\n\r\n{"
        )
        return int(slow.recv(64)[9:12])


def test_answers_refusals_and_held_requests_over_two_server_processes_are_counted(
    start_server: Callable[..., Server],
) -> None:
    server = start_server(LSS_WORKERS="2", LSS_ADMIN_TOKEN=TOKEN, LSS_BODY_TIMEOUT_S="1")
    url = server.url
    time.sleep(1.2)  # the start's health checks, folded by the processes that answered them
    before = scrape(url)
    sent: dict[tuple[str, str], int] = {}

    def send(
        route: str, method: str, path: str, status: int, **kwargs: object
    ) -> requests.Response:
        """One request, on a fresh connection (so either process may take it)."""
        answer = requests.request(method, url + path, timeout=TIMEOUT, **kwargs)  # type: ignore[arg-type]
        assert answer.status_code == status, (path, answer.text)
        sent[route, str(status)] = sent.get((route, str(status)), 0) + 1
        return answer

    def job(n: int) -> None:
        job_id = send("/api/global_mean", "POST", "/api/global_mean", 200, json=JOB).json()[
            "job_id"
        ]
        while (
            send("/api/get_results/{job_id}", "GET", f"/api/get_results/{job_id}", 200).json()[
                "status"
            ]
            != "done"
        ):
            time.sleep(0.01)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(job, range(24)))
    for _ in range(5):  # held until done
        held = {"Prefer": "wait=10"}
        assert (
            send("/api/best5", "POST", "/api/best5", 200, json=JOB, headers=held).json()["status"]
            == "done"
        )
    for _ in range(6):
        send("unmatched", "GET", "/no/such/thing", 404)
    for _ in range(4):
        send("/api/global_mean", "GET", "/api/global_mean", 405)
    for _ in range(3):
        send("/api/global_mean", "POST", "/api/global_mean", 400, data=b"{")
    for state in ("Ohio", "Texas", "Guam"):
        send("/states/{name}", "GET", f"/states/{state}", 200)
    for _ in range(5):  # refusals: another site, a foreign Host, no admin token, a slow body
        send("/api/global_mean", "POST", "/api/global_mean", 403, json=JOB,
             headers={"Origin": "http://evil.example"})  # fmt: skip
    for _ in range(4):
        send("/api/health", "GET", "/api/health", 421, headers={"Host": "evil.example"})
    for _ in range(3):
        send("/api/graceful_shutdown", "GET", "/api/graceful_shutdown", 401)
    for _ in range(2):
        assert _late_body(server.port) == 408
        sent["/api/global_mean", "408"] = sent.get(("/api/global_mean", "408"), 0) + 1
    auth = {"Authorization": f"Bearer {TOKEN}"}
    send("/api/graceful_shutdown", "GET", "/api/graceful_shutdown", 200, headers=auth)
    for _ in range(4):  # after a graceful shutdown began, in whichever process
        send("/api/worst5", "POST", "/api/worst5", 503, json=JOB)
    refused = {("cross_site", "403"): 5, ("host", "421"): 4, ("admin_token", "401"): 3,
               ("body_timeout", "408"): 2, ("shutting_down", "503"): 4}  # fmt: skip

    deadline = time.monotonic() + 10
    while True:  # each process folds its counts every second; the one asked, at once
        after = scrape(url)
        answers = _grown(_by(before, "lss_http_answers_total", "route", "status"),
                         _by(after, "lss_http_answers_total", "route", "status"))  # fmt: skip
        answers.pop(("/metrics", "200"), None)  # the scrapes themselves
        counted = (
            answers,
            _grown(_by(before, "lss_http_refusals_total", "reason", "status"),
                   _by(after, "lss_http_refusals_total", "reason", "status")),
            _grown(_by(before, "lss_http_held_requests_total", "outcome"),
                   _by(after, "lss_http_held_requests_total", "outcome")),
        )  # fmt: skip
        if counted == (sent, refused, {("done",): 5}) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert counted == (sent, refused, {("done",): 5})
    pids = set(re.findall(r"\[(\d+) lss-request-\d+ req=\S+\] <- ", server.log_file.read_text()))
    assert len(pids) == 2, "one server process took every request"
    # Every known reason is there from the start, at 0 if nothing was refused for it.
    assert set(_by(after, "lss_http_refusals_total", "reason", "status")) == {
        (reason, str(status)) for reason, status in REFUSALS.items()
    }
    assert set(_by(after, "lss_http_held_requests_total", "outcome")) == {
        (outcome,) for outcome in HELD_OUTCOMES
    }


def test_a_rate_limit_in_each_of_two_processes_is_counted_as_refusals(
    start_server: Callable[..., Server],
) -> None:
    """Each server process has a rate limit of its own: 3 jobs from one client, then 429."""
    server = start_server(LSS_WORKERS="2", LSS_RATE_LIMIT="3/hour")
    statuses = [
        requests.post(f"{server.url}/api/global_mean", json=JOB, timeout=TIMEOUT).status_code
        for _ in range(30)
    ]
    assert set(statuses) == {200, 429} and 3 <= statuses.count(200) <= 6
    time.sleep(1.5)  # the other process's fold
    samples = scrape(server.url)
    refused = _by(samples, "lss_http_refusals_total", "reason", "status")[("rate_limit", "429")]
    answers = _by(samples, "lss_http_answers_total", "route", "status")
    assert refused == answers[("/api/global_mean", "429")] == statuses.count(429)
    assert answers[("/api/global_mean", "200")] == statuses.count(200)
    accepted = samples["lss_jobs_accepted_total", frozenset({("endpoint", "global_mean")})]
    assert accepted == statuses.count(200)


def test_a_full_disk_is_counted_as_a_refusal(make_app: Callable[..., Flask]) -> None:
    client = make_app(MIN_FREE_DISK_MB=10**9).test_client()

    def refused() -> dict[tuple[str, ...], float]:
        text = client.get("/metrics").get_data(as_text=True)
        return _by(parse(text), "lss_http_refusals_total", "reason", "status")

    before = refused()
    for _ in range(3):
        assert client.post("/api/global_mean", json=JOB).status_code == 503
    assert _grown(before, refused()) == {("disk", "503"): 3}


def test_held_requests_are_counted_by_what_became_of_them(
    make_app: Callable[..., Flask], gated: object
) -> None:
    def held(app: Flask, wait: str = "1") -> dict[tuple[str, ...], float]:
        client = app.test_client()
        before = _by(parse(client.get("/metrics").get_data(as_text=True)),
                     "lss_http_held_requests_total", "outcome")  # fmt: skip
        client.post("/api/states_mean", json=JOB, headers={"Prefer": f"wait={wait}"})
        after = _by(parse(client.get("/metrics").get_data(as_text=True)),
                    "lss_http_held_requests_total", "outcome")  # fmt: skip
        return _grown(before, after)

    assert held(make_app(THREADS=1)) == {("waited",): 1}  # the gated job is not done in 1 s
    assert held(make_app(THREADS=1, SERVER_THREADS=1)) == {("busy",): 1}  # no place to hold it
    gated.set()  # type: ignore[attr-defined]
    assert held(make_app(THREADS=1), wait="5") == {("done",): 1}


def _names_within(url: str, wanted: set[str], seconds: float = 5) -> set[str]:
    """The metrics' names on `url` once they include `wanted` (another server process's counts
    come with its next fold, within a second), or after `seconds`."""
    deadline = time.monotonic() + seconds
    while not (names := _names(scrape(url))) >= wanted and time.monotonic() < deadline:
        time.sleep(0.2)
    return names


def test_every_metric_the_spec_names_is_on_metrics(start_server: Callable[..., Server]) -> None:
    server = start_server(LSS_WORKERS="2")
    requests.post(f"{server.url}/api/global_mean", json=JOB, timeout=TIMEOUT)
    names = _names_within(server.url, SPEC_METRICS)
    assert names >= SPEC_METRICS, SPEC_METRICS - names


def test_on_celery_the_web_and_its_workers_have_every_metric_between_them(
    tmp_path: Path, start_server: Callable[..., Server]
) -> None:
    redis = RedisServer(tmp_path / "redis")
    port = free_port()
    worker = WorkerProcess(tmp_path / "worker", redis.url(), LSS_WORKER_METRICS_PORT=str(port))
    try:
        worker.wait_ready()
        server = start_server(LSS_BROKER_URL=redis.url(), LSS_WORKERS="2")
        answer = requests.post(f"{server.url}/api/global_mean", json=JOB,
                               headers={"Prefer": "wait=10"}, timeout=30)  # fmt: skip
        assert answer.json()["status"] == "done"
        own = _names(scrape(f"http://127.0.0.1:{port}"))
        web = _names_within(server.url, SPEC_METRICS - EMBEDDED_ONLY - own)
    finally:
        worker.close()
        redis.stop()
    assert web | own >= SPEC_METRICS - EMBEDDED_ONLY, SPEC_METRICS - EMBEDDED_ONLY - web - own
    assert {"lss_jobs_finished_total", "lss_job_seconds_count"} <= own
    shown = EMBEDDED_ONLY & (web | own)
    assert not shown, (shown & web, shown & own)  # no pool or files shown at 0 where none are


pytestmark = pytest.mark.e2e
