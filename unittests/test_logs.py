"""The service log: what each request leaves in it, UTC timestamps, rotation with a bound."""

from __future__ import annotations

import os
import re

from app import shutdown
from app.task import StatesMean
from unittests.conftest import OBESITY

LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (INFO|ERROR) \[\d+ [^\]]+\] ")


def test_route_entry_and_exit_are_logged_without_result_bodies(make_app, tmp_path):
    client = make_app().test_client()
    client.post("/api/state_mean", json={"question": OBESITY, "state": "Ohio"})
    client.get("/api/get_results/job_id_1")
    client.get("/api/get_results/job_id_9")
    client.application.extensions["lss.log"].flush()
    lines = (tmp_path / "webserver.log").read_text().splitlines()
    assert all(LINE.match(line) for line in lines), lines
    text = "\n".join(lines)
    assert f'-> POST /api/state_mean body={{"question":"{OBESITY}","state":"Ohio"}}' in text
    assert "<- POST /api/state_mean 200 job_id=job_id_1" in text
    assert "-> GET /api/get_results/job_id_1" in text
    assert "<- GET /api/get_results/job_id_1 200 job_id=job_id_1" in text
    assert "<- GET /api/get_results/job_id_9 404 job_id=job_id_9" in text
    assert "23.0" not in text  # Ohio's mean: result bodies stay out of the log


def test_a_failing_job_is_logged_at_error_with_its_traceback(make_app, tmp_path, monkeypatch):
    def broken(self, index):
        raise KeyError("no such index")

    monkeypatch.setattr(StatesMean, "answer", broken)
    client = make_app().test_client()
    client.post("/api/states_mean", json={"question": OBESITY})
    assert client.get("/api/get_results/job_id_1").get_json()["status"] == "error"
    client.application.extensions["lss.log"].flush()
    text = (tmp_path / "webserver.log").read_text()
    assert f"ERROR [{os.getpid()} MainThread] job_id_1 (states_mean) failed" in text
    assert "Traceback (most recent call last)" in text
    assert "KeyError: 'no such index'" in text


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
