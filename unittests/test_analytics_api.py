"""The statistics of SPEC §13 through the real HTTP API, on both engines (the embedded one, and
Celery's on a real Redis with a worker): every new endpoint, every location and category of the
hand-made fixture, against the independent implementation, as JSON a strict parser accepts."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from unittests.conftest import MUSCLE, OBESITY
from unittests.support.rankings_reference import (
    RankingsReference,
    brute_force_counts,
    rank_fields,
)
from unittests.support.reference import QUESTIONS, compare
from unittests.test_analytics_fixture import ANALYTICS_CSV


def _reject(token: str) -> None:
    raise ValueError(f"not JSON: {token}")


@pytest.fixture
def client(make_engine_app: Callable[..., Flask]) -> FlaskClient:
    return make_engine_app(DATA_FILE=str(ANALYTICS_CSV)).test_client()


@pytest.fixture(scope="module")
def expected() -> RankingsReference:
    return RankingsReference(ANALYTICS_CSV)


def result(client: FlaskClient, endpoint: str, body: dict[str, Any]) -> Any:
    """The finished job's `data` for `body`, parsed strictly (no NaN or Infinity), minus method."""
    response = client.post(f"/api/{endpoint}", json=body)
    assert response.status_code == 200, response.get_json()
    job_id = response.get_json()["job_id"]
    deadline = time.monotonic() + 10
    while True:
        raw = client.get(f"/api/get_results/{job_id}").get_data(as_text=True)
        if raw != '{"status":"running"}' or time.monotonic() > deadline:
            break
        time.sleep(0.005)
    answer = json.loads(raw, parse_constant=_reject)
    assert answer["status"] == "done", answer
    assert answer["data"].pop("method")
    return answer["data"]


@pytest.mark.parametrize("question", [OBESITY, MUSCLE], ids=["lowest", "highest"])
def test_every_new_answer_matches_the_reference(client, expected, question):
    years = (2011, 2012)
    compare(
        result(client, "compare_to_national", {"question": question}),
        expected.compare_to_national(question),
    )
    compare(
        result(client, "compare_to_national", {"question": question, "years": list(years)}),
        expected.compare_to_national(question, years=years),
    )
    for state in expected.locations(question):
        body = {"question": question, "state": state}
        compare(result(client, "state_trend", body), expected.state_trend(question, state))
        for category in expected.categories(question, state):
            compare(
                result(client, "disparities", {**body, "category": category}),
                expected.disparities(question, state, category),
                where=f"disparities({state}, {category})",
            )


def test_answers_with_nulls_travel_as_json_null(client):
    data = result(client, "compare_to_national", {"question": MUSCLE})
    assert data["national"]["value"] is None
    assert data["national"]["reason"] == "the dataset has no National rows for this question"
    group = {"category": "Gender", "stratum": "Male"}
    data = result(
        client, "state_trend", {"question": OBESITY, "state": "Ohio", "stratification": group}
    )
    assert data["slope"] is None and data["series"] == []


def test_a_selection_is_part_of_the_answer_asked_for(client):
    """Equal requests share an answer; one with other years gets its own."""
    body = {"question": OBESITY, "state": "Ohio"}
    assert result(client, "state_trend", body) == result(client, "state_trend", body)
    narrowed = result(client, "state_trend", {**body, "years": [2011, 2012]})
    assert [point["year"] for point in narrowed["series"]] == [2011, 2012]
    assert narrowed["slope"] is None


@pytest.mark.parametrize("question", [OBESITY, MUSCLE], ids=["lowest", "highest"])
def test_rankings_are_the_reference_and_the_brute_force_on_both_engines(client, expected, question):
    for years in (None, (2011, 2012)):
        body = {"question": question} | ({"years": list(years)} if years else {})
        data = result(client, "rankings", body)
        drawn = {}
        for entry in data["locations"]:
            drawn[entry["location"]] = {
                key: entry.pop(key) for key in ("rank_low", "rank_high", "p_best5", "p_worst5")
            }
        compare(data, expected.rankings(question, years=years))
        pooled = expected.pooled(question, years=years)
        names = sorted(place for place, (found, _) in pooled.items() if found)
        counts = brute_force_counts(
            [pooled[place][0]["value"] for place in names],
            [pooled[place][0]["se"] for place in names],
            QUESTIONS[question] == "lowest",
        )
        for place, fields in zip(names, rank_fields(counts), strict=True):
            assert drawn[place] == fields, place
