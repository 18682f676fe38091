"""Section: answers checked under load, the Python load generator at 1, 4, 16 and 64 clients."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bench import charts, load
from bench.lineup import Contender
from bench.markdown import MB, columns, ratio
from bench.point import Point
from bench.section import Section, Target
from bench.server import limit_argv, service_argv
from bench.session import Session

TARGET_RSS_MB = 150.0


class Answers(Section):
    """The service, and the limit for scale, under the load generator at each client count."""

    name = "answers"
    title = "Answers checked under load (Python load generator)"

    def __init__(self) -> None:
        self.points: dict[int, dict[str, Point]] = {}  # clients -> "service"/"limit" -> point

    def measure(self, session: Session) -> None:
        lineup = [Contender("service", service_argv()), Contender("limit", limit_argv())]
        for clients in session.clients:
            run = load.client(lambda _: session.plan, clients)
            self.points[clients] = p = session.side_by_side(lineup, run)
            session.log(f"{clients} clients: {p['service'].jobs_per_s:,.0f} jobs/s")

    def headline(self) -> list[str]:
        runs = [p["service"] for p in self.points.values()]
        if not runs:
            return []
        return [
            f"Answers checked under load (Python load generator, {len(runs)} client counts): "
            f"**{sum(r.wrong for r in runs)} wrong answers and {sum(r.bad for r in runs)} "
            f"error statuses in {sum(r.checked for r in runs):,} jobs**.",
            "",
        ]

    def targets(self) -> list[Target]:
        services = [p["service"] for p in self.points.values()]
        if not services:
            return [Target("answers checked under load", "not measured", None)]
        wrong, errors = sum(s.wrong for s in services), sum(s.bad for s in services)
        peak = max(s.peak_rss for s in services) / MB
        return [
            Target(
                "no wrong answer, no error status (load generator, every client count)",
                f"{wrong} wrong, {errors} errors of {sum(s.checked for s in services):,} jobs",
                wrong == errors == 0,
            ),
            Target(
                f"server memory <= {TARGET_RSS_MB:g} MB under load on the bundled data",
                f"{peak:.0f} MB peak PSS (all processes)",
                peak <= TARGET_RSS_MB,
            ),
        ]

    def markdown(self) -> list[str]:
        if not self.points:
            return []

        def share(row: tuple[Point, float]) -> str:
            return f"{ratio(row[0].jobs_per_s, row[1]):.2f}x"

        rows = [
            (replace(p, name=f"{p.name} @ {clients}"), points["limit"].jobs_per_s)
            for clients, points in self.points.items()
            for p in points.values()
        ]
        return [
            f"## {self.title}",
            "",
            "`bench/load.py`: each client is a thread with a keep-alive connection that submits a "
            "job, polls until it is done (at once, then backing off from 0.5 to 8 ms) and compares "
            "the answer with the one computed in-process by the project's own loader and tasks "
            "(key order, types, floats to the last bit), walking the 81 endpoint x question pairs. "
            "Every job is checked, warm-ups included. The limit runs beside the service for scale: "
            "this client costs about as much CPU per request as a server, on the same cores, so "
            "its jobs/s say less than wrk's.",
            "",
            *columns(
                rows,
                [
                    ("server @ clients", lambda r: r[0].name),
                    *load.columns(lambda r: r[0], ("vs limit", share)),
                ],
            ),
            "",
        ]

    def charts(self, folder: Path) -> list[Path]:
        if not self.points:
            return []
        clients = ("concurrent clients (closed loop)", list(self.points))
        runs = {n: [p[n] for p in self.points.values()] for n in ("service", "limit")}
        latency = {
            f"{name} {q}": [getattr(r, f"{q}_ms") for r in rs]
            for name, rs in runs.items()
            for q in ("p99", "p50")
        }
        jobs = {name: [r.jobs_per_s for r in rs] for name, rs in runs.items()}
        return [
            charts.draw(
                folder / "throughput_vs_clients.png",
                "Throughput vs clients (answers checked)",
                clients,
                "jobs/s (submit + poll until done)",
                jobs,
            ),
            charts.draw(
                folder / "p99_vs_clients.png",
                "Latency vs clients (answers checked)",
                clients,
                "submit-to-done latency (ms)",
                latency,
                log_y=True,
            ),
        ]
