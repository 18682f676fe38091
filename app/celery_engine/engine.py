"""The scale-out engine: jobs run on Celery workers, every job's state lives in Redis.

Chosen by LSS_BROKER_URL. A web process keeps no job state of its own: a POST records the job in
Redis (`registry`: the id from INCR) and queues a Celery task whose id is the job id, in the
same Lua script (`message` builds the task); a worker (`worker`) runs the same `Task` as the
embedded engine and writes the answer into the job's record. Reads, `jobs`, `num_jobs` and the
shutdown flag all go to Redis, so any number of web processes and workers, on any number of
machines, agree. While Redis cannot be reached, every call that needs it raises Unavailable (a
503 with the reason) and the process keeps serving.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from typing import Any

from app.celery_engine.headroom import Headroom
from app.celery_engine.message import task_message
from app.celery_engine.registry import LONGEST_WAIT_S, JobRegistry
from app.celery_engine.settings import QUEUE, make_celery
from app.celery_engine.status import Status
from app.data_ingestor import Dataset
from app.engine.interface import RUNNING_BODY, Engine, Inventory, error_body, job_view
from app.engine.job import JobStatus, format_job_id, parse_job_id
from app.engine.maintenance import Maintenance, Round
from app.engine.observer import NOBODY, JobObserver
from app.errors import JobExpired, JobNotFound, ShuttingDown, Unavailable
from app.task import Task

log = logging.getLogger("lss")


class CeleryEngine(Engine):
    """Sends jobs to Celery workers and answers for them from Redis."""

    name = "celery"

    def __init__(
        self,
        dataset: Dataset,
        broker_url: str,
        *,
        visibility_timeout: int,
        result_ttl: int = 0,
        error_ttl: int = 0,
        maintenance_interval: int = 0,
        workers: int = 1,
        reopen: bool = False,
        observer: JobObserver = NOBODY,
    ) -> None:
        self.dataset = dataset
        self.observer = observer
        self.workers = workers
        self.ttl = {JobStatus.DONE: result_ttl, JobStatus.ERROR: error_ttl}
        self.registry = JobRegistry(broker_url, client_name=f"lss-web-{os.getpid()}")
        self.headroom = Headroom(self.registry)
        self.celery = make_celery(broker_url, visibility_timeout)
        self._closed = False
        #: The start could not clear an earlier run's shutdown flag: clear it on first contact.
        self._reopen = reopen
        self._maintenance = Maintenance([Round("purge", maintenance_interval, self._tend)])
        self.status = Status(dataset, self.registry, self.celery, self.headroom)

    def start(self) -> None:
        """Say where the jobs go (and whether Redis answers), then start the maintenance."""
        try:
            self.registry.ping()
        except Unavailable as error:
            log.error("%s; serving anyway: jobs answer 503 until it does", error.reason)
        else:
            log.info("jobs run on Celery workers through Redis at %s", self.registry.address)
        self._maintenance.start()

    # -- submission -----------------------------------------------------------------------------

    def submit(self, task: Task) -> str:
        if self._closed:
            raise ShuttingDown()
        self._settle()
        self.headroom.check()
        payload = task.payload()
        message = task_message(self.celery, task.endpoint, payload)
        # The job's record and its task message, in one script: a job is queued if and only if
        # it was accepted, and a Redis that fails either leaves neither (a 503).
        number = self.registry.accept(task.endpoint, payload, self.ttl, QUEUE, message)
        if not number:  # another process began a graceful shutdown
            self._close_here()
            raise ShuttingDown()
        self.observer.accepted(task.endpoint)
        return format_job_id(number)

    def _settle(self) -> None:
        """Clear an earlier run's shutdown flag, once Redis answers."""
        if self._reopen:
            self.registry.clear_shutdown()
            self._reopen = False

    # -- queries --------------------------------------------------------------------------------

    def result(self, job_id: str, wait: float = 0.0) -> bytes:
        number = parse_job_id(job_id)
        if number is None:
            raise JobNotFound()
        # Each look at the job waits for it on Redis first (registry.result), in the same round
        # trip, up to LONGEST_WAIT_S at a time, woken the moment a worker records its answer; a
        # job already finished does not make it wait.
        deadline = time.monotonic() + wait
        step = min(LONGEST_WAIT_S, wait) if wait >= 0.001 else 0.0
        while True:
            found = self.registry.result(number, step)
            if found is None:
                if number <= self.registry.highest():
                    raise JobExpired(job_id)
                raise JobNotFound()
            status, body, reason = found
            if status is not JobStatus.RUNNING:
                return body if body is not None else error_body(reason or "job failed")
            step = min(LONGEST_WAIT_S, deadline - time.monotonic())
            if step < 0.001:  # Redis counts timeouts in milliseconds
                return RUNNING_BODY

    def statuses(self) -> Iterator[tuple[str, JobStatus]]:
        for number, status in self.registry.statuses():
            yield format_job_id(number), status

    def num_pending(self) -> int:
        return self.registry.count_running()

    def live_jobs(self, after: int = 0) -> tuple[int, int]:
        return self.registry.count_live(after)

    def recent(self, limit: int) -> dict[str, Any]:
        jobs = [
            job_view(
                format_job_id(job["number"]),
                job["endpoint"],
                job["request"],
                job["status"],
                job["times"],
                job["reason"],
            )
            for job in self.registry.latest(limit)
        ]
        return {"counts": self.registry.counts(), "jobs": jobs}

    def purge(self, now: float | None = None) -> int:
        """Forget the jobs whose time to live ran out (before `now`); how many there were."""
        purged = self.registry.purge(time.time() if now is None else now)
        if purged:
            log.info("purged %d expired job(s)", purged)
        return purged

    # -- shutdown -------------------------------------------------------------------------------

    def _close_here(self) -> None:
        if not self._closed:
            self._closed = True
            log.info("graceful shutdown: this process accepts no new job")

    @property
    def closed_here(self) -> bool:
        return self._closed

    @property
    def closed(self) -> bool:
        if not self._closed:
            try:
                self._settle()
                if self.registry.shutting_down():
                    self._close_here()
            except Unavailable:
                pass  # Redis cannot tell: this process goes on as it knows
        return self._closed

    def close(self) -> int:
        self._close_here()
        self.registry.request_shutdown()
        return self.registry.count_running()

    def drain(self, timeout: float | None = None) -> bool:
        """Accept nothing more here. The jobs this process accepted are queued in Redis and
        finish on the workers whatever becomes of it: there is nothing to wait for."""
        self._close_here()
        self._maintenance.stop(timeout)
        try:
            left = self.registry.count_running()
        except Unavailable:
            left = None
        if left:
            log.info("%d accepted job(s) still queued or running finish on the workers", left)
        self.registry.close()
        return True

    def _tend(self) -> None:
        self._settle()
        self.purge()

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

    def _shutdown_began(self) -> bool:
        """Whether a graceful shutdown began anywhere (Unavailable if Redis cannot tell)."""
        self._settle()
        if self.registry.shutting_down():
            self._close_here()
        return self._closed

    def ready(self) -> list[str]:
        return self.status.ready(self._closed, self._shutdown_began)

    def inventory(self) -> Inventory:
        return self.status.inventory()
