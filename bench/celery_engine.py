"""Section: the Celery engine with 1 and 2 workers beside the embedded one, as users start them,
and beside a bare Celery round trip (bench/celery_bare.py) with as many workers, one Redis."""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import ExitStack

import psutil

from bench import celery_bare, load
from bench.celery_stack import CeleryStack, stack_up
from bench.cpu_share import GROUPS, REDIS, WEB, WORKERS, CpuShare
from bench.lineup import Contender
from bench.markdown import columns, num, ratio, table
from bench.point import Point, Slice
from bench.section import Section, Target
from bench.server import Server, service_argv
from bench.session import Session

WORKER_COUNTS = (1, 2)
CLIENTS = 16


#: How the load generator asks for an answer: polling get_results as the course's client does,
#: and with `Prefer: wait` as `lss` and the client do (N s at most).
MODES = (("", 0), (", Prefer: wait", 5))


def _name(engine: str, mode: str) -> str:
    return f"{engine}{mode}"


class CeleryEngine(Section):
    """The embedded engine, then Celery with each worker count, polled and held, at 16 clients."""

    name = "celery"
    title = "Celery engine"

    def __init__(self) -> None:
        #: Every contender's point by name: the engines', then the bare round trip's.
        self.points: dict[str, Point] = {}
        #: The bare round trip's names by worker count.
        self.bare: dict[int, str] = {}
        self.cpu = CpuShare()

    @staticmethod
    def engines(count: int) -> str:
        return f"celery, {count} worker{'s' * (count > 1)}"

    def measure(self, session: Session) -> None:
        lineup = [Contender(_name("embedded", m), service_argv()) for m, _ in MODES]
        waits = {_name("embedded", m): wait for m, wait in MODES}
        groups: dict[str, Callable[[Server], dict[str, list[psutil.Process]]]] = {}
        bare: dict[str, str] = {}  # the bare contenders' broker URLs

        def run(server: Server, seconds: float) -> Slice:
            if server.name in bare:
                return celery_bare.drive(bare[server.name], CLIENTS, seconds)
            return load.run(session.plan, server, CLIENTS, seconds, waits[server.name])

        def of(server: Server) -> dict[str, list[psutil.Process]]:
            if server.name in groups:
                return groups[server.name](server)
            return {WEB: server.tree()}

        with ExitStack() as stack:
            stacks = stack_up(stack, session.workdir, WORKER_COUNTS)
            for count, celery in zip(WORKER_COUNTS, stacks, strict=True):

                def others(
                    server: Server, celery: CeleryStack = celery
                ) -> dict[str, list[psutil.Process]]:
                    return {
                        WEB: server.tree(),
                        WORKERS: [p for w in celery.workers for p in w.tree()],
                        REDIS: celery.redis.tree(),
                    }

                env = {"LSS_BROKER_URL": celery.url}
                for mode, wait in MODES:
                    name = _name(self.engines(count), mode)
                    lineup.append(Contender(name, service_argv(), env=env))
                    waits[name], groups[name] = wait, others
                name = f"bare round trip, {count} worker{'s' * (count > 1)}"
                bare[name] = celery.bare_url
                argv = [sys.executable, "-m", "bench.celery_bare", celery.bare_url, str(count)]
                lineup.append(Contender(name, argv))
                # The bare stack's server only starts its workers (its children), then idles.
                groups[name] = lambda server, celery=celery: {
                    WORKERS: server.tree(),
                    REDIS: celery.redis.tree(),
                }
                self.bare[count] = name
            points = session.side_by_side(lineup, self.cpu.counting(run, of))
        self.points = {c.name: points[c.name] for c in lineup}

    def _versus_bare(self, c: Point) -> str:
        """An engine row's jobs/s over the bare round trip's with as many workers."""
        count = next((n for n in WORKER_COUNTS if c.name.startswith(self.engines(n))), None)
        if count is None:
            return "-"
        return f"{ratio(c.jobs_per_s, self.points[self.bare[count]].jobs_per_s):.2f}x"

    def _versus_embedded(self, c: Point) -> str:
        """A row's jobs/s over the embedded engine's, asked for the same way."""
        mode = next((m for m, _ in MODES[::-1] if c.name.endswith(m)), "")
        if c.name in self.bare.values():
            mode = ""  # the bare round trip waits on its result: beside either, the polled one
        return f"{ratio(c.jobs_per_s, self.points[_name('embedded', mode)].jobs_per_s):.2f}x"

    def targets(self) -> list[Target]:
        if not self.points:
            return []
        engines = {
            (count, mode): self.points[_name(self.engines(count), mode)]
            for count in WORKER_COUNTS
            for mode, _ in MODES
        }
        embedded = {mode: self.points[_name("embedded", mode)] for mode, _ in MODES}
        bare = {count: self.points[name] for count, name in self.bare.items()}
        worst_bare = min(ratio(p.jobs_per_s, bare[n].jobs_per_s) for (n, _), p in engines.items())
        worst_embedded = min(
            ratio(p.jobs_per_s, embedded[m].jobs_per_s) for (_, m), p in engines.items()
        )
        worst_p99 = max(p.p99_ms for p in engines.values())
        two_vs_one = min(
            ratio(engines[WORKER_COUNTS[-1], m].jobs_per_s, engines[WORKER_COUNTS[0], m].jobs_per_s)
            for m, _ in MODES
        )
        both = "polled or held, at worst"
        return [
            Target(
                f"Celery engine >= 0.8x the bare round trip's jobs/s ({CLIENTS} clients)",
                f"{worst_bare:.2f}x, {both}",
                worst_bare >= 0.8,
            ),
            Target(
                f"Celery engine >= 0.25x the embedded engine's jobs/s ({CLIENTS} clients)",
                f"{worst_embedded:.2f}x, {both}",
                worst_embedded >= 0.25,
            ),
            Target(
                "Celery engine p99 submit-to-done <= 30 ms",
                f"{worst_p99:.1f} ms, {both}",
                worst_p99 <= 30,
            ),
            Target(
                "Celery engine: two workers not slower than one",
                f"{two_vs_one:.2f}x, {both}",
                two_vs_one >= 0.95,
            ),
        ]

    def markdown(self) -> list[str]:
        if not self.points:
            return []
        return [
            f"## {self.title}",
            "",
            f"The service at {CLIENTS} clients on the bundled data as `make run` serves it, beside "
            "itself on the Celery engine (`make redis`, `make worker`, `LSS_BROKER_URL=... make "
            "run`) with 1 and 2 workers, and beside a bare Celery round trip with as many workers "
            "(`bench/celery_bare.py`: a no-op task sent with `apply_async` by "
            f"{CLIENTS} client threads, its result read back with `AsyncResult.get` from a Redis "
            "result backend, which answers by pub/sub; the engine's Celery settings and worker "
            "flags). Each engine is asked twice: polled (a POST, then get_results until done, as "
            "the course's client does) and held (`Prefer: wait=5` on the POST, as `lss` and the "
            "client do; a server process holds at most LSS_SERVER_THREADS - 1 requests, the "
            "others are answered at once and polled). Each Celery stack has its own Redis "
            "database on one redis-server, all measured side by side, the engine's answers "
            "checked. Everything shares this machine's cores: this is the cost of the hop "
            "through Redis, not the gain of more machines.",
            "",
            *columns(
                self.points.values(),
                [
                    ("engine", lambda c: c.name),
                    *load.columns(lambda c: c, ("vs embedded", self._versus_embedded)),
                    ("vs bare", self._versus_bare),
                ],
            ),
            "",
            *self._cpu_markdown(),
        ]

    def _cpu_markdown(self) -> list[str]:
        """CPU per job by process group, and what this machine would have left without the
        workers (the arithmetic of a second machine for them)."""
        cores = psutil.cpu_count() or 1

        def ms(name: str, group: str) -> str:
            value = self.cpu.ms_per_job(name, group)
            return "-" if value != value or value < 0.0005 else f"{value:.2f}"

        def bound(name: str, without: tuple[str, ...] = ()) -> str:
            total = self.cpu.total_ms(name, without)
            return num(cores * 1000.0 / total) if total > 0 else "-"

        rows = [
            [
                name,
                *(ms(name, g) for g in GROUPS),
                f"{self.cpu.total_ms(name):.2f}",
                bound(name),
                bound(name, (WORKERS,)) if name not in ("embedded",) else "-",
            ]
            for name in self.points
            if not name.startswith("embedded,")
        ]
        return [
            "CPU per job (user + system ms) by process over the slices above, and the jobs/s "
            f"this machine's {cores} cores could do at that cost: with everything on it, and "
            "with the Celery workers on a machine of their own (the same cost less theirs; "
            "arithmetic from the measured CPU, not a measured throughput).",
            "",
            *table(["engine", *GROUPS, "all", "jobs/s at that cost", "without the workers"], rows),
            "",
        ]
