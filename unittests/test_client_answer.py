"""`Client.answer` / `AsyncClient.answer` (SPEC §18) against a real server: the data `ask` gives,
records in the tidy form of the server's own CSV (a differential test of lss_client.tidy
against app.answers.tidy, on the sample and on real CDC rows), a DataFrame, a 202 polled, a
server without GET answers; and `lss ask --csv / --json`, `lss url`."""

from __future__ import annotations

import asyncio
import csv
import io
import sys
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
import requests

from lss_client import AsyncClient, Client
from lss_client._httpx import httpx
from lss_client.errors import BadRequest
from lss_client.get_answer import url as answer_url
from lss_client.job import Answer, Question
from unittests.conftest import MUSCLE, OBESITY
from unittests.support import real_slice
from unittests.support.servers import Server, server_starter
from unittests.test_cli import lss

pytestmark = pytest.mark.e2e

#: One question per endpoint, with what each needs, and a selection on some.
ASKED = [
    Question("states_mean", OBESITY, years=(2015, 2022)),
    Question("state_mean", MUSCLE, "Ohio"),
    Question("best5", OBESITY, stratification=("Income", "$75,000 or greater")),
    Question("worst5", MUSCLE),
    Question("global_mean", OBESITY, years=2020),
    Question("diff_from_mean", OBESITY),
    Question("state_diff_from_mean", OBESITY, "Texas"),
    Question("mean_by_category", OBESITY, years=(2021, 2022)),
    Question("state_mean_by_category", MUSCLE, "Guam"),
    Question("state_trend", OBESITY, "Ohio"),
    Question("compare_to_national", OBESITY, years=2022),
    Question("disparities", OBESITY, "Ohio", category="Income"),
    Question("rankings", MUSCLE, stratification=("Gender", "Female")),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    starter = server_starter(tmp_path_factory.mktemp("client-answer"))
    yield next(starter)()
    next(starter, None)


def _fields(asked: Question) -> dict[str, Any]:
    return {
        "state": asked.state,
        "category": asked.category,
        "years": asked.years,
        "stratification": asked.stratification,
    }


def _shown(value: Any) -> str:
    """A record's value as the server's CSV writes it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def assert_records_are_the_servers_csv(answer: Answer, text: str) -> None:
    header, *rows = csv.reader(io.StringIO(text))
    records = answer.records()
    assert len(records) == len(rows)
    assert list(answer.to_pandas().columns) == header
    for record, row in zip(records, rows, strict=True):
        assert set(record) <= set(header)
        for name, field in zip(header, row, strict=True):
            value = record.get(name)
            if isinstance(value, float):
                assert float(field) == value, name  # unrounded, both sides
            else:
                assert field == _shown(value), name


@pytest.mark.parametrize("asked", ASKED, ids=[q.endpoint for q in ASKED])
def test_answer_gives_the_data_of_ask_and_the_records_of_the_servers_csv(
    server: Server, asked: Question
) -> None:
    with Client(server.url) as client:
        answer = client.answer(asked.endpoint, asked.question, **_fields(asked))
        assert answer.data == client.ask(asked.endpoint, asked.question, **_fields(asked))
        assert answer.job_id is not None and answer.question == asked
        text = client.result_csv(answer.job_id)
    assert text == requests.get(answer_url(server.url, asked), timeout=30).text
    assert_records_are_the_servers_csv(answer, text)


@pytest.mark.parametrize("asked", ASKED[::4], ids=[q.endpoint for q in ASKED[::4]])
def test_to_pandas_is_what_read_csv_makes_of_the_url(server: Server, asked: Question) -> None:
    with Client(server.url) as client:
        frame = client.answer(asked.endpoint, asked.question, **_fields(asked)).to_pandas()
        read = pd.read_csv(client.answer_url(asked.endpoint, asked.question, **_fields(asked)))
    assert list(frame.columns) == list(read.columns)
    assert len(frame) == len(read)
    numbers = [c for c in read.columns if pd.api.types.is_float_dtype(read[c])]
    assert "value" in numbers
    for column in numbers:
        assert frame[column].astype(float).tolist() == pytest.approx(
            read[column].tolist(), rel=0, abs=0, nan_ok=True
        )


def test_the_async_client_answers_alike(server: Server) -> None:
    async def run() -> list[Answer]:
        async with AsyncClient(server.url) as client:
            return list(
                await asyncio.gather(
                    *(client.answer(q.endpoint, q.question, **_fields(q)) for q in ASKED)
                )
            )

    answers = asyncio.run(run())
    with Client(server.url) as client:
        for asked, answer in zip(ASKED, answers, strict=True):
            assert answer.data == client.ask(asked.endpoint, asked.question, **_fields(asked))
            assert (
                answer.records()
                == client.answer(asked.endpoint, asked.question, **_fields(asked)).records()
            )


def test_a_202_is_polled_to_the_answer(start_server) -> None:
    server = start_server(LSS_ANSWER_WAIT_S="0", LSS_WORKERS="1")
    with Client(server.url) as client:
        first = requests.get(client.answer_url("rankings", OBESITY, fmt="json"), timeout=30)
        assert first.status_code == 202  # what the client meets, checked for itself
        answer = client.answer("rankings", OBESITY, years=(2015, 2022))
        assert answer.data["locations"][0]["rank"] == 1


def test_a_refused_question_is_bad_request_naming_the_parameter(server: Server) -> None:
    with Client(server.url) as client, pytest.raises(BadRequest, match="parameter 'years'"):
        client.answer("states_mean", OBESITY, years=(1990, 1991))


def test_a_server_without_get_answers_is_asked_by_post() -> None:
    """A server of an earlier version answers the GET with its generic 404: the question is
    then submitted and polled, as `ask` does."""
    sent: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        sent.append(f"{request.method} {request.url.path}")
        if request.url.path.startswith("/api/answers/"):
            return httpx.Response(404, json={"status": "error", "reason": "no such endpoint"})
        if request.method == "POST":
            return httpx.Response(200, json={"job_id": "job_id_7"})
        return httpx.Response(200, json={"status": "done", "data": {"Ohio": 1.5}})

    with Client("http://old.example", transport=httpx.MockTransport(handle)) as client:
        answer = client.answer("state_mean", OBESITY, "Ohio")
    assert (answer.job_id, answer.data) == ("job_id_7", {"Ohio": 1.5})
    assert sent == [
        "GET /api/answers/state_mean.json",
        "POST /api/state_mean",
        "GET /api/get_results/job_id_7",
    ]
    assert answer.records() == [
        {"location": "Ohio", "value": 1.5, "question": OBESITY, "years": None,
         "stratification": None}
    ]  # fmt: skip


def test_to_pandas_without_pandas_says_which_extra_to_install(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # as if it were not installed
    answer = Answer(Question("global_mean", OBESITY), "job_id_1", {"global_mean": 30.0})
    with pytest.raises(ImportError, match=r"pip install 'lss-client\[pandas\]'"):
        answer.to_pandas()
    assert answer.records() == [
        {"value": 30.0, "question": OBESITY, "years": None, "stratification": None}
    ]


def test_a_failed_bulk_answer_raises_its_error_for_its_records() -> None:
    error = BadRequest("no")
    with pytest.raises(BadRequest):
        Answer(Question("best5", OBESITY), None, error=error).records()


def test_the_url_spells_the_question_for_any_http_client() -> None:
    asked = Question("disparities", OBESITY, "New York", category="Income", years=(2015, 2022))
    assert answer_url("http://h:5000/", asked) == (
        "http://h:5000/api/answers/disparities.csv?question=Percent%20of%20adults%20aged%2018"
        "%20years%20and%20older%20who%20have%20obesity&state=New%20York&category=Income"
        "&years=2015-2022"
    )
    one = Question("best5", OBESITY, years=2020, stratification=("Income", "$75,000 or greater"))
    assert answer_url("http://h", one, "json").endswith(
        ".json?question=Percent%20of%20adults%20aged%2018%20years%20and%20older%20who%20have"
        "%20obesity&years=2020&stratification=Income%3A%2475%2C000%20or%20greater"
    )


# -- the command line ---------------------------------------------------------------------------


def test_lss_ask_csv_prints_the_servers_tidy_csv(server: Server) -> None:
    result = lss("ask", "state_trend", "obesity", "-s", "oh", "--csv", url=server.url)
    assert result.returncode == 0, result.stderr
    asked = Question("state_trend", OBESITY, "Ohio")
    served = requests.get(answer_url(server.url, asked), timeout=30).text
    assert result.stdout.splitlines() == served.splitlines()  # (read back with universal newlines)
    frame = pd.read_csv(io.StringIO(result.stdout))
    assert set(frame["location"]) == {"Ohio"} and frame["year"].is_monotonic_increasing


def test_lss_ask_json_is_the_default(server: Server) -> None:
    plain = lss("ask", "best5", "obesity", url=server.url)
    as_json = lss("ask", "best5", "obesity", "--json", url=server.url)
    assert as_json.returncode == plain.returncode == 0
    assert as_json.stdout == plain.stdout and plain.stdout.lstrip().startswith("{")


def test_lss_url_prints_a_url_that_pandas_reads(server: Server) -> None:
    result = lss("url", "mean_by_category", "obesity", "--years", "2020", url=server.url)
    assert result.returncode == 0, result.stderr
    printed = result.stdout.strip()
    assert printed == answer_url(server.url, Question("mean_by_category", OBESITY, years=2020))
    frame = pd.read_csv(printed)
    assert {"location", "category", "stratum", "value"} <= set(frame.columns)
    assert set(frame["years"]) == {2020}
    as_json = lss("url", "state_mean", "obesity", "-s", "tx", "--json", url=server.url)
    assert as_json.stdout.strip().startswith(f"{server.url}/api/answers/state_mean.json?")
    assert requests.get(as_json.stdout.strip(), timeout=30).json()["data"].keys() == {"Texas"}


# -- real CDC rows --------------------------------------------------------------------------------


def test_records_are_the_servers_csv_on_real_cdc_rows(start_server) -> None:
    """Every endpoint on the real slice: suppressed rows, missing nations and one-year series
    give the reasons and nulls the tidy form must carry alike on both sides."""
    path = real_slice.require()
    server = start_server(LSS_DATA_FILE=str(path))
    with Client(server.url) as client:
        catalog = client.catalog()
        states = client.states()
        for question, info in list(catalog.items())[:3]:
            for endpoint in ("state_trend", "compare_to_national", "disparities", "rankings",
                             "mean_by_category", "states_mean"):  # fmt: skip
                state = states[len(question) % len(states)]
                fields: dict[str, Any] = {}
                if endpoint in ("state_trend", "disparities"):
                    fields["state"] = state
                if endpoint == "disparities":
                    fields["category"] = next(iter(info.categories))
                try:
                    answer = client.answer(endpoint, question, **fields)
                except BadRequest:
                    continue  # a location with no rows for this question: said, not answered
                assert_records_are_the_servers_csv(answer, client.result_csv(answer.job_id))
