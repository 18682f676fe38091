"""A done job's answer as CSV (`?format=csv`): the same numbers as its JSON, for every endpoint."""

from __future__ import annotations

import ast
import csv
import io
import threading
from typing import Any

import pytest
from flask.testing import FlaskClient

from app import export
from app.task import ANALYTICS_TASKS, COURSE_TASKS, TASKS
from unittests.conftest import MUSCLE, OBESITY


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def _as_table(data: Any) -> list[list[Any]]:
    """The JSON answer flattened independently of app.export: tuple keys split with eval."""
    if list(data) == ["global_mean"]:
        return [["global_mean"], [data["global_mean"]]]
    first = next(iter(data.values()), None)
    if isinstance(first, dict):
        return [["location", "category", "stratum", "value"]] + [
            [location, *ast.literal_eval(key), mean]
            for location, means in data.items()
            for key, mean in means.items()
        ]
    if next(iter(data), "").startswith("("):
        return [["location", "category", "stratum", "value"]] + [
            [*ast.literal_eval(key), mean] for key, mean in data.items()
        ]
    return [["location", "value"]] + [[key, value] for key, value in data.items()]


def _submit(client: FlaskClient, endpoint: str, question: str) -> str:
    body = {"question": question, "state": "New York", "category": "Income"}
    response = client.post(f"/api/{endpoint}", json=body)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["job_id"]


@pytest.mark.parametrize("question", [OBESITY, MUSCLE])
@pytest.mark.parametrize("endpoint", list(COURSE_TASKS))
def test_csv_has_the_numbers_of_the_json_answer(
    bundled_client: FlaskClient, endpoint: str, question: str
) -> None:
    job_id = _submit(bundled_client, endpoint, question)
    answer = bundled_client.get(f"/api/get_results/{job_id}").get_json()
    assert answer["status"] == "done"
    response = bundled_client.get(f"/api/get_results/{job_id}?format=csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = _rows(response.get_data(as_text=True))
    expected = _as_table(answer["data"])
    assert rows[0] == expected[0]
    assert len(rows) == len(expected) > 1
    for got, want in zip(rows[1:], expected[1:], strict=True):
        assert got[:-1] == want[:-1]
        assert float(got[-1]) == want[-1]  # full precision: the same float back


def _statistic_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of a new statistic's answer, found independently of app.export."""
    if "series" in data:
        return data["series"]
    if "strata" in data:
        return data["strata"]
    if "locations" in data:
        return data["locations"]
    return [{"location": "National", **data["national"]}] + [
        {"location": location, **row} for location, row in data["states"].items()
    ]


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return "; ".join(value)
    return str(value)


@pytest.mark.parametrize("question", [OBESITY, MUSCLE])
@pytest.mark.parametrize("endpoint", list(ANALYTICS_TASKS))
def test_csv_of_a_statistic_has_one_line_per_row_of_its_answer(
    bundled_client: FlaskClient, endpoint: str, question: str
) -> None:
    job_id = _submit(bundled_client, endpoint, question)
    data = bundled_client.get(f"/api/get_results/{job_id}").get_json()["data"]
    text = bundled_client.get(f"/api/get_results/{job_id}?format=csv").get_data(as_text=True)
    header, *lines = _rows(text)
    rows = _statistic_rows(data)
    assert len(lines) == len(rows)
    assert header[0] == {"state_trend": "year", "disparities": "stratum"}.get(endpoint, "location")
    for line, row in zip(lines, rows, strict=True):
        for column, field in zip(header, line, strict=True):
            value = row.get(column)
            if isinstance(value, float):
                assert float(field) == value  # full precision: the same float back
            else:
                assert field == _as_text(value), (column, row)


def test_json_format_is_the_plain_answer(bundled_client: FlaskClient) -> None:
    job_id = _submit(bundled_client, "states_mean", OBESITY)
    plain = bundled_client.get(f"/api/get_results/{job_id}")
    as_json = bundled_client.get(f"/api/get_results/{job_id}?format=json")
    assert as_json.status_code == 200
    assert as_json.content_type == "application/json"
    assert as_json.data == plain.data


def test_stratum_with_a_comma_is_one_quoted_field(bundled_client: FlaskClient) -> None:
    job_id = _submit(bundled_client, "state_mean_by_category", OBESITY)
    text = bundled_client.get(f"/api/get_results/{job_id}?format=csv").get_data(as_text=True)
    assert '"$75,000 or greater"' in text
    strata = {row[2] for row in _rows(text)[1:]}
    assert "$75,000 or greater" in strata


@pytest.mark.parametrize(
    ("path", "status", "reason"),
    [
        ("/api/get_results/job_id_99?format=csv", 404, "Invalid job_id"),
        ("/api/get_results/nonsense?format=csv", 404, "Invalid job_id"),
        (
            "/api/get_results/job_id_1?format=xml",
            400,
            "unknown format 'xml' in parameter 'format'; use json or csv",
        ),
        (
            "/api/get_results/job_id_1?format=",
            400,
            "unknown format '' in parameter 'format'; use json or csv",
        ),
    ],
)
def test_csv_errors_stay_json(client: FlaskClient, path: str, status: int, reason: str) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert response.get_json() == {"status": "error", "reason": reason}


def test_running_job_stays_json(make_app, gated: threading.Event) -> None:
    client = make_app(THREADS=1, RESULT_WAIT_MS=0).test_client()
    job_id = _submit(client, "states_mean", OBESITY)
    response = client.get(f"/api/get_results/{job_id}?format=csv")
    assert response.content_type == "application/json"
    assert response.get_json() == {"status": "running"}
    gated.set()


def test_failed_job_stays_json(client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self, index):
        raise RuntimeError("boom")

    monkeypatch.setattr(TASKS["global_mean"], "answer", broken)
    job_id = _submit(client, "global_mean", OBESITY)
    response = client.get(f"/api/get_results/{job_id}?format=csv")
    assert response.content_type == "application/json"
    assert response.get_json()["status"] == "error"


def test_empty_answers_have_a_header_only() -> None:
    assert export.to_csv({"Guam": {}}) == b"location,category,stratum,value\r\n"
    assert export.to_csv({}) == b"location,value\r\n"


def test_keys_with_quotes_and_commas_split_back() -> None:
    pair = str(("Income", 'it\'s "$1,000"'))
    assert export.table({"Ohio": {pair: 2.0}})[1] == [["Ohio", "Income", 'it\'s "$1,000"', 2.0]]
    triple = str(("O'Hare", "Income", "a\\b"))
    assert export.table({triple: 1.5})[1] == [["O'Hare", "Income", "a\\b", 1.5]]
