"""One Task class per analytics question: validated input in, a JSON-ready answer out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from app.data_ingestor import Dataset, QuestionIndex
from app.errors import InvalidInput
from app.questions import QUESTIONS, Best

#: How much of a client's bad value is echoed back in an error reason.
_ECHO_LIMIT = 80
#: Where each reason about a field sends the client.
_QUESTIONS_AT = "the valid ones are listed at GET /api/questions"
_STATES_AT = "the locations are listed at GET /api/states"


def _echo(value: object) -> str:
    """A client value, shortened for an error message."""
    text = repr(value)
    return text if len(text) <= _ECHO_LIMIT else text[: _ECHO_LIMIT - 3] + "..."


class Task:
    """A question about one BRFSS question (and maybe one state), answered from its index."""

    endpoint: ClassVar[str]
    needs_state: ClassVar[bool] = False

    def __init__(self, question: str, state: str | None = None) -> None:
        self.question = question
        self.state = state

    @property
    def key(self) -> tuple[str, str, str | None]:
        """Identifies the answer: equal keys always get equal answers from one dataset."""
        return (self.endpoint, self.question, self.state)

    def payload(self) -> dict[str, str]:
        """The request body this task answers: what the journal records, and a re-run reads."""
        if self.state is None:
            return {"question": self.question}
        return {"question": self.question, "state": self.state}

    @classmethod
    def from_payload(cls, payload: Any, dataset: Dataset) -> Task:
        """Check a request body against the dataset, raising InvalidInput naming the bad field."""
        if not isinstance(payload, Mapping):
            raise InvalidInput("request body must be a JSON object")
        question = payload.get("question")
        if question is None:
            raise InvalidInput(f"missing field 'question'; {_QUESTIONS_AT}")
        if not isinstance(question, str) or question not in QUESTIONS:
            raise InvalidInput(
                f"unknown question {_echo(question)} in field 'question'; {_QUESTIONS_AT}"
            )
        index = dataset.questions.get(question)
        if index is None:
            raise InvalidInput(
                f"field 'question': the loaded dataset has no data for it; {_QUESTIONS_AT}"
            )
        state = None
        if cls.needs_state:
            state = payload.get("state")
            if state is None:
                raise InvalidInput(f"missing field 'state'; {_STATES_AT}")
            if not isinstance(state, str):
                raise InvalidInput(f"field 'state' must be a string; {_STATES_AT}")
            if state not in index.state_means:
                raise InvalidInput(
                    f"field 'state': no data for {_echo(state)} on this question; {_STATES_AT}"
                )
        return cls(question, state)

    def compute(self, dataset: Dataset) -> Any:
        """The answer's `data`, computed from the question's index."""
        return self.answer(dataset.questions[self.question])

    def answer(self, index: QuestionIndex) -> Any:
        """The answer for this task's question index; each endpoint defines it."""
        raise NotImplementedError


class StatesMean(Task):
    """Every location's mean, ascending."""

    endpoint = "states_mean"

    def answer(self, index: QuestionIndex) -> dict[str, float]:
        return dict(index.state_means)


class StateMean(Task):
    """One location's mean."""

    endpoint = "state_mean"
    needs_state = True

    def answer(self, index: QuestionIndex) -> dict[str, float]:
        return {self.state: index.state_means[self.state]}


class _Ranking(Task):
    """Five locations from one end of the ranking."""

    best: ClassVar[bool]

    def answer(self, index: QuestionIndex) -> dict[str, float]:
        means = list(index.state_means.items())  # ascending by mean, ties by name
        lowest_first = (QUESTIONS[self.question] is Best.LOWEST) == self.best
        if not lowest_first:
            means.sort(key=lambda item: (-item[1], item[0]))
        return dict(means[:5])


class Best5(_Ranking):
    """The five best locations, best first."""

    endpoint = "best5"
    best = True


class Worst5(_Ranking):
    """The five worst locations, worst first."""

    endpoint = "worst5"
    best = False


class GlobalMean(Task):
    """The mean over every row of the question."""

    endpoint = "global_mean"

    def answer(self, index: QuestionIndex) -> dict[str, float]:
        return {"global_mean": index.global_mean}


class DiffFromMean(Task):
    """Global mean minus each location's mean, in states_mean order."""

    endpoint = "diff_from_mean"

    def answer(self, index: QuestionIndex) -> dict[str, float]:
        overall = index.global_mean
        return {location: overall - mean for location, mean in index.state_means.items()}


class StateDiffFromMean(Task):
    """Global mean minus one location's mean."""

    endpoint = "state_diff_from_mean"
    needs_state = True

    def answer(self, index: QuestionIndex) -> dict[str, float]:
        return {self.state: index.global_mean - index.state_means[self.state]}


class MeanByCategory(Task):
    """Every (location, category, stratum) mean, in sorted tuple order."""

    endpoint = "mean_by_category"

    def answer(self, index: QuestionIndex) -> dict[str, float]:
        return dict(index.category_means)


class StateMeanByCategory(Task):
    """One location's (category, stratum) means, in sorted tuple order."""

    endpoint = "state_mean_by_category"
    needs_state = True

    def answer(self, index: QuestionIndex) -> dict[str, dict[str, float]]:
        return {self.state: dict(index.state_category_means.get(self.state, ()))}


#: endpoint name -> Task class, in SPEC order.
TASKS: dict[str, type[Task]] = {
    task.endpoint: task
    for task in (
        StatesMean,
        StateMean,
        Best5,
        Worst5,
        GlobalMean,
        DiffFromMean,
        StateDiffFromMean,
        MeanByCategory,
        StateMeanByCategory,
    )
}
