"""Section: the Celery engine with 1 and 2 workers beside the embedded one, as users start them."""

from __future__ import annotations

import sys
from contextlib import ExitStack, suppress
from pathlib import Path

import redis

from app.celery_engine import redis_server
from bench import load
from bench.lineup import Contender
from bench.markdown import columns, ratio
from bench.point import Point
from bench.section import Section
from bench.server import Server, free_port, running, service_argv
from bench.session import Session

WORKER_COUNTS = (1, 2)
CLIENTS = 16


def _answers_ping(server: Server) -> bool:
    """Whether the redis-server on `server.port` answers PING."""
    with suppress(redis.RedisError):
        return bool(redis.Redis(port=server.port, socket_timeout=1).ping())
    return False


def _says_ready(server: Server) -> bool:
    """Whether a worker printed its start-up line."""
    return b"Le Stats Sportif worker:" in server.output


def stack_up(stack: ExitStack, workdir: Path, counts: tuple[int, ...]) -> list[str]:
    """A redis-server as `make redis` runs it and workers as `make worker` starts them, all
    ready: for each count a database with that many workers; the broker URLs."""
    program = redis_server.binary()
    if program is None:
        raise RuntimeError("no redis-server installed (make installs it into .venv)")
    folder, port = workdir / "redis", free_port()
    folder.mkdir(parents=True, exist_ok=True)
    argv = redis_server.command(program, port, folder)
    stack.enter_context(running("redis", argv, parent=workdir, ready=_answers_ping, port=port))
    worker = [sys.executable, "-m", "app.celery_engine.worker", "--loglevel=WARNING"]
    urls = []
    for count in counts:
        urls.append(url := f"redis://127.0.0.1:{port}/{count}")
        for number in range(count):
            env = {"LSS_BROKER_URL": url}
            name = f"worker-{count}-{number}"
            stack.enter_context(running(name, worker, env=env, parent=workdir, ready=_says_ready))
    return urls


class CeleryEngine(Section):
    """The embedded engine, then Celery with each worker count, at 16 clients."""

    name = "celery"
    title = "Celery engine"

    def __init__(self) -> None:
        self.points: list[Point] = []

    def measure(self, session: Session) -> None:
        lineup = [Contender("embedded", service_argv())]
        with ExitStack() as stack:
            urls = stack_up(stack, session.workdir, WORKER_COUNTS)
            for count, url in zip(WORKER_COUNTS, urls, strict=True):
                env = {"LSS_BROKER_URL": url}
                name = f"celery, {count} worker{'s' * (count > 1)}"
                lineup.append(Contender(name, service_argv(), env=env))
            points = session.side_by_side(lineup, load.client(lambda _: session.plan, CLIENTS))
        self.points = [points[c.name] for c in lineup]

    def markdown(self) -> list[str]:
        if not self.points:
            return []
        embedded = self.points[0].jobs_per_s

        def share(c: Point) -> str:
            return f"{ratio(c.jobs_per_s, embedded):.2f}x"

        return [
            f"## {self.title}",
            "",
            f"The service at {CLIENTS} clients on the bundled data as `make run` serves it, beside "
            "itself on the Celery engine (`make redis`, `make worker`, `LSS_BROKER_URL=... make "
            "run`) with 1 and 2 workers, each stack on its own Redis database, all measured side "
            "by side with the load generator, answers checked. Everything shares this machine's "
            "cores: this is the cost of the hop through Redis, not the gain of more machines.",
            "",
            *columns(
                self.points,
                [
                    ("engine", lambda c: c.name),
                    *load.columns(lambda c: c, ("vs embedded", share)),
                ],
            ),
            "",
        ]
