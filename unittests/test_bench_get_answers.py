"""The benchmark's GET answer loops (bench/answer.lua, bench/revalidate.lua) against a real
server, their plans, and their section of BENCHMARKS.md."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import orjson
import pytest
import requests

from bench.__main__ import SECTIONS, _parse
from bench.get_answers import (
    ANSWER_SCRIPT,
    ETAG,
    GET,
    POST,
    REVALIDATE_SCRIPT,
    GetAnswers,
    answer_plan,
    etag_plan,
)
from bench.workload import build_plan
from bench.wrk import run_wrk, write_plan
from unittests.conftest import BUNDLED_CSV, require_tool
from unittests.support.servers import Server
from unittests.test_bench_report import _point, _render


@pytest.fixture(scope="module", autouse=True)
def _wrk() -> None:
    require_tool(shutil.which("wrk") is not None, "wrk is not installed (apt-get install wrk)")


@pytest.fixture(scope="module")
def plans(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("get-answers")
    post = write_plan(build_plan(BUNDLED_CSV), folder / "plan.tsv")
    return post, answer_plan(post, folder / "answers.tsv")


def issued(server: Server) -> int:
    return requests.get(f"{server.url}/api/health", timeout=10).json()["jobs_issued"]


def test_the_get_plan_asks_the_questions_of_the_post_plan(plans: tuple[Path, Path]) -> None:
    post, get = plans
    posted = post.read_text().splitlines()
    asked = get.read_text().splitlines()
    assert len(asked) == len(posted) == 81
    for line, path in zip(posted, asked, strict=True):
        endpoint, body = line.split("\t")
        parts = urlsplit(path)
        assert parts.path == f"/api/answers/{endpoint}.json"
        assert dict(parse_qsl(parts.query)) == orjson.loads(body)


def test_the_get_loop_counts_answers_and_times_them(
    start_server: Callable[..., Server], plans: tuple[Path, Path]
) -> None:
    server = start_server()
    result = run_wrk(server.url, 4, 1.0, plans[1], ANSWER_SCRIPT)
    assert result.jobs > 50 and result.bad == 0
    assert 0 < result.p50_ms <= result.p99_ms < 2000
    assert server.stop() == 0
    log = server.log_file.read_text(encoding="utf-8")
    asked = [line for line in log.splitlines() if "<- GET /api/answers/" in line]
    # Each job the loop counted is a 200, or a 202 whose job it polled to the end.
    answered = sum(1 for line in asked if " 200 job_id=" in line or " 202 job_id=" in line)
    assert answered >= result.jobs


def test_the_get_loop_polls_a_202s_location(
    start_server: Callable[..., Server], plans: tuple[Path, Path]
) -> None:
    server = start_server(LSS_ANSWER_WAIT_S="0")
    result = run_wrk(server.url, 4, 1.0, plans[1], ANSWER_SCRIPT)
    assert result.jobs > 20 and result.bad == 0
    assert server.stop() == 0
    log = server.log_file.read_text(encoding="utf-8")
    assert " 202 job_id=" in log and "<- GET /api/get_results/" in log


def test_the_etag_loop_counts_304s_and_makes_no_job(
    start_server: Callable[..., Server], plans: tuple[Path, Path], tmp_path: Path
) -> None:
    server = start_server()
    tags = etag_plan(server.url, plans[1], tmp_path / "etags.tsv")
    before = issued(server)
    assert before == 81  # one job per question, to learn its tag
    result = run_wrk(server.url, 4, 1.0, tags, REVALIDATE_SCRIPT)
    assert result.jobs > 100 and result.bad == 0
    assert issued(server) == before
    stale = tmp_path / "stale.tsv"
    stale.write_text(tags.read_text().replace('"\n', 'x"\n'))
    refreshed = run_wrk(server.url, 2, 1.0, stale, REVALIDATE_SCRIPT)
    assert refreshed.jobs == 0 and refreshed.bad > 0  # a 200 is not a 304


def test_the_section_reports_the_three_loops_side_by_side() -> None:
    section = GetAnswers()
    section.points = {
        POST: _point(POST, 2_000, 9.0),
        GET: _point(GET, 3_000, 8.0),
        ETAG: _point(ETAG, 10_000, 2.0),
    }
    text = _render([section])
    assert "the GET answer path does **1.50x the POST + poll path's jobs/s** (3,000/s)" in text
    assert "a warm ETag (304, no job) **5.00x** (10,000 answers/s)" in text
    assert "| GET, warm ETag (304) | 10,000 | 5.00x |" in text
    assert "| GET answers: no error status (wrk) | 0 of 30,000 | **MET** |" in text
    assert GetAnswers in SECTIONS and _parse(["--no-get-answers"]).no_get_answers
