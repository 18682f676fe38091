"""The client against the real server: answers equal the API's and the reference's, a bulk of
1,000 mixed questions, the in-flight bound measured on the wire, and the real error answers.
"""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from lss_client import (
    AsyncClient,
    BadRequest,
    Client,
    JobExpired,
    JobNotFound,
    Policy,
    Question,
    QuestionInfo,
    ShuttingDown,
)
from lss_client._httpx import httpx
from unittests.conftest import OBESITY
from unittests.support.e2e import api_answer, server_answer
from unittests.support.reference import ENDPOINTS, QUESTIONS, STATE_ENDPOINTS, Reference, compare
from unittests.support.servers import ROOT, Server, server_starter

pytestmark = pytest.mark.e2e

HTTP_TIMEOUT = 5.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One real server for the tests that leave it running as they found it."""
    starter = server_starter(tmp_path_factory.mktemp("client"))
    yield next(starter)()
    next(starter, None)  # stops it


def every_question(reference: Reference) -> list[tuple[str, str, str | None]]:
    """Every endpoint x question, with a location drawn for the state endpoints."""
    rng = random.Random(11)
    return [
        (endpoint, question, rng.choice(reference.locations(question)))
        if endpoint in STATE_ENDPOINTS
        else (endpoint, question, None)
        for endpoint in ENDPOINTS
        for question in QUESTIONS
    ]


def test_client_answers_equal_the_apis_and_the_references(
    server: Server, reference: Reference
) -> None:
    with Client(server.url) as client:
        for endpoint, question, state in every_question(reference):
            data = client.ask(endpoint, question, state)
            where = f"{endpoint}({question[:30]}..., {state})"
            assert json.dumps(data) == json.dumps(
                api_answer(server.url, *(endpoint, question, state))
            )
            compare(data, reference.answer(endpoint, question, state), where=where)


def test_async_client_answers_equal_the_references(server: Server, reference: Reference) -> None:
    asked = every_question(reference)

    async def run() -> list[Any]:
        async with AsyncClient(server.url) as client:
            return await asyncio.gather(*(client.ask(*one) for one in asked))

    for one, data in zip(asked, asyncio.run(run()), strict=True):
        compare(data, reference.answer(*one), where=str(one[:1] + one[2:]))


class InFlight(httpx.AsyncBaseTransport):
    """A transport that watches the wire: jobs whose final answer has not come yet, each from
    the moment its POST is sent (a POST the server holds for `Prefer: wait` may bring it)."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.now = 0
        self.peak = 0
        self.submitted = 0
        self.held = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        posted = request.method == "POST"
        if posted:
            self.now += 1
            self.peak = max(self.peak, self.now)
        response = await self.inner.handle_async_request(request)
        content = await response.aread()
        await response.aclose()
        if posted:
            accepted = response.status_code == 200
            self.submitted += accepted
            answered = accepted and "status" in json.loads(content)
            self.held += answered  # answered in full: the job's data came with its id
            self.now -= not accepted or answered
        elif "/get_results/" in request.url.path and json.loads(content)["status"] != "running":
            self.now -= 1
        return httpx.Response(
            response.status_code, headers=response.headers, content=content, request=request
        )

    async def aclose(self) -> None:
        await self.inner.aclose()


def mixed_questions(reference: Reference, count: int) -> list[Question]:
    """`count` questions over every endpoint and question; one in 20 is refused by the server."""
    rng = random.Random(1000)
    asked = []
    for n in range(count):
        endpoint, question = ENDPOINTS[n % 9], list(QUESTIONS)[(n // 9) % 9]
        if n % 20 == 7:  # a state with no data, or a state left out: the server says 400
            asked.append(Question("state_mean", question, "Atlantis" if n % 40 == 7 else None))
        elif endpoint in STATE_ENDPOINTS:
            asked.append(Question(endpoint, question, rng.choice(reference.locations(question))))
        else:
            asked.append(Question(endpoint, question))
    rng.shuffle(asked)
    return asked


def test_bulk_of_1000_at_concurrency_50_is_complete_in_order_right_and_bounded(
    server: Server, reference: Reference
) -> None:
    asked = mixed_questions(reference, 1000)
    wire = InFlight()
    finished: list[int] = []

    async def run() -> list[Any]:
        async with AsyncClient(server.url, transport=wire) as client:
            return await client.bulk(asked, 50, lambda index, _: finished.append(index))

    answers = asyncio.run(run())
    assert len(answers) == 1000 and sorted(finished) == list(range(1000))
    assert wire.now == 0 and wire.submitted == 950
    assert wire.held > 0  # some POSTs were held to the end and brought their answer (Prefer)
    assert 25 <= wire.peak <= 50, f"at most {wire.peak} jobs were in flight"
    assert finished != sorted(finished)  # they did finish out of order, yet come back in order
    for n, (question, answer) in enumerate(zip(asked, answers, strict=True)):
        assert answer.question == question
        if question.endpoint in STATE_ENDPOINTS and question.state in (None, "Atlantis"):
            assert isinstance(answer.error, BadRequest) and answer.error.status_code == 400
            assert "'state'" in answer.reason and answer.job_id is None
        else:
            assert answer.status == "done", answer.reason
            expected = reference.answer(question.endpoint, question.question, question.state)
            compare(answer.data, expected, where=f"#{n} {question}")
    assert len({answer.job_id for answer in answers if answer.job_id}) == 950


@pytest.mark.parametrize(
    "endpoint, body, status",
    [
        ("best5", {"question": "How tall is Ohio?"}, 400),
        ("state_mean", {"question": OBESITY}, 400),
        ("state_mean", {"question": OBESITY, "state": "Atlantis"}, 400),
        ("best6", {"question": OBESITY}, 404),
        ("best5", {"question": "x" * 70_000}, 413),
    ],
    ids=["unknown-question", "missing-state", "unknown-state", "unknown-endpoint", "too-large"],
)
def test_a_refused_request_raises_bad_request_with_the_servers_reason(
    server: Server, endpoint: str, body: dict[str, str], status: int
) -> None:
    expected = requests.post(f"{server.url}/api/{endpoint}", json=body, timeout=HTTP_TIMEOUT)
    assert expected.status_code == status
    with Client(server.url) as client, pytest.raises(BadRequest) as raised:
        client.ask(endpoint, body["question"], body.get("state"))
    assert raised.value.status_code == status
    if status != 404:
        assert raised.value.reason == expected.json()["reason"]
    else:
        assert "no endpoint 'best6'" in raised.value.reason


@pytest.mark.parametrize("job_id", ["job_id_999999", "job_id_0", "nonsense", "../jobs"])
def test_an_unknown_job_raises_job_not_found(server: Server, job_id: str) -> None:
    with Client(server.url) as client, pytest.raises(JobNotFound, match="Invalid job_id"):
        client.wait(job_id)


def test_an_expired_job_raises_job_expired(start_server: Callable[..., Server]) -> None:
    server = start_server(LSS_RESULT_TTL_S="1", LSS_MAINTENANCE_INTERVAL_S="1")
    with Client(server.url) as client:
        job_id = client.submit("global_mean", OBESITY)
        client.wait(job_id)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.wait(job_id)
            except JobExpired as expired:
                assert f"job {job_id} expired" in str(expired)
                break
            assert time.monotonic() < deadline, "the job never expired"
            time.sleep(0.2)


def test_questions_states_and_jobs_equal_the_apis(server: Server) -> None:
    def get(path: str) -> Any:
        return requests.get(f"{server.url}{path}", timeout=HTTP_TIMEOUT).json()

    with Client(server.url) as client:
        job_id = client.submit("global_mean", OBESITY)
        client.wait(job_id)
        listed = client.jobs()
        assert listed[job_id] == "done"
        assert [{k: v} for k, v in listed.items()][: len(get("/api/jobs")["data"])] == get(
            "/api/jobs"
        )["data"]
        assert client.states() == get("/api/states")["states"]
        expected = {
            item["question"]: item["best_is"] for item in get("/api/questions")["questions"]
        }
        assert client.questions() == expected


def test_rankings_through_both_clients_are_the_apis(server: Server) -> None:
    """The endpoint of SPEC §15.3, with its optional fields, by Client and AsyncClient."""
    women = ("Gender", "Female")
    body = {"question": OBESITY, "years": [2015, 2022], "stratification": dict(
        zip(("category", "stratum"), women, strict=True))}  # fmt: skip
    expected = server_answer(server.url, "rankings", body)

    async def run() -> Any:
        async with AsyncClient(server.url) as client:
            return await client.ask("rankings", OBESITY, years=(2015, 2022), stratification=women)

    with Client(server.url) as client:
        data = client.ask("rankings", OBESITY, years=(2015, 2022), stratification=women)
    assert data == asyncio.run(run()) == expected
    ranks = [entry["rank"] for entry in data["locations"]]
    ranked = [rank for rank in ranks if rank is not None]
    assert len(ranks) == 54 and ranked == list(range(1, len(ranked) + 1))
    assert all(entry["reason"] for entry in data["locations"][len(ranked) :])  # a sparse group


def test_the_catalog_is_the_apis_list_of_years_categories_and_strata(server: Server) -> None:
    listed = requests.get(f"{server.url}/api/questions", timeout=HTTP_TIMEOUT).json()["questions"]
    expected = {
        item["question"]: QuestionInfo(
            item["question"],
            item["best_is"],
            tuple(item["years"]),
            {entry["category"]: tuple(entry["strata"]) for entry in item["categories"]},
        )
        for item in listed
    }

    async def run() -> dict[str, QuestionInfo]:
        async with AsyncClient(server.url) as client:
            return await client.catalog()

    with Client(server.url) as client:
        catalog = client.catalog()
    assert catalog == asyncio.run(run()) == expected
    assert list(catalog) == list(QUESTIONS)
    obesity = catalog[OBESITY]
    assert (obesity.best_is, obesity.years) == ("lowest", tuple(range(2011, 2023)))
    assert list(obesity.categories)[:4] == ["Total", "Age (years)", "Education", "Gender"]


def test_shutting_down_is_raised_at_once_and_accepted_jobs_still_answer(
    start_server: Callable[..., Server], reference: Reference
) -> None:
    server = start_server()
    with Client(server.url, policy=Policy(retries=4, retry_delay=1.0)) as client:
        accepted = client.submit("best5", OBESITY)
        requests.get(f"{server.url}/api/graceful_shutdown", timeout=HTTP_TIMEOUT)
        started = time.monotonic()
        with pytest.raises(ShuttingDown, match=r"^shutting down$"):
            client.ask("worst5", OBESITY)
        assert time.monotonic() - started < 1.0  # no retry (each would wait 1 s first)
        compare(client.wait(accepted), reference.answer("best5", OBESITY))


def test_the_client_imports_neither_flask_nor_pandas_nor_the_app() -> None:
    code = "import json, sys, lss_client, lss_client.cli; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=Path(ROOT), capture_output=True, text=True, check=True
    )
    modules = set(json.loads(out.stdout))
    assert "lss_client.cli" in modules and "click" in modules
    for banned in ("flask", "werkzeug", "pandas", "numpy", "app", "orjson", "granian"):
        assert not {m for m in modules if m == banned or m.startswith(banned + ".")}, banned
