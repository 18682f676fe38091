"""Section: the Celery engine with 1 and 2 workers, beside the embedded engine.

All three run as a user starts them (`make redis`, `make worker`, `make run` with
LSS_BROKER_URL) on this machine, each Celery stack with its own Redis database and workers, and
are measured side by side with the checking load generator. On one machine this shows the cost of
the hop through Redis, not the gain of more machines: workers, Redis and the web server share
the same cores.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import redis

from app.celery_engine import redis_server
from bench import load
from bench.lineup import Contender
from bench.load import LoadResult
from bench.markdown import columns, num, ratio
from bench.section import Section
from bench.server import BUNDLED, ROOT, free_port, service_argv
from bench.session import Session

WORKER_COUNTS = (1, 2)
CLIENTS = 16
READY_TIMEOUT = 60.0


@contextmanager
def local_redis(folder: Path) -> Iterator[int]:
    """A redis-server as `make redis` runs it, on a free port; yields its port."""
    program = redis_server.binary()
    if program is None:
        raise RuntimeError("no redis-server installed (make installs it into .venv)")
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "redis.out", "wb") as out:
        proc = subprocess.Popen(redis_server.command(program, port, folder), stdout=out)
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            try:
                if redis.Redis(port=port, socket_timeout=1).ping():
                    break
            except redis.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start: see {folder}") from None
                time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=15)


@contextmanager
def workers(url: str, count: int, folder: Path, data_file: Path = BUNDLED) -> Iterator[None]:
    """`count` workers as `make worker` starts them on `url`, each ready when this yields."""
    env = {**os.environ, "LSS_BROKER_URL": url, "LSS_DATA_FILE": str(data_file)}
    argv = [sys.executable, "-m", "app.celery_engine.worker", "--loglevel=WARNING"]
    started: list[tuple[subprocess.Popen[bytes], Path]] = []
    try:
        for number in range(count):
            log = folder / f"worker-{url.rsplit('/', 1)[1]}-{number}.out"
            with open(log, "wb") as out:
                proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=out)
            started.append((proc, log))
        deadline = time.monotonic() + READY_TIMEOUT
        for proc, log in started:
            while b"Le Stats Sportif worker:" not in log.read_bytes():
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"a worker did not start: see {log}")
                time.sleep(0.05)
        yield
    finally:
        for proc, _ in started:
            proc.terminate()
        for proc, _ in started:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


class CeleryEngine(Section):
    """The embedded engine, then Celery with each worker count, at 16 clients."""

    name = "celery"
    title = "Celery engine"

    def __init__(self) -> None:
        #: (engine, workers, merged run, start-up seconds)
        self.rows: list[tuple[str, int, LoadResult, float]] = []

    def measure(self, session: Session) -> None:
        folder = session.workdir / "celery"
        lineup = [Contender("embedded", service_argv())]
        with ExitStack() as stack:
            port = stack.enter_context(local_redis(folder / "redis"))
            for count in WORKER_COUNTS:
                url = f"redis://127.0.0.1:{port}/{count}"
                stack.enter_context(workers(url, count, folder))
                env = {"LSS_BROKER_URL": url}
                lineup.append(Contender(f"celery {count}w", service_argv(), env=env))
            measured = session.side_by_side(lineup, load.client(session.plan, CLIENTS))
        counts = (0, *WORKER_COUNTS)
        for contender, count in zip(lineup, counts, strict=True):
            m = measured[contender.name]
            self.rows.append((contender.name.split()[0], count, load.merge(m), m.startup_s))

    def markdown(self) -> list[str]:
        if not self.rows:
            return []
        embedded = self.rows[0][2].jobs_per_s
        return [
            f"## {self.title}",
            "",
            f"The service at {CLIENTS} clients on the bundled data as `make run` serves it, beside "
            "itself on the Celery engine (`make redis`, `make worker`, `LSS_BROKER_URL=... make "
            "run`) with 1 and 2 workers, each stack on its own Redis database, all measured side "
            "by side with the checking load generator. Everything shares this machine's cores: "
            "this is the cost of the hop through Redis, not the gain of more machines.",
            "",
            *columns(
                self.rows,
                [
                    ("engine", lambda r: r[0]),
                    ("workers", lambda r: str(r[1]) if r[1] else "- (the web process's pool)"),
                    ("jobs/s", lambda r: num(r[2].jobs_per_s)),
                    ("vs embedded", lambda r: f"{ratio(r[2].jobs_per_s, embedded):.2f}x"),
                    ("p50 / p99 ms", lambda r: f"{r[2].p50:.2f} / {r[2].p99:.1f}"),
                    ("jobs checked", lambda r: f"{r[2].checked:,}"),
                    ("wrong / errors", lambda r: f"{r[2].wrong} / {r[2].error_count}"),
                    ("start-up s", lambda r: f"{r[3]:.2f}"),
                ],
            ),
            "",
        ]
