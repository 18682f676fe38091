"""Real CDC rows (SPEC §15.6): every endpoint of app.task.TASKS answers the 2,031 rows of
`cdc-real-slice.csv` with no 5xx and no failed job, over every question, many locations, years
and groups; and where the statistics cannot answer they say why, for the reasons real data has
and the bundled sample does not: no nation in the years asked for (or none at all), one year
only, every row suppressed.

The cases are found in the file with the csv module (not written down), so that the tests follow
the file. They skip where it is absent (a user's clone) and fail so under CI.
"""

from __future__ import annotations

import csv
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from app.task import COURSE_TASKS, TASKS
from unittests.support import real_slice

NATIONAL = "National"
#: How many locations the endpoints of the nine that take a state are asked about (spread by
#: name); the statistics are asked about every location.
COURSE_STATES = 12


@pytest.fixture(scope="module")
def slice_path() -> Path:
    return real_slice.require()


@pytest.fixture(scope="module")
def rows(slice_path: Path) -> list[dict[str, str]]:
    with slice_path.open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


@pytest.fixture(scope="module")
def client(slice_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlaskClient]:
    from app import create_app, shutdown

    folder = tmp_path_factory.mktemp("real-slice")
    app = create_app(
        {
            "DATA_FILE": str(slice_path),
            "RESULTS_DIR": str(folder / "results"),
            "LOG_FILE": str(folder / "webserver.log"),
            "THREADS": 0,
            "TESTING": True,
        }
    )
    yield app.test_client()
    shutdown(app, timeout=10)


def answer(client: FlaskClient, endpoint: str, body: dict[str, Any]) -> tuple[int, Any]:
    """(status of the POST, the finished job's `data` or the refusal's reason)."""
    response = client.post(f"/api/{endpoint}", json=body)
    assert response.status_code < 500, (endpoint, body, response.get_data(as_text=True))
    if response.status_code != 200:
        return response.status_code, response.get_json()["reason"]
    job_id = response.get_json()["job_id"]
    deadline = time.monotonic() + 10
    while (result := client.get(f"/api/get_results/{job_id}").get_json())["status"] == "running":
        assert time.monotonic() < deadline, (endpoint, body)
        time.sleep(0.005)
    assert result["status"] == "done", (endpoint, body, result)
    return 200, result["data"]


def _spread(names: list[str], count: int) -> list[str]:
    return names if len(names) <= count else names[:: -(-len(names) // count)]


def bodies(catalog: dict[str, Any], locations: list[str], endpoint: str) -> Iterator[dict]:
    """Many bodies of `endpoint` for one question of /api/questions: by default; in its first
    year, its last, and all of them; in the first stratum of each category; every location (a
    spread of them for the nine) and, for disparities, every category."""
    task = TASKS[endpoint]
    question = {"question": catalog["question"]}
    years = catalog["years"]
    selections: list[dict[str, Any]] = [{}]
    if years:
        selections += [{"years": [years[0], years[0]]}, {"years": [years[-1], years[-1]]}]
        selections.append({"years": [years[0], years[-1]]})
    if task.takes_stratification:
        selections += [
            {"stratification": {"category": group["category"], "stratum": group["strata"][0]}}
            for group in catalog["categories"]
        ]
    if not task.needs_state:
        for selection in selections:
            yield question | selection
        return
    places = _spread(locations, COURSE_STATES) if endpoint in COURSE_TASKS else locations
    categories = [group["category"] for group in catalog["categories"]] or ["Total"]
    for place in places:
        for category in categories if task.needs_category else [None]:
            body = question | {"state": place}
            if category is not None:
                body["category"] = category
            yield body
    for selection in selections[1:]:  # the selections on the first and last places only
        for place in (places[0], places[-1]):
            body = question | {"state": place} | selection
            if task.needs_category:
                body["category"] = categories[0]
            yield body


@pytest.mark.parametrize("endpoint", list(TASKS))
def test_every_endpoint_answers_the_real_rows_without_a_server_error(client, endpoint):
    """Done, or refused with a 400 whose reason names the field; never a 5xx or a failed job."""
    catalog = client.get("/api/questions").get_json()["questions"]
    locations = client.get("/api/states").get_json()["states"]
    assert len(catalog) == 9 and len(locations) == 55
    answered = refused = 0
    for listed in catalog:
        for body in bodies(listed, locations, endpoint):
            status, data = answer(client, endpoint, body)
            if status == 200:
                answered += 1
                if isinstance(data, dict) and "method" in data:
                    assert data["provenance"]["rows_used"] >= 0
            else:
                assert status == 400, (endpoint, body, data)
                assert "field" in data, (endpoint, body, data)
                refused += 1
    assert answered > 0, endpoint


# --- where the statistics cannot answer, they say why ------------------------------------------


def _years_by(rows: list[dict[str, str]], *key: str) -> dict[tuple[str, ...], set[int]]:
    """The years with a row of each value of `key`'s columns."""
    found: dict[tuple[str, ...], set[int]] = defaultdict(set)
    for row in rows:
        found[tuple(row[column] for column in key)].add(int(row["YearStart"]))
    return found


def test_no_nation_in_the_years_asked_for_is_said_for_the_nation_and_each_location(client, rows):
    """In each year of a question without a National row, in a group some state has a usable
    value in: the nation has no value and says why, and so does every location it has."""
    national = _years_by([r for r in rows if r["LocationDesc"] == NATIONAL], "Question")
    asked: dict[tuple[str, int], tuple[str, str]] = {}
    for row in rows:
        year = int(row["YearStart"])
        if year not in national[(row["Question"],)] and _usable(row):
            asked.setdefault((row["Question"], year), (row["StratificationCategory1"],
                                                       row["Stratification1"]))  # fmt: skip
    assert len(asked) >= 5, "the slice has a nation in (almost) every year of every question"
    for (question, year), (category, stratum) in asked.items():
        body = {"question": question, "years": [year, year],
                "stratification": {"category": category, "stratum": stratum}}  # fmt: skip
        status, data = answer(client, "compare_to_national", body)
        assert status == 200
        assert data["national"]["value"] is None
        assert data["national"]["reason"] == (
            "no rows in the years and stratification asked for"
            if national[(question,)]
            else "the dataset has no National rows for this question"
        )
        compared = [e for e in data["states"].values() if e["value"] is not None]
        assert compared, (question, year)
        for entry in compared:
            assert entry["reason"] == "no national value to compare with"
            assert (entry["z"], entry["p"], entry["versus"]) == (None, None, None)


def _usable(row: dict[str, str]) -> bool:
    """A row with a value and both confidence limits (the slice's limits are never equal)."""
    return all(
        row[c].strip() for c in ("Data_Value", "Low_Confidence_Limit", "High_Confidence_Limit ")
    )


def test_a_trend_of_one_or_two_years_says_it_has_too_few(client, rows):
    totals = _years_by([r for r in rows if r["Stratification1"] == "Total" and _usable(r)],
                       "Question", "LocationDesc")  # fmt: skip
    few = {key: years for key, years in totals.items() if len(years) < 3}
    assert {len(years) for years in few.values()} == {1, 2}, "the slice has no short series"
    for (question, place), years in few.items():
        status, data = answer(client, "state_trend", {"question": question, "state": place})
        assert status == 200
        assert [point["year"] for point in data["series"]] == sorted(years)
        assert data["slope"] is None
        assert data["slope_reason"] == f"fewer than 3 years with a usable value ({len(years)})"


def test_a_group_whose_rows_are_all_suppressed_says_so_wherever_it_is_asked_for(client, rows):
    cells: dict[tuple[str, str, str, str], list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        key = ("Question", "LocationDesc", "StratificationCategory1", "Stratification1")
        cells[tuple(row[column] for column in key)].append(row)  # type: ignore[index]
    suppressed = {
        key: len(found)
        for key, found in cells.items()
        if all(not r["Data_Value"] and "insufficient" in r["Data_Value_Footnote"] for r in found)
    }
    assert len(suppressed) > 100, "the slice's suppressed rows are gone"
    for (question, place, category, stratum), count in suppressed.items():
        reason = (
            "no row with both a value and a confidence interval "
            f"({count} suppressed, 0 missing, 0 without a confidence interval)"
        )
        group = {"category": category, "stratum": stratum}
        _, data = answer(client, "disparities", {"question": question, "state": place,
                                                 "category": category})  # fmt: skip
        entry = next(e for e in data["strata"] if e["stratum"] == stratum)
        assert (entry["value"], entry["reason"]) == (None, reason)
        _, data = answer(client, "rankings", {"question": question, "stratification": group})
        entry = next(e for e in data["locations"] if e["location"] == place)
        assert (entry["rank"], entry["reason"]) == (None, reason)
        body = {"question": question, "state": place, "stratification": group}
        _, data = answer(client, "state_trend", body)
        assert (data["series"], data["slope"]) == ([], None)
        assert data["slope_reason"] == "fewer than 3 years with a usable value (0)"
        assert (data["provenance"]["rows_suppressed"], data["provenance"]["rows_used"]) == (
            count,
            0,
        )
