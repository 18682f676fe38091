"""What a client asks (`Question`) and what it gets back for it (`Answer`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lss_client.errors import LssError

#: The API's job endpoints, in the server's order: a copy of its app.task.TASKS (this package
#: cannot import the server), which unittests/test_client_endpoints.py holds to it.
ENDPOINTS: tuple[str, ...] = (
    "states_mean",
    "state_mean",
    "best5",
    "worst5",
    "global_mean",
    "diff_from_mean",
    "state_diff_from_mean",
    "mean_by_category",
    "state_mean_by_category",
)

#: The endpoints whose body also names a state.
STATE_ENDPOINTS: frozenset[str] = frozenset(
    {"state_mean", "state_diff_from_mean", "state_mean_by_category"}
)


@dataclass(frozen=True)
class Question:
    """One job to submit: an endpoint, the question's exact text, and a state if it takes one."""

    endpoint: str
    question: str
    state: str | None = None

    @classmethod
    def from_mapping(cls, fields: Mapping[str, Any]) -> Question:
        """Build from `{"endpoint", "question", "state"?}`; ValueError names a bad field."""
        for name in ("endpoint", "question"):
            if not isinstance(fields.get(name), str):
                raise ValueError(f"field {name!r} must be a string")
        state = fields.get("state")
        if state is not None and not isinstance(state, str):
            raise ValueError("field 'state' must be a string when present")
        return cls(fields["endpoint"], fields["question"], state)

    def body(self) -> dict[str, str]:
        """The JSON body of the POST that submits it."""
        if self.state is None:
            return {"question": self.question}
        return {"question": self.question, "state": self.state}


@dataclass(frozen=True)
class Answer:
    """The outcome of one Question in a bulk call: its `data`, or the `error` that stopped it."""

    question: Question
    job_id: str | None
    data: Any = None
    error: LssError | None = None

    @property
    def status(self) -> str:
        """`done` or `error`, as the API names a finished job's status."""
        return "done" if self.error is None else "error"

    @property
    def reason(self) -> str | None:
        """The error's one-line reason, or None when done."""
        return None if self.error is None else self.error.reason

    def result(self) -> Any:
        """The answer's data, or raise the error that stopped it."""
        if self.error is not None:
            raise self.error
        return self.data
