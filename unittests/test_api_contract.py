"""The exact JSON envelope and status code of every success and error path of the API.

Every test on `client` runs against both engines: the embedded one, and Celery's on a real Redis
with a worker (see `make_engine_app` in conftest).
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest

from app.celery_engine.registry import JobRegistry
from app.questions import QUESTIONS
from app.task import TASKS
from unittests.conftest import MUSCLE, OBESITY, SMALL_CSV
from unittests.support.servers import free_port

ERROR = "error"
SMALL_LOCATIONS = ["Alabama", "Guam", "National", "Ohio", "Texas", "Wyoming"]
#: Stands for the reason an engine gives when its job store cannot be reached (the setup that
#: breaks the store returns it).
STORE_DOWN = "<the engine's job store is unreachable>"


@pytest.fixture
def client(make_engine_app):
    """A client of an app on the small fixture, on each engine in turn."""
    return make_engine_app().test_client()


def _engine(client):
    return client.application.extensions["lss.engine"]


def _finished(client, job_id: str) -> bytes:
    """The raw get_results body of `job_id` once it is no longer running."""
    deadline = time.monotonic() + 10
    while True:
        raw = client.get(f"/api/get_results/{job_id}").get_data()
        if raw != b'{"status":"running"}' or time.monotonic() > deadline:
            return raw
        time.sleep(0.005)


def _submit_one(client) -> None:
    """Submit one job and wait until it finished (at once on the synchronous embedded app)."""
    response = client.post("/api/global_mean", json={"question": OBESITY})
    assert response.status_code == 200
    _finished(client, response.get_json()["job_id"])


def _shut_down(client) -> None:
    assert client.get("/api/graceful_shutdown").status_code == 200


def _expire_all(client) -> None:
    """Submit one job, then run maintenance as if a year had passed: it is purged."""
    _submit_one(client)
    engine = _engine(client)
    later = time.time() + 365 * 86400
    engine.purge(now=later)


def _break_store(client) -> str:
    """Make the engine's job store unreachable; the reason the engine then answers with.

    Embedded: the journal is replaced with something that is not a database. Celery: the
    engine's Redis is one on a port where nothing listens.
    """
    engine = _engine(client)
    if engine.name == "celery":
        port = free_port()
        engine.registry = JobRegistry(f"redis://127.0.0.1:{port}/1")
        return f"job store unavailable: Redis at 127.0.0.1:{port}/1 does not answer"
    engine.journal.close()
    path = Path(engine.journal.path)
    for leftover in (Path(f"{path}-wal"), Path(f"{path}-shm")):
        leftover.unlink(missing_ok=True)
    path.write_bytes(b"not a database" * 100)
    return "job journal unavailable: file is not a database"


def _error(reason: str) -> dict[str, str]:
    return {"status": ERROR, "reason": reason}


_FIELDS_AT = {
    "years": "[from, to]: two whole numbers with from <= to (one year: [y, y])",
    "stratification": '{"category": "...", "stratum": "..."}, two strings',
    "categories": "'Age (years)', 'Gender', 'Income', 'Total'",
}


#: A body every endpoint takes (the extra fields are ignored by those that do not need them).
_EVERY_FIELD = {"question": OBESITY, "state": "Ohio", "category": "Gender"}
_TOTAL = {"category": "Total", "stratum": "Total"}
#: A field value in a case: leave that field out of the body.
_DROP = object()


def _bad_field(name: str, endpoint: str, fields: dict, reason: str) -> tuple:
    """A case of a body whose optional field is bad: 400 and a reason naming the field."""
    body = {key: value for key, value in (_EVERY_FIELD | fields).items() if value is not _DROP}
    return (f"bad-{name}-{endpoint}", None, "POST", f"/api/{endpoint}", body, 400, _error(reason))


#: Bad years, stratification and category, on old and new endpoints alike.
FIELD_CASES = [
    *(
        _bad_field(
            "years-shape",
            endpoint,
            {"years": years},
            f"field 'years' must be {_FIELDS_AT['years']}, got {years!r}",
        )
        for endpoint in ("states_mean", "state_trend")
        for years in ([2015], [2015, 2016, 2017], [True, 2016], [2015.5, 2016], "2015", {"from": 1})
    ),
    *(
        _bad_field(name, endpoint, {"years": years}, reason)
        for endpoint in ("state_mean", "compare_to_national", "disparities")
        for name, years, reason in (
            ("years-reversed", [2016, 2015], "field 'years': from 2016 is after to 2015"),
            ("years-range", [0, 2015], "field 'years': years run from 1 to 9999, got [0, 2015]"),
            (
                "years-without-rows",
                [2012, 2014],
                "field 'years': no rows for this question in 2012-2014; "
                "its years are 2011, 2015, 2016, 2017, 2018, 2022",
            ),
        )
    ),
    *(
        _bad_field(
            "stratification-shape",
            endpoint,
            {"stratification": group},
            f"field 'stratification' must be {_FIELDS_AT['stratification']}, got {group!r}",
        )
        for endpoint in ("best5", "state_trend")
        for group in (
            "Total",
            ["Total", "Total"],
            {"category": "Total"},
            {"category": "Total", "stratum": 1},
            {"category": "Total", "stratum": "Total", "more": "x"},
        )
    ),
    *(
        _bad_field(name, endpoint, {"stratification": group}, reason)
        for endpoint in ("mean_by_category", "compare_to_national")
        for name, group, reason in (
            (
                "stratification-category",
                {"category": "Planet", "stratum": "Mars"},
                "field 'stratification': no rows for category 'Planet' on this question; "
                f"its categories are {_FIELDS_AT['categories']}",
            ),
            (
                "stratification-stratum",
                {"category": "Gender", "stratum": "Other"},
                "field 'stratification': no rows for stratum 'Other' of 'Gender' on this "
                "question; its strata are 'Female', 'Male'",
            ),
        )
    ),
    _bad_field(
        "category-missing",
        "disparities",
        {"category": _DROP},
        f"missing field 'category'; the categories of this question are {_FIELDS_AT['categories']}",
    ),
    _bad_field(
        "category-not-text",
        "disparities",
        {"category": ["Gender"]},
        "field 'category' must be a string; the categories of this question are "
        + _FIELDS_AT["categories"],
    ),
    _bad_field(
        "category-unknown",
        "disparities",
        {"category": "Planet"},
        "field 'category': no rows for 'Planet'; the categories of this question are "
        + _FIELDS_AT["categories"],
    ),
    _bad_field(
        "stratification-not-taken",
        "disparities",
        {"stratification": {"category": "Gender", "stratum": "Male"}},
        "field 'stratification' does not apply to disparities, which compares every stratum of "
        "the field 'category'",
    ),
    _bad_field(
        "selection-without-state-rows",
        "state_mean",
        {"state": "Texas", "stratification": {"category": "Gender", "stratum": "Male"}},
        "field 'state': no data for 'Texas' on this question with stratification Gender / Male; "
        "the locations are listed at GET /api/states",
    ),
    _bad_field(
        "selection-without-rows",
        "global_mean",
        {"years": [2018, 2018], "stratification": {"category": "Total", "stratum": "Total"}},
        "fields 'years' and 'stratification': no row with a value for this question with "
        "years 2018-2018 and stratification Total / Total",
    ),
]

# (id, setup, method, path, body, status, exact JSON answer)
CASES = [
    *(
        (
            f"submit-{endpoint}",
            None,
            "POST",
            f"/api/{endpoint}",
            _EVERY_FIELD,
            200,
            {"job_id": "job_id_1"},
        )
        for endpoint in TASKS
    ),
    *(
        (
            f"submit-{endpoint}-selection",
            None,
            "POST",
            f"/api/{endpoint}",
            {**_EVERY_FIELD, "years": [2015, 2015]}
            | ({} if endpoint == "disparities" else {"stratification": _TOTAL}),
            200,
            {"job_id": "job_id_1"},
        )
        for endpoint in TASKS
    ),
    *FIELD_CASES,
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
        "submit-store-unavailable",
        _break_store,
        "POST",
        "/api/best5",
        {"question": OBESITY},
        503,
        _error(STORE_DOWN),
    ),
    (
        "result-store-unavailable",
        _break_store,
        "GET",
        "/api/get_results/job_id_1",
        None,
        503,
        _error(STORE_DOWN),
    ),
    (
        "jobs-store-unavailable",
        _break_store,
        "GET",
        "/api/jobs",
        None,
        503,
        _error(STORE_DOWN),
    ),
    (
        "num-jobs-store-unavailable",
        _break_store,
        "GET",
        "/api/num_jobs",
        None,
        503,
        _error(STORE_DOWN),
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
    note = setup(client) if setup else None
    if expected.get("reason") == STORE_DOWN:
        expected = _error(note)
    if isinstance(body, bytes):
        response = client.open(path, method=method, data=body)
    else:
        response = client.open(path, method=method, json=body)
    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert response.get_json() == expected


def test_questions_lists_the_nine_with_direction_years_and_strata(client):
    questions = client.get("/api/questions").get_json()["questions"]
    assert [q["question"] for q in questions] == list(QUESTIONS)
    by_text = {q["question"]: q for q in questions}
    # The small fixture's years and groups (a suppressed row counts: its group has rows), the
    # categories in SPEC §2's order, not by name; Gender's strata as §2 lists them, not by name.
    assert by_text[OBESITY] == {
        "question": OBESITY,
        "best_is": "lowest",
        "years": [2011, 2015, 2016, 2017, 2018, 2022],
        "categories": [
            {"category": "Total", "strata": ["Total"]},
            {"category": "Age (years)", "strata": ["18 - 24"]},
            {"category": "Gender", "strata": ["Male", "Female"]},
            {"category": "Income", "strata": ["$75,000 or greater"]},
        ],
    }
    assert by_text[MUSCLE] == {
        "question": MUSCLE,
        "best_is": "highest",
        "years": [2019],
        "categories": [{"category": "Total", "strata": ["Total"]}],
    }
    absent = [q for q in questions if q["question"] not in (OBESITY, MUSCLE)]
    assert {(q["best_is"], tuple(q["years"]), tuple(q["categories"])) for q in absent} <= {
        ("lowest", (), ()),
        ("highest", (), ()),
    }


def test_health_reports_the_dataset(client):
    health = client.get("/api/health").get_json()
    assert health["status"] == "ok", health
    assert health["engine"] == _engine(client).name
    assert health["dataset"]["synthetic"] is False
    assert health["dataset"]["path"].endswith("small.csv")
    assert (health["dataset"]["rows_used"], health["dataset"]["rows_skipped"]) == (18, 2)
    assert health["dataset"]["locations"] == 6
    # What the pages' banner names: the span of the rows' years and the file's sha256.
    assert health["dataset"]["years"] == [2011, 2022]
    assert health["dataset"]["sha256"] == hashlib.sha256(SMALL_CSV.read_bytes()).hexdigest()
    # Its two rows without a value are footnoted as the CDC footnotes a withheld value.
    assert health["dataset"]["suppression_footnotes"] == [
        "Data not available because sample size is insufficient."
    ]


def test_response_keys_keep_the_answer_order(client):
    client.post("/api/states_mean", json={"question": OBESITY})
    raw = _finished(client, "job_id_1").decode()
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
