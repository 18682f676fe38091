"""Start-up: every problem is one line and exit code 2, however the server is started; a signal at
any moment of start-up stops it; `flask run` drains on SIGTERM; a journal of a million finished
jobs does not slow the start."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from app.embedded_engine import journal
from unittests.conftest import BUNDLED_CSV, OBESITY
from unittests.support.servers import ROOT, Server, free_port, server_env

pytestmark = pytest.mark.e2e

#: How each way of starting the server is spelled.
LAUNCHERS: dict[str, Callable[[int], list[str]]] = {
    "api_server": lambda port: [sys.executable, "api_server.py"],
    "flask": lambda port: [
        sys.executable,
        "-m",
        "flask",
        "--app",
        "app",
        "run",
        "--port",
        str(port),
    ],
    # -o: the virtual environment is what runs these tests; do not reinstall it first.
    "make": lambda port: ["make", "--no-print-directory", "-o", ".venv/.installed", "run"],
}


def _file(tmp_path: Path) -> Path:
    path = tmp_path / "a-file"
    path.write_text("not a folder")
    return path


def _data(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "data.csv"
    path.write_text(text, encoding="utf-8")
    return path


def _header() -> str:
    with BUNDLED_CSV.open(encoding="utf-8") as file:
        return file.readline()


#: case -> (environment overrides, fragments the one line must hold), built in a test's tmp_path.
CASES: dict[str, Callable[[Path], tuple[dict[str, str], list[str]]]] = {
    "threads-abc": lambda tmp: ({"TP_NUM_OF_THREADS": "abc"}, ["TP_NUM_OF_THREADS", "'abc'"]),
    "workers-0": lambda tmp: ({"LSS_WORKERS": "0"}, ["LSS_WORKERS", "'0'"]),
    "ttl-negative": lambda tmp: ({"LSS_RESULT_TTL_S": "-1"}, ["LSS_RESULT_TTL_S", "'-1'"]),
    "data-missing": lambda tmp: (
        {"LSS_DATA_FILE": str(tmp / "nowhere.csv")},
        ["nowhere.csv", "not found"],
    ),
    "data-no-column": lambda tmp: (
        {"LSS_DATA_FILE": str(_data(tmp, "LocationDesc,Question\nOhio,x\n"))},
        ["data.csv", "missing required column", "Data_Value"],
    ),
    "data-no-rows": lambda tmp: (
        {"LSS_DATA_FILE": str(_data(tmp, _header()))},
        ["data.csv", "no usable rows"],
    ),
    "results-uncreatable": lambda tmp: (
        {"LSS_RESULTS_DIR": str(_file(tmp) / "results")},
        ["LSS_RESULTS_DIR", "a-file/results", "cannot create or write"],
    ),
    "journal-uncreatable": lambda tmp: (
        {"LSS_JOURNAL": str(_file(tmp) / "jobs.sqlite3")},
        ["job journal", "a-file/jobs.sqlite3", "cannot create"],
    ),
    "journal-a-folder": lambda tmp: (
        {"LSS_JOURNAL": str(tmp)},
        ["job journal", str(tmp)],
    ),
    "journal-corrupt": lambda tmp: (
        {"LSS_JOURNAL": str(_data(tmp, "garbage, not SQLite\n" * 200))},
        ["job journal", "data.csv", "not usable"],
    ),
    "log-unopenable": lambda tmp: (
        {"LSS_LOG_FILE": str(tmp)},
        ["LSS_LOG_FILE", str(tmp), "cannot open"],
    ),
}
#: Every case through api_server.py; a few of each kind through `flask run` and `make run`.
RUNS = [
    *(("api_server", case) for case in CASES),
    *(
        (launcher, case)
        for launcher in ("flask", "make")
        for case in ("threads-abc", "data-no-rows", "results-uncreatable", "journal-corrupt")
    ),
]


@pytest.mark.parametrize(
    ("launcher", "case"), RUNS, ids=[f"{launcher}-{case}" for launcher, case in RUNS]
)
def test_a_start_up_problem_is_one_line_and_exit_code_2(
    tmp_path: Path, launcher: str, case: str
) -> None:
    overrides, fragments = CASES[case](tmp_path)
    port = free_port()
    env = server_env(tmp_path, tmp_path / "results", port, **overrides)
    if "LSS_LOG_FILE" not in overrides:
        env["LSS_LOG_FILE"] = str(tmp_path / "logs" / "webserver.log")
    try:
        done = subprocess.run(
            LAUNCHERS[launcher](port), cwd=ROOT, env=env, capture_output=True, timeout=30
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{launcher} started (or hung) despite {overrides}")
    stderr = done.stderr.decode(errors="replace")
    lines = [line for line in stderr.splitlines() if line and not line.startswith("make")]
    assert done.returncode == 2, stderr
    assert len(lines) == 1, f"expected one line, got:\n{stderr}"
    for fragment in fragments:
        assert fragment.lower() in lines[0].lower(), f"{fragment!r} not in {lines[0]!r}"
    assert "Traceback" not in stderr and "Unexpected exit" not in stderr, stderr


def _start(tmp_path: Path, command: list[str] | None = None, **overrides: str) -> Server:
    port = free_port()
    env = server_env(tmp_path, tmp_path / "results", port, **overrides)
    with (tmp_path / "stderr.txt").open("wb") as err:
        proc = subprocess.Popen(
            command or [sys.executable, "api_server.py"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    return Server(proc, port, tmp_path, tmp_path / "results")


@pytest.mark.parametrize("delay", [0.1, 0.3, 0.7, 1.2, 2.0])
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_at_any_moment_of_start_up_stops_the_server(
    tmp_path: Path, signum: int, delay: float
) -> None:
    """From the first line of api_server.py on (before it, Python's own start-up takes a few
    tens of ms): while checking, loading, spawning the workers, or serving."""
    server = _start(tmp_path, LSS_WORKERS="2")
    try:
        time.sleep(delay)
        code = server.stop(signum)
    finally:
        server.close()
    assert code == 0, f"exit code {code}:\n{server.stderr}"
    assert "Traceback" not in server.stderr and "Unexpected exit" not in server.stderr


def test_flask_run_drains_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    command = [sys.executable, "-m", "flask", "--app", "app", "run", "--port", str(port)]
    server = _start(tmp_path, command, TP_NUM_OF_THREADS="1")
    server.port, server.url = port, f"http://127.0.0.1:{port}"
    try:
        assert server.wait_ready()
        with requests.Session() as session:
            ids = [
                session.post(f"{server.url}/api/states_mean", json={"question": OBESITY}).json()
                for _ in range(20)
            ]
        assert server.stop(signal.SIGTERM) == 0, server.stderr
    finally:
        server.close()
    assert all(set(reply) == {"job_id"} for reply in ids)
    for reply in ids:
        assert (server.results / f"{reply['job_id']}.json").is_file()
    log = server.log_file.read_text(encoding="utf-8").splitlines()
    assert "stopped: every accepted job finished" in log[-1]


def test_a_journal_of_a_million_finished_jobs_does_not_slow_the_start(tmp_path: Path) -> None:
    results = tmp_path / "results"
    results.mkdir()
    path = str(results / "jobs.sqlite3")
    journal.prepare(path, [], 0)
    with sqlite3.connect(path) as db:
        now = time.time()
        db.execute(
            "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 1000000) "
            "INSERT INTO jobs (endpoint, request, status, accepted, started, finished) "
            "SELECT 'global_mean', ?, 'done', ?, ?, ? FROM n",
            (f'{{"question":"{OBESITY}"}}', now, now, now),
        )
    started = time.monotonic()
    # Room for one more live job than the journal holds (the cap counts them all at start).
    server = _start(tmp_path, LSS_MAX_LIVE_JOBS="2000000")
    try:
        assert server.wait_ready()
        took = time.monotonic() - started
        health = requests.get(f"{server.url}/api/health", timeout=5).json()
        reply = requests.post(f"{server.url}/api/global_mean", json={"question": OBESITY})
    finally:
        server.close()
    assert took < 3.0, f"answered {took:.2f} s after start"
    assert health["jobs_issued"] == 1_000_000
    assert reply.json() == {"job_id": "job_id_1000001"}
