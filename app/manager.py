"""The job lifecycle: ids, submission to the pool, statuses, results, graceful shutdown."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import orjson

from app.data_ingestor import Dataset
from app.errors import JobNotFound, ShuttingDown
from app.job import JobStatus, format_job_id, parse_job_id
from app.store import ERROR_PREFIX, ResultStore
from app.task import Task
from app.task_runner import ThreadPool

log = logging.getLogger("lss")

#: Job ids reserved on disk at a time: the id mark is written once per this many jobs.
ID_BLOCK = 1024
#: Finished jobs whose body get_results can answer without reading the file back. Bodies are
#: shared with the answer cache, so each costs one dictionary entry; older jobs are read from disk.
RECENT = 8192


def _error_body(reason: str) -> bytes:
    """The body of a job that failed (it starts with store.ERROR_PREFIX)."""
    return orjson.dumps({"status": JobStatus.ERROR.value, "reason": reason})


class JobManager:
    """Issues job ids, runs tasks on the pool and answers for every job ever accepted.

    Only jobs still queued or running, and failed ones, are kept in memory; a finished job's
    answer lives in its result file, so memory does not grow with the number of jobs served.
    The last RECENT finished jobs also keep a reference to their body (most polls come right
    after the job finished); the bodies themselves are the shared, serialized answers.
    With `pool=None` a job runs inline during submit (the synchronous mode tests use).
    """

    def __init__(self, dataset: Dataset, store: ResultStore, pool: ThreadPool | None) -> None:
        self.dataset = dataset
        self.store = store
        self.pool = pool
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        #: Pending job -> the event its waiting pollers sleep on (only while someone waits).
        self._waiters: dict[int, threading.Event] = {}
        self._closed = False
        self._last, self._failed = store.scan()
        self._first = self._last + 1  # ids below this one were issued by an earlier run
        self._reserved = self._last  # ids up to this one are recorded on disk as issued
        self._pending: set[int] = set()
        self._failure_bodies: dict[int, bytes] = {}
        #: Finished job -> its body, for the last RECENT jobs (oldest first).
        self._recent: dict[int, bytes] = {}
        #: Serialized answers by task key: bounded by the number of distinct questions.
        self._answers: dict[tuple[str, str, str | None], bytes] = {}

    # -- submission ---------------------------------------------------------------------------

    def submit(self, task: Task) -> str:
        """Accept `task` as a new job and return its id; raises ShuttingDown once closed."""
        with self._lock:
            if self._closed:
                raise ShuttingDown()
            number = self._last + 1
            if number > self._reserved:
                self.store.write_mark(number + ID_BLOCK - 1)  # before the id can be handed out
                self._reserved = number + ID_BLOCK - 1
            self._last = number
            self._pending.add(number)
            if self.pool is not None:
                self.pool.submit(lambda: self._run(number, task))
        if self.pool is None:
            self._run(number, task)
        return format_job_id(number)

    def _run(self, number: int, task: Task) -> None:
        """Compute (or reuse) the answer, write the result file, then mark the job finished."""
        try:
            body = self._answer(task)
        except Exception as error:
            log.error("%s (%s) failed", format_job_id(number), task.endpoint, exc_info=error)
            body = _error_body(f"job failed: {type(error).__name__}: {error}")
        try:
            self.store.write(number, body)
        except Exception as error:
            log.error("cannot write the result of %s", format_job_id(number), exc_info=error)
            body = _error_body(f"result could not be stored: {error}")
            self._failure_bodies[number] = body
        with self._lock:
            if body.startswith(ERROR_PREFIX):
                self._failed.add(number)
            self._recent[number] = body  # only now: the file is complete (or known lost)
            if len(self._recent) > RECENT:
                del self._recent[next(iter(self._recent))]
            self._pending.discard(number)
            waiters = self._waiters.pop(number, None)
            if waiters is not None:
                waiters.set()
            if not self._pending:
                self._idle.notify_all()

    def _answer(self, task: Task) -> bytes:
        """The serialized result body of `task`, computed once per distinct task."""
        body = self._answers.get(task.key)
        if body is None:
            data = task.compute(self.dataset)
            body = orjson.dumps({"status": JobStatus.DONE.value, "data": data})
            self._answers[task.key] = body
        return body

    # -- queries ------------------------------------------------------------------------------

    def _number(self, job_id: str) -> int:
        """The number of an issued job id; JobNotFound for anything else."""
        number = parse_job_id(job_id)
        if number is None or number > self._last:
            raise JobNotFound()
        return number

    def status(self, number: int) -> JobStatus:
        """Where job `number` (an issued one) stands."""
        if number in self._pending:
            return JobStatus.RUNNING
        return JobStatus.ERROR if number in self._failed else JobStatus.DONE

    def _wait_for(self, number: int, timeout: float) -> bool:
        """Wait up to `timeout` seconds for job `number` to finish; True once it has."""
        with self._lock:
            if number not in self._pending:
                return True
            if timeout <= 0:
                return False
            finished = self._waiters.setdefault(number, threading.Event())
        return finished.wait(timeout)

    def result(self, job_id: str, wait: float = 0.0) -> bytes:
        """The JSON body get_results answers with for `job_id`.

        A job still pending gets up to `wait` seconds to finish first: a poll that arrives a
        moment early then gets the answer instead of "running" and a second round trip.
        """
        number = self._number(job_id)
        if number in self._pending and not self._wait_for(number, wait):
            return b'{"status":"running"}'
        body = (
            self._recent.get(number) or self._failure_bodies.get(number) or self.store.read(number)
        )
        if body is None:
            if number < self._first:  # an id an earlier run reserved but never issued
                raise JobNotFound()
            return _error_body(f"the result of {job_id} is no longer stored")
        return body

    def statuses(self) -> Iterator[tuple[str, JobStatus]]:
        """(job id, status) of every job issued, in id order."""
        earlier = self.store.numbers() if self._first > 1 else set()
        for number in range(1, self._last + 1):
            if number >= self._first or number in earlier:
                yield format_job_id(number), self.status(number)

    @property
    def num_pending(self) -> int:
        """Jobs queued or executing right now."""
        return len(self._pending)

    @property
    def jobs_issued(self) -> int:
        """The highest id issued (or, after a crash, reserved) so far, by any run."""
        return self._last

    @property
    def closed(self) -> bool:
        """True once a graceful shutdown began."""
        return self._closed

    # -- shutdown -----------------------------------------------------------------------------

    def close(self) -> int:
        """Refuse new jobs from now on and let the accepted ones finish; returns how many remain."""
        with self._lock:
            if not self._closed:
                self._closed = True
                log.info(
                    "graceful shutdown: %d accepted job(s) still to finish", len(self._pending)
                )
                if self.pool is not None:
                    self.pool.shutdown(wait=False)
            return len(self._pending)

    def drain(self, timeout: float | None = None) -> bool:
        """Close, wait until every accepted job finished and the workers exited; True if so."""
        self.close()
        with self._idle:
            if not self._idle.wait_for(lambda: not self._pending, timeout):
                return False
            if self._reserved != self._last:
                self.store.write_mark(self._last)  # a clean stop: the next run goes on from here
                self._reserved = self._last
        return self.pool is None or self.pool.shutdown(wait=True, timeout=timeout)
