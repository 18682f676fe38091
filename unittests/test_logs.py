"""The service log: what each request leaves in it, as text or JSON, UTC timestamps, rotation
with a bound, request and job ids, durations, and lines written whole to the standard output."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import orjson
import pytest

from app import shutdown
from app.task import StatesMean
from app.tracing.lines import Clock
from app.tracing.outputs import _pieces
from unittests.conftest import OBESITY

#: A text line: time, level, [process thread, request id and job id where there are], message.
LINE = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (INFO|ERROR) "
    r"\[(?P<pid>\d+) (?P<thread>[^\]]+?)(?: req=(?P<req>[^\] ]+))?(?: job=(?P<job>[^\] ]+))?\] "
)
#: The duration at the end of an exit line.
DURATION = r" \d+\.\d\dms$"


def _lines(app: Any) -> list[str]:
    """The lines of `app`'s log, once everything logged so far is in it."""
    app.extensions["lss.log"].flush()
    with open(app.config["LOG_FILE"], encoding="utf-8") as log:
        return log.read().splitlines()


def test_route_entry_and_exit_are_logged_without_result_bodies(make_app):
    client = make_app().test_client()
    client.post("/api/state_mean", json={"question": OBESITY, "state": "Ohio"})
    client.get("/api/get_results/job_id_1")
    client.get("/api/get_results/job_id_9")
    lines = _lines(client.application)
    assert all(LINE.match(line) for line in lines), lines
    text = "\n".join(lines)
    assert f'-> POST /api/state_mean body={{"question":"{OBESITY}","state":"Ohio"}}' in text
    assert re.search(r"<- POST /api/state_mean 200 job_id=job_id_1" + DURATION, text, re.M)
    assert "-> GET /api/get_results/job_id_1" in text
    assert re.search(r"<- GET /api/get_results/job_id_1 200 job_id=job_id_1" + DURATION, text, re.M)
    assert re.search(r"<- GET /api/get_results/job_id_9 404 job_id=job_id_9" + DURATION, text, re.M)
    assert "23.0" not in text  # Ohio's mean: result bodies stay out of the log


def test_each_request_has_its_own_id_on_its_entry_and_exit_lines(make_app):
    client = make_app().test_client()
    answers = [
        client.post(
            "/api/states_mean", json={"question": OBESITY}, headers={"X-Request-ID": "a-1"}
        ),
        client.get("/api/get_results/job_id_1"),
        client.get("/api/num_jobs"),
        client.get("/no/such/page", headers={"X-Request-ID": "b/2:x=y+z"}),
    ]
    ids = [answer.headers["X-Request-ID"] for answer in answers]
    assert ids[0] == "a-1" and ids[3] == "b/2:x=y+z"
    assert len(set(ids)) == 4
    by_id: dict[str, list[str]] = {}
    for line in _lines(client.application):
        match = LINE.match(line)
        if match and match["req"]:
            by_id.setdefault(match["req"], []).append(line[match.end() :])
    assert by_id["a-1"][0].startswith("-> POST /api/states_mean body=")
    assert re.fullmatch(
        r"<- POST /api/states_mean 200 job_id=job_id_1" + DURATION, by_id["a-1"][-1]
    )
    for request_id, (path, status) in zip(
        ids[1:],
        [("/api/get_results/job_id_1", 200), ("/api/num_jobs", 200), ("/no/such/page", 404)],
        strict=True,
    ):
        entry, exit_ = by_id[request_id]
        assert entry == f"-> GET {path}"
        assert re.fullmatch(rf"<- GET {path} {status}( job_id=job_id_1)?" + DURATION, exit_)


def test_a_failing_job_is_logged_at_error_with_its_traceback_its_job_and_request(
    make_app, monkeypatch
):
    def broken(self, index):
        raise KeyError("no such index")

    monkeypatch.setattr(StatesMean, "answer", broken)
    client = make_app().test_client()
    client.post("/api/states_mean", json={"question": OBESITY}, headers={"X-Request-ID": "rq-7"})
    assert client.get("/api/get_results/job_id_1").get_json()["status"] == "error"
    text = "\n".join(_lines(client.application))
    pid = os.getpid()
    assert f"ERROR [{pid} MainThread req=rq-7 job=job_id_1] job_id_1 (states_mean) failed" in text
    assert "Traceback (most recent call last)" in text
    assert "KeyError: 'no such index'" in text


def test_a_job_on_a_pool_thread_logs_its_job_and_the_request_that_submitted_it(
    make_app, monkeypatch
):
    def broken(self, index):
        raise KeyError("no such index")

    monkeypatch.setattr(StatesMean, "answer", broken)
    app = make_app(THREADS=1, LOG_FORMAT="json")
    client = app.test_client()
    client.post("/api/states_mean", json={"question": OBESITY}, headers={"X-Request-ID": "p-1"})
    client.post("/api/states_mean", json={"question": OBESITY})
    shutdown(app)
    records = [orjson.loads(line) for line in _lines(app)]
    failed = [r for r in records if r["message"].endswith("(states_mean) failed")]
    assert [(r["job_id"], r["thread"], r["level"]) for r in failed] == [
        ("job_id_1", "lss-pool-1", "ERROR"),
        ("job_id_2", "lss-pool-1", "ERROR"),
    ]
    assert failed[0]["request_id"] == "p-1"
    exits = {r["job_id"]: r["request_id"] for r in records if "status" in r}
    assert failed[1]["request_id"] == exits["job_id_2"] != "p-1"  # the one made for it
    assert "KeyError: 'no such index'" in failed[0]["traceback"]


def test_json_lines_have_their_fields_and_types(make_app):
    client = make_app(LOG_FORMAT="json").test_client()
    client.post("/api/states_mean", json={"question": OBESITY}, headers={"X-Request-ID": "j-1"})
    client.get("/api/get_results/job_id_1")
    client.get("/api/health")
    client.post("/api/states_mean", data=b"{", headers={"X-Request-ID": "j-2"})
    records = [orjson.loads(line) for line in _lines(client.application)]
    for record in records:
        assert list(record)[:3] == ["time", "level", "message"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record["time"])
        assert record["level"] in ("INFO", "ERROR") and isinstance(record["pid"], int)
    requests = [r for r in records if "method" in r]
    assert len(requests) == 8  # an entry and an exit line for each request
    for entry, exit_ in zip(requests[::2], requests[1::2], strict=True):
        assert entry["message"].startswith(f"-> {entry['method']} {entry['path']}")
        assert (exit_["request_id"], exit_["method"], exit_["path"]) == (
            entry["request_id"], entry["method"], entry["path"],
        )  # fmt: skip
        assert "status" not in entry and "duration_ms" not in entry
        assert type(exit_["status"]) is int
        assert isinstance(exit_["duration_ms"], float) and 0 <= exit_["duration_ms"] < 10_000
    assert [(r["request_id"], r["status"], r.get("job_id")) for r in requests[1::2]] == [
        ("j-1", 200, "job_id_1"),
        (requests[2]["request_id"], 200, "job_id_1"),
        (requests[4]["request_id"], 200, None),
        ("j-2", 400, None),
    ]


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_control_characters_stay_escaped_in_both_formats(make_app, log_format):
    client = make_app(LOG_FORMAT=log_format).test_client()
    hostile = "/api/x\ny\r\u2028\x85\x7f\x1b[31m"
    client.get("/api/x%0Ay%0D%E2%80%A8%C2%85%7F%1B[31m")  # what a client can send
    lines = _lines(client.application)  # split at \x85, \u2028 and \x1c-\x1e too, as str does
    client.application.extensions["lss.log"].flush()
    assert Path(client.application.config["LOG_FILE"]).read_text().count("\n") == len(lines)
    if log_format == "json":
        paths = [orjson.loads(line).get("path") for line in lines]
        assert paths.count(hostile) == 2  # entry and exit, the path itself intact
    else:
        assert all(LINE.match(line) for line in lines)
        assert sum("/api/x\\x0ay\\x0d\\u2028\\x85\\x7f\\x1b[31m" in line for line in lines) == 2


def test_the_log_rotates_and_keeps_a_bounded_number_of_backups(make_app, tmp_path):
    client = make_app(LOG_MAX_BYTES=2_000, LOG_BACKUPS=2).test_client()
    for _ in range(60):
        client.get("/api/num_jobs")
    client.application.extensions["lss.log"].flush()
    logs = sorted(path.name for path in tmp_path.glob("webserver.log*"))
    assert logs == ["webserver.log", "webserver.log.1", "webserver.log.2"]
    for name in logs:
        assert (tmp_path / name).stat().st_size < 2_000 + 200  # at most one record over


def test_shutdown_logs_whether_every_job_finished(make_app, tmp_path, gated):
    app = make_app(THREADS=1)
    app.test_client().post("/api/states_mean", json={"question": OBESITY})
    assert shutdown(app, timeout=0.1) is False
    gated.set()
    text = (tmp_path / "webserver.log").read_text()
    assert f"ERROR [{os.getpid()} MainThread] stopped with job(s) unfinished after 0.1 s" in text
    assert "every accepted job finished" not in text


def test_batches_for_a_stream_that_cannot_be_locked_are_cut_between_lines():
    lines = [b"a" * 30 + b"\n", b"b" * 10 + b"\n", b"c" * 100 + b"\n", b"d\n", b"e" * 5 + b"\n"]
    data = b"".join(lines)
    pieces = _pieces(data, 50)
    assert b"".join(pieces) == data
    assert pieces == [lines[0] + lines[1], lines[2], lines[3] + lines[4]]
    assert _pieces(b"", 50) == [] and _pieces(b"x\n", 50) == [b"x\n"]


def test_stamps_are_utc_with_milliseconds_cut_not_rounded() -> None:
    clock = Clock()
    assert clock.stamp(0.0) == "1970-01-01T00:00:00.000Z"
    assert clock.stamp(0.9999) == "1970-01-01T00:00:00.999Z"
    assert clock.stamp(1.0) == "1970-01-01T00:00:01.000Z"
    assert clock.stamp(1_700_000_000.123) == "2023-11-14T22:13:20.123Z"
    assert clock.stamp(1_700_000_000.1239) == "2023-11-14T22:13:20.123Z"  # the same millisecond
    assert clock.stamp(1_700_000_001.0005) == "2023-11-14T22:13:21.000Z"
    assert clock.stamp(1_699_999_999.5) == "2023-11-14T22:13:19.500Z"  # back in time: still right
