"""What the Celery engine says of itself: health, readiness, and what it holds (for /metrics).

Readiness asks Redis to take a write (`SET lss:ready`, gone after a few seconds): a replica, a
Redis out of memory or refusing writes after a failed save answers a PING but not that. And it
asks whether a worker answers a ping, at most once every WORKER_PING_EVERY_S per web process:
a ping is a broadcast every worker answers, so a probe every second from every web process
would keep every worker busy answering. /api/health pings on each call, as it always did. Both
are 503 while web processes refuse new jobs for want of room in Redis (headroom.py).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import kombu.exceptions
import redis
from celery import Celery

from app.celery_engine.headroom import Headroom
from app.celery_engine.registry import PREFIX, JobRegistry
from app.data_ingestor import Dataset
from app.engine.interface import Inventory
from app.engine.readiness import NO_ROWS, SHUTTING_DOWN, CachedCheck, shutdown_or_store
from app.errors import Unavailable

#: How long a ping waits for a worker's answer, in seconds.
WORKER_PING_S = 1.0
#: Seconds a readiness probe trusts the last ping's answer (either way).
WORKER_PING_EVERY_S = 5.0
#: Seconds a readiness probe trusts Redis's last answer to its write.
WRITE_EVERY_S = 1.0
#: The key readiness writes, and how long it lives (ms).
READY_KEY, READY_TTL_MS = PREFIX + "ready", 10_000
#: What a control message (the ping) raises when the broker cannot be reached.
_SEND_ERRORS = (kombu.exceptions.OperationalError, redis.RedisError, OSError)


def no_worker() -> str:
    """Why a process whose ping no worker answered is not ready."""
    return f"no Celery worker answered within {WORKER_PING_S:g} s"


class Status:
    """The checks and figures of one web process's Celery engine."""

    def __init__(
        self, dataset: Dataset, registry: JobRegistry, celery: Celery, headroom: Headroom
    ) -> None:
        self.dataset = dataset
        self.registry = registry
        self.celery = celery
        self.headroom = headroom
        self.worker = CachedCheck(self.worker_answering, WORKER_PING_EVERY_S)
        self._writes = CachedCheck(self._take_write, WRITE_EVERY_S)

    def worker_answering(self) -> str | None:
        """The name of a Celery worker that answers a ping, or None."""
        try:
            replies = self.celery.control.ping(timeout=WORKER_PING_S, limit=1)
        except _SEND_ERRORS:
            return None
        return next((name for reply in replies for name in reply), None)

    def _take_write(self) -> str | None:
        """None if Redis took a write, else why not."""
        try:
            with self.registry.reaching(writes=True):
                self.registry.redis.set(READY_KEY, os.getpid(), px=READY_TTL_MS)
        except Unavailable as error:
            return error.reason
        return None

    def _room(self) -> str | None:
        """None if Redis has room for new jobs, else why not (its answer of the last second)."""
        try:
            self.headroom.check()
        except Unavailable as error:
            return error.reason
        return None

    def health(self) -> tuple[list[str], dict[str, Any]]:
        """/api/health's reasons and counters (a fresh ping each time)."""
        reasons = [] if self.dataset.rows_used else [NO_ROWS]
        details: dict[str, Any] = {"jobs_issued": None, "jobs_pending": None, "worker": None}
        try:
            self.registry.ping()
            details["jobs_issued"] = self.registry.highest()
            details["jobs_pending"] = self.registry.count_running()
        except Unavailable as error:
            reasons.append(error.reason)
        else:
            room = self._room()
            reasons += [room] if room else []
            details["worker"] = self.worker_answering()
            if details["worker"] is None:
                reasons.append(no_worker())
        return reasons, {"redis": self.registry.address, **details}

    def ready(self, closed_here: bool, closed: Callable[[], bool]) -> list[str]:
        """/api/readyz's reasons; `closed` asks Redis whether a shutdown began anywhere."""
        if closed_here:
            return [SHUTTING_DOWN]
        shutdown = shutdown_or_store(closed)
        if shutdown == SHUTTING_DOWN:
            return [shutdown]
        reasons = [] if self.dataset.rows_used else [NO_ROWS]
        if shutdown:  # Redis does not answer: neither a write nor a ping can go through it
            return [*reasons, shutdown]
        written = self._writes() or self._room()
        if written:
            return [*reasons, written]
        return reasons if self.worker() else [*reasons, no_worker()]

    def inventory(self) -> Inventory:
        """Pending jobs and the jobs Redis keeps, by status."""
        stored = self.registry.counts()
        return Inventory(pending=stored["running"], stored=stored)
