"""The service against the independent reference: every endpoint, question and location.

The service is each engine in turn: the embedded one, and Celery's on a real Redis with a worker
(see `make_engine_app` in conftest).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.task import COURSE_TASKS
from unittests.conftest import BUNDLED_CSV, MUSCLE, OBESITY, ask
from unittests.support.reference import (
    ENDPOINTS,
    HIGHEST,
    LOWEST,
    QUESTIONS,
    STATE_ENDPOINTS,
    Reference,
    compare,
)

QUESTION_IDS = [f"q{n}-{best}" for n, best in enumerate(QUESTIONS.values(), start=1)]


@pytest.fixture
def bundled_client(make_engine_app: Callable[..., Flask]) -> FlaskClient:
    """A client of an app on the bundled dataset, on each engine in turn."""
    return make_engine_app(DATA_FILE=str(BUNDLED_CSV)).test_client()


@pytest.mark.parametrize("question", list(QUESTIONS), ids=QUESTION_IDS)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_every_answer_matches_the_reference(
    bundled_client: FlaskClient, reference: Reference, endpoint: str, question: str
) -> None:
    """Each endpoint answers as the reference does, for every location it takes."""
    states = reference.locations(question) if endpoint in STATE_ENDPOINTS else [None]
    for state in states:
        compare(
            ask(bundled_client, endpoint, question, state),
            reference.answer(endpoint, question, state),
            where=f"{endpoint}({state or ''})",
        )


def _selections(reference: Reference, question: str) -> list[dict[str, object]]:
    """A year range over the middle of the question's years, then that range in one stratum."""
    years = reference.years(question)
    span = [years[len(years) // 4], years[(3 * len(years)) // 4]]
    strata = reference.strata(question)
    category, stratum = ("Gender", "Female") if ("Gender", "Female") in strata else strata[0]
    group = {"category": category, "stratum": stratum}
    return [{"years": span}, {"stratification": group}, {"years": span, "stratification": group}]


@pytest.mark.parametrize("question", list(QUESTIONS), ids=QUESTION_IDS)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_answers_over_a_selection_match_the_reference(
    bundled_client: FlaskClient, reference: Reference, endpoint: str, question: str
) -> None:
    """With years or a stratification, each endpoint's means are the reference's over those rows
    only; a selection that leaves a state (or the question) no row is refused naming the field."""
    locations = reference.locations(question)
    states = locations[:: len(locations) // 3] if endpoint in STATE_ENDPOINTS else [None]
    for selection in _selections(reference, question):
        years, group = selection.get("years"), selection.get("stratification")
        for state in states:
            where = f"{endpoint}({state or ''}, {selection})"
            try:
                expected = reference.answer(
                    endpoint,
                    question,
                    state,
                    years=tuple(years) if years else None,  # type: ignore[arg-type]
                    stratification=(group["category"], group["stratum"]) if group else None,  # type: ignore[index]
                )
            except KeyError:
                body = {"question": question, **selection, **({"state": state} if state else {})}
                response = bundled_client.post(f"/api/{endpoint}", json=body)
                assert response.status_code == 400, where
                assert "field" in response.get_json()["reason"], where
                continue
            compare(
                ask(bundled_client, endpoint, question, state, **selection), expected, where=where
            )


def test_bundled_dataset_has_all_nine_questions_and_55_locations(reference: Reference) -> None:
    """The differential run covers the whole dataset, not an empty corner of it."""
    for question in QUESTIONS:
        assert len(reference.locations(question)) == 55, question


def test_questions_endpoint_reports_the_same_directions(bundled_client: FlaskClient) -> None:
    """GET /api/questions lists the nine questions with the reference's directions."""
    listed = bundled_client.get("/api/questions").get_json()["questions"]
    assert {item["question"]: item["best_is"] for item in listed} == QUESTIONS


def _values(data: dict[str, float]) -> list[float]:
    return list(data.values())


def test_ranking_direction_differs_between_lowest_and_highest_is_best(
    bundled_client: FlaskClient,
) -> None:
    """best5 is the low end for a lowest-is-best question and the high end for the other kind."""
    assert QUESTIONS[OBESITY] == LOWEST and QUESTIONS[MUSCLE] == HIGHEST
    for question, best_end_is_low in ((OBESITY, True), (MUSCLE, False)):
        ascending = ask(bundled_client, "states_mean", question)
        low, high = list(ascending)[:5], list(ascending)[::-1][:5]
        best = ask(bundled_client, "best5", question)
        worst = ask(bundled_client, "worst5", question)
        assert list(best) == (low if best_end_is_low else high), question
        assert list(worst) == (high if best_end_is_low else low), question
        rising = _values(best) == sorted(_values(best))
        assert rising is best_end_is_low, f"best5 of {question!r} runs the wrong way: {best}"
        assert set(best).isdisjoint(worst)
    assert list(ask(bundled_client, "best5", OBESITY)) != list(ask(bundled_client, "best5", MUSCLE))


# -- an edge-case file: skipped values, unstratified rows, ties, quoted commas ---------------------

_EDGE_ROWS: list[tuple[str, str, str, str, str]] = [
    # location, question, Data_Value, category, stratum
    ("Alabama", OBESITY, "20.0", "Total", "Total"),
    ("Alabama", OBESITY, "30", "Gender", "Male"),
    ("Alaska", OBESITY, "25", "Total", "Total"),  # ties with Alabama at 25
    ("Arizona", OBESITY, "10", "Age (years)", "18 - 24"),
    ("Arizona", OBESITY, "abc", "Age (years)", "25 - 34"),
    ("Arizona", OBESITY, "", "Total", "Total"),
    ("Arkansas", OBESITY, "40", "", ""),  # counts, but not by category
    ("Arkansas", OBESITY, "50", "Income", "$75,000 or greater"),
    ("California", OBESITY, "inf", "Total", "Total"),
    ("California", OBESITY, "-Infinity", "Total", "Total"),
    ("California", OBESITY, "nan", "Total", "Total"),
    ("California", OBESITY, "1e999", "Total", "Total"),
    ("California", OBESITY, "35", "Education", "College graduate"),
    ("Colorado", OBESITY, "+5", "Total", "Total"),
    ("Connecticut", OBESITY, "60", "Race/Ethnicity", "Hispanic"),
    ("Delaware", OBESITY, "NA", "Total", "Total"),  # no counted row: not a location here
    ("Guam", OBESITY, "15", "Gender", ""),  # a category without a stratum
    ("Alabama", MUSCLE, "50", "Total", "Total"),
    ("Alaska", MUSCLE, "50", "Total", "Total"),
    ("Arizona", MUSCLE, "70", "Total", "Total"),
    ("Arkansas", MUSCLE, "10", "Total", "Total"),
    ("California", MUSCLE, "30", "Total", "Total"),
    ("Colorado", MUSCLE, "60", "Total", "Total"),
    ("Connecticut", MUSCLE, "20", "Gender", "Female"),
    ("Alabama", "Some question the service does not answer", "99", "Total", "Total"),
]


@pytest.fixture(scope="module")
def edge_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The edge-case rows in the bundled file's full 34-column schema."""
    with BUNDLED_CSV.open(newline="", encoding="utf-8") as file:
        header = next(csv.reader(file))
    path = tmp_path_factory.mktemp("edge") / "edge.csv"
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=header)
        writer.writeheader()
        for n, (location, question, value, category, stratum) in enumerate(_EDGE_ROWS):
            writer.writerow(
                {
                    "": n,
                    "LocationDesc": location,
                    "Question": question,
                    "Data_Value": value,
                    "StratificationCategory1": category,
                    "Stratification1": stratum,
                }
            )
    return path


def test_reference_on_the_edge_file_matches_hand_computed_answers(edge_csv: Path) -> None:
    """The reference itself is checked by hand before it judges the service."""
    ref = Reference(edge_csv)
    assert list(ref.answer("states_mean", OBESITY).items()) == [
        ("Colorado", 5.0),
        ("Arizona", 10.0),
        ("Guam", 15.0),
        ("Alabama", 25.0),
        ("Alaska", 25.0),
        ("California", 35.0),
        ("Arkansas", 45.0),
        ("Connecticut", 60.0),
    ]
    assert "Delaware" not in ref.locations(OBESITY)
    assert ref.answer("global_mean", OBESITY) == {"global_mean": 29.0}
    assert list(ref.answer("best5", MUSCLE)) == [
        "Arizona",
        "Colorado",
        "Alabama",
        "Alaska",
        "California",
    ]
    assert list(ref.answer("worst5", MUSCLE)) == [
        "Arkansas",
        "Connecticut",
        "California",
        "Alabama",
        "Alaska",
    ]
    assert list(ref.answer("worst5", OBESITY)) == [
        "Connecticut",
        "Arkansas",
        "California",
        "Alabama",
        "Alaska",
    ]
    assert ref.answer("state_mean_by_category", OBESITY, "Arkansas") == {
        "Arkansas": {"('Income', '$75,000 or greater')": 50.0}
    }
    assert ref.answer("state_mean_by_category", OBESITY, "Guam") == {"Guam": {}}
    assert list(ref.answer("mean_by_category", OBESITY))[:2] == [
        "('Alabama', 'Gender', 'Male')",
        "('Alabama', 'Total', 'Total')",
    ]
    assert ref.answer("diff_from_mean", OBESITY)["Colorado"] == 24.0
    assert ref.rows_skipped == 7


@pytest.mark.parametrize("question", [OBESITY, MUSCLE], ids=["lowest", "highest"])
def test_service_matches_the_reference_on_the_edge_file(
    make_engine_app: Callable[..., Flask], edge_csv: Path, question: str
) -> None:
    """Skipped values, unstratified rows, ties and quoted commas are handled as the spec says."""
    client = make_engine_app(DATA_FILE=str(edge_csv)).test_client()
    ref = Reference(edge_csv)
    for endpoint in ENDPOINTS:
        states = ref.locations(question) if endpoint in STATE_ENDPOINTS else [None]
        for state in states:
            compare(
                ask(client, endpoint, question, state),
                ref.answer(endpoint, question, state),
                where=f"{endpoint}({state or ''})",
            )
    response = client.post("/api/state_mean", json={"question": question, "state": "Delaware"})
    assert response.status_code == 400, response.get_json()  # Delaware has no counted row
    assert "state" in response.get_json()["reason"]


@pytest.mark.parametrize(
    ("actual", "expected", "message"),
    [
        ({"b": 1.0, "a": 2.0}, {"a": 2.0, "b": 1.0}, "first difference at #0"),
        ({"a": 1.0}, {"a": 1.0, "b": 2.0}, "missing ['b']"),
        ({"a": 1.0 + 1e-6}, {"a": 1.0}, "data['a']"),
        ({"a": 1}, {"a": 1.0}, "expected a float"),
        ({"a": {"x": 1.0}}, {"a": {"y": 1.0}}, "data['a']: keys differ"),
        ([1.0], {"a": 1.0}, "expected dict"),
    ],
)
def test_compare_reports_what_differs(actual: object, expected: object, message: str) -> None:
    """compare() itself catches key order, missing keys, far floats, types, nested dicts."""
    with pytest.raises(AssertionError, match=re.escape(message)):
        compare(actual, expected)
    compare(expected, expected)


def test_compare_allows_summation_order_noise() -> None:
    """Floats a few ulps apart, as another summation order gives, are equal."""
    compare({"a": 0.1 + 0.2, "b": 1e-15}, {"a": 0.3, "b": 0.0})


def test_the_references_endpoints_are_the_servers_course_endpoints() -> None:
    """The reference keeps its own list (it imports nothing of the server): held to it here."""
    assert tuple(COURSE_TASKS) == ENDPOINTS
    assert {e for e, task in COURSE_TASKS.items() if task.needs_state} == set(STATE_ENDPOINTS)
