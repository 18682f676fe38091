"""The exact JSON envelope and status code of every success and error path of the API."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from app.maintenance import Maintenance
from app.task import TASKS
from unittests.conftest import MUSCLE, OBESITY

ERROR = "error"
SMALL_LOCATIONS = ["Alabama", "Guam", "National", "Ohio", "Texas", "Wyoming"]


def _submit_one(client) -> None:
    assert client.post("/api/global_mean", json={"question": OBESITY}).status_code == 200


def _shut_down(client) -> None:
    assert client.get("/api/graceful_shutdown").status_code == 200


def _expire_all(client) -> None:
    """Submit one job, then run maintenance as if a year had passed: it is purged."""
    _submit_one(client)
    engine = client.application.extensions["lss.engine"]
    Maintenance(engine, 60).tick(now=time.time() + 365 * 86400)


def _break_journal(client) -> None:
    """Replace the job journal with something that is not a database."""
    engine = client.application.extensions["lss.engine"]
    engine.journal.close()
    path = Path(engine.journal.path)
    for leftover in (Path(f"{path}-wal"), Path(f"{path}-shm")):
        leftover.unlink(missing_ok=True)
    path.write_bytes(b"not a database" * 100)


def _error(reason: str) -> dict[str, str]:
    return {"status": ERROR, "reason": reason}


# (id, setup, method, path, body, status, exact JSON answer)
CASES = [
    *(
        (
            f"submit-{endpoint}",
            None,
            "POST",
            f"/api/{endpoint}",
            {"question": OBESITY, "state": "Ohio"},
            200,
            {"job_id": "job_id_1"},
        )
        for endpoint in TASKS
    ),
    (
        "result-done",
        _submit_one,
        "GET",
        "/api/get_results/job_id_1",
        None,
        200,
        {"status": "done", "data": {"global_mean": 369 / 13}},
    ),
    (
        "result-never-issued",
        None,
        "GET",
        "/api/get_results/job_id_1",
        None,
        404,
        _error("Invalid job_id"),
    ),
    (
        "result-malformed",
        None,
        "GET",
        "/api/get_results/job_id_x",
        None,
        404,
        _error("Invalid job_id"),
    ),
    (
        "result-path-trick",
        _submit_one,
        "GET",
        "/api/get_results/job_id_1.json",
        None,
        404,
        _error("Invalid job_id"),
    ),
    ("jobs-empty", None, "GET", "/api/jobs", None, 200, {"status": "done", "data": []}),
    (
        "jobs-one",
        _submit_one,
        "GET",
        "/api/jobs",
        None,
        200,
        {"status": "done", "data": [{"job_id_1": "done"}]},
    ),
    ("num-jobs", _submit_one, "GET", "/api/num_jobs", None, 200, {"num_jobs": 0}),
    ("shutdown-idle", None, "GET", "/api/graceful_shutdown", None, 200, {"status": "done"}),
    ("shutdown-again", _shut_down, "GET", "/api/graceful_shutdown", None, 200, {"status": "done"}),
    (
        "submit-after-shutdown",
        _shut_down,
        "POST",
        "/api/states_mean",
        {"question": OBESITY},
        503,
        _error("shutting down"),
    ),
    ("read-after-shutdown", _shut_down, "GET", "/api/num_jobs", None, 200, {"num_jobs": 0}),
    ("states", None, "GET", "/api/states", None, 200, {"states": SMALL_LOCATIONS}),
    (
        "body-not-json",
        None,
        "POST",
        "/api/states_mean",
        b"question=obesity",
        400,
        _error("request body must be a JSON object"),
    ),
    (
        "body-json-list",
        None,
        "POST",
        "/api/states_mean",
        [OBESITY],
        400,
        _error("request body must be a JSON object"),
    ),
    (
        "body-json-null",
        None,
        "POST",
        "/api/states_mean",
        b"null",
        400,
        _error("request body must be a JSON object"),
    ),
    (
        "body-empty",
        None,
        "POST",
        "/api/states_mean",
        b"",
        400,
        _error("request body must be a JSON object"),
    ),
    (
        "question-missing",
        None,
        "POST",
        "/api/best5",
        {"state": "Ohio"},
        400,
        _error("missing field 'question'; the valid ones are listed at GET /api/questions"),
    ),
    (
        "question-unknown",
        None,
        "POST",
        "/api/best5",
        {"question": "Percent of cats"},
        400,
        _error(
            "unknown question 'Percent of cats' in field 'question'; "
            "the valid ones are listed at GET /api/questions"
        ),
    ),
    (
        "state-missing",
        None,
        "POST",
        "/api/state_mean",
        {"question": OBESITY},
        400,
        _error("missing field 'state'; the locations are listed at GET /api/states"),
    ),
    (
        "state-not-text",
        None,
        "POST",
        "/api/state_mean",
        {"question": OBESITY, "state": 5},
        400,
        _error("field 'state' must be a string; the locations are listed at GET /api/states"),
    ),
    (
        "state-without-data",
        None,
        "POST",
        "/api/state_diff_from_mean",
        {"question": MUSCLE, "state": "Texas"},
        400,
        _error(
            "field 'state': no data for 'Texas' on this question; "
            "the locations are listed at GET /api/states"
        ),
    ),
    (
        "result-expired",
        _expire_all,
        "GET",
        "/api/get_results/job_id_1",
        None,
        410,
        _error("job job_id_1 expired"),
    ),
    (
        "expired-not-listed",
        _expire_all,
        "GET",
        "/api/jobs",
        None,
        200,
        {"status": "done", "data": []},
    ),
    (
        "malformed-submit-after-shutdown",
        _shut_down,
        "POST",
        "/api/best5",
        b"{not json",
        503,
        _error("shutting down"),
    ),
    (
        "health-after-shutdown",
        _shut_down,
        "GET",
        "/api/health",
        None,
        503,
        _error("shutting down"),
    ),
    (
        "submit-journal-unavailable",
        _break_journal,
        "POST",
        "/api/best5",
        {"question": OBESITY},
        503,
        _error("job journal unavailable: file is not a database"),
    ),
    (
        "result-journal-unavailable",
        _break_journal,
        "GET",
        "/api/get_results/job_id_1",
        None,
        503,
        _error("job journal unavailable: file is not a database"),
    ),
    (
        "recent-bad-limit",
        None,
        "GET",
        "/api/jobs/recent?limit=0",
        None,
        400,
        _error("parameter 'limit' must be a whole number from 1 to 500, got '0'"),
    ),
    (
        "body-too-large",
        None,
        "POST",
        "/api/states_mean",
        {"question": OBESITY, "pad": "x" * 70_000},
        413,
        _error("request body too large (limit 65536 bytes)"),
    ),
    (
        "unknown-path",
        None,
        "GET",
        "/api/nothing_here",
        None,
        404,
        _error("no such endpoint; see the README for the API"),
    ),
    (
        "unknown-root-path",
        None,
        "GET",
        "/nothing-here",
        None,
        404,
        _error("no such endpoint; see the README for the API"),
    ),
    (
        "wrong-method-submit",
        None,
        "GET",
        "/api/states_mean",
        None,
        405,
        _error("method not allowed; allowed: OPTIONS, POST"),
    ),
    (
        "wrong-method-read",
        None,
        "POST",
        "/api/jobs",
        {},
        405,
        _error("method not allowed; allowed: GET, HEAD, OPTIONS"),
    ),
]


@pytest.mark.parametrize(
    ("setup", "method", "path", "body", "status", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_envelope(client, setup, method, path, body, status, expected):
    if setup:
        setup(client)
    if isinstance(body, bytes):
        response = client.open(path, method=method, data=body)
    else:
        response = client.open(path, method=method, json=body)
    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert response.get_json() == expected


def test_questions_lists_the_nine_with_direction(client):
    questions = client.get("/api/questions").get_json()["questions"]
    assert len(questions) == 9
    assert {"question": OBESITY, "best_is": "lowest"} in questions
    assert {"question": MUSCLE, "best_is": "highest"} in questions


def test_health_reports_the_dataset(client):
    health = client.get("/api/health").get_json()
    assert health["status"] == "ok"
    assert health["dataset"]["synthetic"] is False
    assert health["dataset"]["path"].endswith("small.csv")
    assert (health["dataset"]["rows_used"], health["dataset"]["rows_skipped"]) == (18, 2)
    assert health["dataset"]["locations"] == 6


def test_response_keys_keep_the_answer_order(client):
    client.post("/api/states_mean", json={"question": OBESITY})
    raw = client.get("/api/get_results/job_id_1").get_data(as_text=True)
    assert raw.index('"Ohio"') < raw.index('"Texas"') < raw.index('"Guam"')


def test_running_job_envelopes_and_drain(make_app, gated):
    client = make_app(THREADS=1).test_client()
    job_id = client.post("/api/states_mean", json={"question": OBESITY}).get_json()["job_id"]
    assert client.get(f"/api/get_results/{job_id}").get_json() == {"status": "running"}
    assert client.get("/api/num_jobs").get_json() == {"num_jobs": 1}
    assert client.get("/api/jobs").get_json() == {"status": "done", "data": [{job_id: "running"}]}
    assert client.get("/api/graceful_shutdown").get_json() == {"status": "running"}
    assert client.post("/api/states_mean", json={"question": OBESITY}).status_code == 503
    gated.set()
    assert client.application.extensions["lss.engine"].drain(timeout=10)
    assert client.get("/api/graceful_shutdown").get_json() == {"status": "done"}
    assert client.get(f"/api/get_results/{job_id}").get_json()["status"] == "done"
    assert client.get("/api/num_jobs").get_json() == {"num_jobs": 0}
