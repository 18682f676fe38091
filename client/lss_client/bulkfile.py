"""The JSON-lines files of `lss bulk`: questions read in, answers written out in input order."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from lss_client.job import Answer, Question


class BadLine(ValueError):
    """A line of the input file that is not a question; the message names the file and line."""


@dataclass(frozen=True)
class Line:
    """One question of the input: the object as written, its line number, and the Question."""

    number: int
    fields: dict[str, Any]
    question: Question


def read_lines(lines: Iterable[str], name: str) -> list[Line]:
    """Parse each non-blank line as `{"endpoint", "question", "state"?}`; BadLine if one is not."""
    parsed = []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            fields = json.loads(text)
        except ValueError as exc:
            raise BadLine(f"{name}:{number}: not JSON ({exc})") from None
        if not isinstance(fields, dict):
            raise BadLine(f"{name}:{number}: expected a JSON object")
        try:
            question = Question.from_mapping(fields)
        except ValueError as exc:
            raise BadLine(f"{name}:{number}: {exc}") from None
        parsed.append(Line(number, fields, question))
    return parsed


def record(line: Line, answer: Answer) -> dict[str, Any]:
    """The output object of one line: the input's fields plus job_id, status and data or reason."""
    out = {**line.fields, "job_id": answer.job_id, "status": answer.status}
    if answer.error is None:
        out["data"] = answer.data
    else:
        out["reason"] = answer.reason
    return out


class OrderedWriter:
    """Writes answers as JSON lines in input order, as soon as all earlier ones are written."""

    def __init__(self, lines: list[Line], write: Callable[[str], object]) -> None:
        self._lines = lines
        self._write = write
        self._waiting: dict[int, Answer] = {}
        self._next = 0
        self.failed = 0

    def add(self, index: int, answer: Answer) -> None:
        """Take the answer of line `index` (0-based); write it and any it was holding back."""
        self._waiting[index] = answer
        self.failed += answer.error is not None
        while self._next in self._waiting:
            done = self._waiting.pop(self._next)
            self._write(json.dumps(record(self._lines[self._next], done)) + "\n")
            self._next += 1

    @property
    def written(self) -> int:
        """How many lines are written so far."""
        return self._next
