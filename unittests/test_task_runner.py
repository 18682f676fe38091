"""The hand-written pool: real threads, real concurrency, drain, failures, idleness, clean exit."""

from __future__ import annotations

import ctypes
import threading
import time
from collections.abc import Callable

import pytest

from app import shutdown
from app.task_runner import PoolClosed, ThreadPool
from unittests.conftest import OBESITY


class Item:
    """A work item running `work`, remembering whether (and why) it was abandoned."""

    def __init__(self, work: Callable[[], object] = lambda: None) -> None:
        self.work = work
        self.abandoned: str | None = None
        self.ended = threading.Event()

    def run(self) -> None:
        self.work()
        self.ended.set()

    def abandon(self, reason: str) -> None:
        self.abandoned = reason
        self.ended.set()

    def __str__(self) -> str:
        return "test item"


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
        pool.submit(Item(job))
    assert done.wait(5)
    pool.shutdown()
    assert sorted(names) == [f"lss-pool-{n}" for n in range(1, 5)]


def test_concurrent_submitters_lose_no_job():
    pool = ThreadPool(3)
    ran: list[int] = []
    lock = threading.Lock()

    def submitter(base: int) -> None:
        for n in range(250):

            def job(value: int = base + n) -> None:
                with lock:
                    ran.append(value)

            pool.submit(Item(job))

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
        pool.submit(Item(lambda n=n: (time.sleep(0.002), finished.append(n))))
    assert pool.shutdown(wait=True, timeout=10)
    assert sorted(finished) == list(range(40))
    assert pool.alive == 0
    with pytest.raises(PoolClosed):
        pool.submit(Item())
    assert pool.shutdown() is True  # a second shutdown is harmless


def test_a_raising_item_is_abandoned_logged_and_its_worker_lives_on(lss_log):
    pool = ThreadPool(1)
    failing, after = Item(lambda: 1 / 0), Item()
    pool.submit(failing)
    pool.submit(after)
    assert after.ended.wait(5)
    assert failing.abandoned == "ZeroDivisionError: division by zero"
    assert pool.alive == 1 and pool.replaced == 0
    pool.shutdown()
    assert "test item failed on lss-pool-1: ZeroDivisionError" in lss_log.text
    assert "Traceback" in lss_log.text


def test_a_worker_killed_by_system_exit_is_replaced_and_its_item_abandoned(lss_log):
    pool = ThreadPool(1)
    dying, after = Item(lambda: (_ for _ in ()).throw(SystemExit(3))), Item()
    pool.submit(dying)
    pool.submit(after)
    assert dying.ended.wait(1), "the dead worker's item was not reported within a second"
    assert dying.abandoned == "pool thread died: SystemExit: 3"
    assert after.ended.wait(5) and after.abandoned is None  # its replacement serves the queue
    assert (pool.alive, pool.num_threads, pool.replaced) == (1, 1, 1)
    assert pool.shutdown(wait=True, timeout=5)
    assert "lss-pool-1 died (SystemExit); replaced it" in lss_log.text


def test_an_exception_injected_into_a_busy_worker_is_survived():
    """A BaseException raised inside a worker from outside (as a crash in a C extension or an
    interpreter-level interruption would be), wherever the worker happens to be."""
    pool = ThreadPool(2)
    release = threading.Event()
    busy = [Item(lambda: [time.sleep(0.001) for _ in iter(release.is_set, True)]) for _ in range(2)]
    for item in busy:
        pool.submit(item)
    time.sleep(0.1)
    victim = next(t for t in threading.enumerate() if t.name == "lss-pool-1")
    raised = ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(victim.ident), ctypes.py_object(KeyboardInterrupt)
    )
    assert raised == 1
    assert busy[0].ended.wait(1), "no replacement within a second"
    assert busy[0].abandoned == "pool thread died: KeyboardInterrupt"
    deadline = time.monotonic() + 1
    while pool.alive < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert (pool.alive, pool.replaced) == (2, 1)
    release.set()
    assert busy[1].ended.wait(5) and busy[1].abandoned is None
    extra = Item()
    pool.submit(extra)
    assert extra.ended.wait(5)
    assert pool.shutdown(wait=True, timeout=5)


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
    assert threading.active_count() == baseline + 7  # and the watchdog
    for _ in range(20):
        pool.submit(Item())
    assert pool.shutdown(wait=True, timeout=5)
    assert threading.active_count() == baseline


def test_the_app_leaves_no_thread_behind(make_app):
    baseline = threading.active_count()
    app = make_app(THREADS=3)
    # three workers, the pool's watchdog, the maintenance thread, the log writer, the request
    # policy's admission thread (app.policy.admission) and the metrics' folding (app.metrics)
    assert threading.active_count() == baseline + 8
    client = app.test_client()
    for _ in range(20):
        client.post("/api/global_mean", json={"question": OBESITY})
    assert shutdown(app, timeout=10)
    assert threading.active_count() == baseline


def test_a_pool_needs_a_thread():
    with pytest.raises(ValueError):
        ThreadPool(0)
