"""One Task class per analytics question: validated input in, a JSON-ready answer out.

The nine of SPEC §3 answer from their question's precomputed means; given `years` or
`stratification` they take the means over those rows only (app.analytics.means). The three of
SPEC §13 and §15 answer from the row arrays (app.analytics).
"""

from __future__ import annotations

from typing import Any, ClassVar

from app import request_fields
from app.analytics.disparities import disparities
from app.analytics.means import selected_index
from app.analytics.national import compare_to_national
from app.analytics.rankings import rankings
from app.analytics.selection import EVERYTHING, Selection
from app.analytics.trend import state_trend
from app.data_ingestor import Dataset, QuestionIndex
from app.questions import QUESTIONS, Best


class Task:
    """A question about one BRFSS question (and maybe one state), answered from the dataset."""

    endpoint: ClassVar[str]
    needs_state: ClassVar[bool] = False
    needs_category: ClassVar[bool] = False
    takes_stratification: ClassVar[bool] = True
    #: Whether the state must have a row with a value (else any row of the question will do).
    state_needs_values: ClassVar[bool] = True  # the fields' rules: app.request_fields.Rules

    def __init__(
        self,
        question: str,
        state: str | None = None,
        *,
        category: str | None = None,
        years: tuple[int, int] | None = None,
        stratification: tuple[str, str] | None = None,
    ) -> None:
        self.question = question
        self.state = state
        self.category = category
        # Most bodies select nothing: they share one Selection (a dataclass costs a µs to make).
        everything = years is None and stratification is None
        self.selection = EVERYTHING if everything else Selection(years, stratification)

    @property
    def key(self) -> tuple[Any, ...]:
        """Identifies the answer: equal keys always get equal answers from one dataset."""
        selection = self.selection
        return (
            self.endpoint,
            self.question,
            self.state,
            self.category,
            selection.years,
            selection.stratification,
        )

    def payload(self) -> dict[str, Any]:
        """The request body this task answers: what the journal records, and a re-run reads.

        Optional fields appear only when given, so a body without them is recorded as before.
        """
        body: dict[str, Any] = {"question": self.question}
        if self.state is not None:
            body["state"] = self.state
        if self.category is not None:
            body["category"] = self.category
        years, group = self.selection.years, self.selection.stratification
        if years is not None:
            body["years"] = list(years)
        if group is not None:
            body["stratification"] = {"category": group[0], "stratum": group[1]}
        return body

    @classmethod
    def from_payload(cls, payload: Any, dataset: Dataset) -> Task:
        """Check a request body against the dataset, raising InvalidInput naming the bad field."""
        fields = request_fields.parse(payload, dataset, cls)
        cls.check(fields, dataset)
        return cls(
            fields.question,
            fields.state,
            category=fields.category,
            years=fields.years,
            stratification=fields.stratification,
        )

    @classmethod
    def check(cls, fields: request_fields.Fields, dataset: Dataset) -> None:
        """Checks of the fields together that an endpoint needs beyond each field's own."""

    def compute(self, dataset: Dataset) -> Any:
        """The answer's `data`."""
        raise NotImplementedError


class _Means(Task):
    """One of the nine of SPEC §3: arithmetic means of Data_Value."""

    @classmethod
    def check(cls, fields: request_fields.Fields, dataset: Dataset) -> None:
        request_fields.check_selected(dataset, fields)  # a mean needs at least one row

    def compute(self, dataset: Dataset) -> Any:
        """The answer from the question's index, made over the selected rows if any are left out."""
        if self.selection.everything:
            return self.answer(dataset.questions[self.question])
        return self.answer(selected_index(dataset.rows, self.question, self.selection))

    def answer(self, index: QuestionIndex) -> Any:
        """The answer for this task's question index; each endpoint defines it."""
        raise NotImplementedError


class StatesMean(_Means):
    """Every location's mean, ascending."""

    endpoint = "states_mean"

    def answer(self, index: QuestionIndex) -> dict[str, float]:
        return dict(index.state_means)


class StateMean(_Means):
    """One location's mean."""

    endpoint = "state_mean"
    needs_state = True

    def answer(self, index: QuestionIndex) -> dict[str, float]:
        return {self.state: index.state_means[self.state]}


class _Ranking(_Means):
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


class GlobalMean(_Means):
    """The mean over every row of the question."""

    endpoint = "global_mean"

    def answer(self, index: QuestionIndex) -> dict[str, float]:
        return {"global_mean": index.global_mean}


class DiffFromMean(_Means):
    """Global mean minus each location's mean, in states_mean order."""

    endpoint = "diff_from_mean"

    def answer(self, index: QuestionIndex) -> dict[str, float]:
        overall = index.global_mean
        return {location: overall - mean for location, mean in index.state_means.items()}


class StateDiffFromMean(_Means):
    """Global mean minus one location's mean."""

    endpoint = "state_diff_from_mean"
    needs_state = True

    def answer(self, index: QuestionIndex) -> dict[str, float]:
        return {self.state: index.global_mean - index.state_means[self.state]}


class MeanByCategory(_Means):
    """Every (location, category, stratum) mean, in sorted tuple order."""

    endpoint = "mean_by_category"

    def answer(self, index: QuestionIndex) -> dict[str, float]:
        return dict(index.category_means)


class StateMeanByCategory(_Means):
    """One location's (category, stratum) means, in sorted tuple order."""

    endpoint = "state_mean_by_category"
    needs_state = True

    def answer(self, index: QuestionIndex) -> dict[str, dict[str, float]]:
        return {self.state: dict(index.state_category_means.get(self.state, ()))}


class StateTrend(Task):
    """One state's pooled value per year and its weighted trend (SPEC §13)."""

    endpoint = "state_trend"
    needs_state = True
    state_needs_values = False  # a state whose every row was suppressed is answered, saying so

    def compute(self, dataset: Dataset) -> Any:
        return state_trend(dataset.rows, dataset.sha256, self.question, self.state, self.selection)


class CompareToNational(Task):
    """Every location's pooled value against the nation's, Holm-adjusted (SPEC §13)."""

    endpoint = "compare_to_national"

    def compute(self, dataset: Dataset) -> Any:
        return compare_to_national(dataset.rows, dataset.sha256, self.question, self.selection)


class Disparities(Task):
    """Every stratum of a category in one state against the best one (SPEC §13)."""

    endpoint = "disparities"
    needs_state = True
    needs_category = True
    takes_stratification = False  # it compares the strata of `category`
    state_needs_values = False

    def compute(self, dataset: Dataset) -> Any:
        return disparities(
            dataset.rows,
            dataset.sha256,
            self.question,
            self.state,
            self.category,
            self.selection,
        )


class Rankings(Task):
    """Every location ranked, with Monte Carlo rank intervals (SPEC §15.3)."""

    endpoint = "rankings"

    def compute(self, dataset: Dataset) -> Any:
        return rankings(dataset.rows, dataset.sha256, self.question, self.selection)


#: The nine endpoints of SPEC §3 (the course's), in SPEC order.
COURSE_TASKS: dict[str, type[Task]] = {
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

#: The statistics of SPEC §13 and §15, in SPEC order.
ANALYTICS_TASKS: dict[str, type[Task]] = {
    task.endpoint: task for task in (StateTrend, CompareToNational, Disparities, Rankings)
}

#: endpoint name -> Task class: every job the service runs.
TASKS: dict[str, type[Task]] = {**COURSE_TASKS, **ANALYTICS_TASKS}
