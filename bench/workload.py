"""The request mix and its expected answers, computed in-process with the project's own code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from app.data_ingestor import Dataset, load_dataset
from app.engine.job import JobStatus
from app.task import TASKS
from bench.load import Key, Plan


def plain(value: Any) -> Any:
    """`value` with numpy scalars turned into the Python ones they subclass (same value)."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, float) and type(value) is not float:
        return float(value)
    return value


def build_plan(dataset: Dataset) -> Plan:
    """Every request the mix can send and its answer, from the project's Task classes."""
    combos: list[tuple[str, str]] = []
    expected: dict[Key, Any] = {}
    states = {q: tuple(index.state_means) for q, index in dataset.questions.items()}
    for endpoint, task_class in TASKS.items():
        for question in dataset.questions:
            combos.append((endpoint, question))
            for state in states[question] if task_class.needs_state else (None,):
                answer = task_class(question, state).compute(dataset)
                expected[Key(endpoint, question, state)] = plain(answer)
    return Plan(
        combos=tuple(combos),
        states=states,
        needs_state={endpoint: task.needs_state for endpoint, task in TASKS.items()},
        expected=expected,
    )


def load_plan(path: str | Path) -> Plan:
    """Load the dataset at `path` with the project's loader and build its plan."""
    return build_plan(load_dataset(path))


def done_body(data: Any) -> bytes:
    """The serialized get_results body of a finished job, as the service builds it."""
    return orjson.dumps({"status": JobStatus.DONE.value, "data": data})
