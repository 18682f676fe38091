"""The fields of a job's request body, checked against the loaded dataset before a job exists.

Every problem is an InvalidInput whose reason names the field. A field sent as null counts as not
sent; fields an endpoint does not take are ignored, as they always were.
"""

from __future__ import annotations

from collections.abc import Container, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from app.analytics.rows import LAST_YEAR, QuestionRows
from app.analytics.selection import Selection, has_values
from app.data_ingestor import Dataset
from app.errors import InvalidInput
from app.questions import QUESTIONS

#: How much of a client's bad value is echoed back in an error reason.
_ECHO_LIMIT = 80
#: Where each reason about a field sends the client.
_QUESTIONS_AT = "the valid ones are listed at GET /api/questions"
_STATES_AT = "the locations are listed at GET /api/states"
_YEARS_SHAPE = "[from, to]: two whole numbers with from <= to (one year: [y, y])"
_STRATIFICATION_SHAPE = '{"category": "...", "stratum": "..."}, two strings'


def _echo(value: object) -> str:
    """A client value, shortened for an error message."""
    text = repr(value)
    return text if len(text) <= _ECHO_LIMIT else text[: _ECHO_LIMIT - 3] + "..."


def _listed(names: Any) -> str:
    return ", ".join(repr(name) for name in names)


@dataclass(frozen=True)
class Fields:
    """A request body's checked fields (None: not sent, or not taken by the endpoint)."""

    question: str
    state: str | None = None
    category: str | None = None
    years: tuple[int, int] | None = None
    stratification: tuple[str, str] | None = None


def _question(payload: Mapping[str, Any], dataset: Dataset) -> str:
    question = payload.get("question")
    if question is None:
        raise InvalidInput(f"missing field 'question'; {_QUESTIONS_AT}")
    if not isinstance(question, str) or question not in QUESTIONS:
        raise InvalidInput(
            f"unknown question {_echo(question)} in field 'question'; {_QUESTIONS_AT}"
        )
    if question not in dataset.questions:
        raise InvalidInput(
            f"field 'question': the loaded dataset has no data for it; {_QUESTIONS_AT}"
        )
    return question


def _state(payload: Mapping[str, Any], locations: Container[str]) -> str:
    state = payload.get("state")
    if state is None:
        raise InvalidInput(f"missing field 'state'; {_STATES_AT}")
    if not isinstance(state, str):
        raise InvalidInput(f"field 'state' must be a string; {_STATES_AT}")
    if state not in locations:
        raise InvalidInput(
            f"field 'state': no data for {_echo(state)} on this question; {_STATES_AT}"
        )
    return state


def _category(payload: Mapping[str, Any], rows: QuestionRows) -> str:
    category = payload.get("category")
    known = f"the categories of this question are {_listed(sorted(rows.strata))}"
    if category is None:
        raise InvalidInput(f"missing field 'category'; {known}")
    if not isinstance(category, str):
        raise InvalidInput(f"field 'category' must be a string; {known}")
    if category not in rows.strata:
        raise InvalidInput(f"field 'category': no rows for {_echo(category)}; {known}")
    return category


def _whole(value: object) -> bool:
    """A whole number, written as JSON Schema's integers may be: 2011, or 2011.0."""
    if isinstance(value, float):
        return value.is_integer()
    return isinstance(value, int) and not isinstance(value, bool)


def _years(payload: Mapping[str, Any], rows: QuestionRows) -> tuple[int, int] | None:
    years = payload.get("years")
    if years is None:
        return None
    if not (isinstance(years, list) and len(years) == 2 and all(map(_whole, years))):
        raise InvalidInput(f"field 'years' must be {_YEARS_SHAPE}, got {_echo(years)}")
    first, last = int(years[0]), int(years[1])
    if not (1 <= first <= LAST_YEAR and 1 <= last <= LAST_YEAR):
        raise InvalidInput(f"field 'years': years run from 1 to {LAST_YEAR}, got {_echo(years)}")
    if first > last:
        raise InvalidInput(f"field 'years': from {first} is after to {last}")
    if not any(first <= year <= last for year in rows.years):
        raise InvalidInput(
            f"field 'years': no rows for this question in {first}-{last}; "
            f"its years are {', '.join(map(str, rows.years))}"
        )
    return first, last


def _stratification(payload: Mapping[str, Any], rows: QuestionRows) -> tuple[str, str] | None:
    group = payload.get("stratification")
    if group is None:
        return None
    if not (
        isinstance(group, Mapping)
        and set(group) == {"category", "stratum"}
        and all(isinstance(group[key], str) for key in group)
    ):
        raise InvalidInput(
            f"field 'stratification' must be {_STRATIFICATION_SHAPE}, got {_echo(group)}"
        )
    category, stratum = group["category"], group["stratum"]
    if category not in rows.strata:
        raise InvalidInput(
            f"field 'stratification': no rows for category {_echo(category)} on this question; "
            f"its categories are {_listed(sorted(rows.strata))}"
        )
    if stratum not in rows.strata[category]:
        raise InvalidInput(
            f"field 'stratification': no rows for stratum {_echo(stratum)} of {category!r} on "
            f"this question; its strata are {_listed(rows.strata[category])}"
        )
    return category, stratum


def describe(selection: Selection) -> str:
    """The selection in words, for a reason."""
    parts = []
    if selection.years is not None:
        parts.append(f"years {selection.years[0]}-{selection.years[1]}")
    if selection.stratification is not None:
        parts.append("stratification {} / {}".format(*selection.stratification))
    return " and ".join(parts)


class Rules(Protocol):
    """Which fields an endpoint takes (its Task class)."""

    endpoint: str
    needs_state: bool
    needs_category: bool
    takes_stratification: bool
    #: Whether the state must have a row with a value, or only some row of the question (a
    #: statistic that reports what its rows lack, such as a state whose every value was
    #: suppressed).
    state_needs_values: bool


def parse(payload: Any, dataset: Dataset, rules: Rules) -> Fields:
    """The checked fields of a request body, in the order a client reads them."""
    if not isinstance(payload, Mapping):
        raise InvalidInput("request body must be a JSON object")
    question = _question(payload, dataset)
    rows = dataset.rows.questions[question]
    state = None
    if rules.needs_state:
        values = dataset.questions[question].state_means
        state = _state(payload, values if rules.state_needs_values else rows.locations)
    category = _category(payload, rows) if rules.needs_category else None
    years = _years(payload, rows)
    if not rules.takes_stratification and payload.get("stratification") is not None:
        raise InvalidInput(
            f"field 'stratification' does not apply to {rules.endpoint}, which compares every "
            "stratum of the field 'category'"
        )
    stratification = _stratification(payload, rows)
    return Fields(question, state, category, years, stratification)


def check_selected(dataset: Dataset, fields: Fields) -> None:
    """For an arithmetic mean (the nine of SPEC §3): some row with a value is selected."""
    if fields.years is None and fields.stratification is None:
        return  # every row: the question's index has them
    selection = Selection(fields.years, fields.stratification)
    if has_values(dataset.rows, fields.question, selection, fields.state):
        return
    if fields.state is not None:
        raise InvalidInput(
            f"field 'state': no data for {_echo(fields.state)} on this question with "
            f"{describe(selection)}; {_STATES_AT}"
        )
    named = [name for name in ("years", "stratification") if getattr(fields, name) is not None]
    raise InvalidInput(
        f"{'fields' if len(named) > 1 else 'field'} {' and '.join(map(repr, named))}: no row "
        f"with a value for this question with {describe(selection)}"
    )
