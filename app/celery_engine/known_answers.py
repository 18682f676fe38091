"""Jobs whose answer Redis already stores: accepted as done, with no trip to a worker.

Each web process remembers, for the questions it saw answered lately, the digest under which
Redis stores their answer (`answers.py`: one copy per distinct answer), and for those it asked
without seeing the answer (a GET not held, or not done in time) the job that will have it. A job
asked for again (`Engine.answer`, behind `GET /api/answers/...`) is then recorded as done,
pointing to that answer, in one script: it is a job like any other (listed, counted, expiring
with its TTL, its answer kept as long as it is), but no worker computes the same bytes again,
and the answer comes at once, even with no wait. A digest Redis no longer has is forgotten, and
the job is queued.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any

import orjson

from app.celery_engine.answers import ANSWER_KEY, MARGIN_MS
from app.celery_engine.registry import (
    DONE_KEY,
    IDS_KEY,
    JOB_KEY,
    LIVE_KEY,
    SHUTDOWN_KEY,
    JobRegistry,
)
from app.engine.job import JobStatus

#: Questions whose answer's digest a web process remembers (the least recently asked go first).
REMEMBERED = 16384

#: Record a job as done with the stored answer KEYS[5] (digest ARGV[7]) unless a graceful
#: shutdown began (0) or that answer is gone (-1); its number otherwise. As FINISH does, the
#: answer is kept as long as the job, and ARGV[8] ms more. The first write is INCR, which a full
#: Redis refuses before anything is written (as ACCEPT).
ACCEPT_ANSWERED = """
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
if redis.call('EXISTS', KEYS[5]) == 0 then return -1 end
local n = redis.call('INCR', KEYS[1])
local job = ARGV[1] .. n
redis.call('HSET', job, 'endpoint', ARGV[2], 'request', ARGV[3], 'status', 'done',
           'accepted', ARGV[4], 'started', ARGV[4], 'finished', ARGV[4], 'ttl_done', ARGV[5],
           'ttl_error', ARGV[6], 'answer', ARGV[7])
redis.call('ZADD', KEYS[3], n, n)
local ttl = tonumber(ARGV[5])
if ttl > 0 then
  redis.call('EXPIRE', job, ttl)
  redis.call('ZADD', KEYS[4], string.format('%.3f', tonumber(ARGV[4]) + ttl), n)
  local keep = ttl * 1000 + tonumber(ARGV[8])
  local left = redis.call('PTTL', KEYS[5])
  if left >= 0 and left < keep then redis.call('PEXPIRE', KEYS[5], keep) end
else
  redis.call('ZADD', KEYS[4], '+inf', n)
  redis.call('PERSIST', KEYS[5])
end
return n
"""


class KnownAnswers:
    """Task key -> the digest of its answer in Redis, for the questions this process saw
    answered lately; and the script that accepts a job with one of them."""

    def __init__(self, registry: JobRegistry, limit: int = REMEMBERED) -> None:
        self.registry = registry
        self._limit = limit
        self._digests: OrderedDict[tuple[Any, ...], str] = OrderedDict()
        #: Task key -> the last job asked for it whose answer this process has not seen yet.
        self._pending: OrderedDict[tuple[Any, ...], str] = OrderedDict()
        self._lock = threading.Lock()
        self._accept = registry.redis.register_script(ACCEPT_ANSWERED)

    def digest(self, key: tuple[Any, ...]) -> str | None:
        """The digest of the answer of the task with `key`, if this process saw it."""
        return self._digests.get(key)

    def pending(self, key: tuple[Any, ...]) -> str | None:
        """The job last asked for the task with `key` whose answer this process did not see."""
        return self._pending.get(key)

    def learn(self, key: tuple[Any, ...], name: str) -> None:
        """The task with `key` was answered with the body stored under the digest `name`."""
        with self._lock:
            self._pending.pop(key, None)
            _keep(self._digests, key, name, self._limit)

    def wait_for(self, key: tuple[Any, ...], job_id: str) -> None:
        """Job `job_id` will have the answer of the task with `key`: look there next time."""
        with self._lock:
            _keep(self._pending, key, job_id, self._limit)

    def forget(self, key: tuple[Any, ...]) -> None:
        with self._lock:
            self._digests.pop(key, None)
            self._pending.pop(key, None)

    def accept(
        self, endpoint: str, request: dict[str, Any], ttl: dict[JobStatus, int], name: str
    ) -> int:
        """Record a job already done with the answer stored under `name`: its number; 0 once a
        graceful shutdown began; -1 if Redis no longer has that answer (nothing recorded)."""
        keys = [IDS_KEY, SHUTDOWN_KEY, LIVE_KEY, DONE_KEY, ANSWER_KEY + name]
        args = [JOB_KEY, endpoint, orjson.dumps(request), repr(time.time())]
        args += [ttl[JobStatus.DONE], ttl[JobStatus.ERROR], name, MARGIN_MS]
        with self.registry.reaching(writes=True):
            return int(self._accept(keys=keys, args=args))


def _keep(entries: OrderedDict[tuple[Any, ...], str], key: tuple[Any, ...], value: str, limit: int):
    """Set `key` as the newest entry, letting the oldest go past `limit` (the lock is held)."""
    entries[key] = value
    entries.move_to_end(key)
    while len(entries) > limit:
        entries.popitem(last=False)
