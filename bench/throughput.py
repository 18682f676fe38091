"""Section: throughput with wrk, the service beside the raw WSGI limit, 1 and 2 processes each."""

from __future__ import annotations

from app.config import SETTINGS
from bench import point, wrk
from bench.lineup import Contender
from bench.markdown import columns, ratio
from bench.point import Point
from bench.section import Section, Target
from bench.server import limit_argv, service_argv
from bench.session import Session

#: Connection counts of the wrk sweep; the first is the headline's.
CONNECTIONS = (16, 64)
#: Worker process counts (LSS_WORKERS) of the service and of the limit.
WORKER_COUNTS = (1, 2)
#: The service's default LSS_WORKERS.
DEFAULT_WORKERS = int(SETTINGS["WORKERS"][1])
TARGET_LIMIT_RATIO = 0.5
TARGET_P99_MS = 10.0


def service(workers: int) -> Contender:
    """The service as `make run` starts it, with `workers` server processes."""
    return Contender(f"service w={workers}", service_argv(), env={"LSS_WORKERS": str(workers)})


def limit(workers: int) -> Contender:
    """The raw WSGI limit app under the same server settings."""
    return Contender(f"limit w={workers}", limit_argv(), env={"LSS_WORKERS": str(workers)})


class Throughput(Section):
    """wrk's closed loop against the service and the limit, at 16 and 64 connections."""

    name = "wrk"
    title = "Throughput with a C client (wrk)"

    def __init__(self) -> None:
        self.points: dict[tuple[str, int], Point] = {}

    def measure(self, session: Session) -> None:
        if not wrk.installed():
            session.note("wrk is not installed (apt-get install wrk): no throughput figures")
            return
        plan = wrk.write_plan(session.plan, session.workdir / "plan.tsv")
        lineup = [*map(limit, WORKER_COUNTS), *map(service, WORKER_COUNTS)]
        for count in CONNECTIONS:
            for name, p in session.side_by_side(lineup, wrk.client(count, plan)).items():
                self.points[name, count] = p
                session.log(f"{name} @ {count}: {p.jobs_per_s:,.0f} jobs/s, p99 {p.p99_ms:.1f} ms")

    def limit(self, count: int) -> Point | None:
        """The limit at `count` connections: the faster of its worker counts."""
        found = [p for n in WORKER_COUNTS if (p := self.points.get((limit(n).name, count)))]
        return max(found, key=lambda p: p.jobs_per_s, default=None)

    def _pair(self, count: int) -> tuple[Point, Point] | None:
        """The service with its defaults and the limit, at `count` connections."""
        found = self.points.get((service(DEFAULT_WORKERS).name, count)), self.limit(count)
        return (found[0], found[1]) if found[0] and found[1] else None

    def headline(self) -> list[str]:
        if not (pair := self._pair(CONNECTIONS[0])):
            return []
        s, lim = pair
        return [
            f"**Headline: at {CONNECTIONS[0]} connections (wrk, closed loop) the service with its "
            f"default settings (LSS_WORKERS={DEFAULT_WORKERS}) does "
            f"{ratio(s.jobs_per_s, lim.jobs_per_s):.2f}x the raw WSGI limit's jobs/s** "
            f"({s.jobs_per_s:,.0f} vs {lim.jobs_per_s:,.0f}; p99 submit-to-done "
            f"{s.p99_ms:.1f} vs {lim.p99_ms:.1f} ms).",
            "",
        ]

    def targets(self) -> list[Target]:
        head = CONNECTIONS[0]
        if not (pair := self._pair(head)):
            return [Target("service vs the raw WSGI limit (wrk)", "not measured", None)]
        s, lim = pair
        share = ratio(s.jobs_per_s, lim.jobs_per_s)
        points = self.points.values()
        return [
            Target(
                f"service >= {TARGET_LIMIT_RATIO}x the raw WSGI limit's jobs/s at {head} "
                "connections (wrk, default settings)",
                f"{share:.2f}x ({s.jobs_per_s:,.0f} vs {lim.jobs_per_s:,.0f} jobs/s)",
                share >= TARGET_LIMIT_RATIO,
            ),
            Target(
                f"p99 submit-to-done <= {TARGET_P99_MS:g} ms at {head} connections (wrk)",
                f"{s.p99_ms:.1f} ms (slices {s.p99_range[0]:.1f}-{s.p99_range[1]:.1f}; "
                f"limit {lim.p99_ms:.1f} ms)",
                s.p99_ms <= TARGET_P99_MS,
            ),
            Target(
                "no error status in the wrk runs",
                f"{sum(p.bad for p in points)} of {sum(p.jobs for p in points):,} jobs",
                all(p.bad == 0 for p in points),
            ),
        ]

    def markdown(self) -> list[str]:
        if not self.points:
            return []
        rows = [(name, count, p) for (name, count), p in self.points.items()]

        def share(row: tuple[str, int, Point]) -> str:
            best = self.limit(row[1])
            return f"**{ratio(row[2].jobs_per_s, best.jobs_per_s):.2f}x**" if best else "-"

        one, two = (service(n).name for n in WORKER_COUNTS)
        workers = [
            f"{ratio(b.jobs_per_s, a.jobs_per_s):.2f}x the jobs/s of one at {c} connections"
            for c in CONNECTIONS
            if (a := self.points.get((one, c))) and (b := self.points.get((two, c)))
        ]
        return [
            f"## {self.title}",
            "",
            "`wrk` runs `bench/cycle.lua`, one connection per wrk thread: each connection submits "
            "a job, polls `get_results` until it is done, then submits the next, walking the 81 "
            "endpoint x question pairs (the state endpoints rotate over the locations); the "
            "script times submit-to-done per job. The service and the limit (`bench/limit.py`) "
            "run with 1 and with 2 server processes, all four at once, measured in interleaved "
            "slices with a second of uncounted lead-in each. 'vs limit' is jobs/s over the "
            "faster limit's at the same connection count; p50 and p99 are the medians of the "
            "slices' (the p99s' range beside); CPU is user + system time of all the server's "
            "processes; 'errors' counts error statuses.",
            "",
            *columns(
                rows,
                [
                    ("server @ connections", lambda r: f"{r[0]} @ {r[1]}"),
                    *point.columns(lambda r: r[2], ("vs limit", share)),
                    ("CPU µs/job", lambda r: f"{r[2].cpu_us_per_job:.0f}"),
                ],
            ),
            "",
            f"Server processes (LSS_WORKERS, default {DEFAULT_WORKERS}): in this run two did "
            f"{' and '.join(workers) or '-'}.",
            "",
        ]
