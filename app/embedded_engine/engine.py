"""The embedded engine: the hand-written pool, the SQLite journal and one result file per job.

Every process of the server runs one, over the same journal and results folder. A job is a
journal row before its id is answered, then runs on this process's pool and ends as a result
file, then as finished in this process, then as a finished row (`local_jobs`). Any process
answers any id: first from what it knows itself, then from the result file, then from the
journal.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from typing import Any

from app.data_ingestor import Dataset
from app.embedded_engine import owners
from app.embedded_engine.expiry import purge_expired
from app.embedded_engine.journal import JobRecord, Journal
from app.embedded_engine.local_jobs import LocalJobs
from app.embedded_engine.status import Status
from app.embedded_engine.store import ResultStore
from app.engine.interface import RUNNING_BODY, Engine, Inventory, error_body, job_view
from app.engine.job import JobStatus, format_job_id, parse_job_id
from app.engine.maintenance import Maintenance, Round
from app.engine.observer import NOBODY, JobObserver
from app.errors import InvalidInput, JobExpired, JobNotFound, ShuttingDown
from app.task import TASKS, Task
from app.task_runner import ThreadPool

log = logging.getLogger("lss")

#: Seconds between two looks for jobs left unfinished by processes that died.
ADOPT_EVERY_S = 2.0
#: Seconds between two checkpoints of the journal's write-ahead log (see journal.py).
CHECKPOINT_EVERY_S = 0.5


class EmbeddedEngine(Engine):
    """Runs jobs on this process's pool, over the shared journal and results folder.

    Only this process's pending jobs are kept in memory, and the last finished ones as
    references to their (shared, serialized) answers (`local`): memory does not grow with the
    jobs served.
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
        observer: JobObserver = NOBODY,
    ) -> None:
        self.dataset = dataset
        self.observer = observer
        self.store = store
        self.journal = journal
        self.pool = pool
        self.workers = workers
        self.ttl = {JobStatus.DONE: result_ttl, JobStatus.ERROR: error_ttl}
        self.token = owners.new_token()
        #: Guards the shutdown flag and, shared with `local`, the jobs of this process.
        self._lock = threading.Lock()
        self._closed = False
        self.local = LocalJobs(pool, dataset, store, journal, self.ttl, self._lock, observer)
        self.status = Status(dataset, store, journal, pool, self.local)
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
        if self.pool is not None:
            self.observer.pool(self.pool.num_threads, self.pool.alive, self.pool.replaced)
        if self.maintenance is not None:
            self.maintenance.start()

    # -- submission -----------------------------------------------------------------------------

    def submit(self, task: Task) -> str:
        return self._submit(task, inline=False)

    def answer(self, task: Task, wait: float) -> tuple[str, bytes]:
        """A job whose answer this process keeps (`Answers`) runs in the caller's thread."""
        job_id = self._submit(task, inline=self.local.answers.known(task))
        return job_id, self.result_or_running(job_id, wait)

    def _submit(self, task: Task, inline: bool) -> str:
        """Record the job, then queue it, or run it here if `inline` (or with no pool)."""
        if self._closed:
            raise ShuttingDown()
        now = time.time()
        try:  # not under the engine's lock: the pool's threads need it to finish their jobs
            number = self.journal.accept(task.endpoint, task.payload(), self.token, now)
        except ShuttingDown:  # another process began it
            with self._lock:
                self._close_locked()
            raise
        self.observer.accepted(task.endpoint)
        with self._lock:
            job = self.local.take(number, task, now, inline=inline)
        if job is not None:
            job.run()
        return format_job_id(number)

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
                    self.local.fail(record.number, record.endpoint, f"cannot run it again: {error}")
                    continue
                with self._lock:
                    if self._closed:
                        return adopted  # left for the next start; the journal keeps them
                    job = self.local.take(record.number, task, record.accepted)
                log.info("%s (%s) adopted", format_job_id(record.number), record.endpoint)
                adopted += 1
                if job is not None:
                    job.run()
        return adopted

    # -- maintenance ----------------------------------------------------------------------------

    def purge(self, now: float | None = None) -> int:
        """Delete the jobs whose time to live ran out before `now`; how many were deleted."""
        now = time.time() if now is None else now
        purged = purge_expired(self.journal, self.store, self.ttl, now, self.local.forget)
        if purged:
            log.info("purged %d expired job(s)", purged)
        return purged

    def tend(self) -> None:
        """Adopt orphaned jobs, notice a shutdown begun elsewhere, check the pool's threads.

        Often (ADOPT_EVERY_S), since a restart can come while the killed processes are still
        exiting: their jobs are then not yet orphans."""
        if not self.closed:
            self.recover()
        pool = self.pool
        if pool is not None:
            pool.check()
            self.observer.pool(pool.num_threads, pool.alive, pool.replaced)

    # -- queries --------------------------------------------------------------------------------

    def result(self, job_id: str, wait: float = 0.0) -> bytes:
        number = parse_job_id(job_id)
        if number is None:
            raise JobNotFound()
        local = self.local
        if number in local.pending and not local.wait(number, wait):
            return RUNNING_BODY
        body = local.final(number) or self.store.read(number)
        if body is not None:
            return body
        record = self._record(number, job_id)
        if record.status is JobStatus.RUNNING:
            return RUNNING_BODY
        if record.status is JobStatus.ERROR:
            return error_body(record.reason or "job failed")
        # Done: another process may have finished it since the read above; else it was purged.
        body = self.store.read(number)
        if body is None:
            raise JobExpired(job_id)
        return body

    def result_at_hand(self, job_id: str) -> bytes | None:
        number = parse_job_id(job_id)
        return None if number is None else self.local.final(number)

    def job_request(self, job_id: str) -> tuple[str, dict[str, Any]]:
        number = parse_job_id(job_id)
        if number is None:
            raise JobNotFound()
        record = self._record(number, job_id)
        return record.endpoint, record.request

    def _record(self, number: int, job_id: str) -> JobRecord:
        """The journal's row of job `number`; JobExpired if it was purged, else JobNotFound."""
        record = self.journal.record(number)
        if record is None:
            raise JobExpired(job_id) if number <= self.journal.highest() else JobNotFound()
        return record

    def statuses(self) -> Iterator[tuple[str, JobStatus]]:
        self.local.record()
        for number, status in self.journal.statuses():
            yield format_job_id(number), status

    def num_pending(self) -> int:
        self.local.record()
        return self.journal.count_running()

    def live_jobs(self, after: int = 0) -> tuple[int, int]:
        return self.journal.count_live(after)

    def local_folders(self) -> dict[str, str]:
        return {
            "results folder": self.store.folder,
            "job journal": os.path.dirname(os.path.abspath(self.journal.path)),
        }

    def recent(self, limit: int) -> dict[str, Any]:
        self.local.record()
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
            pending = len(self.local.pending)
            log.info("graceful shutdown: %d accepted job(s) still to finish here", pending)
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
        self.local.record()
        self.journal.request_shutdown()
        with self._lock:
            self._close_locked()
        return self.journal.count_running()

    def drain(self, timeout: float | None = None) -> bool:
        if self.maintenance is not None:
            self.maintenance.stop()
        with self.local.idle:
            self._close_locked()
            if not self.local.idle.wait_for(lambda: not self.local.pending, timeout):
                return False
        if self.pool is not None and not self.pool.shutdown(wait=True, timeout=timeout):
            return False
        self.local.record()
        if self.local.unrecorded:
            return False  # the journal did not take them: they run again at the next start
        owners.release(self.token)  # nothing of ours is left unfinished
        self.journal.close()
        self.status.probe.close()
        return True

    # -- health ---------------------------------------------------------------------------------

    def health(self) -> tuple[list[str], dict[str, Any]]:
        reasons, details = self.status.health()
        return reasons, {
            "engine": self.name,
            "pid": os.getpid(),
            "workers": self.workers,
            "dataset": self.dataset.describe(),
            **details,
        }

    def ready(self) -> list[str]:
        return self.status.ready(self._closed, lambda: self.closed)

    def inventory(self) -> Inventory:
        return self.status.inventory()
