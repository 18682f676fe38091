"""The engines' answers: each distinct task computed once, and memory bounded whatever is asked."""

from __future__ import annotations

from app.engine.answers import Answers
from app.task import TASKS
from unittests.conftest import OBESITY


def test_an_answer_is_computed_once_and_the_oldest_let_go_past_the_limit(small_dataset):
    answers = Answers(small_dataset, limit=2)
    calls = []
    task_type = TASKS["global_mean"]

    class Counted(task_type):  # type: ignore[misc, valid-type]
        def compute(self, dataset):
            calls.append(self.key)
            return super().compute(dataset)

    first = Counted(OBESITY)
    body = answers.body(first)
    assert answers.body(Counted(OBESITY)) is body
    assert len(calls) == 1
    for years in ((2015, 2015), (2011, 2015)):
        answers.body(Counted(OBESITY, years=years))
    assert len(answers) == 2  # the unfiltered one went first
    answers.body(Counted(OBESITY))
    assert len(calls) == 4


def test_answers_are_let_go_past_their_bytes(small_dataset):
    one = len(Answers(small_dataset).body(TASKS["states_mean"](OBESITY)))
    answers = Answers(small_dataset, limit_bytes=2 * one)
    for years in ((2015, 2015), (2011, 2015), (2011, 2018)):
        answers.body(TASKS["states_mean"](OBESITY, years=years))
    assert len(answers) <= 2
