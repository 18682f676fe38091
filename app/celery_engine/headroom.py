"""Room in Redis for the workers: web processes refuse new jobs a little before Redis is full.

A Redis past its maxmemory refuses writes, and a Celery worker needs a few to start: kombu
declares its queues and bindings in MULTI blocks, which a full Redis refuses whole, and the
worker stops at once. Were the queue allowed to fill Redis while no worker ran, none could start
to drain it. So a web process refuses new jobs (a 503 with Retry-After) once Redis's used memory
is within RESERVE of its maxmemory, as INFO tells it, read at most once a CHECK_EVERY_S: the
queue never fills Redis, and the jobs already accepted find room for their answers. Redis's own
maxmemory stays the hard limit behind it (registry_scripts.ACCEPT). A Redis without maxmemory,
or one that does not let the service read INFO, is not checked here.
"""

from __future__ import annotations

import logging
import time

import redis

from app.celery_engine.outages import FULL_RETRY_AFTER_S
from app.celery_engine.registry import JobRegistry
from app.errors import Unavailable

log = logging.getLogger("lss")

#: The room kept free, as a fraction of maxmemory, and at least...
RESERVE_SHARE = 0.05
#: ... this many bytes (but never more than half of maxmemory).
RESERVE_MIN_BYTES = 1 << 20
#: Seconds between two looks at Redis's memory, in each web process.
CHECK_EVERY_S = 1.0


def reserve(maxmemory: int) -> int:
    """The bytes kept free below a maxmemory of `maxmemory` bytes."""
    return min(max(int(maxmemory * RESERVE_SHARE), RESERVE_MIN_BYTES), maxmemory // 2)


class Headroom:
    """Whether Redis has room for new jobs, as one web process last saw it."""

    def __init__(self, registry: JobRegistry) -> None:
        self.registry = registry
        self._checked = -CHECK_EVERY_S
        #: The reason new jobs are refused, while they are.
        self._short: str | None = None
        self._blind = False  # INFO is not ours to read

    def check(self) -> None:
        """Unavailable (with Retry-After) while Redis is within its reserve of maxmemory."""
        now = time.monotonic()
        if not self._blind and now - self._checked >= CHECK_EVERY_S:
            self._checked = now
            self._short = self._look()
        if self._short:
            raise Unavailable(self._short, retry_after=FULL_RETRY_AFTER_S)

    def _look(self) -> str | None:
        with self.registry.reaching():
            try:
                memory = self.registry.redis.info("memory")
            except redis.exceptions.NoPermissionError:
                log.warning("Redis at %s: INFO refused: no room kept", self.registry.address)
                self._blind = True
                return None
        used, limit = int(memory["used_memory"]), int(memory.get("maxmemory") or 0)
        if not limit or used <= limit - reserve(limit):
            return None
        return (
            f"job store full: Redis at {self.registry.address} is within "
            f"{reserve(limit) / 2**20:.1f} MiB of its maxmemory ({limit / 2**20:.1f} MiB)"
        )
