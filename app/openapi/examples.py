"""Example request bodies for the OpenAPI document, made from the loaded dataset so that the
interactive docs' "Try it out" sends a body the running server accepts, whatever data it loaded:
a question it has, a state with a value for it, the question's own years and `Total` / `Total`."""

from __future__ import annotations

from typing import Any

from app.analytics.selection import Selection, has_values
from app.data_ingestor import Dataset
from app.questions import DEFAULT_STRATIFICATION, NATIONAL, QUESTIONS, STRATA
from app.task import TASKS

#: The question the examples ask when the data has it, as the README's examples do.
PREFERRED_QUESTION = "Percent of adults aged 18 years and older who have obesity"
#: The state the examples name when the data has a Total / Total value for it, as the README does.
PREFERRED_STATE = "Ohio"
#: The category the disparities example compares, when the question has it in that state.
PREFERRED_CATEGORY = "Income"


def _state(dataset: Dataset, question: str, selection: Selection) -> str | None:
    """A location other than the nation with a value in the selection (the preferred one if it
    has one, else the first by name)."""
    places = [place for place in dataset.questions[question].state_means if place != NATIONAL]
    usable = sorted(p for p in places if has_values(dataset.rows, question, selection, p))
    if PREFERRED_STATE in usable:
        return PREFERRED_STATE
    return usable[0] if usable else None


def _category(dataset: Dataset, question: str, state: str) -> str:
    """A category of the question with rows for the state: the preferred one if it has rows,
    else the first in the BRFSS's order."""
    categories = [c for c in STRATA if dataset.rows.category_cells(question, state, c)]
    categories += sorted(set(dataset.rows.questions[question].strata) - set(categories))
    if PREFERRED_CATEGORY in categories:
        return PREFERRED_CATEGORY
    return categories[0]


def request_examples(dataset: Dataset) -> dict[str, dict[str, Any]]:
    """endpoint -> a body the loaded dataset answers (no endpoint when nothing can be asked)."""
    present = [q for q in QUESTIONS if q in dataset.questions]
    if not present:
        return {}
    question = PREFERRED_QUESTION if PREFERRED_QUESTION in present else present[0]
    rows = dataset.rows.questions[question]
    body: dict[str, Any] = {"question": question}
    category, stratum = DEFAULT_STRATIFICATION
    if rows.years:
        body["years"] = [rows.years[0], rows.years[-1]]
    if stratum in rows.strata.get(category, ()):
        body["stratification"] = {"category": category, "stratum": stratum}
    selection = Selection(
        tuple(body["years"]) if "years" in body else None,
        DEFAULT_STRATIFICATION if "stratification" in body else None,
    )
    state = _state(dataset, question, selection)
    examples = {}
    for endpoint, task in TASKS.items():
        if task.needs_state and state is None:
            continue
        example: dict[str, Any] = {"question": question}
        if task.needs_state:
            example["state"] = state
        if task.needs_category:
            example["category"] = _category(dataset, question, state)  # type: ignore[arg-type]
        example |= {key: value for key, value in body.items() if key != "question"}
        if not task.takes_stratification:
            example.pop("stratification", None)
        examples[endpoint] = example
    return examples
