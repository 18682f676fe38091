"""Section: the Celery engine with 1 and 2 workers beside the embedded one, as users start them,
and beside a bare Celery round trip (bench/celery_bare.py) with as many workers, one Redis."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from contextlib import ExitStack, suppress
from dataclasses import dataclass
from pathlib import Path

import redis

from app.celery_engine import redis_server
from bench import celery_bare, load
from bench.lineup import Contender
from bench.markdown import columns, ratio
from bench.point import Point, Slice
from bench.section import Section, Target
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


@dataclass(frozen=True)
class CeleryStack:
    """One stack of stack_up: its broker URL, its bare round trip's, and its worker processes."""

    url: str
    bare_url: str
    workers: list[Server]


def stack_up(
    stack: ExitStack,
    workdir: Path,
    counts: tuple[int, ...],
    worker_argv: Sequence[Sequence[str]] | None = None,
) -> list[CeleryStack]:
    """A redis-server as `make redis` runs it and workers as `make worker` starts them, all
    ready: for each count a stack, its own database with that many workers, given the extra
    `celery worker` arguments at its place in `worker_argv` (say `--pool solo`), if any."""
    program = redis_server.binary()
    if program is None:
        raise RuntimeError("no redis-server installed (make installs it into .venv)")
    if len(counts) > 5:
        raise ValueError("at most 5 stacks: 2 databases each of Redis's 16")
    folder, port = workdir / "redis", free_port()
    folder.mkdir(parents=True, exist_ok=True)
    argv = redis_server.command(program, port, folder)
    stack.enter_context(running("redis", argv, parent=workdir, ready=_answers_ping, port=port))
    worker = [sys.executable, "-m", "app.celery_engine.worker", "--loglevel=WARNING"]
    extras = worker_argv if worker_argv is not None else [()] * len(counts)
    stacks = []
    for place, (count, extra) in enumerate(zip(counts, extras, strict=True), start=1):
        url = f"redis://127.0.0.1:{port}/{place}"
        workers = [
            stack.enter_context(
                running(
                    f"worker-{place}-{number}",
                    [*worker, *extra],
                    env={"LSS_BROKER_URL": url},
                    parent=workdir,
                    ready=_says_ready,
                )
            )
            for number in range(count)
        ]
        stacks.append(CeleryStack(url, f"redis://127.0.0.1:{port}/{10 + place}", workers))
    return stacks


class CeleryEngine(Section):
    """The embedded engine, then Celery with each worker count, at 16 clients."""

    name = "celery"
    title = "Celery engine"

    def __init__(self) -> None:
        self.points: list[Point] = []
        #: The bare round trip's points, by worker count.
        self.bare: dict[int, Point] = {}

    def measure(self, session: Session) -> None:
        lineup = [Contender("embedded", service_argv())]
        bare: dict[str, str] = {}  # the bare contenders' broker URLs
        engine = load.client(lambda _: session.plan, CLIENTS)

        def run(server: Server, seconds: float) -> Slice:
            if server.name in bare:
                return celery_bare.drive(bare[server.name], CLIENTS, seconds)
            return engine(server, seconds)

        with ExitStack() as stack:
            stacks = stack_up(stack, session.workdir, WORKER_COUNTS)
            for count, celery in zip(WORKER_COUNTS, stacks, strict=True):
                workers = f"{count} worker{'s' * (count > 1)}"
                env = {"LSS_BROKER_URL": celery.url}
                lineup.append(Contender(f"celery, {workers}", service_argv(), env=env))
                bare[name := f"bare round trip, {workers}"] = url = celery.bare_url
                argv = [sys.executable, "-m", "bench.celery_bare", url, str(count)]
                lineup.append(Contender(name, argv))
            points = session.side_by_side(lineup, run)
        named = {c.name: points[c.name] for c in lineup}
        self.points = [p for name, p in named.items() if name not in bare]
        self.bare = {count: named[name] for count, name in zip(WORKER_COUNTS, bare, strict=True)}

    def _versus_bare(self, c: Point) -> str:
        """An engine row's jobs/s over the bare round trip's with as many workers."""
        count = next((n for n in WORKER_COUNTS if c.name.startswith(f"celery, {n} ")), None)
        if count is None or count not in self.bare:
            return "-"
        return f"{ratio(c.jobs_per_s, self.bare[count].jobs_per_s):.2f}x"

    def targets(self) -> list[Target]:
        if not self.points or not self.bare:
            return []
        embedded, engines = self.points[0], self.points[1:]
        worst_bare = min(
            ratio(c.jobs_per_s, self.bare[n].jobs_per_s)
            for n, c in zip(WORKER_COUNTS, engines, strict=True)
        )
        worst_embedded = min(ratio(c.jobs_per_s, embedded.jobs_per_s) for c in engines)
        worst_p99 = max(c.p99_ms for c in engines)
        one, two = engines[0].jobs_per_s, engines[-1].jobs_per_s
        return [
            Target(
                f"Celery engine >= 0.8x the bare round trip's jobs/s ({CLIENTS} clients)",
                f"{worst_bare:.2f}x at worst",
                worst_bare >= 0.8,
            ),
            Target(
                f"Celery engine >= 0.25x the embedded engine's jobs/s ({CLIENTS} clients)",
                f"{worst_embedded:.2f}x at worst",
                worst_embedded >= 0.25,
            ),
            Target(
                "Celery engine p99 submit-to-done <= 30 ms",
                f"{worst_p99:.1f} ms at worst",
                worst_p99 <= 30,
            ),
            Target(
                "Celery engine: two workers not slower than one",
                f"{ratio(two, one):.2f}x",
                two >= one * 0.95,
            ),
        ]

    def markdown(self) -> list[str]:
        if not self.points:
            return []
        embedded = self.points[0].jobs_per_s

        def share(c: Point) -> str:
            return f"{ratio(c.jobs_per_s, embedded):.2f}x"

        rows = [*self.points, *self.bare.values()]
        return [
            f"## {self.title}",
            "",
            f"The service at {CLIENTS} clients on the bundled data as `make run` serves it, beside "
            "itself on the Celery engine (`make redis`, `make worker`, `LSS_BROKER_URL=... make "
            "run`) with 1 and 2 workers, and beside a bare Celery round trip with as many workers "
            "(`bench/celery_bare.py`: a no-op task sent with `apply_async` by "
            f"{CLIENTS} client threads, its result read back with `AsyncResult.get` from a Redis "
            "result backend, which answers by pub/sub; the engine's Celery settings and worker "
            "flags). Each stack has its own Redis database on one redis-server, all measured side "
            "by side, the engine's answers checked. Everything shares this machine's cores: this "
            "is the cost of the hop through Redis, not the gain of more machines.",
            "",
            *columns(
                rows,
                [
                    ("engine", lambda c: c.name),
                    *load.columns(lambda c: c, ("vs embedded", share)),
                    ("vs bare", self._versus_bare),
                ],
            ),
            "",
        ]
