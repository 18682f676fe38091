"""The maintenance thread both engines run: periodic rounds of work it is given, one thread.

An engine hands it its rounds (say: checkpoint the journal twice a second, adopt orphaned jobs
every two seconds, purge expired jobs every LSS_MAINTENANCE_INTERVAL_S). A round that fails is
logged and tried again at its next turn; it never stops the others or the thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.errors import Unavailable

log = logging.getLogger("lss")


@dataclass(frozen=True)
class Round:
    """Work to run every `every_s` seconds (0 or less: never)."""

    name: str
    every_s: float
    run: Callable[[], object]


class Maintenance:
    """A daemon thread that runs each round when its interval has passed since its last run."""

    def __init__(self, rounds: Sequence[Round], name: str = "lss-maintenance") -> None:
        self.rounds = [r for r in rounds if r.every_s > 0]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        if self.rounds:
            self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Stop after the round under way, if any."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _run(self) -> None:
        step = min(r.every_s for r in self.rounds)
        last = dict.fromkeys((r.name for r in self.rounds), time.monotonic())
        while not self._stop.wait(step):
            for r in self.rounds:
                now = time.monotonic()
                if now - last[r.name] >= r.every_s:
                    last[r.name] = now
                    self._run_round(r)

    @staticmethod
    def _run_round(r: Round) -> None:
        try:
            r.run()
        except Unavailable as error:
            log.error("maintenance (%s) skipped: %s", r.name, error.reason)
        except Exception:
            log.exception("maintenance (%s) failed", r.name)
