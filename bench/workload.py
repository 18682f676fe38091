"""The request mix and its expected answers, computed in-process with the project's own code."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import orjson

from app.data_ingestor import load_dataset
from app.task import COURSE_TASKS


class Key(NamedTuple):
    """One distinct question a client can ask: equal keys always get equal answers."""

    endpoint: str
    question: str
    state: str | None


@dataclass(frozen=True)
class Plan:
    """What the clients may ask and what the answers must be."""

    #: (endpoint, question): all nine endpoints x nine questions.
    combos: tuple[tuple[str, str], ...]
    #: question -> the locations with data for it (what the state endpoints may ask about).
    states: dict[str, tuple[str, ...]]
    #: endpoint -> whether its body carries a state.
    needs_state: dict[str, bool]
    #: Key -> the expected `data` of the finished job, as orjson writes it.
    expected: dict[Key, bytes]
    #: Rows of the dataset the answers come from.
    rows: int


def done_body(data: bytes) -> bytes:
    """The get_results body of a finished job, as the service writes it."""
    return b'{"status":"done","data":' + data + b"}"


def build_plan(path: Path) -> Plan:
    """Every request the mix can send to a server of the dataset at `path`, and its answer."""
    dataset = load_dataset(path)
    combos: list[tuple[str, str]] = []
    expected: dict[Key, bytes] = {}
    states = {q: tuple(index.state_means) for q, index in dataset.questions.items()}
    for endpoint, task_class in COURSE_TASKS.items():
        for question in dataset.questions:
            combos.append((endpoint, question))
            for state in states[question] if task_class.needs_state else (None,):
                answer = task_class(question, state).compute(dataset)
                expected[Key(endpoint, question, state)] = orjson.dumps(answer)
    return Plan(
        combos=tuple(combos),
        states=states,
        needs_state={endpoint: task.needs_state for endpoint, task in COURSE_TASKS.items()},
        expected=expected,
        rows=dataset.rows_read,
    )
