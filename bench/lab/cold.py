"""Cold tasks, in-process: the first computation and serialization of every distinct answer."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import orjson

from app.data_ingestor import load_dataset
from app.engine.job import JobStatus
from app.task import TASKS


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
    """Load `path` and time, once each, compute + JSON body of every endpoint x question (x state).

    This is the cache-miss path of JobManager._answer: Task.compute, then orjson of the done body.
    """
    started = time.perf_counter()
    dataset = load_dataset(path)
    load_s = time.perf_counter() - started
    done = JobStatus.DONE.value
    by_endpoint: dict[str, list[float]] = {}
    answers = 0
    for endpoint, task_class in TASKS.items():
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
