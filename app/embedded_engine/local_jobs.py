"""This process's share of the embedded engine's jobs: from the pool to a finished journal row.

A job the engine accepted is taken here: it runs on this process's pool (or inline, with no
pool), and ends as a result file (written atomically), then as finished in this process (its
pollers woken, its body kept among the last RECENT), then as a finished row, recorded with other
jobs' ends in one transaction while the pool has work queued. Until its row says so, this
process answers for it from memory.
"""

from __future__ import annotations

import _thread
import logging
import math
import threading
import time
from _thread import LockType
from collections import OrderedDict
from collections.abc import Mapping

from app.data_ingestor import Dataset
from app.embedded_engine.journal import Journal
from app.embedded_engine.store import ResultStore
from app.engine.answers import Answers
from app.engine.interface import error_body
from app.engine.job import JobStatus, format_job_id
from app.engine.observer import NOBODY, JobObserver
from app.errors import Unavailable
from app.task import Task
from app.task_runner import ThreadPool
from app.tracing import context
from app.tracing.context import Trace

log = logging.getLogger("lss")

#: Finished jobs whose body get_results can answer without reading the file back. Bodies are
#: shared with the answer cache, so each costs one dictionary entry; older jobs are read from disk.
RECENT = 8192
#: Most job ends recorded in the journal in one transaction.
RECORD_BATCH = 64


def _one_line(text: str) -> str:
    """An error reason as one line."""
    return " ".join(text.split())


class _Job:
    """A job on the pool: run it, or record why it could not finish. It keeps the id of the
    request that submitted it, for the lines it logs while it runs."""

    __slots__ = ("accepted", "endpoint", "local", "number", "request_id", "started", "task")

    def __init__(
        self, local: LocalJobs, number: int, endpoint: str, task: Task | None, accepted: float,
        request_id: str | None = None,
    ):  # fmt: skip
        self.local = local
        self.number = number
        self.endpoint = endpoint
        self.task = task
        self.accepted = accepted
        self.request_id = request_id
        self.started: float | None = None

    def run(self) -> None:
        self.started = time.time()
        previous = context.bind(Trace(self.request_id, job_id=format_job_id(self.number)))
        try:
            self.local._run(self)
        finally:
            context.bind(previous)

    def abandon(self, reason: str) -> None:
        self.local._finish(self, error_body(reason), reason)

    def __str__(self) -> str:
        return f"{format_job_id(self.number)} ({self.endpoint})"


class LocalJobs:
    """The jobs this process runs, and what it remembers of them once they are finished.

    Its state is guarded by `lock`, the engine's: the engine holds it too, to take a job and
    check its own shutdown flag at once. Only pending jobs and the last RECENT finished ones are
    kept, the latter as references to their (shared, serialized) answers.
    """

    def __init__(
        self,
        pool: ThreadPool | None,
        dataset: Dataset,
        store: ResultStore,
        journal: Journal,
        ttl: Mapping[JobStatus, int],
        lock: LockType,
        observer: JobObserver = NOBODY,
    ) -> None:
        """The parts a job meets in turn: the pool runs it, the dataset answers it, the store
        keeps its result, the journal records its end; `ttl` by status, the engine's `lock`,
        and who counts the jobs that finish."""
        self.pool = pool
        self.observer = observer
        self.store = store
        self.journal = journal
        self.ttl = ttl
        self.lock = lock
        #: Notified when the last pending job finished (under `lock`).
        self.idle = threading.Condition(lock)
        self.pending: set[int] = set()
        #: Pending job -> the locks its waiting pollers sleep on (only while someone waits).
        self.waiters: dict[int, list[LockType]] = {}
        #: Finished job -> (its body, when it expires), for the last RECENT jobs (oldest first;
        #: an OrderedDict, since a dict's first key is slow to find after many deletions).
        self.recent: OrderedDict[int, tuple[bytes, float]] = OrderedDict()
        #: Jobs finished here whose end is not in the journal yet: number -> (status, started,
        #: finished, reason). Recorded in batches while the pool has work queued.
        self.unrecorded: dict[int, tuple[JobStatus, float, float, str | None]] = {}
        self.answers = Answers(dataset)

    def take(self, number: int, task: Task, accepted: float, inline: bool = False) -> _Job | None:
        """Hand a new job, accepted at `accepted`, to the pool (the lock is held), with the id of
        the request this thread serves; the job itself to run in the caller's thread if `inline`,
        in synchronous mode, or if the pool closed while it was being recorded."""
        self.pending.add(number)
        job = _Job(self, number, task.endpoint, task, accepted, context.request_id())
        if inline or self.pool is None or self.pool.closed:
            return job
        self.pool.submit(job)
        return None

    def fail(self, number: int, endpoint: str, reason: str) -> None:
        """End job `number` as failed for `reason` without running it."""
        _Job(self, number, endpoint, None, time.time()).abandon(_one_line(reason))

    def _run(self, job: _Job) -> None:
        """Compute (or reuse) the answer, then record it."""
        try:
            body, reason = self.answers.body(job.task), None  # type: ignore[arg-type]
        except Exception as error:
            log.error("%s failed", job, exc_info=error)
            reason = _one_line(f"job failed: {type(error).__name__}: {error}")
            body = error_body(reason)
        self._finish(job, body, reason)

    def _finish(self, job: _Job, body: bytes, reason: str | None) -> None:
        """Write the result file, then mark the job finished here, then in the journal.

        While the pool has more work queued the journal's record waits for a batch (one
        transaction for several jobs); the last job of a burst records it at once. Until then
        this process answers for the job from memory and counts it as finished (`record`).
        """
        try:
            self.store.write(job.number, body, shared=reason is None)  # answers recur
        except Exception as error:
            log.error("cannot write the result of %s", job, exc_info=error)
            reason = _one_line(f"result could not be stored: {error}")
            body = error_body(reason)
        status = JobStatus.DONE if reason is None else JobStatus.ERROR
        finished = time.time()
        self.observer.finished(job.endpoint, reason is None, finished - job.accepted)
        ttl = self.ttl[status]
        with self.lock:
            self.unrecorded[job.number] = (status, job.started or finished, finished, reason)
            self.recent[job.number] = (body, finished + ttl if ttl else math.inf)
            if len(self.recent) > RECENT:
                self.recent.popitem(last=False)
            self.pending.discard(job.number)
            for waiter in self.waiters.pop(job.number, ()):
                waiter.release()
            if not self.pending:
                self.idle.notify_all()
        busy = self.pool is not None and self.pool.queued > 0
        if not busy or len(self.unrecorded) >= RECORD_BATCH:
            self.record()

    def record(self) -> None:
        """Write the ends of the jobs finished here into the journal, in one transaction."""
        with self.lock:
            ends = [(number, *end) for number, end in self.unrecorded.items()]
        if not ends:
            return
        try:
            self.journal.finish_many(ends)
        except Unavailable as error:  # kept for the next try; at worst they run again
            log.error("cannot record the end of %d job(s) in the journal: %s", len(ends),
                      error.reason)  # fmt: skip
            return
        with self.lock:
            for number, *_ in ends:
                self.unrecorded.pop(number, None)

    def forget(self, numbers: list[int]) -> None:
        """Jobs `numbers` were purged: stop answering them from memory."""
        with self.lock:
            for number in numbers:
                self.recent.pop(number, None)

    def final(self, number: int) -> bytes | None:
        """The final body of a job this process finished, while it is remembered and unexpired.

        A finished job is in `recent` before it leaves `pending` (both under the lock): found here,
        it is final whatever `pending` says at this instant. A plain dict read, without the lock:
        the serving layer calls it on its event loop (`Engine.result_at_hand`)."""
        recent = self.recent.get(number)
        if recent is not None and time.time() < recent[1]:
            return recent[0]
        return None

    def wait(self, number: int, timeout: float) -> bool:
        """Wait up to `timeout` seconds for job `number` to finish; True once it has."""
        with self.lock:
            if number not in self.pending:
                return True
            if timeout <= 0:
                return False
            waiter = _thread.allocate_lock()  # a bare lock: the lightest thing to sleep on
            waiter.acquire()
            self.waiters.setdefault(number, []).append(waiter)
        if waiter.acquire(timeout=timeout):
            return True
        with self.lock:  # timed out; the job may have finished just now
            waiting = self.waiters.get(number)
            if waiting and waiter in waiting:
                waiting.remove(waiter)
                if not waiting:
                    del self.waiters[number]
            return number not in self.pending
