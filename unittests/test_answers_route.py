"""`GET /api/answers/<endpoint>.json|.csv` (SPEC §18) in-process, on both engines: the answer of
a journaled job, its ETag without a job, its parameters checked as a POST body is, 202 when not
held. The real-server tests (pandas, R's URL, hostile browsers) are in test_answers_server.py."""

from __future__ import annotations

import threading
import time
from urllib.parse import quote, urlencode

import pytest
from flask.testing import FlaskClient

from app.task import TASKS
from unittests.conftest import MUSCLE, OBESITY


def url(endpoint: str, fmt: str = "json", **params: str) -> str:
    return f"/api/answers/{endpoint}.{fmt}?{urlencode({'question': OBESITY, **params})}"


def job_count(client: FlaskClient) -> int:
    return len(client.get("/api/jobs").get_json()["data"])


@pytest.fixture
def client(make_engine_app) -> FlaskClient:
    return make_engine_app(THREADS=2).test_client()


def test_a_json_answer_is_the_done_body_of_a_journaled_job(client: FlaskClient) -> None:
    response = client.get(url("state_trend", state="Ohio", years="2011-2018"))
    assert response.status_code == 200
    where = response.headers["Content-Location"]
    polled = client.get(where)
    assert response.data == polled.data
    assert response.get_json()["status"] == "done"
    assert response.headers["Cache-Control"] == "public, max-age=3600"
    assert response.headers["ETag"].startswith('"') and len(response.headers["ETag"]) == 34
    job_id = where.rpartition("/")[2]
    assert {job_id: "done"} in client.get("/api/jobs").get_json()["data"]
    posted = client.post(
        "/api/state_trend",
        json={"question": OBESITY, "state": "Ohio", "years": [2011, 2018]},
        headers={"Prefer": "wait=5"},
    ).get_json()
    assert posted["data"] == response.get_json()["data"]


@pytest.mark.parametrize("endpoint", list(TASKS))
def test_every_endpoint_answers_json_and_csv(client: FlaskClient, endpoint: str) -> None:
    task = TASKS[endpoint]
    params = {"state": "Ohio"} if task.needs_state else {}
    if task.needs_category:
        params["category"] = "Gender"
    as_json = client.get(url(endpoint, **params))
    assert as_json.status_code == 200, as_json.get_json()
    as_csv = client.get(url(endpoint, "csv", **params))
    assert as_csv.status_code == 200
    assert as_csv.headers["Content-Type"] == "text/csv; charset=utf-8"
    # The same tidy table as get_results gives for the job (of the same request).
    polled = client.get(f"{as_csv.headers['Content-Location']}?format=csv")
    assert as_csv.data == polled.data
    assert as_json.headers["ETag"] != as_csv.headers["ETag"]


@pytest.mark.parametrize(
    ("endpoint", "params", "name"),
    [
        (
            "states_mean",
            {},
            "states_mean-percent-of-adults-aged-18-years-and-older-who-have-obesity.csv",
        ),
        (
            "state_trend",
            {"state": "Ohio", "years": "2011-2018"},
            "state_trend-percent-of-adults-aged-18-years-and-older-who-have-obesity-ohio-"
            "2011-2018.csv",
        ),
        (
            "mean_by_category",
            {"years": "2015", "stratification": "Total:Total"},
            "mean_by_category-percent-of-adults-aged-18-years-and-older-who-have-obesity-2015.csv",
        ),
    ],
)
def test_a_csv_is_a_download_with_a_name_that_says_what_it_holds(
    client: FlaskClient, endpoint: str, params: dict[str, str], name: str
) -> None:
    response = client.get(url(endpoint, "csv", **params))
    assert response.headers["Content-Disposition"] == f'attachment; filename="{name}"'


def test_a_long_question_makes_a_short_ascii_name(client: FlaskClient) -> None:
    response = client.get(url("state_mean", "csv", state="Ohio", question=MUSCLE))
    name = response.headers["Content-Disposition"].split('"')[1]
    assert name.isascii() and len(name) < 100
    assert name.startswith("state_mean-percent-of-adults-who-engage-in-muscle-")
    assert name.endswith("-ohio.csv")


def test_the_etag_names_the_question_not_its_spelling(client: FlaskClient) -> None:
    """Parameter order, `+` or `%20`, one year or a range of one: the same question, one tag;
    another question, format or group: another tag."""
    plain = f"/api/answers/best5.json?question={quote(OBESITY)}&years=2015"
    spelled = (
        f"/api/answers/best5.json?years=2015-2015&question={quote(OBESITY).replace('%20', '+')}"
    )
    tags = {client.get(path).headers["ETag"] for path in (plain, spelled)}
    assert len(tags) == 1
    others = [
        url("best5", years="2016"),
        url("best5", "csv", years="2015"),
        url("best5", years="2015", stratification="Gender:Male"),
        url("worst5", years="2015"),
    ]
    assert len({client.get(path).headers["ETag"] for path in others} | tags) == 5


def test_if_none_match_answers_304_and_makes_no_job(client: FlaskClient) -> None:
    first = client.get(url("global_mean"))
    before = job_count(client)
    for held in (
        first.headers["ETag"],
        f"W/{first.headers['ETag']}",
        f'"x", {first.headers["ETag"]}',
    ):
        again = client.get(url("global_mean"), headers={"If-None-Match": held})
        assert again.status_code == 304 and again.data == b""
        assert again.headers["ETag"] == first.headers["ETag"]
        assert again.headers["Cache-Control"] == "public, max-age=3600"
    assert job_count(client) == before
    other = client.get(url("global_mean"), headers={"If-None-Match": '"something else"'})
    assert other.status_code == 200 and job_count(client) == before + 1


def test_head_answers_the_headers_of_get(client: FlaskClient) -> None:
    got = client.get(url("states_mean", "csv"))
    head = client.head(url("states_mean", "csv"))
    assert head.status_code == 200 and head.data == b""
    assert head.headers["Content-Length"] == got.headers["Content-Length"]
    assert head.headers["ETag"] == got.headers["ETag"]


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("", "missing parameter 'question'"),
        ("question=Percent+of+cats", "unknown question 'Percent of cats' in parameter 'question'"),
        (f"question={quote(OBESITY)}&colour=red", "unknown parameter 'colour'"),
        (f"question={quote(OBESITY)}&state=Ohio", "parameter 'state' is not one of states_mean's"),
        (f"question={quote(OBESITY)}&question=x", "parameter 'question' is given more than once"),
        (f"question={quote(OBESITY)}&years=20x5", "parameter 'years' must be FROM-TO"),
        (f"question={quote(OBESITY)}&years=%C2%B2", "parameter 'years' must be FROM-TO"),
        (f"question={quote(OBESITY)}&years=2015-", "parameter 'years' must be FROM-TO"),
        (f"question={quote(OBESITY)}&years=2016-2015", "parameter 'years': from 2016 is after"),
        (f"question={quote(OBESITY)}&years=1990", "parameter 'years': no rows"),
        (f"question={quote(OBESITY)}&years=0", "parameter 'years': years run from 1"),
        (f"question={quote(OBESITY)}&stratification=Income", "parameter 'stratification' must"),
        (f"question={quote(OBESITY)}&stratification=Income:Rich", "parameter 'stratification': no"),
        ("&".join(["years=1"] * 9), "too many parameters"),
    ],
)
def test_a_bad_query_is_a_400_naming_the_parameter_and_makes_no_job(
    client: FlaskClient, query: str, named: str
) -> None:
    before = job_count(client)
    response = client.get(f"/api/answers/states_mean.json?{query}")
    assert response.status_code == 400
    assert named in response.get_json()["reason"]
    assert response.headers["Cache-Control"] == "no-store"
    assert job_count(client) == before


@pytest.mark.parametrize(
    ("endpoint", "query", "named"),
    [
        ("state_mean", "", "missing parameter 'state'"),
        ("state_mean", "state=Atlantis", "parameter 'state': no data for 'Atlantis'"),
        ("disparities", "state=Ohio", "missing parameter 'category'"),
        ("disparities", "state=Ohio&category=Gender&stratification=Gender:Male", "parameter 's"),
    ],
)
def test_the_parameters_of_an_endpoint_are_its_body_s_fields(
    client: FlaskClient, endpoint: str, query: str, named: str
) -> None:
    response = client.get(f"/api/answers/{endpoint}.csv?question={quote(OBESITY)}&{query}")
    assert response.status_code == 400
    assert named in response.get_json()["reason"]


@pytest.mark.parametrize(
    "path",
    ["/api/answers/nope.json", "/api/answers/best5.xml", "/api/answers/best5", "/api/answers/"],
)
def test_an_unknown_answer_is_a_404_listing_the_endpoints(client: FlaskClient, path: str) -> None:
    response = client.get(f"{path}?question={quote(OBESITY)}")
    assert response.status_code == 404
    assert "best5" in response.get_json()["reason"]


def test_other_methods_are_405_with_allow(client: FlaskClient) -> None:
    for method in ("post", "put", "delete", "patch"):
        response = getattr(client, method)(url("best5"))
        assert response.status_code == 405
        assert response.headers["Allow"] == "GET, HEAD, OPTIONS"
    assert client.options(url("best5")).headers["Allow"] == "GET, HEAD, OPTIONS"


def test_a_failed_job_is_a_500_with_its_reason(make_engine_app, monkeypatch) -> None:
    def broken(self, index):
        raise RuntimeError("broken on purpose")

    monkeypatch.setattr(TASKS["global_mean"], "answer", broken)
    client = make_engine_app(THREADS=2).test_client()
    response = client.get(url("global_mean", "csv"))
    assert response.status_code == 500
    assert "broken on purpose" in response.get_json()["reason"]
    assert response.headers["Cache-Control"] == "no-store" and "ETag" not in response.headers


def test_with_no_wait_a_new_question_is_a_202_and_a_stored_one_a_200(make_engine_app) -> None:
    """LSS_ANSWER_WAIT_S=0: the job's Location to poll; once its answer is stored, at once."""
    client = make_engine_app(THREADS=2, ANSWER_WAIT_S=0).test_client()
    first = client.get(url("rankings", "csv"))
    assert first.status_code == 202
    assert first.headers["Retry-After"] == "1"
    assert first.headers["Cache-Control"] == "no-store"
    location = first.headers["Location"]
    assert location == f"/api/get_results/{first.get_json()['job_id']}"
    assert first.get_json()["status"] == "running"
    deadline = time.monotonic() + 30
    while client.get(location).get_json()["status"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    second = client.get(url("rankings", "csv"))
    assert second.status_code == 200
    assert second.data == client.get(f"{location}?format=csv").data
    third = client.get(url("rankings", "csv"))  # the answer stored: a new job, done at once
    assert third.status_code == 200
    assert third.headers["Content-Location"] != second.headers["Content-Location"]
    jobs = client.get("/api/jobs").get_json()["data"]
    assert len(jobs) == 3 and all(status == "done" for job in jobs for status in job.values())


def test_a_slow_job_is_held_then_answered_202(make_app, gated: threading.Event) -> None:
    client = make_app(THREADS=1, ANSWER_WAIT_S=1).test_client()
    started = time.monotonic()
    response = client.get(url("states_mean"))
    assert 0.9 <= time.monotonic() - started < 5
    assert response.status_code == 202
    gated.set()


def test_no_more_requests_are_held_than_the_server_threads_but_one(make_app, gated) -> None:
    """The POSTs' `Prefer: wait` and the GET answers share the places: one of two threads."""
    client = make_app(THREADS=1, SERVER_THREADS=2, ANSWER_WAIT_S=5).test_client()
    holding = threading.Thread(
        target=client.post,
        args=("/api/states_mean",),
        kwargs={"json": {"question": OBESITY}, "headers": {"Prefer": "wait=5"}},
    )
    holding.start()
    time.sleep(0.3)
    started = time.monotonic()
    response = client.get(url("states_mean", years="2015"))
    assert time.monotonic() - started < 1.0
    assert response.status_code == 202
    gated.set()
    holding.join(10)


def test_a_shutdown_refuses_new_answers_but_not_validators(client: FlaskClient) -> None:
    """No job once a graceful shutdown began (a bad query too: 503, as a POST); a 304 makes
    none, so a cache still revalidates."""
    first = client.get(url("best5"))
    client.get("/api/graceful_shutdown")
    refused = client.get(url("best5"))
    assert refused.status_code == 503 and refused.get_json()["reason"] == "shutting down"
    assert client.get(url("best5", years="1990")).status_code == 503
    cached = client.get(url("best5"), headers={"If-None-Match": first.headers["ETag"]})
    assert cached.status_code == 304


def test_a_query_sent_unencoded_is_read_as_utf_8(client: FlaskClient) -> None:
    raw = f"question={quote(OBESITY)}&state=Saô Tomé".encode().decode("latin-1")
    response = client.get("/api/answers/state_mean.json", environ_overrides={"QUERY_STRING": raw})
    assert response.status_code == 400
    assert "'Saô Tomé'" in response.get_json()["reason"]
