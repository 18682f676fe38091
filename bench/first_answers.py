"""Section: the first computation of the new statistics (SPEC §13), at 1x and 100x the rows.

Each representative request of `app.analytics.examples` is validated, computed and serialized
once on a freshly loaded dataset, in-process (an engine keeps the answer after that, so the
first one is what a job can cost); the slowest and the median per endpoint are reported.
"""

from __future__ import annotations

import gc
import statistics
import time
from dataclasses import dataclass

from app.analytics.examples import representative_requests
from app.data_ingestor import load_dataset
from app.engine.interface import done_body
from app.task import TASKS
from bench.markdown import table
from bench.scaling import ensure_dataset
from bench.section import Section, Target
from bench.session import Session

FACTORS = (1, 100)
#: Goals of SPEC §13 (issue 19): the slowest first answer at 1x and at 100x, in ms.
TARGET_MS = {1: 5.0, 100: 50.0}


@dataclass(frozen=True)
class Timed:
    """The first answers of one dataset: milliseconds per request, by endpoint."""

    factor: int
    rows: int
    load_s: float
    by_endpoint: dict[str, list[float]]

    @property
    def slowest_ms(self) -> float:
        return max(ms for timings in self.by_endpoint.values() for ms in timings)


def time_first_answers(factor: int, rows: int) -> Timed:
    """Load the dataset of `rows` rows, then time each representative request's first answer."""
    path, _ = ensure_dataset(rows)
    started = time.perf_counter()
    dataset = load_dataset(path)
    load_s = time.perf_counter() - started
    by_endpoint: dict[str, list[float]] = {}
    gc.collect()
    for endpoint, body in representative_requests(dataset.rows):
        started = time.perf_counter()
        task = TASKS[endpoint].from_payload(body, dataset)
        done_body(task.compute(dataset))
        by_endpoint.setdefault(endpoint, []).append((time.perf_counter() - started) * 1000)
    return Timed(factor, dataset.rows_read, load_s, by_endpoint)


class FirstAnswers(Section):
    """The new statistics' first answers, in-process, at 1x and 100x the bundled rows."""

    name = "first-answers"
    title = "First answers of the new statistics (1x and 100x the bundled rows)"

    def __init__(self) -> None:
        self.runs: list[Timed] = []

    def measure(self, session: Session) -> None:
        for factor in FACTORS:
            self.runs.append(time_first_answers(factor, session.plan.rows * factor))

    def headline(self) -> list[str]:
        return [
            f"- first answer of a new statistic at {r.factor}x rows: at most "
            f"{r.slowest_ms:.1f} ms" for r in self.runs
        ]  # fmt: skip

    def targets(self) -> list[Target]:
        found = {r.factor: r for r in self.runs}
        return [
            Target(
                f"a new statistic's first answer <= {limit:g} ms at {factor}x rows",
                f"{found[factor].slowest_ms:.1f} ms" if factor in found else "not measured",
                found[factor].slowest_ms <= limit if factor in found else None,
            )
            for factor, limit in TARGET_MS.items()
        ]

    def markdown(self) -> list[str]:
        lines = [
            f"## {self.title}",
            "",
            "Each representative request of `app.analytics.examples` (every question: the nation "
            "compared and the locations ranked by default, over part of the years and in another "
            "stratum; the trend and "
            "every category's disparities of a few locations) validated, computed and serialized "
            "once on a freshly loaded dataset, in-process: the cost of a job whose answer no "
            "engine holds yet. Later jobs of the same request are answered from the engine's "
            "cache.",
            "",
        ]
        rows = [
            [
                f"{r.factor}x ({r.rows:,} rows)",
                endpoint,
                str(len(timings)),
                f"{statistics.median(timings):.2f}",
                f"{max(timings):.2f}",
            ]
            for r in self.runs
            for endpoint, timings in r.by_endpoint.items()
        ]
        header = ["data", "endpoint", "requests", "median ms", "slowest ms"]
        return [*lines, *table(header, rows), ""]
