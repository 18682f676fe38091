"""How the Celery engine meets a Redis that fails: a 503 that says why, and a log line or two.

Every call the job registry (and the sweep for lost jobs) makes goes through `Outages.reaching`:
a Redis error becomes Unavailable, a 503 whose reason tells a Redis that does not answer from one
that is full (past its maxmemory: then with Retry-After) or that refuses for another reason. An
outage is logged when it begins and when it ends, not at every request that meets it; a full
Redis still answers reads, so only a write that goes through ends that one.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from urllib.parse import urlsplit

import redis

from app.errors import Unavailable

log = logging.getLogger("lss")

#: Seconds a client is told to wait (Retry-After) when Redis is full: the queue drains in
#: seconds, answers expire over minutes or hours.
FULL_RETRY_AFTER_S = 30


def redis_address(url: str) -> str:
    """HOST:PORT/DB of a Redis URL, without its password (for messages and /api/health)."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 6379}{parts.path or '/0'}"


def full(error: Exception) -> bool:
    """Whether `error` is a write that Redis refused for its maxmemory (in a script or not)."""
    return isinstance(error, redis.OutOfMemoryError) or "OOM command not allowed" in str(error)


class Outages:
    """The failures of one Redis, as 503s, logged when they begin and end (if `logged`)."""

    def __init__(self, address: str, logged: bool = True) -> None:
        self.address = address
        self._logged = logged
        #: The reason of the outage under way, if one is.
        self.reason: str | None = None
        self._full = False

    @property
    def full(self) -> bool:
        """Whether Redis refused the last write for its maxmemory (and none went through since)."""
        return self.reason is not None and self._full

    @contextlib.contextmanager
    def reaching(self, writes: bool = False) -> Iterator[None]:
        """Turn a Redis failure into Unavailable; log when Redis goes away and comes back.
        `writes`: the calls inside write (so that their success ends a full Redis's outage)."""
        try:
            yield
        except redis.RedisError as error:
            retry_after = None
            if isinstance(error, (redis.ConnectionError, redis.TimeoutError)):
                reason = f"job store unavailable: Redis at {self.address} does not answer"
            elif full(error):
                reason = f"job store full: Redis at {self.address} is at its maxmemory"
                retry_after = FULL_RETRY_AFTER_S
            else:
                reason = f"job store unavailable: Redis at {self.address}: {error}"
            if reason != self.reason and self._logged:
                log.error("%s (%s)", reason, error)
            self.reason, self._full = reason, retry_after is not None
            raise Unavailable(reason, retry_after=retry_after) from None
        if self.reason is not None and (writes or not self._full):
            self.reason = None
            if self._logged:
                log.info("Redis at %s answers again", self.address)
