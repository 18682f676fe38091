"""Hygiene (SPEC §16.5): numeric parameters, CSV cells a spreadsheet would run, one log line per
entry and exit whatever a request holds, the headers of every answer, `years` as whole floats,
and a log file that cannot be written (a full tmpfs, root).
"""

from __future__ import annotations

import csv
import io
import logging
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from app import shutdown
from app.export import cell
from app.openapi.document import build_document
from unittests.conftest import OBESITY, SMALL_CSV
from unittests.support.servers import Server
from unittests.support.small_disk import fill, small_disk

#: A log line: UTC time, level, [process thread], message (test_logs.py's pattern).
LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (INFO|ERROR|WARNING) \[\d+ [^\]]+\] ")
FORGED = "2026-01-01T00:00:00.000Z ERROR [1 MainThread] FORGED"


# -- numeric query parameters ------------------------------------------------------------------


@pytest.mark.parametrize("limit", ["%C2%B2", "%EF%BC%99", "%D9%A3", "1" * 5000, "-1", "1.0", " 5"])
def test_a_limit_that_is_not_ascii_digits_is_a_400(client, limit):
    response = client.get(f"/api/jobs/recent?limit={limit}")
    assert response.status_code == 400
    assert "parameter 'limit' must be a whole number" in response.get_json()["reason"]


def test_a_prefer_wait_that_is_not_ascii_digits_is_ignored(client):
    for wait in ("²", "9" * 5000, "-1"):
        response = client.post(
            "/api/global_mean", json={"question": OBESITY}, headers={"Prefer": f"wait={wait}"}
        )
        assert response.status_code == 200


# -- CSV cells ---------------------------------------------------------------------------------


def test_cells_that_would_run_as_formulas_are_prefixed_and_numbers_stay_numbers():
    for text in ("=1+2", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tx", "\rx", "-", "+"):
        assert cell(text) == "'" + text
    for kept in ("-3.5", "+4", "-1e-3", ".5", "Ohio", "18 - 24", "$75,000 or greater", ""):
        assert cell(kept) == kept
    for number in (-3.5, 0, -7, 2.5e-9, None, True):
        assert cell(number) is number


@pytest.fixture
def planted_csv(tmp_path: Path) -> Path:
    """The small fixture with two locations renamed to formulas, as a hostile file could."""
    text = SMALL_CSV.read_text()
    text = text.replace(",Wyoming,", ',"=HYPERLINK(""http://evil.example"",""x"")",')
    text = text.replace(",Texas,", ",@SUM(1+1),")
    path = tmp_path / "planted.csv"
    path.write_text(text)
    return path


def test_the_service_csv_neutralises_planted_formulas(make_app, planted_csv):
    client = make_app(DATA_FILE=str(planted_csv)).test_client()
    for endpoint in ("states_mean", "diff_from_mean", "mean_by_category"):
        job_id = client.post(f"/api/{endpoint}", json={"question": OBESITY}).get_json()["job_id"]
        text = client.get(f"/api/get_results/{job_id}?format=csv").get_data(as_text=True)
        rows = list(csv.reader(io.StringIO(text)))[1:]
        locations = {row[0] for row in rows}
        assert """'=HYPERLINK("http://evil.example","x")""" in locations
        assert "'@SUM(1+1)" in locations
        assert not any(field.startswith(("=", "@")) for row in rows for field in row)
        values = [float(row[-1]) for row in rows]  # every value still a plain number
        if endpoint == "diff_from_mean":
            assert any(value < 0 for value in values)
            assert any(row[-1].startswith("-") for row in rows)  # negative, not prefixed


# -- one line per entry and exit ---------------------------------------------------------------


def test_a_request_cannot_forge_a_log_line(start_server: Callable[..., Server]):
    server = start_server()
    url = server.url
    requests.post(f"{url}/api/states_mean", data=f'{{"question": "x\n{FORGED}"}}', timeout=10)
    requests.post(f"{url}/api/states_mean", data=f"\r\n{FORGED}\u2028{FORGED}", timeout=10)
    requests.post(f"{url}/api/nope%0a{FORGED.replace(' ', '%20')}", data=b"{}", timeout=10)
    requests.get(f"{url}/api/get_results/job_id_1%0d%0a{FORGED.replace(' ', '%20')}", timeout=10)
    requests.get(f"{url}/api/jobs%0a{FORGED.replace(' ', '%20')}", timeout=10)
    requests.get(f"{url}/api/health", headers={"Host": "evil\u0085.example"}, timeout=10)
    server.stop()
    lines = server.log_file.read_text().splitlines()
    assert all(LINE.match(line) for line in lines), [line for line in lines if not LINE.match(line)]
    assert not any(line.startswith(FORGED) for line in lines)
    forged = [line for line in lines if "FORGED" in line]
    # The bodies' entries (2), and the entry and exit of each forged path (3 x 2): no other line.
    assert len(forged) == 8, forged
    assert any('body={"question": "x\\x0a2026-01-01' in line for line in forged)
    assert any("\\x0d\\x0a2026" in line and "\\u2028" in line for line in forged)


def test_log_records_with_newlines_stay_one_line_and_tracebacks_keep_theirs(make_app, tmp_path):
    app = make_app()
    log = logging.getLogger("lss")
    log.info("path %s", f"/x\n{FORGED}")
    try:
        raise KeyError(f"boom\n{FORGED}")
    except KeyError:
        log.exception("failed on %s", f"/y\r\n{FORGED}")
    shutdown(app)
    text = (tmp_path / "webserver.log").read_text()
    assert f"path /x\\x0a{FORGED}" in text
    assert f"failed on /y\\x0d\\x0a{FORGED}" in text
    assert "Traceback (most recent call last):" in text  # its own lines, as always


# -- the headers of every answer ---------------------------------------------------------------


def test_every_answer_is_nosniff_and_pages_keep_their_referrer_and_frames(
    start_server: Callable[..., Server],
):
    server = start_server(LSS_MAX_BODY_BYTES="100")
    url = server.url
    body = {"question": OBESITY}
    job_id = requests.post(f"{url}/api/states_mean", json=body, timeout=10).json()["job_id"]
    done = requests.get(f"{url}/api/get_results/{job_id}", timeout=10)
    asked = [
        ("POST", "/api/states_mean", body, {}),
        ("POST", "/api/states_mean", {"question": "x" * 200}, {}),  # 413
        ("POST", "/api/states_mean", {"question": "no"}, {}),  # 400
        ("GET", "/api/states_mean", None, {}),  # 405
        ("OPTIONS", "/api/states_mean", None, {}),
        ("GET", f"/api/get_results/{job_id}", None, {}),
        ("GET", f"/api/get_results/{job_id}?format=csv", None, {}),
        ("HEAD", f"/api/get_results/{job_id}", None, {}),
        ("GET", f"/api/get_results/{job_id}", None, {"If-None-Match": done.headers["ETag"]}),
        ("GET", "/api/get_results/job_id_99", None, {}),  # 404
        ("GET", "/api/health", None, {}),
        ("GET", "/api/jobs", None, {}),
        ("GET", "/api/jobs/recent?limit=x", None, {}),  # 400 from Flask
        ("GET", "/api/openapi.json", None, {}),
        ("GET", "/api/nowhere", None, {}),  # Flask's 404
        ("DELETE", "/api/health", None, {}),  # Flask's 405
        ("GET", "/pages/static/js/lss.js", None, {}),
        ("GET", "/pages/static/nothing.js", None, {}),
        ("GET", "/api/health", None, {"Host": "evil.example"}),  # 421
        ("POST", "/api/states_mean", body, {"Origin": "https://evil.example"}),  # 403
    ]
    pages = ["/", "/states/Ohio", "/states/Atlantis", "/jobs", "/api/docs"]
    asked += [("GET", page, None, {}) for page in pages]
    statuses = set()
    for method, path, json_body, headers in asked:
        answer = requests.request(
            method, f"{url}{path}", json=json_body, headers=headers, timeout=10
        )
        statuses.add(answer.status_code)
        assert answer.headers.get("X-Content-Type-Options") == "nosniff", (method, path)
        if path in pages:
            assert answer.headers["Referrer-Policy"] == "same-origin", path
            assert answer.headers["X-Frame-Options"] == "DENY", path
    assert {200, 304, 400, 403, 404, 405, 413, 421} <= statuses
    raw = requests.get(f"{url}/", timeout=10).raw.headers.getlist("X-Content-Type-Options")
    assert raw == ["nosniff"]  # once, not once per layer


# -- years -------------------------------------------------------------------------------------


def test_years_take_whole_numbers_written_as_floats(make_engine_app):
    client = make_engine_app().test_client()

    def answer(years: list) -> tuple[int, object]:
        response = client.post("/api/state_trend", json={**_TREND, "years": years})
        if response.status_code != 200:
            return response.status_code, response.get_json()["reason"]
        job_id = response.get_json()["job_id"]
        deadline = time.monotonic() + 10
        while (result := client.get(f"/api/get_results/{job_id}").get_json())[
            "status"
        ] == "running":
            assert time.monotonic() < deadline
            time.sleep(0.01)
        return 200, result["data"]

    assert answer([2015.0, 2017.0]) == answer([2015, 2017])
    assert answer([2015.0, 2017.0])[0] == 200
    status, reason = answer([2015.5, 2017])
    assert status == 400 and "field 'years' must be" in reason
    status, reason = answer([1e300, 2017])
    assert status == 400 and "years run from 1 to 9999" in reason


_TREND = {"question": OBESITY, "state": "Ohio"}


def test_the_openapi_document_bounds_years():
    years = build_document(["Ohio"])["components"]["schemas"]
    found = [
        schema["properties"]["years"]
        for schema in years.values()
        if isinstance(schema, dict) and "years" in schema.get("properties", {})
    ]
    bodies = [s for s in found if s.get("minItems") == 2]
    assert bodies, "no body schema with years"
    for schema in bodies:
        assert schema["items"] == {"type": "integer", "minimum": 1, "maximum": 9999}


# -- a log that cannot be written --------------------------------------------------------------


def test_a_full_log_disk_costs_a_line_a_minute_and_shows_in_health(
    tmp_path: Path, start_server: Callable[..., Server]
):
    with small_disk(tmp_path / "logdisk", 1) as disk:
        log_file = disk / "webserver.log"
        server = start_server(LSS_LOG_FILE=str(log_file), LSS_WORKERS="1")
        fill(disk)
        body = {"question": OBESITY}
        deadline = time.monotonic() + 3
        with requests.Session() as session:
            while time.monotonic() < deadline:  # hundreds of lines that cannot be written
                assert session.post(f"{server.url}/api/global_mean", json=body).status_code == 200
                health = session.get(f"{server.url}/api/health")
                assert health.status_code == 200
        complaints = [line for line in server.stderr.splitlines() if "cannot write the log" in line]
        assert len(complaints) == 1, server.stderr
        assert str(log_file) in complaints[0]
        assert health.json()["log"] == f"{log_file}: No space left on device"
        assert "Traceback" not in server.stderr
        (disk / "filler").unlink()
        requests.get(f"{server.url}/api/health", timeout=10)
        time.sleep(0.2)
        assert "log" not in requests.get(f"{server.url}/api/health", timeout=10).json()
        assert server.stop() == 0
        assert "line(s) were lost while it could not" in log_file.read_text()


# -- on real CDC rows --------------------------------------------------------------------------

#: The shared slice of the real export: beside the checkout's parent, or at its usual place.
REAL_SLICE = next(
    (
        path
        for path in (
            Path(__file__).resolve().parents[2] / "shared" / "data" / "cdc-real-slice.csv",
            Path("/work/shared/data/cdc-real-slice.csv"),
        )
        if path.is_file()
    ),
    None,
)


@pytest.mark.skipif(REAL_SLICE is None, reason="the real CDC slice (shared/data) is not here")
def test_csv_of_real_rows_has_no_formula_and_keeps_its_numbers(make_app):
    """Every endpoint's CSV of a real question: no field a spreadsheet would run, the values
    numbers (negative ones written as they are), and `years` as whole floats taken."""
    client = make_app(DATA_FILE=str(REAL_SLICE)).test_client()
    bodies = {
        "states_mean": {},
        "diff_from_mean": {},
        "mean_by_category": {},
        "state_mean_by_category": {"state": "Ohio"},
        "compare_to_national": {"years": [2011.0, 2020.0]},
    }
    for endpoint, extra in bodies.items():
        posted = client.post(f"/api/{endpoint}", json={"question": OBESITY, **extra})
        assert posted.status_code == 200, posted.get_json()
        text = client.get(f"/api/get_results/{posted.get_json()['job_id']}?format=csv")
        rows = list(csv.reader(io.StringIO(text.get_data(as_text=True))))
        header, rows = rows[0], rows[1:]
        assert rows, endpoint
        for row in rows:
            for field in row:
                assert not field.startswith(("=", "+", "@", "\t", "\r")), (endpoint, field)
                if field.startswith("-"):
                    float(field)  # a negative number, not text
        values = [row[header.index("value")] for row in rows if row[header.index("value")]]
        assert all(isinstance(float(value), float) for value in values)
