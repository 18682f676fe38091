"""Readiness (`GET /api/readyz`): the checks an engine runs, each outcome reused for a moment.

A load balancer or an orchestrator asks every few seconds, and each of several processes
answers; a check that writes to the job store or pings the workers must not run on every one of
those calls. `CachedCheck` runs its check at most once per `ttl` seconds in a process: callers
that arrive while it runs wait for its outcome instead of starting another.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from app.errors import ApiError

#: What a check returns: None when all is well, else why not (one line).
Outcome = str | None
T = TypeVar("T")
#: Why a process whose graceful shutdown began is not ready.
SHUTTING_DOWN = "a graceful shutdown began"
#: Why a process without data is not ready.
NO_ROWS = "the dataset has no usable rows"


class CachedCheck(Generic[T]):
    """A check (or any costly reading) whose result is kept for `ttl` seconds (monotonic)."""

    def __init__(self, check: Callable[[], T], ttl: float) -> None:
        self._check = check
        self.ttl = ttl
        self._lock = threading.Lock()
        self._result: T | None = None
        self._at = -float("inf")
        #: How many times the check itself ran (for tests and the curious).
        self.runs = 0

    def __call__(self) -> T:
        """The last result if it is recent, else a fresh one (one caller checks, others wait).

        A check that raises is not cached: the exception goes to the caller."""
        with self._lock:
            if time.monotonic() - self._at >= self.ttl:
                self.runs += 1
                self._result = self._check()
                self._at = time.monotonic()
            return self._result  # type: ignore[return-value]

    def forget(self) -> None:
        """Check afresh at the next call."""
        with self._lock:
            self._at = -float("inf")


def shutdown_or_store(closed: Callable[[], bool]) -> Outcome:
    """SHUTTING_DOWN if a graceful shutdown began anywhere; the store's reason if it cannot
    tell (an ApiError such as Unavailable, whose reason names the store)."""
    try:
        return SHUTTING_DOWN if closed() else None
    except ApiError as error:
        return error.reason
