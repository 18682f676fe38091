"""The real server process: concurrent clients, graceful shutdown, signals, restart, start-up, log.

Each test starts `api_server.py` as `make run` does, on a free port, with its results folder and
log in the test's temporary directory, and stops it afterwards whatever happened.
"""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import requests

from unittests.conftest import BUNDLED_CSV, MUSCLE, OBESITY
from unittests.support.e2e import (
    HTTP_TIMEOUT,
    JOB_TIMEOUT,
    SHUTTING_DOWN,
    Clients,
    Job,
    Submitters,
    check_answer,
    get_json,
    job_mix,
    job_number,
    post,
    wait_done,
    wait_for,
)
from unittests.support.reference import ENDPOINTS, QUESTIONS, Reference
from unittests.support.servers import EXIT_TIMEOUT, ROOT, Server, free_port, server_env

pytestmark = pytest.mark.e2e


# -- a. concurrent clients ---------------------------------------------------------------------


def test_concurrent_clients_get_correct_answers_and_distinct_ids(
    start_server: Callable[..., Server], reference: Reference
) -> None:
    """16 clients, 500 jobs over every endpoint and question: each answer is the reference's."""
    server = start_server()
    jobs = job_mix(reference, 500, seed=20240501)
    assert {(e, q) for e, q, _ in jobs} == {(e, q) for e in ENDPOINTS for q in QUESTIONS}
    answers: list[tuple[str, Job, Any]] = []
    lock = threading.Lock()

    def client(chunk: list[Job]) -> None:
        with requests.Session() as session:
            for job in chunk:
                response = post(session, server, job)
                assert response.status_code == 200, (job, response.status_code, response.text)
                job_id = response.json()["job_id"]
                body = wait_done(session, server, job_id)
                with lock:
                    answers.append((job_id, job, body))

    Clients(client, [(jobs[n::16],) for n in range(16)]).join(timeout=45)

    assert len(answers) == 500
    for job_id, job, body in answers:
        check_answer(reference, job, body, job_id)
    ids = [job_id for job_id, _, _ in answers]
    assert len(set(ids)) == 500, "a job id was issued twice"
    assert sorted(job_number(job_id) for job_id in ids) == list(range(1, 501))

    with requests.Session() as session:
        status, listing = get_json(session, server, "/api/jobs")
        assert status == 200 and listing["status"] == "done"
        in_order = sorted(ids, key=job_number)
        assert listing["data"] == [{job_id: "done"} for job_id in in_order]
        assert get_json(session, server, "/api/num_jobs") == (200, {"num_jobs": 0})


# -- b. graceful shutdown over HTTP ------------------------------------------------------------


def test_graceful_shutdown_finishes_accepted_jobs_and_refuses_new_ones(
    start_server: Callable[..., Server], reference: Reference
) -> None:
    """Shutdown mid-burst: every 200 gets a correct result, every later POST a 503."""
    server = start_server()
    jobs = job_mix(reference, 300, seed=7)
    accepted: dict[str, Job] = {}
    lock = threading.Lock()

    def submitter(chunk: list[Job]) -> None:
        refused = False
        with requests.Session() as session:
            for job in chunk:
                response = post(session, server, job)
                if response.status_code == 200:
                    assert not refused, "a job was accepted after one was refused for shutdown"
                    with lock:
                        accepted[response.json()["job_id"]] = job
                else:
                    assert response.status_code == 503, (response.status_code, response.text)
                    assert response.json() == SHUTTING_DOWN
                    refused = True

    clients = Clients(submitter, [(jobs[n::8],) for n in range(8)])
    with requests.Session() as session:
        wait_for(lambda: len(accepted) >= 60, 20, "60 accepted jobs")
        status, reply = get_json(session, server, "/api/graceful_shutdown")
        assert status == 200 and reply in ({"status": "running"}, {"status": "done"}), reply
        clients.join(timeout=30)

        deadline = time.monotonic() + JOB_TIMEOUT
        while reply != {"status": "done"}:
            assert time.monotonic() < deadline, "graceful shutdown never reported done"
            time.sleep(0.02)
            status, reply = get_json(session, server, "/api/graceful_shutdown")
            assert status == 200 and reply in ({"status": "running"}, {"status": "done"}), reply

        assert get_json(session, server, "/api/num_jobs") == (200, {"num_jobs": 0})
        assert len(accepted) >= 60
        for job_id, job in accepted.items():
            status, body = get_json(session, server, f"/api/get_results/{job_id}")
            assert status == 200
            check_answer(reference, job, body, job_id)

        refused = post(session, server, ("best5", OBESITY, None))
        assert refused.status_code == 503
        assert refused.json() == SHUTTING_DOWN
        assert refused.headers["Content-Type"].startswith("application/json")

        status, listing = get_json(session, server, "/api/jobs")
        assert status == 200
        assert listing["data"] == [{job_id: "done"} for job_id in sorted(accepted, key=job_number)]
        assert get_json(session, server, "/api/health") == (503, SHUTTING_DOWN)
        assert get_json(session, server, "/api/graceful_shutdown") == (200, {"status": "done"})
        assert get_json(session, server, "/api/num_jobs") == (200, {"num_jobs": 0})
    assert server.proc.poll() is None, "graceful_shutdown must not stop the process"
    assert server.stop(signal.SIGTERM) == 0, server.stderr


# -- c. signals on a busy server ---------------------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_drains_a_busy_server_then_exits_0(
    start_server: Callable[..., Server], reference: Reference, signum: int
) -> None:
    """Every job that got a 200 before the signal has a complete, correct result file."""
    server = start_server()
    clients = Submitters(server, reference, 8)
    accepted = clients.accepted
    try:
        wait_for(lambda: len(accepted) >= 150, 20, "150 accepted jobs")
        started = time.monotonic()
        code = server.stop(signum)
        took = time.monotonic() - started
    finally:
        clients.stop()

    assert code == 0, f"exit code {code} after {signum!r}:\n{server.stderr}"
    assert took < EXIT_TIMEOUT
    assert len(accepted) >= 150
    for job_id, job in accepted.items():
        path = server.results / f"{job_id}.json"
        assert path.is_file(), f"{job_id} was accepted but has no result file"
        check_answer(reference, job, json.loads(path.read_bytes()), job_id)
    leftovers = [p.name for p in server.results.iterdir() if p.name.endswith(".tmp")]
    assert not leftovers, f"temporary files left behind: {leftovers[:5]}"


# -- d. restart on the same results folder ------------------------------------------------------


def test_restart_continues_ids_and_keeps_old_results_readable(
    start_server: Callable[..., Server], reference: Reference, tmp_path: Path
) -> None:
    """A new run issues ids above every old one and still serves the old results."""
    results = tmp_path / "shared-results"
    jobs: list[Job] = [
        ("best5", OBESITY, None),
        ("state_mean", MUSCLE, "Ohio"),
        ("mean_by_category", OBESITY, None),
        ("state_diff_from_mean", OBESITY, "Guam"),
    ]
    first = start_server(results=results)
    old: dict[str, tuple[Job, Any]] = {}
    with requests.Session() as session:
        for job in jobs:
            response = post(session, first, job)
            assert response.status_code == 200
            job_id = response.json()["job_id"]
            old[job_id] = (job, wait_done(session, first, job_id))
    assert first.stop(signal.SIGTERM) == 0, first.stderr

    second = start_server(results=results)
    with requests.Session() as session:
        response = post(session, second, ("worst5", MUSCLE, None))
        assert response.status_code == 200
        new_id = response.json()["job_id"]
        assert job_number(new_id) > max(job_number(job_id) for job_id in old)
        assert new_id not in old
        check_answer(
            reference, ("worst5", MUSCLE, None), wait_done(session, second, new_id), new_id
        )
        for job_id, (job, body) in old.items():
            status, again = get_json(session, second, f"/api/get_results/{job_id}")
            assert status == 200
            assert again == body, f"{job_id} changed across the restart"
            check_answer(reference, job, again, job_id)


def test_ids_are_not_reused_after_a_crash_before_the_last_write(
    start_server: Callable[..., Server], tmp_path: Path
) -> None:
    """SPEC §4 "never reused": a job accepted just before a crash keeps its id to itself."""
    results = tmp_path / "shared-results"
    first = start_server(results=results)
    with requests.Session() as session:
        issued = []
        for _ in range(3):
            response = post(session, first, ("global_mean", OBESITY, None))
            assert response.status_code == 200
            issued.append(response.json()["job_id"])
            wait_done(session, first, issued[-1])
    first.proc.kill()  # a crash: no drain
    first.proc.wait(timeout=EXIT_TIMEOUT)
    # The state a crash leaves when the last accepted job had not been written yet.
    (results / f"{issued[-1]}.json").unlink()

    second = start_server(results=results)
    with requests.Session() as session:
        response = post(session, second, ("best5", MUSCLE, None))
        assert response.status_code == 200
        new_id = response.json()["job_id"]
    assert new_id not in issued, f"{new_id} was issued by the crashed run and again by this one"


# -- e. start-up failures -----------------------------------------------------------------------


def _missing_file(tmp_path: Path) -> tuple[dict[str, str], list[str]]:
    path = tmp_path / "does-not-exist.csv"
    return {"LSS_DATA_FILE": str(path)}, [path.name, "not found"]


def _missing_column(tmp_path: Path) -> tuple[dict[str, str], list[str]]:
    with BUNDLED_CSV.open(encoding="utf-8") as file:
        header, row = file.readline(), file.readline()
    columns = header.rstrip("\n").split(",")
    assert "Data_Value" in columns
    path = tmp_path / "no-data-value.csv"
    path.write_text(header.replace(",Data_Value,", ",Data_Value_Renamed,") + row, encoding="utf-8")
    return {"LSS_DATA_FILE": str(path)}, [path.name, "Data_Value", "missing"]


def _threads(value: str) -> Callable[[Path], tuple[dict[str, str], list[str]]]:
    def case(_tmp_path: Path) -> tuple[dict[str, str], list[str]]:
        return {"TP_NUM_OF_THREADS": value}, ["TP_NUM_OF_THREADS", "positive integer", value]

    return case


@pytest.mark.parametrize(
    "case",
    [_missing_file, _missing_column, _threads("0"), _threads("abc")],
    ids=["missing-file", "missing-column", "threads-0", "threads-abc"],
)
def test_bad_start_up_settings_exit_quickly_with_a_clear_message(
    tmp_path: Path, case: Callable[[Path], tuple[dict[str, str], list[str]]]
) -> None:
    """A wrong data file or thread count stops start-up, naming the culprit and the problem."""
    overrides, fragments = case(tmp_path)
    env = server_env(tmp_path, tmp_path / "results", free_port(), **overrides)
    started = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, "api_server.py"], cwd=ROOT, env=env, capture_output=True, timeout=15
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"the server started (or hung) despite {overrides}")
    took = time.monotonic() - started
    stderr = done.stderr.decode(errors="replace")
    assert done.returncode != 0, stderr
    assert took < 10, f"took {took:.1f} s to give up"
    for fragment in fragments:
        assert fragment.lower() in stderr.lower(), f"{fragment!r} not in stderr:\n{stderr}"
    assert "Traceback" not in stderr, stderr


def test_a_port_in_use_stops_start_up_with_a_clear_message(tmp_path: Path) -> None:
    """Another process on the port: a one-line reason and a non-zero exit, no traceback."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = server_env(tmp_path, tmp_path / "results", port)
        done = subprocess.run(
            [sys.executable, "api_server.py"], cwd=ROOT, env=env, capture_output=True, timeout=15
        )
    stderr = done.stderr.decode(errors="replace")
    assert done.returncode == 2, stderr
    assert f"cannot listen on 127.0.0.1:{port}" in stderr
    assert "Traceback" not in stderr, stderr


def test_a_second_server_on_a_busy_port_refuses_to_share_it(
    start_server: Callable[..., Server], tmp_path: Path
) -> None:
    """The HTTP server binds with SO_REUSEPORT; a second service must still fail, not share."""
    first = start_server()
    env = server_env(tmp_path, tmp_path / "other-results", first.port)
    done = subprocess.run(
        [sys.executable, "api_server.py"], cwd=ROOT, env=env, capture_output=True, timeout=15
    )
    stderr = done.stderr.decode(errors="replace")
    assert done.returncode == 2, stderr
    assert f"cannot listen on 127.0.0.1:{first.port}" in stderr
    assert requests.get(f"{first.url}/api/health", timeout=HTTP_TIMEOUT).status_code == 200


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the kernel ends the worker")
def test_killing_the_server_leaves_no_worker_behind(start_server: Callable[..., Server]) -> None:
    """A crash of the main process takes the workers (which hold the app and port) with it."""
    server = start_server(LSS_WORKERS="3")
    children = Path(f"/proc/{server.proc.pid}/task/{server.proc.pid}/children")
    workers = [int(pid) for pid in children.read_text().split()]
    assert len(workers) == 3, f"expected three server processes, found {workers}"
    server.proc.kill()
    server.proc.wait(timeout=EXIT_TIMEOUT)
    wait_for(lambda: not any(map(_alive, workers)), 10, "the workers to end with their server")
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{server.url}/api/health", timeout=HTTP_TIMEOUT)


def _alive(pid: int) -> bool:
    """True while `pid` runs (a zombie waiting for its parent's reaper counts as ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


# -- f. the log ---------------------------------------------------------------------------------

_TIMESTAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?)Z ")


def test_log_records_route_entries_and_exits_with_utc_timestamps(
    start_server: Callable[..., Server],
) -> None:
    """Entry lines carry the POST body, exit lines the status and job id; times are UTC."""
    server = start_server()
    with requests.Session() as session:
        response = post(session, server, ("state_mean", OBESITY, "Ohio"))
        assert response.status_code == 200
        job_id = response.json()["job_id"]
        wait_done(session, server, job_id)
        assert get_json(session, server, "/api/num_jobs")[0] == 200
    assert server.stop() == 0  # the log is written out on the way down
    lines = server.log_file.read_text(encoding="utf-8").splitlines()
    assert lines, "the log is empty"
    assert "stopped: every accepted job finished" in lines[-1]

    now = datetime.now(timezone.utc).replace(tzinfo=None)
    for line in lines:
        match = _TIMESTAMP.match(line)
        assert match, f"no UTC timestamp ending in Z: {line!r}"
        stamp = datetime.fromisoformat(match.group(1))
        assert abs(stamp - now) < timedelta(minutes=5), f"timestamp is not UTC now: {line!r}"

    info = [line for line in lines if " INFO " in line]
    entry = [line for line in info if "/api/state_mean" in line and OBESITY in line]
    assert entry and '"Ohio"' in entry[0], f"no entry line with the POST body:\n{lines}"
    exits = [line for line in info if "/api/state_mean" in line and f"{job_id}" in line]
    assert any(re.search(rf"\b200\b.*\b{job_id}\b", line) for line in exits), (
        f"no exit line with status 200 and {job_id}:\n{lines}"
    )
    polled = [line for line in info if f"/api/get_results/{job_id}" in line]
    assert len(polled) >= 2, f"get_results entry and exit not logged:\n{lines}"
    assert any(re.search(r"\b200\b", line) for line in polled)
    assert '"data"' not in "\n".join(lines), "a result body was logged"
