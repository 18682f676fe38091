"""The Celery engine in the benchmark: embedded engine vs Celery with 1 and 2 workers.

All three are started as a user starts them (`make redis`, `make worker`, `make run` with
LSS_BROKER_URL) on one machine, warmed up, and measured in interleaved slices at the headline
client count, so that they share the machine's noise. Each Celery stack has its own Redis database
and workers. On one 2-core machine this shows the cost of the extra hop through Redis, not the
gain of more machines: the workers, Redis and the web server share the same two cores.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from app.celery_engine import redis_server
from bench.report import HEADLINE_CLIENTS, Point, _f, _table
from bench.server import ROOT, free_port, service_argv

if TYPE_CHECKING:
    from bench.__main__ import Bench, Contender
    from bench.load import Plan

WORKER_COUNTS = (1, 2)
READY_TIMEOUT = 60.0


@contextmanager
def local_redis(folder: Path) -> Iterator[int]:
    """A redis-server as `make redis` runs it, on a free port; its port."""
    program = redis_server.binary()
    if program is None:
        raise RuntimeError("no redis-server installed (make installs it into .venv)")
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "redis.out", "wb") as out:
        proc = subprocess.Popen(redis_server.command(program, port, folder), stdout=out)
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        cli = str(Path(program).with_name("redis-cli"))
        while (
            subprocess.run(
                [cli if os.path.exists(cli) else "redis-cli", "-p", str(port), "ping"],
                capture_output=True,
            ).stdout.strip()
            != b"PONG"
        ):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start: see {folder / 'redis.out'}")
            time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=15)


@contextmanager
def workers(url: str, count: int, data_file: Path, folder: Path) -> Iterator[None]:
    """`count` workers as `make worker` starts them, on `url`, each ready when this yields."""
    procs = []
    try:
        for number in range(count):
            log = folder / f"worker-{url.rsplit('/', 1)[1]}-{number}.out"
            env = {**os.environ, "LSS_BROKER_URL": url, "LSS_DATA_FILE": str(data_file)}
            with open(log, "wb") as out:
                procs.append(
                    (
                        subprocess.Popen(
                            [
                                sys.executable,
                                "-m",
                                "app.celery_engine.worker",
                                "--loglevel=WARNING",
                            ],
                            cwd=ROOT,
                            env=env,
                            stdout=out,
                            stderr=subprocess.STDOUT,
                        ),
                        log,
                    )
                )
        deadline = time.monotonic() + READY_TIMEOUT
        for proc, log in procs:
            while b"Le Stats Sportif worker:" not in log.read_bytes():
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"a worker did not start: see {log}")
                time.sleep(0.05)
        yield
    finally:
        for proc, _ in procs:
            proc.terminate()
        for proc, _ in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def _on_broker(url: str) -> list[str]:
    """The service as `LSS_BROKER_URL=url make run` starts it."""
    return [shutil.which("env") or "/usr/bin/env", f"LSS_BROKER_URL={url}", *service_argv()]


@dataclass
class CeleryRun:
    """The points of the Celery section of one run, and its Markdown."""

    points: list[tuple[str, int, Point]] = field(default_factory=list)
    problem: str = ""

    def measure(
        self, bench: Bench, plan: Plan, rows: int, *, data: Path, contender: type[Contender]
    ) -> None:
        """Embedded vs Celery with 1 and 2 workers on `data`, at the headline client count."""
        folder = bench.workdir / "celery"
        contenders = [contender("service", service_argv(), data, rows, plan)]
        with ExitStack() as stack:
            port = stack.enter_context(local_redis(folder / "redis"))
            for count in WORKER_COUNTS:
                url = f"redis://127.0.0.1:{port}/{count}"
                stack.enter_context(workers(url, count, data, folder))
                name = f"service/celery-{count}w"
                contenders.append(contender(name, _on_broker(url), data, rows, plan))
            measured = bench.compare(contenders, HEADLINE_CLIENTS)
        self.points = [("embedded", 0, measured["service"])] + [
            ("celery", count, measured[f"service/celery-{count}w"]) for count in WORKER_COUNTS
        ]

    def markdown(self) -> str:
        """The report's section on the Celery engine (empty if it was not measured)."""
        if not self.points:
            return ""
        embedded = self.points[0][2].result.jobs_per_s
        rows = []
        for engine, count, point in self.points:
            r = point.result
            rows.append(
                [
                    engine,
                    str(count) if count else "- (the pool in the web process)",
                    _f(r.jobs_per_s, 0),
                    _f(r.jobs_per_s / embedded if embedded else float("nan"), 2),
                    _f(r.p50, 2),
                    _f(r.p99, 2),
                    str(r.error_count),
                    str(r.wrong),
                    _f(point.startup_s, 2),
                ]
            )
        lines = [
            "",
            "## Celery engine",
            "",
            f"The service at {HEADLINE_CLIENTS} clients on the bundled data, as `make run` "
            "serves it, beside itself on the Celery engine (`make redis`, `make worker`, "
            "`LSS_BROKER_URL=... make run`) with 1 and 2 workers, measured in interleaved "
            "slices. Everything shares this machine's cores: this is the cost of the hop through "
            "Redis, not the gain of more machines. Start-up is until `/api/health` is 200.",
            "",
            *_table(
                [
                    "engine",
                    "workers",
                    "jobs/s",
                    "vs embedded",
                    "p50 ms",
                    "p99 ms",
                    "errors",
                    "wrong",
                    "start-up s",
                ],
                rows,
            ),
            "",
        ]
        return "\n".join(lines)
