"""The job engine seam: what the routes and the gateway ask of whichever engine runs the jobs.

Two engines implement it: the embedded one (`app.embedded_engine`: the hand-written pool, the
SQLite journal and result files; the default) and the Celery one (`app.celery_engine`, chosen by
LSS_BROKER_URL). Both answer with the same bodies; the nine analytics are the same `Task`s.
"""

from __future__ import annotations

import abc
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import orjson

from app.data_ingestor import Dataset
from app.engine.job import JobStatus
from app.errors import ApiError
from app.task import Task

#: The body of get_results while a job is queued or executing.
RUNNING_BODY = b'{"status":"running"}'
#: How every done body begins (see done_body).
DONE_PREFIX = b'{"status":"done"'


def error_body(reason: str) -> bytes:
    """The result body of a job that failed."""
    return orjson.dumps({"status": JobStatus.ERROR.value, "reason": reason})


def done_body(data: Any) -> bytes:
    """The result body of a job that finished."""
    return orjson.dumps({"status": JobStatus.DONE.value, "data": data})


def utc_text(moment: float | None) -> str | None:
    """A UTC time as ISO 8601 text with milliseconds ("2026-11-25T23:59:01.123Z")."""
    if moment is None:
        return None
    whole = int(moment)
    millis = int((moment - whole) * 1000)
    return f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(whole))}.{millis:03d}Z"


def job_view(
    job_id: str,
    endpoint: str,
    request: dict[str, Any],
    status: JobStatus,
    times: tuple[float | None, float | None, float | None],
    reason: str | None,
) -> dict[str, Any]:
    """One job as `GET /api/jobs/recent` lists it."""
    accepted, started, finished = times
    return {
        "job_id": job_id,
        "endpoint": endpoint,
        "question": request.get("question"),
        "state": request.get("state"),
        "status": status.value,
        "accepted": utc_text(accepted),
        "started": utc_text(started),
        "finished": utc_text(finished),
        "reason": reason,
    }


@dataclass(frozen=True)
class Inventory:
    """What an engine holds right now, as /metrics shows it (read when it is scraped)."""

    #: Jobs queued or executing, service-wide.
    pending: int
    #: Jobs the journal (or Redis) keeps, by status.
    stored: dict[str, int]
    #: Result files and the bytes they take (hard links counted once); None where there are none.
    result_files: int | None = None
    result_bytes: int | None = None
    #: Free bytes on the file system of each folder the engine writes to, by its role.
    free_bytes: dict[str, int] = field(default_factory=dict)


class Engine(abc.ABC):
    """Accepts jobs, runs them somewhere, and answers for every live job.

    Errors are the `ApiError`s of `app.errors`: ShuttingDown, JobNotFound, JobExpired, and
    Unavailable when the engine's store cannot be reached.
    """

    #: "embedded" or "celery", as /api/health reports it.
    name: ClassVar[str]
    #: The loaded extract requests are validated against.
    dataset: Dataset

    def start(self) -> None:  # noqa: B027 - most engines have nothing to do
        """Begin serving: whatever must run before the first new job."""

    @abc.abstractmethod
    def submit(self, task: Task) -> str:
        """Accept `task` as a new job and return its id (recorded before it is returned)."""

    @abc.abstractmethod
    def result(self, job_id: str, wait: float = 0.0) -> bytes:
        """The get_results body of `job_id`; a job still pending may get `wait` s to finish."""

    def answer(self, task: Task, wait: float) -> tuple[str, bytes]:
        """Accept `task` as a new job and give it up to `wait` s to finish: its id, and its
        get_results body (RUNNING_BODY if it is not done by then). An engine that has the
        task's answer stored already may finish the job at once, with no wait.

        The submission's errors are raised as `submit` raises them; once the job is accepted,
        its id is an answer, so a read that fails leaves the body RUNNING_BODY."""
        job_id = self.submit(task)
        return job_id, self.result_or_running(job_id, wait)

    def result_or_running(self, job_id: str, wait: float) -> bytes:
        """`result`, or RUNNING_BODY where it fails (the job was accepted: its id answers)."""
        try:
            return self.result(job_id, wait)
        except ApiError:
            return RUNNING_BODY

    @abc.abstractmethod
    def job_request(self, job_id: str) -> tuple[str, dict[str, Any]]:
        """The endpoint and request body of a live job (JobNotFound or JobExpired if there
        is none), for the tidy CSV of its answer (app.answers.tidy)."""

    def result_at_hand(self, job_id: str) -> bytes | None:
        """`job_id`'s final body (done or failed) if this process holds it in memory, else None.

        Never waits, reads no file or store and takes no lock: the serving layer calls it on the
        server process's event loop to answer a poll there (app/serving). When it gives a body,
        `result(job_id)` would give the same one at that moment."""
        return None

    @abc.abstractmethod
    def statuses(self) -> Iterator[tuple[str, JobStatus]]:
        """(job id, status) of every live job, in id order."""

    @abc.abstractmethod
    def num_pending(self) -> int:
        """Jobs queued or executing right now, on every process and machine."""

    @abc.abstractmethod
    def live_jobs(self, after: int = 0) -> tuple[int, int]:
        """(the live jobs numbered above `after`, the highest number issued), on every process.

        Live: the jobs `statuses` lists. With `after` 0 it counts them all (which may read every
        one); above it only the newest (cheap), so a caller can keep a count up to date
        (app.policy.live_jobs). Jobs purged since a full count are seen at the next one."""

    def local_folders(self) -> dict[str, str]:
        """The folders on this machine the engine writes jobs to, by what each is for (their
        disks' free space bounds what is accepted); none if the jobs live elsewhere."""
        return {}

    @abc.abstractmethod
    def recent(self, limit: int) -> dict[str, Any]:
        """Live jobs counted by status, and the `limit` latest with their times."""

    @property
    @abc.abstractmethod
    def closed(self) -> bool:
        """True once a graceful shutdown began anywhere."""

    @property
    @abc.abstractmethod
    def closed_here(self) -> bool:
        """True once this process knows a graceful shutdown began (no store round trip)."""

    @abc.abstractmethod
    def close(self) -> int:
        """Begin a graceful shutdown everywhere; how many accepted jobs are still unfinished."""

    @abc.abstractmethod
    def health(self) -> tuple[list[str], dict[str, Any]]:
        """Why this process cannot serve (empty if it can), and the figures /api/health shows."""

    @abc.abstractmethod
    def ready(self) -> list[str]:
        """Why this process should not be sent requests now (empty if it should): data loaded,
        the job store taking writes, something to run jobs, no graceful shutdown begun."""

    @abc.abstractmethod
    def inventory(self) -> Inventory:
        """What the engine holds right now: pending jobs, stored jobs, result files, free disk.
        Unavailable if its store cannot be reached."""

    @abc.abstractmethod
    def drain(self, timeout: float | None = None) -> bool:
        """Stop this process's share: accept nothing, finish what it accepted; True if all did."""
