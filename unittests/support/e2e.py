"""Driving a real server in tests: jobs as clients ask them, client threads, checked answers."""

from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Callable
from typing import Any

import requests

from unittests.support.reference import ENDPOINTS, QUESTIONS, STATE_ENDPOINTS, Reference, compare
from unittests.support.servers import Server

#: Seconds any single HTTP request may take, and a job may take to finish.
HTTP_TIMEOUT = 5.0
JOB_TIMEOUT = 20.0
SHUTTING_DOWN = {"status": "error", "reason": "shutting down"}
JOB_ID = re.compile(r"job_id_([1-9][0-9]*)")

#: (endpoint, question, state or None): one job as a client asks it.
Job = tuple[str, str, str | None]


def job_number(job_id: str) -> int:
    """The number of a well-formed job id (asserting it is one)."""
    match = JOB_ID.fullmatch(job_id)
    assert match, f"malformed job id {job_id!r}"
    return int(match.group(1))


def random_job(reference: Reference, rng: random.Random, endpoint: str, question: str) -> Job:
    """A job for `endpoint` and `question`, with a random location when it needs one."""
    state = rng.choice(reference.locations(question)) if endpoint in STATE_ENDPOINTS else None
    return (endpoint, question, state)


def job_mix(reference: Reference, count: int, seed: int) -> list[Job]:
    """`count` jobs covering every endpoint x question pair (when count >= 81), shuffled."""
    rng = random.Random(seed)
    questions = list(QUESTIONS)
    jobs = [
        random_job(reference, rng, ENDPOINTS[n % 9], questions[(n // 9) % 9]) for n in range(count)
    ]
    rng.shuffle(jobs)
    return jobs


def post(session: requests.Session, server: Server, job: Job) -> requests.Response:
    """Submit `job`."""
    endpoint, question, state = job
    body: dict[str, Any] = {"question": question}
    if state is not None:
        body["state"] = state
    return session.post(f"{server.url}/api/{endpoint}", json=body, timeout=HTTP_TIMEOUT)


def get_json(session: requests.Session, server: Server, path: str) -> tuple[int, Any]:
    """GET `path`: (status code, JSON body)."""
    response = session.get(f"{server.url}{path}", timeout=HTTP_TIMEOUT)
    return response.status_code, response.json()


def wait_done(
    session: requests.Session, server: Server, job_id: str, timeout: float = JOB_TIMEOUT
) -> Any:
    """Poll get_results until the job is no longer running; its final body."""
    deadline = time.monotonic() + timeout
    while True:
        status, body = get_json(session, server, f"/api/get_results/{job_id}")
        assert status == 200, (job_id, status, body)
        if body != {"status": "running"}:
            return body
        assert time.monotonic() < deadline, f"{job_id} still running after {timeout} s"
        time.sleep(0.01)


def check_answer(reference: Reference, job: Job, body: Any, job_id: str) -> None:
    """`body` is a finished job's result with the reference's data."""
    assert isinstance(body, dict) and body.get("status") == "done", (job_id, job, body)
    assert set(body) == {"status", "data"}, (job_id, sorted(body))
    compare(body["data"], reference.answer(*job), where=f"{job_id} {job[0]}({job[2] or ''})")


class Clients:
    """Client threads started together; join() re-raises the first failure of any of them."""

    def __init__(self, target: Callable[..., None], args: list[tuple[Any, ...]]) -> None:
        self.errors: list[BaseException] = []
        barrier = threading.Barrier(len(args))

        def run(*arguments: Any) -> None:
            try:
                barrier.wait(timeout=10)
                target(*arguments)
            except BaseException as error:
                self.errors.append(error)

        self.threads = [threading.Thread(target=run, args=a, daemon=True) for a in args]
        for thread in self.threads:
            thread.start()

    def join(self, timeout: float = 30.0) -> None:
        """Wait for every client; fail on a hung one or on the first error."""
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        assert not any(t.is_alive() for t in self.threads), f"clients still busy after {timeout} s"
        if self.errors:
            raise self.errors[0]


class Submitters(Clients):
    """`count` clients submitting random jobs without waiting for them, until `stop()`; they
    keep every job id handed out. A refusal must be the shutting-down one; a client whose
    server is gone stops."""

    def __init__(self, server: Server, reference: Reference, count: int, seed: int = 0) -> None:
        self.accepted: dict[str, Job] = {}
        self._stop = threading.Event()
        lock = threading.Lock()
        questions = list(QUESTIONS)

        def submit(seed: int) -> None:
            rng = random.Random(seed)
            with requests.Session() as session:
                while not self._stop.is_set():
                    job = random_job(reference, rng, rng.choice(ENDPOINTS), rng.choice(questions))
                    try:
                        response = post(session, server, job)
                    except requests.RequestException:
                        return  # the server is gone
                    if response.status_code == 200:
                        with lock:
                            self.accepted[response.json()["job_id"]] = job
                    else:
                        assert (response.status_code, response.json()) == (503, SHUTTING_DOWN)

        super().__init__(submit, [(seed * 100 + n,) for n in range(count)])

    def stop(self, timeout: float = 30.0) -> None:
        """Stop submitting and wait for every client."""
        self._stop.set()
        self.join(timeout)


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Wait until `condition()` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)


def api_answer(url: str, endpoint: str, question: str, state: str | None) -> Any:
    """The answer's data as the API gives it to a plain HTTP client (POST, then poll)."""
    body = {"question": question} if state is None else {"question": question, "state": state}
    return server_answer(url, endpoint, body)


def server_answer(url: str, endpoint: str, body: dict[str, Any]) -> Any:
    """The server's own answer to `body` (POST, then poll), as a plain HTTP client gets it."""
    response = requests.post(f"{url}/api/{endpoint}", json=body, timeout=HTTP_TIMEOUT)
    job_id = response.json()["job_id"]
    deadline = time.monotonic() + 20
    while True:
        result = requests.get(f"{url}/api/get_results/{job_id}", timeout=HTTP_TIMEOUT).json()
        if result["status"] != "running":
            assert result["status"] == "done", result
            return result["data"]
        assert time.monotonic() < deadline, f"{job_id} still running"
        time.sleep(0.005)
