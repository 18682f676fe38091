"""A Celery worker of the scale-out engine: `make worker`, or `python -m app.celery_engine.worker`.

It reads the settings and loads the dataset once, before Celery starts (a problem is one line on
stderr and exit code 2), then runs the jobs queued in Redis on a pool of threads that share that
dataset. A job is the same `Task` the embedded engine runs, and its answer the same bytes. Beside
Celery, a thread sends again the jobs a killed worker took with it (lost_jobs.py). Extra
arguments go to `celery worker` (say `--concurrency 4`).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import Any

from celery import Celery
from celery.exceptions import Reject

from app import config
from app.celery_engine import password
from app.celery_engine.lost_jobs import LostJobSweeper
from app.celery_engine.registry import JobRegistry, redis_address
from app.celery_engine.settings import TASK_NAME, make_celery
from app.config import StartupError
from app.data_ingestor import Dataset, load_dataset
from app.engine.answers import Answers
from app.engine.interface import error_body
from app.engine.job import JobStatus, parse_job_id
from app.engine.observer import NOBODY, JobObserver
from app.errors import Unavailable
from app.task import TASKS

log = logging.getLogger("lss")

#: The `celery worker` options every worker gets. Mingle and gossip keep workers in step on
#: revoked tasks and events, heartbeats tell event monitors (Flower) that a worker lives: this
#: service uses none of them (its health pings a worker through the remote control, which stays
#: on), and mingle alone costs a second at start.
WORKER_FLAGS = ("--without-mingle", "--without-gossip", "--without-heartbeat")
#: With LSS_WORKER_EVENTS=1, for Flower: heartbeats (a worker-heartbeat event every 2 s) and
#: task events (-E: received, started, succeeded or failed: messages for every job).
EVENTS_FLAGS = ("--without-mingle", "--without-gossip", "-E")
#: Celery's loggers of a line per task ("received", "succeeded in"): quiet below WARNING. The web
#: processes log every request already, a failed job is logged at ERROR here, and at a thousand
#: jobs a second those lines cost the worker CPU and the reader the lines that matter.
PER_TASK_LOGGERS = ("celery.worker.strategy", "celery.app.trace")


class JobRunner:
    """Runs jobs against one dataset and records their answers in the registry."""

    def __init__(
        self, dataset: Dataset, registry: JobRegistry, observer: JobObserver = NOBODY
    ) -> None:
        self.dataset = dataset
        self.registry = registry
        self.observer = observer
        self._answers = Answers(dataset)

    def use(self, dataset: Dataset) -> None:
        """Answer from `dataset` from now on (tests switch datasets under one worker)."""
        self.dataset = dataset
        self._answers = Answers(dataset)

    def run(self, job_id: str, endpoint: str, payload: Any) -> None:
        """Run job `job_id` unless another run of it already finished; Unavailable if Redis is."""
        number = parse_job_id(job_id)
        if number is None:
            log.error("task with a malformed job id %r dropped", job_id)
            return
        # No look first at whether another run finished it: that is rare, the answer is
        # cached, and `finish` keeps the first answer; the start is recorded with the answer.
        started = time.time()
        try:
            task = TASKS[endpoint].from_payload(payload, self.dataset)
            body, reason = self._answers.body(task), None
        except Exception as error:
            log.error("%s (%s) failed", job_id, endpoint, exc_info=error)
            reason = " ".join(f"job failed: {type(error).__name__}: {error}".split())
            body = error_body(reason)
        status = JobStatus.DONE if reason is None else JobStatus.ERROR
        accepted = self.registry.finish(number, status, body, reason, started)
        if accepted is None:
            log.info("%s (%s) already finished or expired: answer dropped", job_id, endpoint)
        else:
            self.observer.finished(endpoint, reason is None, time.time() - accepted)


def build(
    settings: dict[str, Any], dataset: Dataset, observer: JobObserver = NOBODY
) -> tuple[Celery, JobRunner]:
    """A Celery app with the job task registered, and the runner that task uses."""
    url = password.broker_url(settings)
    celery = make_celery(url, settings["VISIBILITY_TIMEOUT_S"], settings["THREADS"])
    registry = JobRegistry(url, client_name=f"lss-worker-{os.getpid()}")
    runner = JobRunner(dataset, registry, observer)

    @celery.task(name=TASK_NAME, bind=True)
    def run_job(self: Any, endpoint: str, payload: Any) -> None:
        try:
            runner.run(self.request.id, endpoint, payload)
        except Unavailable as error:
            # The answer could not be recorded: back to the queue (or, if Redis cannot even
            # take that, left unacknowledged there until the visibility timeout).
            raise Reject(error.reason, requeue=True) from None

    return celery, runner


def main(argv: list[str] | None = None) -> int:
    """Check the settings, load the dataset, then run a Celery worker until it is stopped."""
    try:
        settings = config.load()
        # The local Redis's password, read before the dataset is loaded: a missing file is
        # said at once (and build then finds the URL complete).
        settings["BROKER_URL"] = password.broker_url(settings)
        dataset = load_dataset(settings["DATA_FILE"])
        observer = _serve_metrics(settings, dataset)
    except StartupError as error:
        print(f"le-stats-sportif worker: cannot start: {error.message}", file=sys.stderr)
        return 2
    celery, runner = build(settings, dataset, observer)
    LostJobSweeper(celery, runner.registry).start()
    address = redis_address(settings["BROKER_URL"])
    print(
        f"Le Stats Sportif worker: {dataset.path} loaded ({dataset.rows_used} rows), "
        f"jobs from Redis at {address}, {settings['THREADS']} thread(s)",
        flush=True,
    )
    for name in PER_TASK_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    hostname = f"--hostname=lss-{os.getpid()}@%h"
    flags = EVENTS_FLAGS if settings["WORKER_EVENTS"] else WORKER_FLAGS
    celery.worker_main(["worker", "--loglevel=INFO", hostname, *flags, *(argv or [])])
    return 0


def _serve_metrics(settings: dict[str, Any], dataset: Dataset) -> JobObserver:
    """With LSS_WORKER_METRICS_PORT (and LSS_METRICS), serve this worker's /metrics on
    LSS_HOST:port: the observer its jobs report to; StartupError if it cannot listen."""
    port = settings["WORKER_METRICS_PORT"]
    if not (port and settings["METRICS"]):
        return NOBODY
    # One process: its values stay in memory, whatever metrics folder the environment names
    # (the web's, on this machine). Before prometheus_client is imported.
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
    from app.metrics import worker as metrics

    try:
        return metrics.serve(settings["HOST"], port, dataset)
    except OSError as error:
        raise StartupError(
            f"metrics port {settings['HOST']}:{port} (LSS_WORKER_METRICS_PORT): "
            f"{error.strerror or error}"
        ) from None


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
