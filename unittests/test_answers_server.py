"""GET answers (SPEC §18) against real server processes, on both engines where the engine
matters: pandas.read_csv of the URL for real, a 202 with its Location and Retry-After when not
held, a 304 that makes no job, an ETag that follows the dataset; the rate limit and the live-jobs
cap bound GETs as they bound POSTs (a page of another site in a real Chromium:
unittests/browser/test_answers.py)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlencode

import pandas as pd
import pytest
import requests

from unittests.conftest import BUNDLED_CSV, OBESITY, SMALL_CSV
from unittests.support.celery_stack import RedisServer, WorkerProcess
from unittests.support.servers import Server

pytestmark = pytest.mark.e2e


def answer_url(server: Server, endpoint: str, fmt: str = "csv", **params: str) -> str:
    return f"{server.url}/api/answers/{endpoint}.{fmt}?{urlencode({'question': OBESITY, **params})}"


def issued(server: Server) -> int:
    """Jobs the service ever issued (health's count, on either engine)."""
    return requests.get(f"{server.url}/api/health", timeout=10).json()["jobs_issued"]


@pytest.fixture(params=["embedded", "celery"])
def engine_server(
    request: pytest.FixtureRequest, start_server: Callable[..., Server], tmp_path: Path
) -> Iterator[Callable[..., Server]]:
    """Start a server on the embedded engine, or on Celery (a real Redis and worker process)."""
    if request.param == "embedded":
        yield start_server
        return
    redis: RedisServer = request.getfixturevalue("redis_server")
    broker = redis.url(5)
    redis.client(5).flushdb()
    worker = WorkerProcess(tmp_path / "worker", broker)
    worker.wait_ready()
    try:
        yield lambda **env: start_server(LSS_BROKER_URL=broker, **env)
    finally:
        worker.close()


def test_pandas_reads_every_answer_from_its_url(engine_server: Callable[..., Server]) -> None:
    server = engine_server()
    states = pd.read_csv(answer_url(server, "states_mean"))
    assert list(states.columns) == ["location", "value", "question", "years", "stratification"]
    assert states["value"].is_monotonic_increasing and len(states) == 55
    trend = pd.read_csv(answer_url(server, "state_trend", state="Ohio", years="2011-2022"))
    assert list(trend["year"]) == list(range(2011, 2023))
    assert set(trend["years"]) == {"2011-2022"} and trend["slope_per_year"].nunique() == 1
    by_group = pd.read_csv(answer_url(server, "mean_by_category"))
    assert {"location", "category", "stratum", "value"} <= set(by_group.columns)
    assert by_group["value"].dtype == float
    as_json = requests.get(answer_url(server, "states_mean", "json"), timeout=30).json()
    assert as_json["data"] == dict(zip(states["location"], states["value"], strict=True))


def test_with_no_wait_a_new_question_is_202_to_poll(engine_server) -> None:
    server = engine_server(LSS_ANSWER_WAIT_S="0", LSS_WORKERS="1")
    response = requests.get(answer_url(server, "rankings", years="2015-2022"), timeout=30)
    assert response.status_code == 202
    assert response.headers["Retry-After"] == "1"
    location = response.headers["Location"]
    assert location == f"/api/get_results/{response.json()['job_id']}"
    deadline = time.monotonic() + 60
    while (body := requests.get(f"{server.url}{location}", timeout=10).json())["status"] != "done":
        assert time.monotonic() < deadline, body
        time.sleep(0.1)
    again = requests.get(answer_url(server, "rankings", years="2015-2022"), timeout=30)
    assert again.status_code == 200  # its answer is stored: at once, with no wait
    polled = requests.get(f"{server.url}{location}?format=csv", timeout=10)
    assert again.content == polled.content


def test_a_revalidation_is_304_and_makes_no_job(engine_server) -> None:
    server = engine_server()
    first = requests.get(answer_url(server, "best5", "json"), timeout=30)
    assert first.status_code == 200
    before = issued(server)
    for _ in range(20):
        again = requests.get(
            answer_url(server, "best5", "json"),
            headers={"If-None-Match": first.headers["ETag"]},
            timeout=10,
        )
        assert again.status_code == 304 and again.content == b""
        assert again.headers["Cache-Control"] == "public, max-age=3600"
    assert issued(server) == before
    server.stop()
    log = server.log_file.read_text()
    assert log.count("<- GET /api/answers/best5.json 304") == 20


def test_the_etag_changes_with_the_dataset(start_server: Callable[..., Server]) -> None:
    """The same question (valid on both files) on the sample and on the small fixture."""
    tags = []
    for data in (BUNDLED_CSV, SMALL_CSV):
        server = start_server(LSS_DATA_FILE=str(data))
        response = requests.get(answer_url(server, "global_mean", "json"), timeout=30)
        assert response.status_code == 200
        tags.append(response.headers["ETag"])
        cached = requests.get(
            answer_url(server, "global_mean", "json"), headers={"If-None-Match": tags[0]}
        )
        assert cached.status_code == (304 if data == BUNDLED_CSV else 200)
    assert tags[0] != tags[1]


def fetched(site: str, mode: str, dest: str, **more: str) -> dict[str, str]:
    """The Fetch Metadata a browser sends (and more headers)."""
    return {"Sec-Fetch-Site": site, "Sec-Fetch-Mode": mode, "Sec-Fetch-Dest": dest, **more}


#: What a page of another site makes a browser send, by the way it asks.
BROWSER_HEADERS = {
    "image": fetched("cross-site", "no-cors", "image"),
    "script": fetched("cross-site", "no-cors", "script"),
    "iframe": fetched("cross-site", "navigate", "iframe"),
    "fetch": fetched("cross-site", "cors", "empty", Origin="http://evil.example"),
    "same-site": fetched("same-site", "no-cors", "image"),
    "origin-only": {"Origin": "null"},
    "link-with-origin": fetched("cross-site", "navigate", "document", Origin="http://x.example"),
}


def test_hostile_cross_site_requests_make_no_job(start_server: Callable[..., Server]) -> None:
    server = start_server()
    for kind, headers in BROWSER_HEADERS.items():
        for method in (requests.get, requests.head):
            response = method(answer_url(server, "states_mean"), headers=headers, timeout=10)
            assert response.status_code == 403, kind
            assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert issued(server) == 0
    followed = fetched("cross-site", "navigate", "document", **{"Sec-Fetch-User": "?1"})
    for headers in (followed, {"Sec-Fetch-Site": "none"}, {"Sec-Fetch-Site": "same-origin"}):
        assert requests.get(answer_url(server, "best5"), headers=headers, timeout=30).ok
    assert issued(server) == 3


def test_a_listed_origin_reads_answers_with_their_headers(start_server) -> None:
    server = start_server(LSS_CORS_ORIGINS="https://notebooks.example")
    headers = fetched("cross-site", "cors", "empty", Origin="https://notebooks.example")
    response = requests.get(answer_url(server, "best5", "json"), headers=headers, timeout=30)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "https://notebooks.example"
    exposed = response.headers["Access-Control-Expose-Headers"]
    assert {"ETag", "Location", "Content-Disposition"} <= set(exposed.split(", "))


def test_the_rate_limit_bounds_gets_but_not_revalidations(start_server) -> None:
    server = start_server(LSS_RATE_LIMIT="3/minute", LSS_WORKERS="1")
    answers = [
        requests.get(answer_url(server, "best5", years=str(year)), timeout=30)
        for year in (2015, 2016, 2017, 2018)
    ]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert int(answers[3].headers["Retry-After"]) >= 1
    cached = requests.get(
        answer_url(server, "best5", years="2015"),
        headers={"If-None-Match": answers[0].headers["ETag"]},
        timeout=10,
    )
    assert cached.status_code == 304  # a 304 is no job: not refused
    posted = requests.post(f"{server.url}/api/best5", json={"question": OBESITY}, timeout=10)
    assert posted.status_code == 429  # one limit for POSTs and GETs
    assert issued(server) == 3


def test_the_live_jobs_cap_bounds_gets(start_server) -> None:
    server = start_server(LSS_MAX_LIVE_JOBS="2", LSS_WORKERS="1")
    codes = [
        requests.get(answer_url(server, "global_mean", years=str(year)), timeout=30).status_code
        for year in (2015, 2016, 2017)
    ]
    assert codes == [200, 200, 429]
    assert issued(server) == 2


# -- a real browser on another site ----------------------------------------------------------------
