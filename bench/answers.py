"""Section: answers checked under load, the Python load generator at 1, 4, 16 and 64 clients."""

from __future__ import annotations

from pathlib import Path

from bench import charts, load
from bench.lineup import Contender
from bench.load import LoadResult
from bench.markdown import MB, columns, mb, num, ratio
from bench.section import Section, Target
from bench.server import limit_argv, service_argv
from bench.session import Session

HEADLINE_CLIENTS = 16
TARGET_P99_MS = 15.0
TARGET_RSS_MB = 150.0


class Answers(Section):
    """The service (and the limit, for scale) under the checking load generator."""

    name = "answers"
    title = "Answers checked under load (Python load generator)"

    def __init__(self) -> None:
        #: clients -> contender name -> (the merged run, peak PSS)
        self.points: dict[int, dict[str, tuple[LoadResult, int]]] = {}

    def measure(self, session: Session) -> None:
        lineup = [Contender("service", service_argv()), Contender("limit", limit_argv())]
        for clients in session.clients:
            measured = session.side_by_side(lineup, load.client(session.plan, clients))
            self.points[clients] = {n: (load.merge(m), m.peak_rss) for n, m in measured.items()}
            service = self.points[clients]["service"][0]
            session.log(
                f"{clients} clients: {service.jobs_per_s:,.0f} jobs/s, p99 {service.p99:.1f} ms, "
                f"{service.wrong} wrong, {service.error_count} errors of {service.checked:,}"
            )

    def _service(self) -> list[LoadResult]:
        return [point["service"][0] for point in self.points.values()]

    def headline(self) -> list[str]:
        if not (runs := self._service()):
            return []
        return [
            f"Answers checked under load (Python load generator, {len(runs)} client counts): "
            f"**{sum(r.wrong for r in runs)} wrong answers and {sum(r.error_count for r in runs)} "
            f"error statuses in {sum(r.checked for r in runs):,} jobs**.",
            "",
        ]

    def targets(self) -> list[Target]:
        runs = self._service()
        if not runs:
            return [Target("answers checked under load", "not measured", None)]
        wrong, errors = sum(r.wrong for r in runs), sum(r.error_count for r in runs)
        kinds = sorted({kind for r in runs for kind in r.errors})
        found = [
            Target(
                "no wrong answer, no error status (load generator, every client count)",
                f"{wrong} wrong, {errors} errors of {sum(r.checked for r in runs):,} jobs"
                + (f" ({', '.join(kinds)})" if kinds else ""),
                wrong == 0 and errors == 0,
            )
        ]
        peak = max(point["service"][1] for point in self.points.values()) / MB
        found.append(
            Target(
                f"server memory <= {TARGET_RSS_MB:g} MB under load on the bundled data",
                f"{peak:.0f} MB peak PSS (all processes)",
                peak <= TARGET_RSS_MB,
            )
        )
        if head := self.points.get(HEADLINE_CLIENTS):
            p99 = head["service"][0].p99
            found.append(
                Target(
                    f"p99 submit-to-done <= {TARGET_P99_MS:g} ms at {HEADLINE_CLIENTS} clients "
                    "(load generator)",
                    f"{p99:.1f} ms",
                    p99 <= TARGET_P99_MS,
                )
            )
        return found

    def markdown(self) -> list[str]:
        if not self.points:
            return []
        lines = [
            f"## {self.title}",
            "",
            "`bench/load.py`: each client is a thread with a keep-alive connection that submits a "
            "job, polls until it is done (at once, then backing off from 0.5 to 8 ms), and "
            "compares the answer with the one computed in-process by the project's own loader "
            "and tasks (parsed JSON, key order, exact floats), walking the 81 endpoint x question "
            "pairs. Every job is checked, warm-ups included. The limit runs beside the service for "
            "scale: this client costs about as much CPU per request as the servers, on the same "
            "cores, so its jobs/s say less than wrk's.",
            "",
        ]
        rows = [(c, p["service"], p["limit"]) for c, p in self.points.items()]
        return (
            lines
            + columns(
                rows,
                [
                    ("clients", lambda r: str(r[0])),
                    ("service jobs/s", lambda r: num(r[1][0].jobs_per_s)),
                    ("limit jobs/s", lambda r: num(r[2][0].jobs_per_s)),
                    (
                        "service / limit",
                        lambda r: f"{ratio(r[1][0].jobs_per_s, r[2][0].jobs_per_s):.2f}x",
                    ),
                    ("service p50 / p99 ms", lambda r: f"{r[1][0].p50:.2f} / {r[1][0].p99:.1f}"),
                    ("limit p99 ms", lambda r: f"{r[2][0].p99:.1f}"),
                    ("jobs checked", lambda r: f"{r[1][0].checked:,}"),
                    ("wrong / errors", lambda r: f"{r[1][0].wrong} / {r[1][0].error_count}"),
                    ("peak PSS MB", lambda r: mb(r[1][1])),
                ],
            )
            + [""]
        )

    def charts(self, folder: Path) -> list[Path]:
        if not self.points:
            return []
        clients = list(self.points)
        runs = {n: [self.points[c][n][0] for c in clients] for n in ("service", "limit")}
        return [
            charts.draw(
                folder / "throughput_vs_clients.png",
                "Throughput vs clients (answers checked)",
                ("concurrent clients (closed loop)", clients),
                "jobs/s (submit + poll until done)",
                {name: [r.jobs_per_s for r in rs] for name, rs in runs.items()},
            ),
            charts.draw(
                folder / "p99_vs_clients.png",
                "Latency vs clients (answers checked)",
                ("concurrent clients (closed loop)", clients),
                "submit-to-done latency (ms)",
                {
                    f"{name} {q}": [r.percentile(0.99 if q == "p99" else 0.5) for r in rs]
                    for name, rs in runs.items()
                    for q in ("p99", "p50")
                },
                lines={f"target p99 {TARGET_P99_MS:g} ms": TARGET_P99_MS},
                log_y=True,
            ),
        ]
