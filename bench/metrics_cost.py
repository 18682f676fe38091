"""Section: what the Prometheus metrics cost, the service beside itself with LSS_METRICS=0 (wrk).

SPEC §17 allows the metrics at most 5% of jobs/s. Both servers run the default settings, one with
the metrics (the engines' job counters, the HTTP layer's counts, the multiprocess files) and one
without (no counting, prometheus_client not loaded), side by side in interleaved slices. The
cost is 1 - the median over the slice pairs of jobs/s with over jobs/s without: each pair ran
back to back, so the machine's other load falls on both alike.
"""

from __future__ import annotations

import statistics

from bench import point, wrk
from bench.lineup import Contender, measure
from bench.markdown import columns, ratio
from bench.point import Point
from bench.section import Section, Target
from bench.server import service_argv
from bench.session import Session

#: wrk's connections: the throughput section's headline count.
CONNECTIONS = 16
#: Slices of each server; the cost is their pairs' median (SPEC §17: the median of 3 slices).
SLICES = 3
#: Seconds of each slice at least, but in a quick run: the machine's noise is of a few percent
#: over seconds, what is measured here too.
SLICE_S = 5.0
#: The most the metrics may cost, as a share of jobs/s.
TARGET_COST = 0.05
ON, OFF = "metrics on", "LSS_METRICS=0"


def pair_ratios(on: Point, off: Point) -> list[float]:
    """Jobs/s with the metrics over jobs/s without, for each pair of slices run back to back."""
    return [
        (a.jobs / a.seconds) / (b.jobs / b.seconds)
        for a, b in zip(on.slices, off.slices, strict=True)
        if a.seconds and b.jobs
    ]


class MetricsCost(Section):
    """The service with its metrics beside the service without, at 16 connections (wrk)."""

    name = "metrics"
    title = "What the metrics cost (LSS_METRICS=0 beside the default)"

    def __init__(self) -> None:
        self.points: dict[str, Point] = {}

    def measure(self, session: Session) -> None:
        if not wrk.installed():
            session.note("wrk is not installed (apt-get install wrk): no figures for the metrics")
            return
        plan = wrk.write_plan(session.plan, session.workdir / "plan.tsv")
        lineup = [
            Contender(ON, service_argv()),
            Contender(OFF, service_argv(), env={"LSS_METRICS": "0"}),
        ]
        session.log(f"side by side: {ON}, {OFF}")
        seconds = session.seconds if session.quick else max(session.seconds, SLICES * SLICE_S)
        self.points = measure(
            lineup, wrk.client(CONNECTIONS, plan), workdir=session.workdir, rounds=SLICES,
            seconds=seconds,
        )  # fmt: skip
        session.log(f"metrics cost {self.cost():.1%} of jobs/s")

    def cost(self) -> float:
        """The share of jobs/s the metrics cost: 1 - the median of the slice pairs' ratios."""
        ratios = pair_ratios(self.points[ON], self.points[OFF])
        return 1 - statistics.median(ratios) if ratios else float("nan")

    def targets(self) -> list[Target]:
        name = (
            f"metrics cost <= {TARGET_COST:.0%} of jobs/s (median of {SLICES} slice pairs, wrk "
            f"at {CONNECTIONS} connections)"
        )
        if not self.points:
            return [Target(name, "not measured", None)]
        on, off = self.points[ON], self.points[OFF]
        ratios = pair_ratios(on, off)
        spread = f"pairs {min(ratios):.2f}-{max(ratios):.2f}x" if ratios else "no pairs"
        cost = self.cost()
        cpu = ratio(on.cpu_us_per_job, off.cpu_us_per_job) - 1
        measured = (
            f"{cost:.1%} ({on.jobs_per_s:,.0f} vs {off.jobs_per_s:,.0f} jobs/s; {spread}; "
            f"CPU per job {cpu:+.1%})"
        )
        return [Target(name, measured, cost <= TARGET_COST)]

    def markdown(self) -> list[str]:
        if not self.points:
            return []
        off = self.points[OFF]
        rows = list(self.points.items())
        return [
            f"## {self.title}",
            "",
            f"The service with its default settings, with and without its metrics (the engines' "
            f"job counters, the HTTP layer's counts and the files of prometheus_client's "
            f"multiprocess mode), under wrk's closed loop at {CONNECTIONS} connections, in "
            f"{SLICES} interleaved slices each. The cost is 1 - the median of the slice pairs' "
            f"jobs/s ratios (each pair ran back to back); CPU is that of all the server's "
            f"processes.",
            "",
            *columns(
                rows,
                [
                    ("server", lambda r: r[0]),
                    *point.columns(
                        lambda r: r[1],
                        ("vs off", lambda r: f"{ratio(r[1].jobs_per_s, off.jobs_per_s):.2f}x"),
                    ),
                    ("CPU µs/job", lambda r: f"{r[1].cpu_us_per_job:.0f}"),
                ],
            ),
            "",
        ]
