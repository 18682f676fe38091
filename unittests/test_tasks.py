"""Every Task on the small fixture, against answers worked out by hand."""

from __future__ import annotations

import pytest

from app.errors import InvalidInput
from app.task import TASKS
from unittests.conftest import MUSCLE, OBESITY


def run(dataset, endpoint, question, state=None):
    payload = {"question": question} if state is None else {"question": question, "state": state}
    return TASKS[endpoint].from_payload(payload, dataset).compute(dataset)


def ordered(data):
    """A dict as a list of items, so comparisons check the key order too."""
    return list(data.items())


OBESITY_GLOBAL = 369 / 13
MUSCLE_GLOBAL = 132 / 5


def test_states_mean(small_dataset):
    assert ordered(run(small_dataset, "states_mean", OBESITY)) == [
        ("Ohio", 23.0),
        ("Texas", 23.0),
        ("National", 27.0),
        ("Alabama", 29.6),
        ("Wyoming", 35.0),
        ("Guam", 40.0),
    ]


def test_state_mean(small_dataset):
    assert run(small_dataset, "state_mean", OBESITY, "Alabama") == {"Alabama": 29.6}


def test_best5_lowest_is_best(small_dataset):
    assert ordered(run(small_dataset, "best5", OBESITY)) == [
        ("Ohio", 23.0),
        ("Texas", 23.0),
        ("National", 27.0),
        ("Alabama", 29.6),
        ("Wyoming", 35.0),
    ]


def test_worst5_lowest_is_best(small_dataset):
    assert ordered(run(small_dataset, "worst5", OBESITY)) == [
        ("Guam", 40.0),
        ("Wyoming", 35.0),
        ("Alabama", 29.6),
        ("National", 27.0),
        ("Ohio", 23.0),  # ties with Texas; ties go by name
    ]


def test_best5_highest_is_best(small_dataset):
    assert ordered(run(small_dataset, "best5", MUSCLE)) == [
        ("Ohio", 30.0),
        ("Wyoming", 30.0),
        ("National", 27.0),
        ("Guam", 25.0),
        ("Alabama", 20.0),
    ]


def test_worst5_highest_is_best(small_dataset):
    assert ordered(run(small_dataset, "worst5", MUSCLE)) == [
        ("Alabama", 20.0),
        ("Guam", 25.0),
        ("National", 27.0),
        ("Ohio", 30.0),
        ("Wyoming", 30.0),
    ]


def test_global_mean(small_dataset):
    assert run(small_dataset, "global_mean", OBESITY) == {
        "global_mean": pytest.approx(OBESITY_GLOBAL)
    }
    assert run(small_dataset, "global_mean", MUSCLE) == {
        "global_mean": pytest.approx(MUSCLE_GLOBAL)
    }


def test_diff_from_mean_in_states_mean_order(small_dataset):
    data = run(small_dataset, "diff_from_mean", OBESITY)
    assert list(data) == ["Ohio", "Texas", "National", "Alabama", "Wyoming", "Guam"]
    assert data["Ohio"] == pytest.approx(OBESITY_GLOBAL - 23)
    assert data["Guam"] == pytest.approx(OBESITY_GLOBAL - 40)


def test_state_diff_from_mean(small_dataset):
    assert run(small_dataset, "state_diff_from_mean", MUSCLE, "Guam") == {
        "Guam": pytest.approx(MUSCLE_GLOBAL - 25)
    }


def test_mean_by_category(small_dataset):
    data = run(small_dataset, "mean_by_category", OBESITY)
    assert ordered(data)[:4] == [
        ("('Alabama', 'Gender', 'Female')", 28.0),
        ("('Alabama', 'Gender', 'Male')", 33.0),
        ("('Alabama', 'Income', '$75,000 or greater')", 24.0),
        ("('Alabama', 'Total', 'Total')", 30.0),
    ]
    assert len(data) == 11
    assert "('Ohio', '', '')" not in data


def test_state_mean_by_category(small_dataset):
    assert run(small_dataset, "state_mean_by_category", OBESITY, "Alabama") == {
        "Alabama": {
            "('Gender', 'Female')": 28.0,
            "('Gender', 'Male')": 33.0,
            "('Income', '$75,000 or greater')": 24.0,
            "('Total', 'Total')": 30.0,
        }
    }


@pytest.mark.parametrize(
    ("endpoint", "payload", "reason"),
    [
        ("states_mean", [OBESITY], "request body must be a JSON object"),
        ("states_mean", {}, "missing field 'question'"),
        ("states_mean", {"question": 7}, "unknown question 7 in field 'question'"),
        ("states_mean", {"question": "Percent of cats"}, "GET /api/questions"),
        ("state_mean", {"question": OBESITY}, "missing field 'state'"),
        ("state_mean", {"question": OBESITY, "state": ["Ohio"]}, "field 'state' must be a string"),
        ("state_mean", {"question": MUSCLE, "state": "Texas"}, "no data for 'Texas'"),
        (
            "state_mean",
            {"question": "Percent of adults who report consuming fruit less than one time daily"},
            "the loaded dataset has no data for it",
        ),
    ],
)
def test_invalid_input_names_the_field(small_dataset, endpoint, payload, reason):
    with pytest.raises(InvalidInput) as raised:
        TASKS[endpoint].from_payload(payload, small_dataset)
    assert reason in raised.value.reason
