"""The benchmark's research instruments (`python -m bench.lab`) still measure what they say."""

from __future__ import annotations

import shutil
import sqlite3
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import pytest
import requests

from app.task import COURSE_TASKS
from bench.celery_stack import stack_up
from bench.lab import baseline, cold, gap, pools, profile, spy
from bench.lab.__main__ import main
from bench.point import Point, Slice
from bench.server import ROOT, Server
from bench.session import Session
from bench.workload import build_plan
from bench.wrk import run_wrk, write_plan
from unittests.conftest import BUNDLED_CSV, SMALL_CSV, require_tool
from unittests.support import servers
from unittests.support.celery_stack import redis_binary
from unittests.support.e2e import check_answer, job_mix, post, wait_done
from unittests.support.reference import Reference


def _wrk() -> None:
    require_tool(shutil.which("wrk") is not None, "wrk is not installed (apt-get install wrk)")


def _py_spy() -> None:
    require_tool(spy.py_spy() is not None, "py-spy is not installed (pip install py-spy)")


def _point(name: str, jobs_per_s: float, cpu_us: float) -> Point:
    """A contender that did `jobs_per_s` over two 1-second slices."""
    jobs = int(jobs_per_s)
    slices = [Slice(jobs, 1.0, 0, 2.0, 9.0, jobs * cpu_us / 1e6) for _ in range(2)]
    server = Server(name, "127.0.0.1", 1, None, Path("."), 0.5, 100 << 20)  # type: ignore[arg-type]
    return Point.of(server, slices, slices[0], 110 << 20)


def test_the_gap_is_split_into_steps_that_add_up_to_the_service_vs_the_limit() -> None:
    chain = [
        _point("service", 4000, 300),
        _point("without journal", 5000, 240),
        _point("without journal, file", 5000 * 1.05, 220),
        _point("without journal, file, log", 6000, 200),
    ]
    text = "\n".join(gap.report(chain, _point("limit w=1", 10000, 100), 16))
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    steps = [row.split(" | ") for row in rows[1:-1]]
    assert [step[0].lstrip("| ").split(" (")[0] for step in steps] == [
        "the job journal",
        "the result file",
        "the log lines",
        "the rest: the gateway's Python, the pool's hand-over, the engine's bookkeeping",
    ]
    micros = [float(step[1]) for step in steps]
    total = float(rows[-1].split(" | ")[1].strip("*"))
    assert micros[0] == 1e6 / 4000 - 1e6 / 5000  # each step is the difference of its two runs
    assert abs(sum(micros) - total) <= len(micros)  # rounded to whole µs each
    assert total == 1e6 / 4000 - 1e6 / 10000
    assert "- without journal, file, log: 0.60x the limit" in text


@pytest.mark.parametrize("workers", ["1", "2"])
def test_the_service_with_parts_left_out_answers_right_without_them(
    start_server: Callable[..., servers.Server], tmp_path: Path, reference: Reference, workers: str
) -> None:
    """bench/lab/ablated.py, which `gap` measures: the answers stay right, and no journal row,
    result file or request line is written."""
    _wrk()
    argv = [sys.executable, "-m", "bench.lab.ablated"]
    argv += ["--without", "journal", "--without", "file", "--without", "log"]
    server = start_server(argv=argv, LSS_WORKERS=workers)
    plan = write_plan(build_plan(BUNDLED_CSV), tmp_path / "plan.tsv")
    result = run_wrk(server.url, 4, 1.0, plan)
    assert result.jobs > 100 and result.bad == 0
    with requests.Session() as session:
        for job in job_mix(reference, 30, seed=5):
            job_id = post(session, server, job).json()["job_id"]
            check_answer(reference, job, wait_done(session, server, job_id), job_id)
    assert server.stop() == 0
    assert not list(server.results.glob("*.json"))
    with sqlite3.connect(server.results / "jobs.sqlite3") as journal:
        assert journal.execute("SELECT count(*) FROM jobs").fetchone() == (0,)
    log = server.log_file.read_text(encoding="utf-8")
    assert "-> POST /api/" not in log and "<- GET /api/get_results/" not in log
    assert "loaded dataset" in log and "ready: embedded engine" in log  # other records stay


def test_baseline_measures_the_working_tree_beside_a_revision(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _wrk()
    assert main(["baseline", "HEAD", "--no-settle", "--seconds", "1", "--rounds", "1"]) == 0
    report = capsys.readouterr().out
    assert "| working tree |" in report and "| HEAD |" in report
    assert "**The working tree does " in report and "x the jobs/s of HEAD**" in report
    rows = [line for line in report.splitlines() if line.startswith(("| working", "| HEAD"))]
    assert len(rows) == 2 and all(row.endswith(" | 0 |") for row in rows)  # no error status


def test_a_baseline_worktree_is_the_revision_and_goes_away(tmp_path: Path) -> None:
    with baseline.worktree("HEAD", tmp_path) as tree:
        assert (tree / "api_server.py").read_bytes() == (ROOT / "api_server.py").read_bytes()
    assert not tree.exists()
    with (
        pytest.raises(RuntimeError, match="no-such-revision"),
        baseline.worktree("no-such-revision", tmp_path),
    ):
        pass


def test_a_profile_is_summarised_per_job_by_thread_and_function(tmp_path: Path) -> None:
    raw = tmp_path / "raw.txt"
    pool = "_work (app/task_runner.py:90);ThreadPool._work (app/task_runner.py:91)"
    request = "_runner (granian/wsgi.py:10);JobGateway.__call__ (app/gateway.py:40)"
    raw.write_text(f"{pool} 250\n{request} 500\nbroken line\n")
    summary = spy.summarise(raw, jobs=1000)
    assert summary.samples == 750
    assert summary.by_role == {"request threads (granian)": 500, "job pool workers": 250}
    assert summary.ms_per_job(summary.samples) == 750 * 1000 / spy.RATE / 1000
    text = "\n".join(profile.report(summary, 16))
    assert "| `JobGateway.__call__ (app/gateway.py)` | 2.000 | 66.7% |" in text


def test_a_celery_workers_stacks_are_summarised_by_role_and_package(tmp_path: Path) -> None:
    raw = tmp_path / "raw.txt"
    launch = "<module> (app/celery_engine/worker.py:114);main (app/celery_engine/worker.py:109)"
    loop = (
        f"{launch};Celery.worker_main (celery/app/base.py:643);asynloop (celery/worker/loops.py:1)"
    )
    pool = "Thread.run (threading.py:982);_worker (concurrent/futures/thread.py:83)"
    task = f"{pool};apply_target (celery/concurrency/base.py:30)"
    task += ";JobRunner.run (app/celery_engine/worker.py:70)"
    raw.write_text(
        f"{loop};Hub.create_loop (kombu/asynchronous/hub.py:465);poll (selectors.py:1) 100\n"
        f"{task};Redis.execute_command (redis/client.py:867);sendall (socket.py:1) 50\n"
        f"{task};Task.compute (app/task.py:10) 25\n"
        f"{pool} 10\n"
        "promise.__call__ (vine/promises.py:158) 15\n"
    )
    summary = spy.summarise(raw, jobs=1000)
    assert summary.by_role == {
        "Celery main thread (kombu's event loop)": 100,
        "Celery pool threads (the tasks)": 85,
        "other or truncated stacks": 15,
    }
    # The launcher's frames would hold the whole main thread: only the task's are the service's.
    assert summary.app_inclusive == {
        "JobRunner.run (app/celery_engine/worker.py)": 75,
        "Task.compute (app/task.py)": 25,
    }
    assert summary.by_package == {"standard library": 160, "app/": 25, "other packages": 15}
    assert summary.by_caller == {
        "kombu/": 100,
        "redis/": 50,
        "app/": 25,
        "other packages": 15,
        "standard library": 10,
    }
    text = "\n".join(spy.package_table(summary))
    assert "| `redis/` | 0.000 | 0.0% | 0.200 | 25.0% |" in text
    assert "| standard library | 0.640 | 80.0% | 0.040 | 5.0% |" in text


def test_a_celery_profile_records_the_service_and_its_worker_at_once(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A real redis-server, worker and service under wrk, both recorded by py-spy."""
    _wrk()
    _py_spy()
    redis_binary()
    argv = ["profile", "--engine", "celery", "--workers", "1", "--seconds", "1", "--rounds", "1"]
    assert main([*argv, "--out", str(tmp_path)]) == 0
    report = capsys.readouterr().out
    assert report.startswith("# Where a job's time goes on the Celery engine")
    service, worker = report.split("\n## ")[1:]
    assert "| request threads (the service's) |" in service
    assert "| Celery pool threads (the tasks) |" in worker
    assert "| Celery main thread (kombu's event loop) |" in worker
    assert "(app/celery_engine/worker.py)`" in worker  # the task's frames, not the launcher's
    assert "`main (app/celery_engine/worker.py)`" not in worker
    assert all(f"| `{package}/` |" in worker for package in ("celery", "kombu", "redis", "app"))
    for raw in ("celery-service-wrk.txt", "celery-worker-wrk.txt"):
        assert (tmp_path / raw).stat().st_size > 0


def test_stack_up_starts_each_stacks_worker_with_its_own_arguments(tmp_path: Path) -> None:
    redis_binary()
    solo, prefork = (argv for _, argv in pools.POOLS[1:])
    with ExitStack() as stack:
        stacks = stack_up(stack, tmp_path, (1, 1), [solo, prefork])
        assert len({s.url for s in stacks} | {s.bare_url for s in stacks}) == 4
        for celery, pool in zip(stacks, ["2 (solo)", "1 (prefork)"], strict=True):
            output = celery.workers[0].output
            deadline = time.monotonic() + 20
            while b".> concurrency:" not in output and time.monotonic() < deadline:
                time.sleep(0.05)
                output = celery.workers[0].output
            assert f".> concurrency: {pool}".encode() in output, output[-2000:]


def test_pools_measures_workers_side_by_side_with_their_answers_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    redis_binary()
    monkeypatch.setenv("LSS_WORKERS", "1")  # the services start faster
    session = Session(tmp_path, seconds=0.5, rounds=1)
    variants = [pools.DEFAULT, *pools.prefetch_variants(("solo", ("--pool", "solo")))[-1:]]
    measured = pools.measure(session, variants, clients=4)
    assert [p.name for p in measured] == ["threads (the default)", "solo, prefetch 4"]
    assert all(p.jobs > 0 and p.checked > p.jobs and p.wrong == p.bad == 0 for p in measured)
    text = "\n".join(pools.report([measured, [measured[0], *measured]], 4))
    assert "| threads (the default) | 1 |" in text and "| solo, prefetch 4 | 2 |" in text
    assert "| 1.00x |" in text and "acks_late" in text
    assert "**solo, prefetch 4 did " in text


def test_prefetch_is_tried_on_the_fastest_pool_beside_the_default() -> None:
    assert pools.prefetch_variants(pools.POOLS[1]) == [
        pools.DEFAULT,
        ("solo, prefetch 1", ("--pool", "solo", "--prefetch-multiplier", "1")),
        ("solo, prefetch 4", ("--pool", "solo", "--prefetch-multiplier", "4")),
    ]


def test_cold_answers_are_timed_for_every_course_endpoint() -> None:
    result = cold.measure_cold(SMALL_CSV)
    assert set(result.by_endpoint) == set(COURSE_TASKS)
    assert 0 < result.median_ms <= result.max_ms
    text = "\n".join(cold.report(result, 1))
    assert all(f"| {endpoint} |" in text for endpoint in COURSE_TASKS)
