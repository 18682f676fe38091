"""The embedded engine: the hand-written pool, the SQLite journal and one result file per job.

Every process of the server runs one, over the same journal and results folder. A job is a
journal row before its id is answered, runs on this process's pool, and ends as a result file
(written atomically), then as finished in this process, then as a finished row (batched with
other jobs' while the pool is busy). Any process answers any id: first from what it knows
itself, then from the result file, then from the journal.
"""

from __future__ import annotations

import _thread
import logging
import math
import os
import threading
import time
from _thread import LockType
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from app.data_ingestor import Dataset
from app.embedded_engine import owners
from app.embedded_engine.expiry import purge_expired
from app.embedded_engine.journal import Journal
from app.embedded_engine.store import ResultStore
from app.engine.answers import Answers
from app.engine.interface import RUNNING_BODY, Engine, error_body, job_view
from app.engine.job import JobStatus, format_job_id, parse_job_id
from app.engine.maintenance import Maintenance, Round
from app.errors import InvalidInput, JobExpired, JobNotFound, ShuttingDown, Unavailable
from app.task import TASKS, Task
from app.task_runner import ThreadPool

log = logging.getLogger("lss")

#: Seconds between two looks for jobs left unfinished by processes that died.
ADOPT_EVERY_S = 2.0
#: Seconds between two checkpoints of the journal's write-ahead log (see journal.py).
CHECKPOINT_EVERY_S = 0.5

#: Finished jobs whose body get_results can answer without reading the file back. Bodies are
#: shared with the answer cache, so each costs one dictionary entry; older jobs are read from disk.
RECENT = 8192
#: Most job ends recorded in the journal in one transaction.
RECORD_BATCH = 64


def _one_line(text: str) -> str:
    """An error reason as one line."""
    return " ".join(text.split())


class _Job:
    """A job on the pool: run it, or record why it could not finish."""

    __slots__ = ("endpoint", "engine", "number", "started", "task")

    def __init__(self, engine: EmbeddedEngine, number: int, endpoint: str, task: Task | None):
        self.engine = engine
        self.number = number
        self.endpoint = endpoint
        self.task = task
        self.started: float | None = None

    def run(self) -> None:
        self.started = time.time()
        self.engine._run(self)

    def abandon(self, reason: str) -> None:
        self.engine._finish(self, error_body(reason), reason)

    def __str__(self) -> str:
        return f"{format_job_id(self.number)} ({self.endpoint})"


class EmbeddedEngine(Engine):
    """Runs jobs on this process's pool, over the shared journal and results folder.

    Only this process's pending jobs are kept in memory, and the last RECENT finished ones as
    references to their (shared, serialized) answers: memory does not grow with the jobs served.
    With `pool=None` a job runs inline during submit (the synchronous mode most tests use).
    """

    name = "embedded"

    def __init__(
        self,
        dataset: Dataset,
        store: ResultStore,
        journal: Journal,
        pool: ThreadPool | None,
        *,
        result_ttl: int = 0,
        error_ttl: int = 0,
        maintenance_interval: int = 0,
        workers: int = 1,
    ) -> None:
        self.dataset = dataset
        self.store = store
        self.journal = journal
        self.pool = pool
        self.workers = workers
        self.ttl = {JobStatus.DONE: result_ttl, JobStatus.ERROR: error_ttl}
        self.token = owners.new_token()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._closed = False
        self._pending: set[int] = set()
        #: Pending job -> the locks its waiting pollers sleep on (only while someone waits).
        self._waiters: dict[int, list[LockType]] = {}
        #: Finished job -> (its body, when it expires), for the last RECENT jobs (oldest first;
        #: an OrderedDict, since a dict's first key is slow to find after many deletions).
        self._recent: OrderedDict[int, tuple[bytes, float]] = OrderedDict()
        #: Jobs finished here whose end is not in the journal yet: number -> (status, started,
        #: finished, reason). Recorded in batches while the pool has work queued.
        self._unrecorded: dict[int, tuple[JobStatus, float, float, str | None]] = {}
        self._answers = Answers(dataset)
        self.maintenance = (
            Maintenance(
                [
                    # Here, so that the threads that commit jobs do not wait for the WAL's copy.
                    Round("checkpoint", CHECKPOINT_EVERY_S, journal.checkpoint),
                    Round("purge", maintenance_interval, self.purge),
                    Round("adopt", ADOPT_EVERY_S, self.tend),
                ]
            )
            if pool is not None
            else None
        )

    def start(self) -> None:
        """Queue the jobs that processes which died left unfinished, then start maintenance."""
        recovered = self.recover()
        if recovered:
            log.info("re-running %d job(s) left unfinished by a stopped process", recovered)
        if self.maintenance is not None:
            self.maintenance.start()

    # -- submission -----------------------------------------------------------------------------

    def submit(self, task: Task) -> str:
        if self._closed:
            raise ShuttingDown()
        try:  # not under the engine's lock: the pool's threads need it to finish their jobs
            number = self.journal.accept(task.endpoint, task.payload(), self.token, time.time())
        except ShuttingDown:  # another process began it
            with self._lock:
                self._close_locked()
            raise
        with self._lock:
            job = self._enqueue(number, task)
        if job is not None:
            job.run()
        return format_job_id(number)

    def _enqueue(self, number: int, task: Task) -> _Job | None:
        """Hand a new job to the pool (the lock is held); the job itself to run in the caller's
        thread in synchronous mode, or if the pool closed while it was being recorded."""
        self._pending.add(number)
        job = _Job(self, number, task.endpoint, task)
        if self.pool is None or self.pool.closed:
            return job
        self.pool.submit(job)
        return None

    def recover(self) -> int:
        """Adopt and queue the unfinished jobs of processes that died; how many there were."""
        adopted = 0
        for owner in self.journal.unfinished_owners():
            if owner == self.token or (owner is not None and owners.alive(owner)):
                continue
            for record in self.journal.adopt(owner, self.token):
                try:
                    task = TASKS[record.endpoint].from_payload(record.request, self.dataset)
                except (KeyError, InvalidInput) as error:
                    reason = _one_line(f"cannot run it again: {error}")
                    job = _Job(self, record.number, record.endpoint, None)
                    self._finish(job, error_body(reason), reason)
                    continue
                with self._lock:
                    if self._closed:
                        return adopted  # left for the next start; the journal keeps them
                    job = self._enqueue(record.number, task)
                log.info("%s (%s) adopted", format_job_id(record.number), record.endpoint)
                adopted += 1
                if job is not None:
                    job.run()
        return adopted

    # -- running --------------------------------------------------------------------------------

    def _run(self, job: _Job) -> None:
        """Compute (or reuse) the answer, then record it."""
        try:
            body, reason = self._answers.body(job.task), None  # type: ignore[arg-type]
        except Exception as error:
            log.error("%s failed", job, exc_info=error)
            reason = _one_line(f"job failed: {type(error).__name__}: {error}")
            body = error_body(reason)
        self._finish(job, body, reason)

    def _finish(self, job: _Job, body: bytes, reason: str | None) -> None:
        """Write the result file, then mark the job finished here, then in the journal.

        While the pool has more work queued the journal's record waits for a batch (one
        transaction for several jobs); the last job of a burst records it at once. Until then
        this process answers for the job from memory and counts it as finished (`_record`).
        """
        try:
            self.store.write(job.number, body, shared=reason is None)  # answers recur
        except Exception as error:
            log.error("cannot write the result of %s", job, exc_info=error)
            reason = _one_line(f"result could not be stored: {error}")
            body = error_body(reason)
        status = JobStatus.DONE if reason is None else JobStatus.ERROR
        finished = time.time()
        ttl = self.ttl[status]
        with self._lock:
            self._unrecorded[job.number] = (status, job.started or finished, finished, reason)
            self._recent[job.number] = (body, finished + ttl if ttl else math.inf)
            if len(self._recent) > RECENT:
                self._recent.popitem(last=False)
            self._pending.discard(job.number)
            for waiter in self._waiters.pop(job.number, ()):
                waiter.release()
            if not self._pending:
                self._idle.notify_all()
        busy = self.pool is not None and self.pool.queued > 0
        if not busy or len(self._unrecorded) >= RECORD_BATCH:
            self._record()

    def _record(self) -> None:
        """Write the ends of the jobs finished here into the journal, in one transaction."""
        with self._lock:
            ends = [(number, *end) for number, end in self._unrecorded.items()]
        if not ends:
            return
        try:
            self.journal.finish_many(ends)
        except Unavailable as error:  # kept for the next try; at worst they run again
            log.error("cannot record the end of %d job(s) in the journal: %s", len(ends),
                      error.reason)  # fmt: skip
            return
        with self._lock:
            for number, *_ in ends:
                self._unrecorded.pop(number, None)

    def _forget(self, numbers: list[int]) -> None:
        """Jobs `numbers` were purged: stop answering them from memory."""
        with self._lock:
            for number in numbers:
                self._recent.pop(number, None)

    # -- maintenance ----------------------------------------------------------------------------

    def purge(self, now: float | None = None) -> int:
        """Delete the jobs whose time to live ran out before `now`; how many were deleted."""
        now = time.time() if now is None else now
        purged = purge_expired(self.journal, self.store, self.ttl, now, self._forget)
        if purged:
            log.info("purged %d expired job(s)", purged)
        return purged

    def tend(self) -> None:
        """Adopt orphaned jobs, notice a shutdown begun elsewhere, check the pool's threads.

        Often (ADOPT_EVERY_S), since a restart can come while the killed processes are still
        exiting: their jobs are then not yet orphans."""
        if not self.closed:
            self.recover()
        if self.pool is not None:
            self.pool.check()

    # -- queries --------------------------------------------------------------------------------

    def _wait_for(self, number: int, timeout: float) -> bool:
        """Wait up to `timeout` seconds for job `number` to finish; True once it has."""
        with self._lock:
            if number not in self._pending:
                return True
            if timeout <= 0:
                return False
            waiter = _thread.allocate_lock()  # a bare lock: the lightest thing to sleep on
            waiter.acquire()
            self._waiters.setdefault(number, []).append(waiter)
        if waiter.acquire(timeout=timeout):
            return True
        with self._lock:  # timed out; the job may have finished just now
            waiting = self._waiters.get(number)
            if waiting and waiter in waiting:
                waiting.remove(waiter)
                if not waiting:
                    del self._waiters[number]
            return number not in self._pending

    def result(self, job_id: str, wait: float = 0.0) -> bytes:
        number = parse_job_id(job_id)
        if number is None:
            raise JobNotFound()
        if number in self._pending and not self._wait_for(number, wait):
            return RUNNING_BODY
        recent = self._recent.get(number)
        if recent is not None and time.time() < recent[1]:
            return recent[0]
        body = self.store.read(number)
        if body is not None:
            return body
        record = self.journal.record(number)
        if record is None:
            if number <= self.journal.highest():
                raise JobExpired(job_id)
            raise JobNotFound()
        if record.status is JobStatus.RUNNING:
            return RUNNING_BODY
        if record.status is JobStatus.ERROR:
            return error_body(record.reason or "job failed")
        # Done: another process may have finished it since the read above; else it was purged.
        body = self.store.read(number)
        if body is None:
            raise JobExpired(job_id)
        return body

    def statuses(self) -> Iterator[tuple[str, JobStatus]]:
        self._record()
        for number, status in self.journal.statuses():
            yield format_job_id(number), status

    def num_pending(self) -> int:
        self._record()
        return self.journal.count_running()

    def recent(self, limit: int) -> dict[str, Any]:
        self._record()
        jobs = [
            job_view(
                format_job_id(record.number),
                record.endpoint,
                record.request,
                record.status,
                (record.accepted, record.started, record.finished),
                record.reason,
            )
            for record in self.journal.latest(limit)
        ]
        return {"counts": self.journal.counts(), "jobs": jobs}

    # -- shutdown -------------------------------------------------------------------------------

    def _close_locked(self) -> None:
        """Refuse new jobs in this process and let the pool stop once drained (lock held)."""
        if not self._closed:
            self._closed = True
            log.info(
                "graceful shutdown: %d accepted job(s) still to finish here", len(self._pending)
            )
            if self.pool is not None:
                self.pool.shutdown(wait=False)

    @property
    def closed_here(self) -> bool:
        return self._closed

    @property
    def closed(self) -> bool:
        if not self._closed and self.journal.shutting_down():
            with self._lock:
                self._close_locked()
        return self._closed

    def close(self) -> int:
        self._record()
        self.journal.request_shutdown()
        with self._lock:
            self._close_locked()
        return self.journal.count_running()

    def drain(self, timeout: float | None = None) -> bool:
        if self.maintenance is not None:
            self.maintenance.stop()
        with self._idle:
            self._close_locked()
            if not self._idle.wait_for(lambda: not self._pending, timeout):
                return False
        if self.pool is not None and not self.pool.shutdown(wait=True, timeout=timeout):
            return False
        self._record()
        if self._unrecorded:
            return False  # the journal did not take them: they run again at the next start
        owners.release(self.token)  # nothing of ours is left unfinished
        self.journal.close()
        return True

    # -- health ---------------------------------------------------------------------------------

    def health(self) -> tuple[list[str], dict[str, Any]]:
        reasons = []
        if not self.dataset.rows_used:
            reasons.append("the dataset has no usable rows")
        if not self.store.writable():
            reasons.append(f"results folder {self.store.folder} is not writable")
        details: dict[str, Any] = {"jobs_issued": None, "jobs_pending": None}
        try:
            self._record()
            details["jobs_issued"] = self.journal.highest()
            details["jobs_pending"] = self.journal.count_running()
            if not os.access(self.journal.path, os.W_OK):
                reasons.append(f"job journal {self.journal.path} is not writable")
        except Unavailable as error:
            reasons.append(error.reason)
        pool = self.pool
        if pool is not None and pool.alive < pool.num_threads:
            reasons.append(
                f"{pool.num_threads - pool.alive} of {pool.num_threads} pool threads down"
            )
        return reasons, {
            "engine": self.name,
            "pid": os.getpid(),
            "workers": self.workers,
            "dataset": self.dataset.describe(),
            "threads": pool.num_threads if pool else 0,
            "threads_alive": pool.alive if pool else 0,
            "threads_replaced": pool.replaced if pool else 0,
            **details,
        }
