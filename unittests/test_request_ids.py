"""X-Request-ID (SPEC §17): taken from the request when it is a sensible one, else made; sent
back on every answer, whoever answered it; the route labels the metrics count by."""

from __future__ import annotations

import threading

import pytest

from app.tracing.ids import ACCEPTED, RequestIds
from app.tracing.layer import UNMATCHED
from unittests.conftest import OBESITY

TOKEN = "s3cret-token"
JOB = {"question": OBESITY}


@pytest.mark.parametrize(
    "offered",
    ["a", "req-1", "A.b_c:d/e+f=g-h", "0" * 128, "550e8400-e29b-41d4-a716-446655440000"],
)
def test_a_sensible_id_is_taken_as_it_is(make_app, offered):
    client = make_app().test_client()
    for response in (
        client.post("/api/global_mean", json=JOB, headers={"X-Request-ID": offered}),
        client.get("/api/health", headers={"X-Request-ID": offered}),
    ):
        assert response.headers["X-Request-ID"] == offered


@pytest.mark.parametrize(
    "offered",
    ["", "0" * 129, "a b", "a,b", "a;b", 'a"b', "é", "a\tb", "<script>", "a%0Ab", "(x)", "a*b"],
)
def test_any_other_is_replaced_by_a_made_one(make_app, offered):
    client = make_app().test_client()
    made = client.get("/api/num_jobs", headers={"X-Request-ID": offered}).headers["X-Request-ID"]
    assert made != offered
    assert ACCEPTED.fullmatch(made)


def test_made_ids_are_unique_across_threads_and_processes():
    ids = RequestIds()
    made: list[str] = []

    def take() -> None:
        made.extend(ids.take(None) for _ in range(2000))

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(made)) == 16_000
    # Another process (each server process makes its own) has another prefix.
    other = RequestIds().take(None)
    assert other.rsplit("-", 1)[0] != made[0].rsplit("-", 1)[0]


#: (method, path, headers, body, expected status): one request of each kind of answer.
ANSWERS = [
    ("POST", "/api/global_mean", {}, JOB, 200),  # the job gateway
    ("POST", "/api/global_mean", {}, {"question": "no such"}, 400),
    ("GET", "/api/get_results/job_id_1", {}, None, 200),
    ("HEAD", "/api/get_results/job_id_1", {}, None, 200),
    ("GET", "/api/get_results/job_id_99", {}, None, 404),
    ("GET", "/api/global_mean", {}, None, 405),
    ("OPTIONS", "/api/global_mean", {}, None, 200),
    ("GET", "/api/health", {}, None, 200),  # Flask
    ("GET", "/api/jobs", {}, None, 200),  # streamed
    ("GET", "/", {}, None, 200),  # a page
    ("GET", "/pages/static/js/dashboard.js", {}, None, 200),
    ("GET", "/no/such/thing", {}, None, 404),
    ("POST", "/api/num_jobs", {}, None, 405),
    ("GET", "/metrics", {}, None, 200),
    ("GET", "/api/health", {"Host": "evil.example"}, None, 421),  # the policy's refusals
    ("POST", "/api/global_mean", {"Origin": "http://evil.example"}, JOB, 403),
    ("GET", "/api/graceful_shutdown", {}, None, 401),
]


@pytest.mark.parametrize(("method", "path", "headers", "body", "status"), ANSWERS)
def test_every_answer_sends_the_id_back(make_app, method, path, headers, body, status):
    client = make_app(ADMIN_TOKEN=TOKEN).test_client()
    client.post("/api/global_mean", json=JOB)  # job_id_1
    response = client.open(
        path, method=method, json=body, headers={**headers, "X-Request-ID": f"id-{status}"}
    )
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.headers["X-Request-ID"] == f"id-{status}"
    made = client.open(path, method=method, json=body, headers=headers)
    assert ACCEPTED.fullmatch(made.headers["X-Request-ID"])


def test_answers_are_labelled_by_route_never_by_raw_path(make_app):
    app = make_app()
    routes = app.extensions["lss.trace"]._routes
    assert routes.of("/api/global_mean") == "/api/global_mean"
    assert routes.of("/api/get_results/job_id_123") == "/api/get_results/{job_id}"
    assert routes.of("/api/get_results/../../etc") == "/api/get_results/{job_id}"
    assert routes.of("/states/Ohio") == "/states/{name}"
    assert routes.of("/pages/static/vendor/vega/vega.min.js") == "/pages/static/{filename}"
    assert routes.of("/api/health") == "/api/health"
    assert routes.of("/metrics") == "/metrics"
    assert routes.of("/wp-admin/setup.php") == UNMATCHED
    assert routes.of("/api/health/") == UNMATCHED
