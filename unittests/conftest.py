"""Shared fixtures: apps on the hand-checked fixture or the bundled data, clients, helpers."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app, shutdown
from app.celery_engine.registry import JobRegistry
from app.data_ingestor import Dataset, load_dataset
from app.task import StatesMean
from unittests.support.celery_stack import InProcessWorker, RedisServer
from unittests.support.reference import Reference
from unittests.support.servers import Server, server_starter

ROOT = Path(__file__).resolve().parent.parent
BUNDLED_CSV = ROOT / "nutrition_activity_obesity_usa_subset.csv"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SMALL_CSV = FIXTURES / "small.csv"


OBESITY = "Percent of adults aged 18 years and older who have obesity"
MUSCLE = "Percent of adults who engage in muscle-strengthening activities on 2 or more days a week"


def require_tool(present: bool, reason: str) -> None:
    """Skip a test whose outside tool (Chromium, wrk) is missing, saying why; fail instead under
    CI, where .ci/run installs every tool, so that those tests always run there."""
    if not present:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture
def make_app(tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """Build apps (synchronous by default) with their results and log in `tmp_path`."""
    apps: list[Flask] = []

    def factory(**overrides: Any) -> Flask:
        config = {
            "DATA_FILE": str(SMALL_CSV),
            "RESULTS_DIR": str(tmp_path / "results"),
            "LOG_FILE": str(tmp_path / "webserver.log"),
            "THREADS": 0,
            "TESTING": True,
        }
        config.update(overrides)
        app = create_app(config)
        apps.append(app)
        return app

    yield factory
    for app in apps:
        shutdown(app, timeout=10)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A real redis-server for the session (skipped, with the reason, where none is installed)."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def celery_worker(redis_server: RedisServer) -> Iterator[InProcessWorker]:
    """A Celery worker in a thread of this process, on database 1 of `redis_server`."""
    from app.data_ingestor import load_dataset

    worker = InProcessWorker(redis_server, load_dataset(SMALL_CSV))
    yield worker
    worker.stop()


@pytest.fixture(params=["embedded", "celery"])
def make_engine_app(
    request: pytest.FixtureRequest, make_app: Callable[..., Flask]
) -> Callable[..., Flask]:
    """make_app on each engine: the embedded one, then Celery's (a real Redis and worker)."""
    if request.param == "embedded":
        return make_app
    worker: InProcessWorker = request.getfixturevalue("celery_worker")
    worker.reset()

    def factory(**overrides: Any) -> Flask:
        app = make_app(BROKER_URL=worker.url, **overrides)
        worker.use(app.extensions["lss.engine"].dataset)
        return app

    return factory


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    """A synchronous app on the small hand-checked fixture."""
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def bundled_client(make_app: Callable[..., Flask]) -> FlaskClient:
    """A synchronous app's client on the bundled dataset."""
    return make_app(DATA_FILE=str(BUNDLED_CSV)).test_client()


def ask(
    client: FlaskClient, endpoint: str, question: str, state: str | None = None, **fields: Any
) -> Any:
    """Submit one job, wait for it, and return its `data` (asserting it finished as done).

    `fields` are the body's other fields (years, stratification, category)."""
    body = {"question": question} if state is None else {"question": question, "state": state}
    body |= fields
    response = client.post(f"/api/{endpoint}", json=body)
    assert response.status_code == 200, response.get_json()
    job_id = response.get_json()["job_id"]
    deadline = time.monotonic() + 10
    while True:
        result = client.get(f"/api/get_results/{job_id}").get_json()
        if result["status"] != "running" or time.monotonic() > deadline:
            break
        time.sleep(0.005)
    assert result["status"] == "done", result
    return result["data"]


@pytest.fixture
def lss_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """caplog, also fed by the service's own logger (which does not propagate to the root)."""
    logger = logging.getLogger("lss")
    logger.addHandler(caplog.handler)
    yield caplog
    logger.removeHandler(caplog.handler)


@pytest.fixture
def gated(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Make states_mean jobs wait until the returned event is set (at the latest, 10 s)."""
    gate = threading.Event()
    answer = StatesMean.answer

    def slow(self: StatesMean, index: Any) -> Any:
        gate.wait(10)
        return answer(self, index)

    monkeypatch.setattr(StatesMean, "answer", slow)
    yield gate
    gate.set()


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start real server processes (unittests.support.servers); all are stopped at the end."""
    yield from server_starter(tmp_path)


@pytest.fixture(scope="session")
def small_dataset() -> Dataset:
    """The hand-checked fixture CSV, loaded once for the tests that read it without a server."""
    return load_dataset(SMALL_CSV)


@pytest.fixture(scope="session")
def reference() -> Reference:
    """The independent reference answers for the bundled dataset."""
    return Reference(BUNDLED_CSV)


#: Where the page tests saved their screenshots, if they ran (printed at the end of the run).
SCREENSHOTS_KEY = pytest.StashKey[Path]()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    folder = terminalreporter.config.stash.get(SCREENSHOTS_KEY, None)
    if folder is not None:
        terminalreporter.write_line(f"page screenshots: {folder}")


@pytest.fixture
def worker(celery_worker: InProcessWorker) -> InProcessWorker:
    """The session's in-process worker, with no job left from an earlier test."""
    celery_worker.reset()
    return celery_worker


@pytest.fixture
def registry(worker: InProcessWorker) -> JobRegistry:
    return JobRegistry(worker.url)


@pytest.fixture
def celery_app(worker: InProcessWorker, make_app: Callable[..., Flask]) -> Flask:
    """A synchronous-free app on the Celery engine, served by the in-process worker."""
    app = make_app(BROKER_URL=worker.url)
    worker.use(app.extensions["lss.engine"].dataset)
    return app
