"""``cold``: the first computation and serialization of every distinct answer, in-process."""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from app.data_ingestor import load_dataset
from app.engine.job import JobStatus
from app.task import COURSE_TASKS
from bench.markdown import table
from bench.scaling import ensure_dataset
from bench.server import BUNDLED
from bench.session import Session


@dataclass(frozen=True)
class ColdResult:
    """Timings of the first compute + serialize of each answer, in milliseconds."""

    load_s: float
    #: endpoint -> one timing per question (for a state endpoint, its slowest state).
    by_endpoint: dict[str, list[float]]
    #: How many distinct answers were timed (every state of the state endpoints).
    answers: int

    @property
    def all_ms(self) -> list[float]:
        """One timing per endpoint x question."""
        return [ms for timings in self.by_endpoint.values() for ms in timings]

    @property
    def max_ms(self) -> float:
        """The slowest first answer."""
        return max(self.all_ms)

    @property
    def median_ms(self) -> float:
        """The median first answer."""
        return statistics.median(self.all_ms)

    @property
    def slowest(self) -> str:
        """The endpoint of the slowest first answer."""
        return max(self.by_endpoint, key=lambda endpoint: max(self.by_endpoint[endpoint]))


def measure_cold(path: str | Path) -> ColdResult:
    """Load `path`, then time compute + done body of every endpoint x question (x state) once."""
    started = time.perf_counter()
    dataset = load_dataset(path)
    load_s = time.perf_counter() - started
    done = JobStatus.DONE.value
    by_endpoint: dict[str, list[float]] = {}
    answers = 0
    for endpoint, task_class in COURSE_TASKS.items():
        timings = by_endpoint.setdefault(endpoint, [])
        for question, index in dataset.questions.items():
            slowest = 0.0
            for state in index.state_means if task_class.needs_state else (None,):
                task = task_class(question, state)
                begin = time.perf_counter_ns()
                orjson.dumps({"status": done, "data": task.compute(dataset)})
                slowest = max(slowest, (time.perf_counter_ns() - begin) / 1e6)
                answers += 1
            timings.append(slowest)
    return ColdResult(load_s=load_s, by_endpoint=by_endpoint, answers=answers)


def add(commands: Any) -> argparse.ArgumentParser:
    """The `cold` command's options."""
    parser = commands.add_parser("cold", help="the first computation of every answer, in-process")
    parser.add_argument("--factor", type=int, default=1, help="times the bundled rows (1)")
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace, session: Session) -> list[str]:
    """Time the cold answers on the bundled data or a multiple of its rows."""
    path = BUNDLED if args.factor == 1 else ensure_dataset(session.plan.rows * args.factor)[0]
    return report(measure_cold(path), args.factor)


def report(cold: ColdResult, factor: int) -> list[str]:
    """The slowest and the median first answer of each endpoint."""
    rows = [
        [endpoint, f"{max(ms):.3f}", f"{statistics.median(ms):.3f}"]
        for endpoint, ms in cold.by_endpoint.items()
    ]
    return [
        f"# Cold answers ({factor}x the bundled rows, in-process)",
        "",
        f"Dataset load {cold.load_s * 1000:,.0f} ms; {cold.answers:,} answers timed (a state "
        f"endpoint shows its slowest state): max **{cold.max_ms:.3f} ms** ({cold.slowest}), "
        f"median {cold.median_ms:.3f} ms.",
        "",
        *table(["endpoint", "max ms", "median ms"], rows),
    ]
