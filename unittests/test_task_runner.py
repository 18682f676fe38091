"""The hand-written pool: real threads, real concurrency, drain, failures, idleness, clean exit."""

from __future__ import annotations

import threading
import time

import pytest

from app import shutdown
from app.task_runner import PoolClosed, ThreadPool
from unittests.conftest import OBESITY


def test_jobs_run_in_parallel_on_distinct_named_threads():
    pool = ThreadPool(4)
    barrier = threading.Barrier(4, timeout=5)  # passes only if four jobs run at the same time
    names: list[str] = []
    done = threading.Event()

    def job() -> None:
        barrier.wait()
        names.append(threading.current_thread().name)
        if len(names) == 4:
            done.set()

    for _ in range(4):
        pool.submit(job)
    assert done.wait(5)
    pool.shutdown()
    assert sorted(names) == [f"lss-worker-{n}" for n in range(1, 5)]


def test_concurrent_submitters_lose_no_job():
    pool = ThreadPool(3)
    ran: list[int] = []
    lock = threading.Lock()

    def submitter(base: int) -> None:
        for n in range(250):

            def job(value: int = base + n) -> None:
                with lock:
                    ran.append(value)

            pool.submit(job)

    submitters = [threading.Thread(target=submitter, args=(1000 * k,)) for k in range(8)]
    for thread in submitters:
        thread.start()
    for thread in submitters:
        thread.join()
    assert pool.shutdown(wait=True, timeout=10)
    assert sorted(ran) == sorted(1000 * k + n for k in range(8) for n in range(250))


def test_shutdown_drains_queued_jobs_then_refuses_new_ones():
    pool = ThreadPool(2)
    finished: list[int] = []
    for n in range(40):
        pool.submit(lambda n=n: (time.sleep(0.002), finished.append(n)))
    assert pool.shutdown(wait=True, timeout=10)
    assert sorted(finished) == list(range(40))
    assert pool.alive == 0
    with pytest.raises(PoolClosed):
        pool.submit(lambda: None)
    assert pool.shutdown() is True  # a second shutdown is harmless


def test_a_raising_job_is_logged_and_its_worker_lives_on(lss_log):
    pool = ThreadPool(1)
    after = threading.Event()
    pool.submit(lambda: 1 / 0)
    pool.submit(after.set)
    assert after.wait(5)
    assert pool.alive == 1
    pool.shutdown()
    assert "ZeroDivisionError" in lss_log.text
    assert "job raised in lss-worker-1" in lss_log.text


def test_even_system_exit_does_not_kill_a_worker():
    pool = ThreadPool(1)
    after = threading.Event()

    def leave() -> None:
        raise SystemExit(3)

    pool.submit(leave)
    pool.submit(after.set)
    assert after.wait(5)
    assert pool.alive == 1
    pool.shutdown()


def test_idle_workers_use_no_cpu():
    pool = ThreadPool(8)
    time.sleep(0.1)  # let the threads reach their blocking get()
    cpu_before, wall_before = time.process_time(), time.monotonic()
    time.sleep(0.5)
    cpu = time.process_time() - cpu_before
    wall = time.monotonic() - wall_before
    pool.shutdown()
    assert cpu < 0.05 * wall, f"idle pool burned {cpu:.3f}s of CPU in {wall:.3f}s"


def test_live_threads_return_to_baseline_after_shutdown():
    baseline = threading.active_count()
    pool = ThreadPool(6)
    assert threading.active_count() == baseline + 6
    for _ in range(20):
        pool.submit(lambda: None)
    assert pool.shutdown(wait=True, timeout=5)
    assert threading.active_count() == baseline


def test_the_app_leaves_no_thread_behind(make_app):
    baseline = threading.active_count()
    app = make_app(THREADS=3)
    assert threading.active_count() == baseline + 4  # three workers and the log writer
    client = app.test_client()
    for _ in range(20):
        client.post("/api/global_mean", json={"question": OBESITY})
    assert shutdown(app, timeout=10)
    assert threading.active_count() == baseline


def test_a_pool_needs_a_thread():
    with pytest.raises(ValueError):
        ThreadPool(0)
