"""A done job's answer as tidy CSV (`?format=csv`, SPEC §18): one row a record, named columns,
the selection as columns, the answer's scalars repeated, reasons kept, values unrounded.

The expected tables are built here from the JSON answers, independently of app.answers.tidy,
and every endpoint's columns are written down: they are a contract for the analysts' scripts.
"""

from __future__ import annotations

import ast
import csv
import io
import threading
from typing import Any

import pandas as pd
import pytest
from flask.testing import FlaskClient

from app.answers import tidy
from app.export import to_csv
from app.task import TASKS
from unittests.conftest import MUSCLE, OBESITY

SELECTION = ["question", "years", "stratification"]
PROVENANCE = [
    f"provenance_{name}"
    for name in (
        "dataset_sha256",
        "rows_used",
        "rows_suppressed",
        "rows_missing",
        "rows_without_ci",
        "service_version",
    )
]
ESTIMATE = ["value", "low", "high", "sample_size"]
#: Each statistic's columns on the bundled sample (every value there has an interval).
STATISTIC_COLUMNS = {
    "state_trend": [
        "location",
        "year",
        *ESTIMATE,
        "reliable",
        "unreliable",
        *(f"apc_segment_{f}" for f in ("from", "to", "apc", "low", "high")),
        *SELECTION,
        "missing_years",
        "suppressed_years",
        *(f"slope_{f}" for f in ("per_year", "low", "high", "trend", "dispersion", "df")),
        "apc_joinpoints",
        "apc_aapc_value",
        "apc_aapc_low",
        "apc_aapc_high",
        "apc_selection",
        "apc_dispersion",
        "apc_df",
        "apc_years_left_out",
        *PROVENANCE,
    ],
    "compare_to_national": [
        "location",
        *ESTIMATE,
        "years_used",
        "rows_suppressed",
        "z",
        "p",
        "p_adjusted",
        "versus",
        "reliable",
        "unreliable",
        *SELECTION,
        *(f"national_{f}" for f in (*ESTIMATE, "years_used", "rows_suppressed")),
        "adjustment",
        *PROVENANCE,
    ],
    "disparities": [
        "location",
        "category",
        "stratum",
        *ESTIMATE,
        "years_used",
        "rows_suppressed",
        "gap",
        "gap_low",
        "gap_high",
        "ratio",
        "reliable",
        "unreliable",
        *SELECTION,
        "reference",
        *PROVENANCE,
    ],
    "rankings": [
        "location",
        *ESTIMATE,
        "reliable",
        "unreliable",
        "territory",
        "rank",
        "rank_low",
        "rank_high",
        "p_best5",
        "p_worst5",
        *SELECTION,
        "draws",
        "seed",
        *PROVENANCE,
    ],
}


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def _submit(client: FlaskClient, endpoint: str, question: str, **extra: Any) -> str:
    task = TASKS[endpoint]
    body = {"question": question, "state": "New York", "category": "Income"}
    if not task.needs_state:
        body.pop("state")
    if not task.needs_category:
        body.pop("category")
    response = client.post(f"/api/{endpoint}", json={**body, **extra})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["job_id"]


def _answer_and_csv(client: FlaskClient, job_id: str) -> tuple[Any, str]:
    answer = client.get(f"/api/get_results/{job_id}").get_json()
    assert answer["status"] == "done"
    response = client.get(f"/api/get_results/{job_id}?format=csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    return answer["data"], response.get_data(as_text=True)


def _course_table(endpoint: str, data: Any, selection: list[str]) -> list[list[Any]]:
    """A course answer flattened independently of app.answers.tidy: keys split with eval."""
    if endpoint == "global_mean":
        return [["value", *SELECTION], [data["global_mean"], *selection]]
    if endpoint == "state_mean_by_category":
        return [["location", "category", "stratum", "value", *SELECTION]] + [
            [location, *ast.literal_eval(key), mean, *selection]
            for location, means in data.items()
            for key, mean in means.items()
        ]
    if endpoint == "mean_by_category":
        return [["location", "category", "stratum", "value", *SELECTION]] + [
            [*ast.literal_eval(key), mean, *selection] for key, mean in data.items()
        ]
    return [["location", "value", *SELECTION]] + [[k, v, *selection] for k, v in data.items()]


def _lookup(data: dict[str, Any], column: str) -> Any:
    """The value a repeated column names: `slope_per_year` is data["slope"]["per_year"]."""
    if column in data:
        return data[column]
    head, _, rest = column.partition("_")
    while rest:
        if isinstance(data.get(head), dict):
            return _lookup(data[head], rest)
        more, _, rest = rest.partition("_")
        head = f"{head}_{more}"
    raise KeyError(column)


def _same(field: str, value: Any) -> bool:
    """A CSV field holds `value`: floats to the last bit, booleans as true/false, None empty."""
    if value is None:
        return field == ""
    if isinstance(value, bool):
        return field == ("true" if value else "false")
    if isinstance(value, float):
        return float(field) == value
    if isinstance(value, list):
        return field == "; ".join(map(str, value))
    return field == str(value)


@pytest.mark.parametrize("question", [OBESITY, MUSCLE])
@pytest.mark.parametrize("endpoint", [name for name in TASKS if name not in STATISTIC_COLUMNS])
def test_a_course_answer_is_one_row_per_record_with_its_selection(
    bundled_client: FlaskClient, endpoint: str, question: str
) -> None:
    job_id = _submit(bundled_client, endpoint, question)
    data, text = _answer_and_csv(bundled_client, job_id)
    rows = _rows(text)
    expected = _course_table(endpoint, data, [question, None, None])
    assert rows[0] == expected[0]
    assert len(rows) == len(expected) > 1
    for got, want in zip(rows[1:], expected[1:], strict=True):
        assert all(_same(g, w) for g, w in zip(got, want, strict=True)), (got, want)
    assert "('" not in text  # no tuple strings


def test_the_selection_is_in_columns_as_the_url_writes_it(bundled_client: FlaskClient) -> None:
    income = {"category": "Income", "stratum": "$75,000 or greater"}
    cases = [
        (
            {"years": [2015, 2022], "stratification": income},
            "2015-2022",
            "Income:$75,000 or greater",
        ),
        ({"years": [2020, 2020]}, "2020", ""),
    ]
    for extra, years, group in cases:
        job_id = _submit(bundled_client, "mean_by_category", OBESITY, **extra)
        _, text = _answer_and_csv(bundled_client, job_id)
        frame = pd.read_csv(io.StringIO(text), keep_default_na=False)
        assert set(frame["years"].astype(str)) == {years}
        assert set(frame["stratification"]) == {group}
        assert set(frame["question"]) == {OBESITY}


@pytest.mark.parametrize("endpoint", list(STATISTIC_COLUMNS))
def test_a_statistic_is_one_row_per_record_with_its_scalars_repeated(
    bundled_client: FlaskClient, endpoint: str
) -> None:
    job_id = _submit(bundled_client, endpoint, OBESITY)
    data, text = _answer_and_csv(bundled_client, job_id)
    header, *lines = _rows(text)
    assert header == STATISTIC_COLUMNS[endpoint]
    if endpoint == "compare_to_national":
        records = [{"location": k, **v} for k, v in data["states"].items()]
    else:
        records = data[
            {"state_trend": "series", "disparities": "strata"}.get(endpoint, "locations")
        ]
    assert len(lines) == len(records) > 1
    for line, record in zip(lines, records, strict=True):
        row = dict(zip(header, line, strict=True))
        for name, value in record.items():
            assert _same(row[name], value), (name, row[name], value)
        for name in header:  # the others are the answer's own, the same on every row
            if name in record or name in SELECTION or name.startswith("apc_segment_"):
                continue
            if name == "location":
                assert row[name] == data["state"]
            elif name == "category":
                assert row[name] == data["category"]
            else:
                assert _same(row[name], _lookup(data, name)), (name, row[name])
    assert {line[header.index("question")] for line in lines} == {OBESITY}


def test_state_trend_puts_each_year_in_its_apc_segment(bundled_client: FlaskClient) -> None:
    """The yearly rows carry the segment they fall in; a joinpoint year begins the next one."""
    for state in ("Ohio", "Texas", "California", "New York", "Florida", "Maine"):
        job_id = _submit(bundled_client, "state_trend", OBESITY, state=state)
        data, text = _answer_and_csv(bundled_client, job_id)
        frame = pd.read_csv(io.StringIO(text))
        segments = data["apc"]["segments"]
        for _, row in frame.iterrows():
            year = row["year"]
            inside = [s for s in segments if s["from"] <= year < s["to"]] or segments[-1:]
            assert (row["apc_segment_from"], row["apc_segment_to"]) == (
                inside[0]["from"],
                inside[0]["to"],
            )
            assert row["apc_segment_apc"] == inside[0]["apc"]
        if data["apc"]["joinpoints"]:
            return
    pytest.fail("no state of the sample bends: the joinpoint case went untested")


def test_reasons_are_kept(bundled_client: FlaskClient) -> None:
    """A trend of two years has no slope and no APC, and says why in its columns."""
    job_id = _submit(bundled_client, "state_trend", OBESITY, state="Ohio", years=[2021, 2022])
    data, text = _answer_and_csv(bundled_client, job_id)
    frame = pd.read_csv(io.StringIO(text))
    assert data["slope"] is None and data["apc"] is None
    assert set(frame["slope_reason"]) == {data["slope_reason"]}
    assert set(frame["apc_reason"]) == {data["apc_reason"]}
    assert "slope_per_year" not in frame


def test_a_statistic_with_no_record_is_one_row_with_its_reasons() -> None:
    data = {
        "state": "Guam",
        "question": OBESITY,
        "series": [],
        "slope": None,
        "slope_reason": "fewer than 3 years",
        "method": "...",
    }
    header, rows = tidy.table("state_trend", {"question": OBESITY, "state": "Guam"}, data)
    assert header == ["location", *SELECTION, "slope", "slope_reason"]
    assert rows == [["Guam", OBESITY, None, None, None, "fewer than 3 years"]]


def test_an_unranked_location_keeps_its_reason_in_the_records_columns() -> None:
    data = {
        "question": OBESITY,
        "locations": [
            {"location": "Ohio", "value": 1.5, "rank": 1},
            {"location": "Guam", "value": None, "rank": None, "reason": "no rows"},
        ],
        "draws": 10,
        "method": "...",
    }
    header, rows = tidy.table("rankings", {"question": OBESITY}, data)
    assert header == ["location", "value", "rank", "reason", *SELECTION, "draws"]
    assert rows[0][3] is None and rows[1][3] == "no rows"


def test_the_csv_reads_back_as_numbers_in_pandas(bundled_client: FlaskClient) -> None:
    for endpoint in TASKS:
        job_id = _submit(bundled_client, endpoint, MUSCLE)
        _, text = _answer_and_csv(bundled_client, job_id)
        frame = pd.read_csv(io.StringIO(text))
        assert pd.api.types.is_float_dtype(frame["value"]), endpoint
        if "reliable" in frame:
            assert pd.api.types.is_bool_dtype(frame["reliable"]), endpoint


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


def test_json_format_is_the_plain_answer(bundled_client: FlaskClient) -> None:
    job_id = _submit(bundled_client, "states_mean", OBESITY)
    plain = bundled_client.get(f"/api/get_results/{job_id}")
    as_json = bundled_client.get(f"/api/get_results/{job_id}?format=json")
    assert as_json.status_code == 200
    assert as_json.content_type == "application/json"
    assert as_json.data == plain.data


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
    empty = {"question": OBESITY, "state": "Guam"}
    by_category = "location,category,stratum,value,question,years,stratification\r\n"
    assert (
        to_csv(*tidy.table("state_mean_by_category", empty, {"Guam": {}})) == by_category.encode()
    )
    by_location = b"location,value,question,years,stratification\r\n"
    assert to_csv(*tidy.table("states_mean", {"question": OBESITY}, {})) == by_location


def test_keys_with_quotes_and_commas_split_back() -> None:
    pair = str(("Income", 'it\'s "$1,000"'))
    request = {"question": OBESITY}
    rows = tidy.table("state_mean_by_category", request, {"Ohio": {pair: 2.0}})[1]
    assert rows == [["Ohio", "Income", 'it\'s "$1,000"', 2.0, OBESITY, None, None]]
    triple = str(("O'Hare", "Income", "a\\b"))
    rows = tidy.table("mean_by_category", request, {triple: 1.5})[1]
    assert rows == [["O'Hare", "Income", "a\\b", 1.5, OBESITY, None, None]]
