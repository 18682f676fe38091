"""The bounds on new jobs (app.policy.admission): live jobs, free disk, the rate limit.

The count of live jobs is checked on its own against a model of the journal, then on both
engines in-process and on real server processes flooded by 16 clients; the disk with a tmpfs
the test fills (root); the rate limit with a flood. Every refusal must accept nothing.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from app.policy.live_jobs import LiveJobs
from unittests.conftest import OBESITY, SMALL_CSV
from unittests.support.celery_stack import RedisServer, WorkerProcess
from unittests.support.servers import Server
from unittests.support.small_disk import MIB, fill, small_disk

BODY = {"question": OBESITY}


class _Journal:
    """A model of the jobs of every process: numbered rows, some purged."""

    def __init__(self) -> None:
        self.rows: set[int] = set()
        self.highest = 0
        self.calls: list[int] = []

    def add(self, count: int) -> None:
        for _ in range(count):
            self.highest += 1
            self.rows.add(self.highest)

    def count(self, after: int) -> tuple[int, int]:
        self.calls.append(after)
        return sum(1 for n in self.rows if n > after), self.highest


def test_live_jobs_are_counted_from_the_newest_rows_and_recounted_each_interval():
    journal, now = _Journal(), [0.0]
    live = LiveJobs(journal.count, cap=10, recount_every=60, clock=lambda: now[0])
    journal.add(4)
    live.look()
    assert (live.counted, journal.calls) == (4, [0])  # the first look counts everything
    journal.add(3)  # by other processes
    now[0] = 1
    live.look()
    assert (live.counted, journal.calls[-1]) == (7, 4)  # only the rows above the last highest
    journal.rows -= {1, 2}  # purged: seen at the next full count only, so it refuses early
    now[0] = 2
    live.look()
    assert live.counted == 7
    now[0] = 61
    live.look()
    assert (live.counted, journal.calls[-1]) == (5, 0)


def test_a_process_counts_its_own_jobs_between_looks_and_refuses_at_the_cap():
    journal, now = _Journal(), [0.0]
    live = LiveJobs(journal.count, cap=5, recount_every=60, clock=lambda: now[0])
    live.look()
    for _ in range(4):
        assert live.take() is None
        journal.add(1)
        live.answered(True)
    assert live.take() is None  # the last place: taken while its POST is under way...
    refused = live.take()  # ...so a POST at the same moment cannot have it too
    assert refused is not None and refused.status_code == 429
    live.answered(False)  # that POST was refused (a bad body): its place is free again
    assert live.take() is None
    journal.add(1)
    live.answered(True)
    refused = live.take()
    assert refused.headers() == [("Retry-After", "60")]  # the next full count
    now[0] = 59.5
    assert live.take().headers() == [("Retry-After", "1")]
    now[0] = 1
    live.look()  # its own jobs now come from the journal: counted once
    assert (live.counted, live.since, live.pending) == (5, 0, 0)
    assert LiveJobs(journal.count, cap=0, recount_every=60).take() is None  # 0: no cap


def test_the_cap_refuses_on_both_engines_and_accepts_again_after_expiry(make_engine_app):
    app = make_engine_app(MAX_LIVE_JOBS=3, RESULT_TTL_S=1, MAINTENANCE_INTERVAL_S=1)
    client = app.test_client()
    ids = [client.post("/api/global_mean", json=BODY).get_json()["job_id"] for _ in range(3)]
    refused = client.post("/api/global_mean", json=BODY)
    assert refused.status_code == 429
    assert "LSS_MAX_LIVE_JOBS" in refused.get_json()["reason"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 1
    assert len(client.get("/api/jobs").get_json()["data"]) == 3
    assert client.get("/api/health").get_json()["jobs_issued"] == 3  # nothing accepted
    for job_id in ids:  # finished (the Celery worker runs them meanwhile)
        deadline = time.monotonic() + 10
        while client.get(f"/api/get_results/{job_id}").get_json()["status"] == "running":
            assert time.monotonic() < deadline
            time.sleep(0.01)
    time.sleep(1.1)  # past their time to live
    app.extensions["lss.engine"].purge()
    deadline = time.monotonic() + 5
    while client.post("/api/global_mean", json=BODY).status_code == 429:
        assert time.monotonic() < deadline, "still refused after the jobs expired"
        time.sleep(0.2)


def test_the_cap_counts_the_jobs_of_every_process(make_app, tmp_path):
    """Two apps over one journal, as two server processes: each sees the other's jobs."""
    first = make_app(MAX_LIVE_JOBS=3)
    second = make_app(MAX_LIVE_JOBS=3, LOG_FILE=str(tmp_path / "second.log"))
    for _ in range(2):
        assert first.test_client().post("/api/global_mean", json=BODY).status_code == 200
    second.extensions["lss.admission"].live.look()
    assert second.test_client().post("/api/global_mean", json=BODY).status_code == 200
    assert second.test_client().post("/api/global_mean", json=BODY).status_code == 429
    first.extensions["lss.admission"].live.look()
    assert first.test_client().post("/api/global_mean", json=BODY).status_code == 429


# -- floods on real server processes -----------------------------------------------------------


def _flood(url: str, clients: int = 16, each: int = 15) -> list[requests.Response]:
    """`clients` connections posting `each` jobs as fast as they can."""

    def client(_: int) -> list[requests.Response]:
        with requests.Session() as session:
            return [
                session.post(f"{url}/api/global_mean", json=BODY, timeout=30) for _ in range(each)
            ]

    with ThreadPoolExecutor(clients) as pool:
        return [answer for answers in pool.map(client, range(clients)) for answer in answers]


def _check_refusals(answers: list[requests.Response], reason: str) -> int:
    """Every answer a job id or a 429 with Retry-After and `reason`; how many were accepted."""
    for answer in answers:
        assert answer.status_code in (200, 429), answer.text
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        if answer.status_code == 429:
            assert int(answer.headers["Retry-After"]) >= 1
            assert reason in answer.json()["reason"]
    return sum(answer.status_code == 200 for answer in answers)


def _cap_flood(server: Server, cap: int, workers: int) -> None:
    answers = _flood(server.url)
    accepted = _check_refusals(answers, "LSS_MAX_LIVE_JOBS")
    assert cap <= accepted <= workers * cap, accepted  # each process stops at its own view
    time.sleep(1.5)  # a look at every process's jobs
    listed = requests.get(f"{server.url}/api/jobs", timeout=10).json()["data"]
    assert len(listed) == accepted  # nothing accepted when refused
    assert requests.get(f"{server.url}/api/health", timeout=10).json()["jobs_issued"] == accepted
    for _ in range(2 * workers):  # whichever process answers, it now counts them all
        assert (
            requests.post(f"{server.url}/api/global_mean", json=BODY, timeout=10).status_code == 429
        )


def test_a_flood_stops_at_the_live_jobs_cap_on_the_embedded_engine(
    start_server: Callable[..., Server],
):
    server = start_server(LSS_MAX_LIVE_JOBS="40", LSS_WORKERS="2")
    _cap_flood(server, 40, 2)


def test_a_flood_stops_at_the_live_jobs_cap_on_the_celery_engine(
    tmp_path: Path, redis_server: RedisServer, start_server: Callable[..., Server]
):
    url = redis_server.url(8)
    redis_server.client(8).flushdb()
    worker = WorkerProcess(tmp_path / "worker", url, LSS_DATA_FILE=str(SMALL_CSV))
    worker.wait_ready()
    try:
        server = start_server(
            LSS_BROKER_URL=url,
            LSS_DATA_FILE=str(SMALL_CSV),
            LSS_MAX_LIVE_JOBS="40",
            LSS_WORKERS="2",
        )
        _cap_flood(server, 40, 2)
    finally:
        worker.proc.send_signal(signal.SIGCONT)
        worker.close()


def test_a_flood_from_one_address_stops_at_the_rate_limit(start_server: Callable[..., Server]):
    server = start_server(LSS_RATE_LIMIT="5/second", LSS_WORKERS="1")
    answers = _flood(server.url, clients=8, each=5)
    accepted = _check_refusals(answers, "LSS_RATE_LIMIT")
    assert 5 <= accepted <= 10  # 5 per moving second: the flood may straddle two
    assert all(a.headers["Retry-After"] == "1" for a in answers if a.status_code == 429)
    health = requests.get(f"{server.url}/api/health", timeout=10).json()
    assert health["jobs_issued"] == accepted
    time.sleep(1.1)
    assert requests.post(f"{server.url}/api/global_mean", json=BODY, timeout=10).status_code == 200


def test_a_rate_limit_counts_per_process(start_server: Callable[..., Server]):
    """Two server processes: a client gets at most LSS_WORKERS times the limit."""
    server = start_server(LSS_RATE_LIMIT="5/minute", LSS_WORKERS="2")
    answers = _flood(server.url, clients=8, each=5)
    accepted = _check_refusals(answers, "LSS_RATE_LIMIT")
    assert 5 <= accepted <= 10
    assert all(30 <= int(a.headers["Retry-After"]) <= 60 for a in answers if a.status_code == 429)


# -- a full disk -------------------------------------------------------------------------------


def _wait_for(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def _disk_short_and_back(server: Server, disk: Path, what: str) -> None:
    """Fill `disk`: POSTs 503 with Retry-After, health 503 naming it; free it: all back."""
    url = server.url
    assert requests.post(f"{url}/api/global_mean", json=BODY, timeout=10).status_code == 200
    filler = fill(disk, leave=1 * MIB)
    health: dict = {}

    def short() -> bool:
        nonlocal health
        answer = requests.get(f"{url}/api/health", timeout=10)
        health = answer.json()
        return answer.status_code == 503

    _wait_for(short, 3, "health still 200 with the disk full")  # looked at every second
    time.sleep(1.1)  # by every server process
    assert short()
    assert f"on {disk}, the disk of the {what}" in health["reason"]
    assert "LSS_MIN_FREE_DISK_MB" in health["reason"]
    for _ in range(4):  # each process refuses
        refused = requests.post(f"{url}/api/global_mean", json=BODY, timeout=10)
        assert refused.status_code == 503
        assert refused.headers["Retry-After"] == "1"  # the maintenance interval
        assert "disk full" in refused.json()["reason"]
    assert health["jobs_issued"] == 1  # nothing accepted
    filler.unlink()
    _wait_for(
        lambda: requests.get(f"{url}/api/health", timeout=10).status_code == 200,
        2.5,
        "health not back within a second or two of the space returning",
    )
    time.sleep(1.1)  # every server process looked again
    for _ in range(4):
        assert requests.get(f"{url}/api/health", timeout=10).status_code == 200
        assert requests.post(f"{url}/api/global_mean", json=BODY, timeout=10).status_code == 200


def test_a_full_results_disk_refuses_jobs_and_shows_in_health(
    tmp_path: Path, start_server: Callable[..., Server]
):
    with small_disk(tmp_path / "disk", 8) as disk:
        server = start_server(
            results=disk / "results",
            LSS_MIN_FREE_DISK_MB="4",
            LSS_MAINTENANCE_INTERVAL_S="1",
        )
        _disk_short_and_back(server, disk, "results folder")
        server.stop()


def test_a_full_journal_disk_refuses_jobs_and_shows_in_health(
    tmp_path: Path, start_server: Callable[..., Server]
):
    with small_disk(tmp_path / "disk", 8) as disk:
        server = start_server(
            LSS_JOURNAL=str(disk / "jobs.sqlite3"),
            LSS_MIN_FREE_DISK_MB="4",
            LSS_MAINTENANCE_INTERVAL_S="1",
        )
        _disk_short_and_back(server, disk, "job journal")
        server.stop()


@pytest.mark.parametrize("interval", ["0", "60"])
def test_a_full_disk_asks_to_come_back_after_the_interval(
    tmp_path: Path, start_server: Callable[..., Server], interval: str
):
    """Retry-After is the maintenance interval, 60 s when it is 0 (the disk is still looked at
    every second)."""
    with small_disk(tmp_path / "disk", 8) as disk:
        server = start_server(
            results=disk / "results",
            LSS_MIN_FREE_DISK_MB="4",
            LSS_MAINTENANCE_INTERVAL_S=interval,
        )
        filler = fill(disk, leave=1 * MIB)
        time.sleep(1.5)
        refused = requests.post(f"{server.url}/api/global_mean", json=BODY, timeout=10)
        assert (refused.status_code, refused.headers["Retry-After"]) == (503, "60")
        filler.unlink()
        server.stop()
