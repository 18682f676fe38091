"""The Celery engine under faults, with real processes: redis-server,
`python -m app.celery_engine.worker` (as `make worker` starts it) and `api_server.py` (as `make run`
starts it) on LSS_BROKER_URL.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from app.celery_engine.lost_jobs import UNACKED_KEY
from app.celery_engine.registry import JobRegistry
from app.celery_engine.settings import QUEUE, TASK_NAME, make_celery
from app.engine.job import JobStatus
from unittests.conftest import OBESITY
from unittests.support.celery_stack import RedisServer, WorkerProcess
from unittests.support.e2e import (
    Clients,
    Job,
    check_answer,
    get_json,
    job_mix,
    job_number,
    post,
    wait_done,
)
from unittests.support.reference import Reference
from unittests.support.servers import ROOT, Server, free_port, server_env

pytestmark = pytest.mark.e2e

HTTP_TIMEOUT = 5.0
#: Seconds within which every job is done after a worker was killed: the default visibility
#: timeout (10 s), a sweep (1 s), and room for a loaded 2-core machine.
RECOVERY_TIMEOUT = 30.0


@pytest.fixture
def redis_proc(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of this test's own, its data in the test's folder."""
    server = RedisServer(tmp_path / "redis")
    yield server
    server.stop()


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """Start Celery worker processes (ready when returned); all stopped at the end."""
    started: list[WorkerProcess] = []

    def start(broker_url: str, **env: str) -> WorkerProcess:
        worker = WorkerProcess(tmp_path / f"worker{len(started) + 1}", broker_url, **env)
        started.append(worker)
        worker.wait_ready()
        return worker

    yield start
    for worker in started:
        worker.close()


def held_by_a_stalled_worker(redis: RedisServer, older_than: float) -> tuple[set[str], set[str]]:
    """The jobs a stalled worker holds: (unacknowledged in kombu's hash, only in its socket).

    The live worker finishes a job within milliseconds of taking it: one taken more than
    `older_than` seconds ago and still unacknowledged is the stalled worker's, and so is a job
    accepted that long ago that is neither queued, nor unacknowledged, nor finished.
    """
    client = redis.client()
    now = time.time()
    unacked = {
        tag: json.loads(entry)[0]["headers"]["id"]
        for tag, entry in client.hgetall(UNACKED_KEY).items()
    }
    taken_long_ago = client.zrangebyscore("unacked_index", "-inf", now - older_than)
    stalled = {unacked[tag] for tag in taken_long_ago if tag in unacked}
    running = client.zrangebyscore("lss:running", "-inf", now - older_than)
    unfinished = {f"job_id_{int(number)}" for number in running}
    queued = {json.loads(raw)["headers"]["id"] for raw in client.lrange(QUEUE, 0, -1)}
    return stalled & unfinished, unfinished - queued - set(unacked.values())


def test_kill_9_of_one_of_two_workers_mid_burst_loses_no_job(
    redis_proc: RedisServer,
    start_worker: Callable[..., WorkerProcess],
    start_server: Callable[..., Server],
    reference: Reference,
) -> None:
    """16 clients; one of two workers is frozen with jobs in hand, then killed with SIGKILL.

    Every id handed out ends done with the reference's answer, no id twice. The killed worker
    held jobs in both of the ways kombu can hold them: taken and unacknowledged (given back
    after the visibility timeout), and answered to its pending BRPOP while it was frozen (only in
    its socket: sent again by the sweep for lost jobs).
    """
    doomed = start_worker(redis_proc.url())
    survivor = start_worker(redis_proc.url())
    server = start_server(LSS_BROKER_URL=redis_proc.url())
    jobs = job_mix(reference, 16 * 40, seed=99)
    issued: dict[str, Job] = {}
    lock = threading.Lock()
    finished: list[str] = []

    def client(share: list[Job]) -> None:
        with requests.Session() as session:
            for job in share:
                response = post(session, server, job)
                assert response.status_code == 200, (response.status_code, response.text)
                job_id = response.json()["job_id"]
                with lock:
                    issued[job_id] = job
                check_answer(reference, job, wait_done(session, server, job_id, 60), job_id)
                with lock:
                    finished.append(job_id)

    clients = Clients(client, [(jobs[n::16],) for n in range(16)])
    deadline = time.monotonic() + 30
    while len(issued) < len(jobs) // 4:
        assert time.monotonic() < deadline, "the burst did not get going"
        time.sleep(0.005)
    # Freeze the doomed worker at random moments until it is frozen mid-job, with a job taken
    # and unacknowledged (at other moments it is between jobs, or waiting on the queue).
    for attempt in range(1, 61):
        doomed.proc.send_signal(signal.SIGSTOP)
        time.sleep(0.3)  # the survivor finishes what it holds within milliseconds
        unacked, in_socket = held_by_a_stalled_worker(redis_proc, older_than=0.2)
        if unacked or in_socket:
            break
        doomed.proc.send_signal(signal.SIGCONT)
        time.sleep(0.05 + attempt % 7 / 100)
    doomed.proc.kill()
    doomed.proc.wait(timeout=10)
    killed_at = time.monotonic()
    assert len(issued) < len(jobs), "the burst was over before the kill"
    assert unacked or in_socket, "the frozen worker held no job: the kill proved nothing"

    clients.join(timeout=RECOVERY_TIMEOUT + 30)
    recovered_in = time.monotonic() - killed_at
    assert recovered_in < RECOVERY_TIMEOUT, f"jobs done {recovered_in:.1f} s after the kill"
    assert sorted(finished) == sorted(issued) and len(issued) == len(jobs)
    numbers = sorted(job_number(job_id) for job_id in issued)
    assert numbers == list(range(1, len(jobs) + 1)), "an id was issued twice or skipped"
    assert unacked | in_socket <= set(issued)
    with requests.Session() as session:
        assert get_json(session, server, "/api/num_jobs") == (200, {"num_jobs": 0})
        listing = get_json(session, server, "/api/jobs")[1]["data"]
        assert listing == [{job_id: "done"} for job_id in sorted(issued, key=job_number)]
    assert "ERROR" not in survivor.text.replace("ERROR/MainProcess] consumer", "")


#: A kombu consumer that takes one job as a worker's event loop does (recorded as unacknowledged
#: until it is acknowledged), says which, and is killed with SIGKILL before it acknowledges it.
_TAKE_AND_DIE = """
import os, signal, sys
from kombu import Connection
with Connection(sys.argv[1]) as connection:
    message = connection.default_channel.basic_get(sys.argv[2], no_ack=False)
    print(message.headers["id"], flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_job_taken_by_a_killed_consumer_runs_again_after_the_visibility_timeout(
    redis_proc: RedisServer, start_worker: Callable[..., WorkerProcess]
) -> None:
    """Kombu gives it back once the visibility timeout (10 s) ran out, within a sweep (1 s):
    not at once (the sweep for lost jobs leaves a job kombu holds alone), nor after kombu's
    default hour."""
    url = redis_proc.url()
    registry = JobRegistry(url)
    number = registry.accept("global_mean", {"question": OBESITY}, {s: 0 for s in JobStatus})
    make_celery(url, 10).send_task(
        TASK_NAME, args=("global_mean", {"question": OBESITY}), task_id=f"job_id_{number}"
    )
    taken = subprocess.run(
        [sys.executable, "-c", _TAKE_AND_DIE, url, QUEUE], capture_output=True, text=True
    )
    taken_at = time.monotonic()
    assert taken.returncode == -signal.SIGKILL and taken.stdout.split() == [f"job_id_{number}"]
    start_worker(url)
    while (found := registry.result(number))[0] is JobStatus.RUNNING:
        assert time.monotonic() - taken_at < 10 + 5, "not given back by the visibility timeout"
        time.sleep(0.05)
    assert time.monotonic() - taken_at > 10 - 0.5, "given back before the visibility timeout"
    assert found[0] is JobStatus.DONE


def test_redis_stopped_gets_503_and_the_service_recovers_when_it_returns(
    redis_proc: RedisServer,
    start_worker: Callable[..., WorkerProcess],
    start_server: Callable[..., Server],
) -> None:
    """No Redis: POSTs and reads answer 503 with the JSON error body; the server stays up."""
    start_worker(redis_proc.url())
    server = start_server(LSS_BROKER_URL=redis_proc.url())
    down = {
        "status": "error",
        "reason": f"job store unavailable: Redis at 127.0.0.1:{redis_proc.port}/0 does not answer",
    }
    with requests.Session() as session:
        first = post(session, server, ("global_mean", OBESITY, None)).json()["job_id"]
        answer = wait_done(session, server, first, 20)
        assert answer["status"] == "done"

        redis_proc.stop()
        response = post(session, server, ("best5", OBESITY, None))
        assert response.status_code == 503
        assert response.headers["Content-Type"].startswith("application/json")
        assert response.json() == down
        for path in (f"/api/get_results/{first}", "/api/num_jobs", "/api/jobs"):
            assert get_json(session, server, path) == (503, down), path
        status, health = get_json(session, server, "/api/health")
        assert status == 503 and health["reasons"] == [down["reason"]]
        assert server.proc.poll() is None

        redis_proc.start()  # the same port and data: ids go on, answers are still there
        assert get_json(session, server, f"/api/get_results/{first}") == (200, answer)
        response = post(session, server, ("best5", OBESITY, None))
        assert response.status_code == 200, response.text
        second = response.json()["job_id"]
        assert job_number(second) == job_number(first) + 1
        assert wait_done(session, server, second, 40)["status"] == "done"  # worker reconnected
        deadline = time.monotonic() + 20
        while get_json(session, server, "/api/health")[0] != 200:
            assert time.monotonic() < deadline, "health never recovered"
            time.sleep(0.1)
    server.stop()
    log = server.log_file.read_text()
    # One line per server process when it went away (each counts the live jobs every second,
    # app.policy.admission, so each notices)...
    gone = [
        line.split("[")[1].split()[0] for line in log.splitlines() if "does not answer (" in line
    ]
    assert gone and len(gone) == len(set(gone)) <= 2, gone
    assert "answers again" in log  # ...and one when it came back


def test_a_server_started_while_redis_is_down_serves_503_then_recovers(
    redis_proc: RedisServer, start_worker: Callable[..., WorkerProcess], tmp_path: Path
) -> None:
    """Redis down at start: a warning line, 503 until it answers, then an earlier graceful
    shutdown's flag is cleared and jobs are accepted."""
    redis_proc.client().set("lss:shutdown", 1)  # left by an earlier run's graceful shutdown
    redis_proc.stop()
    port = free_port()
    home = tmp_path / "server"
    home.mkdir()
    env = server_env(home, home / "results", port, LSS_BROKER_URL=redis_proc.url())
    with (home / "stderr.txt").open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "api_server.py"], cwd=ROOT, env=env, stdout=err, stderr=err
        )
    server = Server(proc, port, home, home / "results")
    try:
        with requests.Session() as session:
            deadline = time.monotonic() + 20
            while True:
                try:
                    status, body = get_json(session, server, "/api/num_jobs")
                    break
                except requests.ConnectionError:
                    assert time.monotonic() < deadline and proc.poll() is None, server.stderr
                    time.sleep(0.05)
            assert status == 503 and "does not answer" in body["reason"]
            warning = [line for line in server.stderr.splitlines() if "warning" in line]
            assert warning == [
                f"le-stats-sportif: warning: job store unavailable: Redis at "
                f"127.0.0.1:{redis_proc.port}/0 does not answer; serving anyway, jobs answer "
                "503 until it does"
            ]
            redis_proc.start()
            start_worker(redis_proc.url())
            response = post(session, server, ("global_mean", OBESITY, None))
            assert response.status_code == 200, response.text
            assert wait_done(session, server, response.json()["job_id"], 20)["status"] == "done"
            assert get_json(session, server, "/api/health")[0] == 200
    finally:
        server.close()


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("LSS_DATA_FILE", "{tmp}/missing.csv", "{tmp}/missing.csv: file not found"),
        ("LSS_DATA_FILE", "{tmp}/bad.csv", "{tmp}/bad.csv: missing required column(s): "),
        ("LSS_BROKER_URL", "amqp://localhost", "LSS_BROKER_URL must be a redis:// or rediss://"),
        ("TP_NUM_OF_THREADS", "zero", "TP_NUM_OF_THREADS must be a positive integer"),
    ],
    ids=["missing-data", "bad-data", "bad-broker", "bad-threads"],
)
def test_a_worker_that_cannot_start_exits_with_one_line(
    tmp_path: Path, setting: str, value: str, message: str
) -> None:
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n")
    env = dict(os.environ, LSS_BROKER_URL="redis://127.0.0.1:1/0")
    env[setting] = value.format(tmp=tmp_path)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "app.celery_engine.worker"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("le-stats-sportif worker: cannot start: ")
    assert message.format(tmp=tmp_path) in lines[0]
    assert time.monotonic() - started < 15
