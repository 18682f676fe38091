"""GET /metrics, counted: after N jobs the counters say N, summed over two real server
processes, and on the Celery engine over the web process and a real worker's own endpoint; a
killed server process's gauges go while its counts stay; LSS_METRICS=0 turns it all off."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

from app.distribution.version import VERSION
from app.engine.observer import NOBODY
from app.task import GlobalMean
from unittests.conftest import BUNDLED_CSV, MUSCLE, OBESITY, ROOT
from unittests.support.celery_stack import RedisServer, WorkerProcess
from unittests.support.servers import Server, free_port

HTTP_TIMEOUT = 10.0
#: Jobs of three endpoints, by endpoint: how many of each the tests submit.
JOBS = {"global_mean": 20, "best5": 15, "state_mean": 10}
BODIES = {
    "global_mean": {"question": OBESITY},
    "best5": {"question": MUSCLE},
    "state_mean": {"question": OBESITY, "state": "Ohio"},
}

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    """Every sample of a Prometheus text exposition: (name, labels) -> value."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[name, frozenset(labels.items())]


def scrape(url: str) -> Samples:
    answer = requests.get(f"{url}/metrics", timeout=HTTP_TIMEOUT)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith("text/plain")
    return parse(answer.text)


def submit_all(url: str) -> list[str]:
    """Submit JOBS on fresh connections from 8 threads (spread over the server processes)."""
    work = [endpoint for endpoint, count in JOBS.items() for _ in range(count)]

    def one(endpoint: str) -> str:
        answer = requests.post(f"{url}/api/{endpoint}", json=BODIES[endpoint], timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()["job_id"]

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, work))


def wait_done(url: str, job_ids: list[str]) -> None:
    deadline = time.monotonic() + 30
    for job_id in job_ids:
        while True:
            body = requests.get(f"{url}/api/get_results/{job_id}", timeout=HTTP_TIMEOUT).json()
            if body["status"] == "done":
                break
            assert body["status"] == "running" and time.monotonic() < deadline, body
            time.sleep(0.02)


def assert_finished_counted(samples: Samples, rounds: int = 1) -> None:
    for endpoint, once in JOBS.items():
        count = rounds * once
        assert value(samples, "lss_jobs_finished_total", endpoint=endpoint, outcome="done") == count
        assert value(samples, "lss_jobs_finished_total", endpoint=endpoint, outcome="error") == 0
        assert value(samples, "lss_job_seconds_count", endpoint=endpoint) == count
        assert value(samples, "lss_job_seconds_bucket", endpoint=endpoint, le="+Inf") == count
        assert 0 < value(samples, "lss_job_seconds_sum", endpoint=endpoint) < 30 * count


def test_n_jobs_over_two_server_processes_are_counted_n_times(
    start_server: Callable[..., Server], tmp_path: Path
) -> None:
    temp = tmp_path / "tmp"  # where the run's metrics folder goes
    temp.mkdir()
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True,
                          capture_output=True, text=True).stdout.strip()  # fmt: skip
    stale = temp / f"lss-metrics-{gone}-killed"  # a run whose main process was killed
    stale.mkdir()
    (stale / "counter_1.db").write_bytes(b"")
    server = start_server(LSS_WORKERS="2", TMPDIR=str(temp))
    (folder,) = temp.glob("lss-metrics-*")
    assert folder.name.startswith(f"lss-metrics-{server.proc.pid}-")
    rounds = 0
    while rounds < 10:  # fresh connections land on either process, not always on both at once
        wait_done(server.url, submit_all(server.url))
        rounds += 1
        time.sleep(0.1)  # the log writer's batch
        log = server.log_file.read_text()
        if len(set(re.findall(r"\[(\d+) [^\]]*\] <- POST /api/", log))) == 2:
            break
    else:
        pytest.fail("only one server process took jobs")
    total = rounds * sum(JOBS.values())
    for _ in range(4):  # whichever process answers, it sums both
        samples = scrape(server.url)
        for endpoint, count in JOBS.items():
            assert value(samples, "lss_jobs_accepted_total", endpoint=endpoint) == rounds * count
        assert value(samples, "lss_jobs_accepted_total", endpoint="worst5") == 0
        assert_finished_counted(samples, rounds)
        assert value(samples, "lss_jobs_pending") == 0
        assert value(samples, "lss_journal_rows", status="done") == total
        assert value(samples, "lss_journal_rows", status="running") == 0
        assert value(samples, "lss_pool_threads") == value(samples, "lss_pool_threads_alive") == 4
        assert value(samples, "lss_pool_threads_replaced_total") == 0
        assert value(samples, "lss_job_store_up") == 1
        assert value(samples, "lss_build_info", version=VERSION, engine="embedded") == 1
    health = requests.get(f"{server.url}/api/health", timeout=HTTP_TIMEOUT).json()
    dataset = health["dataset"]
    rows = str(dataset["rows_used"])
    assert value(samples, "lss_dataset_info", sha256=dataset["sha256"], rows=rows) == 1
    assert value(samples, "lss_result_files") == total
    answers = server.results / ".answers"  # one file per distinct answer, whatever the jobs
    assert value(samples, "lss_result_bytes") == sum(f.stat().st_size for f in answers.iterdir())
    assert value(samples, "lss_disk_free_bytes", folder="results") > 0
    assert sorted(p.name.split("_")[0] for p in folder.iterdir()) == [
        "counter", "counter", "gauge", "gauge", "histogram", "histogram",
    ]  # fmt: skip
    assert server.stop() == 0
    assert not folder.exists(), "the run's metrics folder outlived the run"


def test_a_killed_server_process_takes_its_gauges_and_leaves_its_counts(
    start_server: Callable[..., Server],
) -> None:
    server = start_server(LSS_WORKERS="2")
    wait_done(server.url, submit_all(server.url))
    pids = {
        requests.get(f"{server.url}/api/livez", timeout=HTTP_TIMEOUT).json()["pid"]
        for _ in range(40)
    }
    os.kill(min(pids), signal.SIGKILL)  # granian starts another in its place
    deadline = time.monotonic() + 30
    while True:
        assert time.monotonic() < deadline, "no new server process, or its gauges are wrong"
        time.sleep(0.2)
        try:  # until the new process listens, a connection may land on the dead one's socket
            live = {
                requests.get(f"{server.url}/api/livez", timeout=HTTP_TIMEOUT).json()["pid"]
                for _ in range(20)
            }
            samples = scrape(server.url)
        except requests.ConnectionError:
            continue
        if min(pids) not in live and len(live) == 2 and value(samples, "lss_pool_threads") == 4:
            break
    assert value(samples, "lss_pool_threads_alive") == 4
    for endpoint, count in JOBS.items():
        assert value(samples, "lss_jobs_accepted_total", endpoint=endpoint) == count
    assert_finished_counted(samples)


def test_a_failed_job_is_counted_as_an_error(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    client = make_app().test_client()
    before = parse(client.get("/metrics").get_data(as_text=True))

    def broken(self: GlobalMean, index: object) -> object:
        raise RuntimeError("broken")

    monkeypatch.setattr(GlobalMean, "answer", broken)
    assert client.post("/api/global_mean", json={"question": OBESITY}).status_code == 200
    after = parse(client.get("/metrics").get_data(as_text=True))

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("lss_jobs_accepted_total", endpoint="global_mean") == 1
    assert grew("lss_jobs_finished_total", endpoint="global_mean", outcome="error") == 1
    assert grew("lss_jobs_finished_total", endpoint="global_mean", outcome="done") == 0
    assert grew("lss_job_seconds_count", endpoint="global_mean") == 1


def test_with_metrics_off_there_is_no_metrics_route_and_nothing_counts(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(METRICS=0)
    assert app.extensions["lss.engine"].observer is NOBODY
    client = app.test_client()
    assert client.get("/metrics").status_code == 404
    assert "/metrics" not in client.get("/api/openapi.json").get_json()["paths"]
    code = "import app.factory, sys; print('prometheus_client' in sys.modules)"
    loaded = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert loaded.stdout == "False\n", loaded.stderr  # loaded only when metrics are on


def test_a_server_with_metrics_off_makes_no_metrics_folder(
    start_server: Callable[..., Server], tmp_path: Path
) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    server = start_server(LSS_METRICS="0", TMPDIR=str(temp))
    assert requests.get(f"{server.url}/metrics", timeout=HTTP_TIMEOUT).status_code == 404
    assert list(temp.iterdir()) == []


@pytest.fixture
def redis_proc(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    yield server
    server.stop()


def test_on_celery_the_web_counts_what_it_accepts_and_the_worker_what_it_finishes(
    redis_proc: RedisServer, start_server: Callable[..., Server], tmp_path: Path
) -> None:
    port = free_port()
    worker = WorkerProcess(tmp_path / "worker", redis_proc.url(), LSS_WORKER_METRICS_PORT=str(port))
    try:
        worker.wait_ready()
        server = start_server(LSS_BROKER_URL=redis_proc.url(), LSS_WORKERS="2")
        wait_done(server.url, submit_all(server.url))
        web = scrape(server.url)
        for endpoint, count in JOBS.items():
            assert value(web, "lss_jobs_accepted_total", endpoint=endpoint) == count
        assert not any(name == "lss_jobs_finished_total" for name, _ in web)
        assert value(web, "lss_jobs_pending") == 0
        assert value(web, "lss_journal_rows", status="done") == sum(JOBS.values())
        assert value(web, "lss_build_info", version=VERSION, engine="celery") == 1
        own = scrape(f"http://127.0.0.1:{port}")
        assert_finished_counted(own)
        assert not any(name == "lss_jobs_accepted_total" for name, _ in own)
        assert value(own, "lss_build_info", version=VERSION, engine="celery") == 1
        sha256 = requests.get(f"{server.url}/api/version", timeout=HTTP_TIMEOUT).json()
        rows = {labels for name, labels in own if name == "lss_dataset_info"}
        assert ("sha256", sha256["dataset_sha256"]) in next(iter(rows))
    finally:
        worker.close()


def test_a_worker_whose_metrics_port_is_taken_stops_in_one_line(
    redis_proc: RedisServer, tmp_path: Path
) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        worker = WorkerProcess(
            tmp_path / "worker", redis_proc.url(), LSS_WORKER_METRICS_PORT=str(port)
        )
        assert worker.proc.wait(timeout=60) == 2
    text = worker.text
    assert text.count("\n") == 1, text
    assert text.startswith(
        f"le-stats-sportif worker: cannot start: metrics port 127.0.0.1:{port} "
        "(LSS_WORKER_METRICS_PORT): Address already in use"
    )


def test_the_documented_alerts_and_scrape_config_parse_and_name_real_metrics(
    make_app: Callable[..., Flask],
) -> None:
    import yaml

    text = (ROOT / "docs" / "operating.md").read_text(encoding="utf-8")
    blocks = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", text, re.DOTALL)]
    scrape_configs = next(b["scrape_configs"] for b in blocks if "scrape_configs" in b)
    assert scrape_configs[0]["metrics_path"] == "/metrics"
    rules = next(b["groups"][0]["rules"] for b in blocks if "groups" in b)
    assert [rule["alert"] for rule in rules] == ["LssJobsFailing", "LssJobsPiling", "LssDiskShort"]
    client = make_app(DATA_FILE=str(BUNDLED_CSV)).test_client()
    exposed = {name for name, _ in parse(client.get("/metrics").get_data(as_text=True))}
    for rule in rules:
        for name in re.findall(r"\blss_[a-z_]+", rule["expr"]):
            assert name in exposed, f"{rule['alert']} reads {name}, which /metrics lacks"
