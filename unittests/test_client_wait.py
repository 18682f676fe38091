"""`Prefer: wait` from the client (SPEC §14): against the real server a quick `ask` costs one
HTTP request, one the server does not hold falls back to polling, and a bulk at concurrency 50
comes back complete and right; an old server that ignores the header still answers; the header,
the read timeout and a held failure as the client sends and reads them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from lss_client import AsyncClient, Client, JobFailed, Policy, Question
from lss_client._httpx import httpx
from unittests.conftest import OBESITY
from unittests.support.e2e import server_answer
from unittests.support.scripted_server import QUESTION, scripted_server
from unittests.support.servers import Server, server_starter

KINDS = ["sync", "async"]


class Seen:
    """What went on the wire: (method, path, Prefer header) of every request, in order."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, str | None]] = []

    def add(self, request: httpx.Request) -> None:
        self.requests.append((request.method, request.url.path, request.headers.get("Prefer")))


class Counting(httpx.BaseTransport):
    def __init__(self, seen: Seen) -> None:
        self.inner, self.seen = httpx.HTTPTransport(), seen

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.add(request)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


class AsyncCounting(httpx.AsyncBaseTransport):
    def __init__(self, seen: Seen) -> None:
        self.inner, self.seen = httpx.AsyncHTTPTransport(), seen

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.add(request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def ask(kind: str, url: str, question: Question, policy: Policy | None = None) -> tuple[Any, Seen]:
    """Ask `question` through Client or AsyncClient: (data, what went on the wire)."""
    seen = Seen()
    fields = {
        "category": question.category,
        "years": question.years,
        "stratification": question.stratification,
    }
    if kind == "sync":
        with Client(url, policy=policy, transport=Counting(seen)) as client:
            return client.ask(question.endpoint, question.question, question.state, **fields), seen

    async def run() -> Any:
        async with AsyncClient(url, policy=policy, transport=AsyncCounting(seen)) as client:
            return await client.ask(question.endpoint, question.question, question.state, **fields)

    return asyncio.run(run()), seen


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    starter = server_starter(tmp_path_factory.mktemp("wait"))
    yield next(starter)()
    next(starter, None)


QUICK = [
    Question("best5", OBESITY),
    Question("state_mean", OBESITY, "Ohio", years=(2015, 2020)),
    Question("state_trend", OBESITY, "Ohio"),
    Question("compare_to_national", OBESITY, stratification=("Gender", "Female")),
    Question("disparities", OBESITY, "Ohio", category="Income", years=2020),
]


@pytest.mark.e2e
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("question", QUICK, ids=[q.endpoint for q in QUICK])
def test_a_quick_ask_costs_one_request_and_is_the_servers_answer(
    server: Server, kind: str, question: Question
) -> None:
    data, seen = ask(kind, server.url, question)
    assert seen.requests == [("POST", f"/api/{question.endpoint}", "wait=5")]
    assert json.dumps(data) == json.dumps(
        server_answer(server.url, question.endpoint, question.body())
    )


@pytest.mark.e2e
@pytest.mark.parametrize("kind", KINDS)
def test_an_ask_the_server_does_not_hold_is_polled_for(
    start_server: Callable[..., Server], kind: str
) -> None:
    """One request thread: the server holds no request (it keeps one for reads), so the POST
    answers with the job id at once, as a job slower than the wait would."""
    held_back = start_server(LSS_SERVER_THREADS="1")
    question = QUICK[2]
    data, seen = ask(kind, held_back.url, question)
    assert seen.requests[0] == ("POST", "/api/state_trend", "wait=5")
    assert len(seen.requests) >= 2
    assert {method for method, _, _ in seen.requests[1:]} == {"GET"}
    assert data == server_answer(held_back.url, "state_trend", question.body())


@pytest.mark.e2e
@pytest.mark.parametrize("kind", KINDS)
def test_a_wait_of_zero_sends_no_header_and_polls(server: Server, kind: str) -> None:
    data, seen = ask(kind, server.url, QUICK[0], Policy(wait=0))
    assert seen.requests[0] == ("POST", "/api/best5", None) and len(seen.requests) >= 2
    assert data == server_answer(server.url, "best5", QUICK[0].body())


@pytest.mark.e2e
def test_submit_sends_no_header_and_returns_the_id_at_once(server: Server) -> None:
    seen = Seen()
    with Client(server.url, transport=Counting(seen)) as client:
        job_id = client.submit("state_trend", OBESITY, "Ohio", years=(2012, 2020))
        assert job_id.startswith("job_id_")
        assert client.wait(job_id) == server_answer(
            server.url, "state_trend", {"question": OBESITY, "state": "Ohio", "years": [2012, 2020]}
        )
    assert seen.requests[0] == ("POST", "/api/state_trend", None)


def bulk_questions(count: int) -> list[Question]:
    """`count` questions over the new endpoints and fields, and the nine with a selection."""
    kinds = [
        Question("state_trend", OBESITY, "Ohio"),
        Question("state_trend", OBESITY, "Texas", years=(2013, 2021)),
        Question("compare_to_national", OBESITY),
        Question("compare_to_national", OBESITY, years=2020, stratification=("Gender", "Male")),
        Question("disparities", OBESITY, "Ohio", category="Income"),
        Question("disparities", OBESITY, "National", category="Age (years)", years=(2016, 2022)),
        Question("states_mean", OBESITY, stratification=("Education", "College graduate")),
        Question("state_mean", OBESITY, "Guam", years=(2011, 2015)),
        Question("best5", OBESITY, years=(2020, 2022)),
    ]
    return [kinds[n % len(kinds)] for n in range(count)]


@pytest.mark.e2e
def test_a_bulk_of_500_at_concurrency_50_is_complete_and_right(server: Server) -> None:
    asked = bulk_questions(500)
    seen = Seen()

    async def run() -> list[Any]:
        async with AsyncClient(server.url, transport=AsyncCounting(seen)) as client:
            return await client.bulk(asked, 50)

    answers = asyncio.run(run())
    expected = {q: server_answer(server.url, q.endpoint, q.body()) for q in set(asked)}
    assert [a.question for a in answers] == asked
    for answer in answers:
        assert answer.status == "done", answer.reason
        assert json.dumps(answer.data) == json.dumps(expected[answer.question])
    posts = [r for r in seen.requests if r[0] == "POST"]
    assert len(posts) == 500 and {prefer for _, _, prefer in posts} == {"wait=5"}
    assert len({a.job_id for a in answers}) == 500


@pytest.mark.parametrize("kind", KINDS)
def test_an_old_server_that_ignores_the_header_still_answers(kind: str) -> None:
    with scripted_server(running_polls=2) as old:
        data, seen = ask(kind, old.url, Question("best5", QUESTION, years=(2015, 2022)))
        assert data == {"echo": {"question": QUESTION, "years": [2015, 2022]}}
        assert seen.requests[0][2] == "wait=5" and old.count("GET") == 3


def mocked(answer: dict[str, Any], seen: list[httpx.Request]) -> httpx.MockTransport:
    """A transport that answers every request with `answer`, keeping the requests."""

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=answer)

    return httpx.MockTransport(handle)


def test_a_held_failure_is_job_failed_with_its_id() -> None:
    seen: list[httpx.Request] = []
    failed = {"job_id": "job_id_9", "status": "error", "reason": "broken"}
    with Client("http://lss.test", transport=mocked(failed, seen)) as client:
        with pytest.raises(JobFailed, match="job_id_9 failed: broken") as raised:
            client.ask("best5", OBESITY)
        assert raised.value.job_id == "job_id_9" and len(seen) == 1

    async def run() -> list[Any]:
        async with AsyncClient("http://lss.test", transport=mocked(failed, seen)) as client:
            return await client.bulk([Question("best5", OBESITY)])

    [answer] = asyncio.run(run())
    assert isinstance(answer.error, JobFailed) and answer.job_id == "job_id_9"
    assert len(seen) == 2  # the bulk's one POST: no poll after a held answer


@pytest.mark.parametrize(
    "wait, header, read",
    [(5, "wait=5", 15.0), (0.2, "wait=1", 11.0), (100, "wait=30", 40.0), (0, None, 10.0)],
)
def test_the_header_is_whole_seconds_and_the_read_timeout_allows_the_wait(
    wait: float, header: str | None, read: float
) -> None:
    seen: list[httpx.Request] = []
    done = {"job_id": "job_id_1", "status": "done", "data": {"ok": 1}}
    with Client("http://lss.test", policy=Policy(wait=wait), transport=mocked(done, seen)) as c:
        assert c.ask("best5", OBESITY) == {"ok": 1}
    post = seen[0]
    assert post.headers.get("Prefer") == header
    assert post.extensions["timeout"]["read"] == read
