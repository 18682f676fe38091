"""The benchmark's wrk loop (bench/cycle.lua) against a real server, and its raw WSGI limit app."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

import orjson
import pytest

from app.data_ingestor import load_dataset
from bench.limit import create_app
from bench.workload import build_plan
from bench.wrk import run_wrk, write_plan
from unittests.conftest import BUNDLED_CSV, OBESITY, require_tool
from unittests.support.servers import Server


@pytest.fixture(scope="module", autouse=True)
def _wrk() -> None:
    require_tool(shutil.which("wrk") is not None, "wrk is not installed (apt-get install wrk)")


@pytest.fixture(scope="module")
def plan_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("wrk") / "plan.tsv"
    return write_plan(build_plan(BUNDLED_CSV), path)


def test_the_loop_counts_done_jobs_and_times_them(
    start_server: Callable[..., Server], plan_file: Path
) -> None:
    server = start_server()
    result = run_wrk(server.url, 4, 1.0, plan_file)
    assert result.jobs > 100 and result.bad == 0
    assert 0 < result.p50_ms <= result.p99_ms < 1000
    assert server.stop() == 0  # the log is written out on the way down
    with server.log_file.open(encoding="utf-8") as log:
        done = sum(1 for line in log if "<- POST /api/" in line and " 200 job_id=" in line)
    assert done >= result.jobs  # the server saw at least the jobs wrk counted


def test_refused_submissions_count_as_bad(
    start_server: Callable[..., Server], tmp_path: Path
) -> None:
    server = start_server()
    plan = tmp_path / "bad.tsv"
    plan.write_text('best5\t{"question": "Percent of cats"}\n', encoding="utf-8")
    result = run_wrk(server.url, 2, 1.0, plan)
    assert result.jobs == 0 and result.bad > 0


def test_the_limit_app_answers_what_the_service_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LSS_DATA_FILE", str(BUNDLED_CSV))
    app = create_app()
    body = orjson.dumps({"question": OBESITY, "state": "Ohio"})
    replies: list[str] = []

    def call(method: str, path: str, data: bytes = b"") -> bytes:
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "CONTENT_LENGTH": str(len(data)),
            "wsgi.input": BytesIO(data),
        }
        return b"".join(app(environ, lambda status, headers: replies.append(status)))

    job = orjson.loads(call("POST", "/api/state_mean", body))["job_id"]
    answer = orjson.loads(call("GET", f"/api/get_results/{job}"))
    dataset = load_dataset(BUNDLED_CSV)
    ohio = dataset.questions[OBESITY].state_means["Ohio"]
    assert answer == {"status": "done", "data": {"Ohio": ohio}}
    assert replies == ["200 OK", "200 OK"]


def test_the_metrics_section_measures_both_servers_in_three_slices(tmp_path: Path) -> None:
    from bench.metrics_cost import OFF, ON, SLICES, MetricsCost
    from bench.session import Session

    section = MetricsCost()
    section.measure(Session(tmp_path, quick=True, seconds=1.5))
    assert set(section.points) == {ON, OFF}
    for measured in section.points.values():
        assert len(measured.slices) == SLICES
        assert all(s.jobs > 0 for s in measured.slices) and measured.bad == 0
    assert -1 < section.cost() < 1
    assert section.targets()[0].met is not None
