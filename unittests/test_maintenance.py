"""The maintenance thread both engines run: each round at its own interval, failures contained."""

from __future__ import annotations

import itertools
import logging
import threading
import time

from app.engine.maintenance import Maintenance, Round
from app.errors import Unavailable


def _counter() -> tuple[list[float], threading.Event, Round]:
    calls: list[float] = []
    third = threading.Event()

    def run() -> None:
        calls.append(time.monotonic())
        if len(calls) >= 3:
            third.set()

    return calls, third, Round("count", 0.05, run)


def test_each_round_runs_at_its_own_interval_until_stopped():
    fast, fast_third, fast_round = _counter()
    slow: list[float] = []
    never: list[float] = []
    maintenance = Maintenance(
        [
            fast_round,
            Round("slow", 0.5, lambda: slow.append(time.monotonic())),
            Round("off", 0, lambda: never.append(time.monotonic())),
        ]
    )
    maintenance.start()
    assert fast_third.wait(5)
    maintenance.stop()
    runs = len(fast)
    time.sleep(0.2)
    assert len(fast) == runs  # stopped means stopped
    assert len(slow) <= 1 and never == []
    gaps = [b - a for a, b in itertools.pairwise(fast)]
    assert min(gaps) >= 0.04


def test_a_failing_round_is_logged_and_the_others_go_on(caplog):
    _, third, counting = _counter()

    def unavailable() -> None:
        raise Unavailable("journal is locked")

    def broken() -> None:
        raise RuntimeError("boom")

    maintenance = Maintenance(
        [Round("down", 0.05, unavailable), Round("broken", 0.05, broken), counting]
    )
    with caplog.at_level(logging.INFO, logger="lss"):
        maintenance.start()
        assert third.wait(5)
        maintenance.stop()
    messages = [r.getMessage() for r in caplog.records]
    assert "maintenance (down) skipped: journal is locked" in messages
    failed = [r for r in caplog.records if r.getMessage() == "maintenance (broken) failed"]
    assert failed and failed[0].exc_info is not None  # with its traceback


def test_with_nothing_to_do_no_thread_is_started():
    before = threading.active_count()
    maintenance = Maintenance([Round("off", 0, lambda: None)])
    maintenance.start()
    assert threading.active_count() == before
    maintenance.stop()
