"""Request ids and the log's formats across real processes (SPEC §17): `api_server.py` with two
server processes, its log as text, as JSON and on a shared standard output, and on the Celery
engine a real worker, whose lines about a job carry the id of the request that submitted it."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import orjson
import pytest
import requests

from unittests.conftest import BUNDLED_CSV, OBESITY, SMALL_CSV
from unittests.support.celery_stack import RedisServer, WorkerProcess
from unittests.support.servers import ROOT, Server, end_process, free_port, server_env

pytestmark = pytest.mark.e2e

TIMEOUT = 10
TEXT_LINE = re.compile(r"^\S+Z (?P<level>[A-Z]+) \[(?P<pid>\d+) [^\]]*?(?: req=(?P<req>\S+?))?"
                       r"(?: job=(?P<job>\S+?))?\] (?P<message>.*)$")  # fmt: skip


def _log(server: Server) -> str:
    time.sleep(0.1)  # the log writer's batch
    return server.log_file.read_text()


def _records(text: str) -> list[dict[str, str]]:
    return [m.groupdict() for line in text.splitlines() if (m := TEXT_LINE.match(line))]


def test_an_id_is_sent_back_and_on_the_lines_of_the_request_and_its_failing_job(
    start_server: Callable[..., Server],
) -> None:
    server = start_server(LSS_WORKERS="2")
    # The third job's result cannot be written: its name is taken by a folder.
    (server.results / "job_id_3.json").mkdir()
    ids = []
    for n in range(3):
        answer = requests.post(
            f"{server.url}/api/global_mean",
            json={"question": OBESITY},
            headers={"X-Request-ID": f"client-{n}", "Prefer": "wait=5"},
            timeout=TIMEOUT,
        )
        assert answer.headers["X-Request-ID"] == f"client-{n}"
        ids.append(answer.json()["job_id"])
        assert answer.json()["status"] == ("error" if n == 2 else "done"), answer.json()
    made = requests.get(f"{server.url}/api/num_jobs", timeout=TIMEOUT).headers["X-Request-ID"]
    records = _records(_log(server))
    for n, job_id in enumerate(ids):
        entry, exit_ = (r for r in records if r["req"] == f"client-{n}" and r["job"] is None)
        assert entry["message"].startswith("-> POST /api/global_mean body=")
        assert re.fullmatch(rf"<- POST /api/global_mean 200 job_id={job_id} \d+\.\d\dms", exit_[
            "message"
        ])  # fmt: skip
    assert [r["message"] for r in records if r["req"] == made] == [
        "-> GET /api/num_jobs",
        next(r["message"] for r in records if r["message"].startswith("<- GET /api/num_jobs 200")),
    ]
    (failed,) = [r for r in records if r["level"] == "ERROR"]
    assert failed == {
        "level": "ERROR",
        "pid": failed["pid"],
        "req": "client-2",
        "job": "job_id_3",
        "message": "cannot write the result of job_id_3 (global_mean)",
    }
    assert "IsADirectoryError" in server.log_file.read_text()  # its traceback follows


def test_a_body_that_never_comes_gets_its_408_with_an_id(
    start_server: Callable[..., Server],
) -> None:
    server = start_server(LSS_BODY_TIMEOUT_S="1", LSS_LOG_FORMAT="json")
    with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as slow:
        slow.sendall(
            b"POST /api/global_mean HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-ID: slow-1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 40\r\n\r\n{"
        )
        answer = b""
        while chunk := slow.recv(4096):
            answer += chunk
    head = answer.split(b"\r\n\r\n")[0].decode().lower()
    assert head.startswith("http/1.1 408")
    assert "\r\nx-request-id: slow-1" in head
    lines = [orjson.loads(line) for line in _log(server).splitlines()]
    entry, exit_ = (r for r in lines if r.get("request_id") == "slow-1")
    assert entry["message"] == "-> POST /api/global_mean body=<not in within 1 s>"
    assert (exit_["status"], exit_["path"]) == (408, "/api/global_mean")
    assert exit_["duration_ms"] >= 1000


def test_json_lines_on_a_stdout_shared_by_two_server_processes_stay_whole(
    tmp_path: Path,
) -> None:
    """Through a pipe, where the kernel keeps a write whole only up to PIPE_BUF (4 KiB): lines
    longer than that, and batches of many lines, from two processes at once."""
    port = free_port()
    env = server_env(tmp_path, tmp_path / "results", port, LSS_LOG_FILE="-",
                     LSS_LOG_FORMAT="json", LSS_WORKERS="2")  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "api_server.py"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    out: list[bytes] = []
    reader = threading.Thread(target=lambda: out.extend(proc.stdout), daemon=True)  # type: ignore[arg-type]
    reader.start()
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{url}/api/livez", timeout=1)
                break
            except requests.RequestException:
                assert time.monotonic() < deadline and proc.poll() is None, proc.stderr
                time.sleep(0.1)
        long_path = "/api/" + "x" * 6000  # a 404 whose lines are each over 6 KB
        body = {"question": OBESITY, "state": "Ohio", "pad": "p" * 250}

        def client(n: int) -> set[str]:
            pids = set()
            with requests.Session() as session:
                for i in range(40):
                    rid = f"c{n}-{i}"
                    if i % 4 == 0:
                        session.get(url + long_path, headers={"X-Request-ID": rid}, timeout=TIMEOUT)
                    else:
                        session.post(f"{url}/api/state_mean", json=body,
                                     headers={"X-Request-ID": rid}, timeout=TIMEOUT)  # fmt: skip
                    pids.add(session.get(f"{url}/api/livez", timeout=TIMEOUT).json()["pid"])
            return pids

        with ThreadPoolExecutor(16) as pool:
            pids = set().union(*pool.map(client, range(16)))
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) == 0
        end_process(proc)
        reader.join(10)
    lines = b"".join(out).decode().splitlines()
    assert lines[0].startswith("Le Stats Sportif serving")
    records = [orjson.loads(line) for line in lines[1:]]  # every other line a whole JSON object
    ours = re.compile(r"c\d+-\d+")
    exits = {
        r["request_id"]: r for r in records if "status" in r and ours.fullmatch(r["request_id"])
    }
    assert len(exits) == 16 * 40
    assert sum(r["path"] == long_path for r in exits.values()) == 16 * 10
    assert {r["status"] for r in exits.values()} == {200, 404}
    assert len(pids) == 2 and {r["pid"] for r in records} >= pids
    assert not (tmp_path / "-").exists()


def test_on_celery_a_workers_lines_about_a_job_carry_its_request(
    tmp_path: Path, start_server: Callable[..., Server]
) -> None:
    """A worker whose dataset lacks a state the web's has: the job fails there, and its lines
    (text, then JSON) name the job and the request that submitted it."""
    redis = RedisServer(tmp_path / "redis")
    try:
        for log_format in ("text", "json"):
            folder = tmp_path / f"worker-{log_format}"
            worker = WorkerProcess(
                folder, redis.url(), LSS_DATA_FILE=str(SMALL_CSV), LSS_LOG_FORMAT=log_format
            )
            try:
                worker.wait_ready()
                server = start_server(LSS_BROKER_URL=redis.url(), LSS_DATA_FILE=str(BUNDLED_CSV))
                answer = requests.post(
                    f"{server.url}/api/state_mean",
                    json={"question": OBESITY, "state": "Hawaii"},
                    headers={"X-Request-ID": f"to-worker-{log_format}", "Prefer": "wait=10"},
                    timeout=30,
                )
                assert answer.json()["status"] == "error", answer.json()
                job_id = answer.json()["job_id"]
                time.sleep(0.5)
                server.stop()
            finally:
                worker.close()
            failed = f"{job_id} (state_mean) failed"
            text = worker.text
            if log_format == "text":
                (line,) = [line for line in text.splitlines() if line.endswith(failed)]
                record = TEXT_LINE.match(line).groupdict()  # type: ignore[union-attr]
                assert (record["level"], record["req"], record["job"]) == (
                    "ERROR", "to-worker-text", job_id,
                )  # fmt: skip
                assert "InvalidInput" in text.split(line, 1)[1]  # the traceback follows
            else:
                objects = [orjson.loads(line) for line in text.splitlines() if line[:1] == "{"]
                (record,) = [r for r in objects if r["message"] == failed]
                assert (record["level"], record["request_id"], record["job_id"]) == (
                    "ERROR", "to-worker-json", job_id,
                )  # fmt: skip
                assert "InvalidInput" in record["traceback"]
                assert int(record["pid"]) == worker.proc.pid
                assert any(r["message"].startswith("Connected to ") for r in objects)
    finally:
        redis.stop()
