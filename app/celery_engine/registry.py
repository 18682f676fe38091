"""The Celery engine's jobs in Redis: ids, records, answers, statuses and the shutdown flag.

Every web process and every worker, on any machine, reads and writes the same keys, so they agree
on ids, on `/api/jobs` and `/api/num_jobs`, and on a graceful shutdown. The keys:

    lss:ids               INCR counter: the highest id issued (never reset: ids are never reused)
    lss:job:<n>           hash: endpoint, request, status, accepted, started, finished, reason,
                          answer (the digest of the get_results body), ttl_done, ttl_error
    lss:answer:<digest>   a get_results body, stored once for every job that has it (answers.py)
    lss:live              sorted set of the live job numbers (score: the number), for id order
    lss:running           sorted set of the numbers accepted and not finished (score: when
                          they were accepted, or last sent again by the sweep of lost_jobs.py)
    lss:done, lss:error   sorted sets of the finished numbers (score: when they expire, or +inf)
    lss:wake:<n>          a list that gets an item when job n finishes (for a few seconds), for
                          the reads that wait for it
    lss:shutdown          present once a graceful shutdown began
    lss:sweep             held for a second by the worker whose sweep for lost jobs runs
                          (lost_jobs.py, with its own script)

Each change of a job is one Lua script (registry_scripts.py), so it is atomic; the one that
accepts a job also pushes its Celery task onto the broker's queue (a list). A finished job's hash
gets its time to live from Redis itself (EXPIRE): its answer goes exactly on time, and `purge`
then takes its number out of the sorted sets in batches. Redis errors become `Unavailable` (a
503, outages.py); a Redis past its maxmemory refuses new jobs but records the answers of the jobs
it accepted (registry_scripts.py says how).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from typing import Any

import orjson
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from app.celery_engine import registry_scripts as scripts
from app.celery_engine.answers import ANSWER_KEY, MARGIN_MS, StoredAnswers, digest
from app.celery_engine.outages import Outages, full, redis_address
from app.engine.job import JOB_ID_PREFIX, JobStatus

log = logging.getLogger("lss")

PREFIX = "lss:"
_IDS, _LIVE, _SHUTDOWN = (PREFIX + k for k in ("ids", "live", "shutdown"))
#: The sorted set of the running jobs, and the prefix of a job's hash (lost_jobs.py reads both).
RUNNING_KEY, JOB_KEY = PREFIX + "running", PREFIX + "job:"
_FINISHED = {JobStatus.DONE: PREFIX + "done", JobStatus.ERROR: PREFIX + "error"}
#: Seconds to wait for a TCP connection to Redis, and for an answer: a Redis that is gone must
#: cost a request a 503 within a few seconds, not hang it.
CONNECT_TIMEOUT_S = 1.0
ANSWER_TIMEOUT_S = 5.0
#: Job numbers read per round trip when listing, and purged per script run (short scripts keep
#: Redis answering other clients in between).
BATCH = 500
_WAKE = PREFIX + "wake:"
#: Seconds a finished job's wake-up list lives: longer than a read takes between its look at the
#: job and its wait (a read that comes later sees the job done and does not wait).
WAKE_TTL_S = 10
#: Longest blocking wait of one command, in seconds: well within ANSWER_TIMEOUT_S.
LONGEST_WAIT_S = 2.0
#: Seconds a read that was to wait for a running job pauses instead, on a full Redis.
FULL_PAUSE_S = 0.05

_FIELDS = ("endpoint", "request", "status", "accepted", "started", "finished", "reason")


def _time(raw: bytes | None) -> float | None:
    return None if raw is None else float(raw)


class JobRegistry:
    """The jobs of every web process and worker sharing one Redis database."""

    def __init__(self, url: str, client_name: str = "lss", *, log_outages: bool = True) -> None:
        self.url = url
        self.address = redis_address(url)
        # One immediate retry: a pooled connection that Redis dropped (a restart) is replaced
        # at once; a Redis that is down fails fast instead of backing off for seconds.
        self.redis = redis.Redis.from_url(
            url,
            socket_connect_timeout=CONNECT_TIMEOUT_S,
            socket_timeout=ANSWER_TIMEOUT_S,
            retry=Retry(NoBackoff(), 1),
            client_name=client_name,
        )
        self._accept = self.redis.register_script(scripts.ACCEPT)
        self._finish = self.redis.register_script(scripts.FINISH)
        self._purge = self.redis.register_script(scripts.PURGE)
        self._read = self.redis.register_script(scripts.READ)
        self._stored = StoredAnswers()
        #: Every call goes through `reaching`: Redis's failures become 503s (outages.py).
        self.outages = Outages(self.address, log_outages)
        self.reaching = self.outages.reaching

    # -- the life of a job ----------------------------------------------------------------------

    def accept(
        self,
        endpoint: str,
        request: dict[str, Any],
        ttl: dict[JobStatus, int],
        queue: str | None = None,
        message: Sequence[bytes] = (),
    ) -> int:
        """Record a new job and return its number; 0 once a graceful shutdown began.

        With a `queue`, push its task `message` onto that list in the same script: the pieces
        of the message joined with the job's id (app.celery_engine.message).
        """
        keys = [_IDS, _SHUTDOWN, _LIVE, RUNNING_KEY, *([queue] if queue else [])]
        args = [JOB_KEY, endpoint, orjson.dumps(request), repr(time.time())]
        args += [ttl[JobStatus.DONE], ttl[JobStatus.ERROR], JOB_ID_PREFIX, *message]
        with self.reaching(writes=True):
            return int(self._accept(keys=keys, args=args))

    def finish(
        self,
        number: int,
        status: JobStatus,
        body: bytes,
        reason: str | None,
        started: float | None = None,
    ) -> float | None:
        """Record job `number`'s answer (and when it started); when the job was accepted, or None
        if another run of it already finished. A body this process stored lately is sent only if
        Redis no longer has it."""
        known = self._stored.known(body)
        name = known or digest(body)
        args = [number, status.value, b"" if known else body, reason or "", repr(time.time())]
        args += ["" if started is None else repr(started), WAKE_TTL_S, name, MARGIN_MS]
        keys = [f"{JOB_KEY}{number}", RUNNING_KEY, _FINISHED[status], f"{_WAKE}{number}"]
        keys += [ANSWER_KEY + name]
        with self.reaching(writes=True):
            accepted = self._finish(keys=keys, args=args)
            if accepted == -1:  # the answer expired since: send it
                args[2] = body
                accepted = self._finish(keys=keys, args=args)
        if accepted == 0:
            return None
        self._stored.remember(body, name)
        return float(accepted)

    def purge(self, now: float) -> int:
        """Forget every job whose time to live ran out before `now`; how many there were."""
        purged = 0
        with self.reaching():
            while True:
                keys = [_LIVE, *_FINISHED.values()]
                count = int(self._purge(keys=keys, args=[JOB_KEY, repr(now), BATCH]))
                purged += count
                if count < BATCH:
                    return purged

    # -- queries --------------------------------------------------------------------------------

    def result(
        self, number: int, wait: float = 0.0
    ) -> tuple[JobStatus, bytes | None, str | None] | None:
        """Job `number`'s status, answer body and failure reason; None if Redis has no such job.

        With `wait` (s, at most LONGEST_WAIT_S), first wait up to that long for it to finish, in
        the same round trip: Redis blocks on the job's wake-up list (taking nothing from it),
        which a finished or missing job is given first if it has none (scripts.WAKE_IF_FINISHED).
        A full Redis refuses both (they may write): the read is made all the same, and the wait
        becomes a pause of at most FULL_PAUSE_S (a held read then polls).
        """
        key = f"{JOB_KEY}{number}"
        with self.reaching():
            if wait <= 0:
                found = self._read(keys=[key], args=[ANSWER_KEY])
            else:
                pipe = self.redis.pipeline(transaction=False)
                wake = f"{_WAKE}{number}"
                pipe.eval(scripts.WAKE_IF_FINISHED, 2, key, wake, WAKE_TTL_S)
                pipe.execute_command("BLMOVE", wake, wake, "LEFT", "LEFT", f"{wait:.3f}")
                pipe.eval(scripts.READ, 1, key, ANSWER_KEY)
                *waiting, found = pipe.execute(raise_on_error=False)
                if isinstance(found, Exception):
                    raise found
                refused = [outcome for outcome in waiting if isinstance(outcome, Exception)]
                for error in refused:
                    if not full(error):
                        raise error
                if refused and found and found[0] == b"running":
                    time.sleep(min(wait, FULL_PAUSE_S))
        if found is None:
            return None
        status, body, reason = JobStatus(found[0].decode()), found[1], found[2]
        if status is not JobStatus.RUNNING and body is None:
            return None  # its answer is gone: as good as expired
        return status, body, None if reason is None else reason.decode()

    def highest(self) -> int:
        """The highest job number ever issued (0 before the first)."""
        with self.reaching():
            return int(self.redis.get(_IDS) or 0)

    def count_running(self) -> int:
        """Jobs accepted and not finished, by every web process."""
        with self.reaching():
            return self.redis.zcard(RUNNING_KEY)

    def counts(self) -> dict[str, int]:
        """Live jobs by status."""
        now = repr(time.time())
        with self.reaching():
            pipe = self.redis.pipeline(transaction=False)
            pipe.zcard(RUNNING_KEY)
            for key in _FINISHED.values():
                pipe.zcount(key, f"({now}", "+inf")
            running, done, error = pipe.execute()
        return {"running": running, "done": done, "error": error}

    def count_live(self, after: int = 0) -> tuple[int, int]:
        """(live jobs numbered above `after`, the highest number issued), in one transaction.
        With `after` 0 every live job, by status as `counts` has them; above it the numbers
        `lss:live` holds (an expired job's number until the purge takes it out)."""
        with self.reaching():
            pipe = self.redis.pipeline(transaction=True)
            pipe.get(_IDS)
            if after:
                pipe.zcount(_LIVE, f"({after}", "+inf")
            else:
                now = repr(time.time())
                pipe.zcard(RUNNING_KEY)
                for key in _FINISHED.values():
                    pipe.zcount(key, f"({now}", "+inf")
            highest, *counts = pipe.execute()
        return sum(counts), int(highest or 0)

    def statuses(self) -> Iterator[tuple[int, JobStatus]]:
        """(number, status) of every live job, in id order, read in batches as it is consumed."""
        after = "-inf"
        while True:
            with self.reaching():
                numbers = self.redis.zrangebyscore(_LIVE, after, "+inf", start=0, num=BATCH)
                pipe = self.redis.pipeline(transaction=False)
                for number in numbers:
                    pipe.hget(f"{JOB_KEY}{int(number)}", "status")
                found = pipe.execute()
            for number, status in zip(numbers, found, strict=True):
                if status is not None:  # None: expired, not purged yet
                    yield int(number), JobStatus(status.decode())
            if len(numbers) < BATCH:
                return
            after = f"({int(numbers[-1])}"

    def latest(self, limit: int) -> list[dict[str, Any]]:
        """The `limit` most recently accepted live jobs, latest first, as their fields."""
        with self.reaching():
            numbers = self.redis.zrevrange(_LIVE, 0, limit - 1)
            pipe = self.redis.pipeline(transaction=False)
            for number in numbers:
                pipe.hmget(f"{JOB_KEY}{int(number)}", *_FIELDS)
            found = pipe.execute()
        jobs = []
        for number, values in zip(numbers, found, strict=True):
            fields = dict(zip(_FIELDS, values, strict=True))
            if fields["status"] is None:
                continue
            jobs.append(
                {
                    "number": int(number),
                    "endpoint": fields["endpoint"].decode(),
                    "request": orjson.loads(fields["request"]),
                    "status": JobStatus(fields["status"].decode()),
                    "times": tuple(_time(fields[k]) for k in ("accepted", "started", "finished")),
                    "reason": None if fields["reason"] is None else fields["reason"].decode(),
                }
            )
        return jobs

    # -- the shutdown flag ----------------------------------------------------------------------

    def request_shutdown(self) -> None:
        """From now on no web process accepts a job (a full Redis too: scripts.SHUT_DOWN)."""
        with self.reaching():
            self.redis.eval(scripts.SHUT_DOWN, 1, _SHUTDOWN)

    def shutting_down(self) -> bool:
        """True once any web process began a graceful shutdown."""
        with self.reaching():
            return bool(self.redis.exists(_SHUTDOWN))

    def clear_shutdown(self) -> None:
        """A new run of the service accepts jobs again."""
        with self.reaching():
            self.redis.delete(_SHUTDOWN)

    def ping(self) -> None:
        """Unavailable unless Redis answers."""
        with self.reaching():
            self.redis.ping()

    def close(self) -> None:
        """Close the pooled connections (they are opened again if the registry is used)."""
        self.redis.close()
