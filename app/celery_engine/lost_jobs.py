"""The sweep that sends again the jobs a killed worker can take with it, run by every worker.

Two things give a lost worker's jobs back. Kombu's Redis transport keeps each message a worker
took in its "unacked" hash until the job is acknowledged, and puts it back in the queue once the
visibility timeout ran out (see app.celery_engine.settings). But kombu takes a message off the queue
(BRPOP) before it writes it to that hash: a worker killed in between, or stopped while its
BRPOP was answered, takes the message with it, and nothing in kombu ever sends it again. The job
registry still has the job as running, though, so this sweep finds it: once the queue is empty,
a job accepted a while ago that is in no worker's hands is sent again, with the same id. A job
run twice gives the same answer, and only the first is kept.
"""

from __future__ import annotations

import logging
import threading

from celery import Celery

from app.celery_engine.registry import JobRegistry
from app.celery_engine.settings import QUEUE, RESTORE_INTERVAL_S, TASK_NAME
from app.engine.job import format_job_id
from app.errors import Unavailable

log = logging.getLogger("lss")

#: Kombu's hash of the messages workers took and have not acknowledged.
UNACKED_KEY = "unacked"
#: Seconds after it was accepted (or sent again) before a job that is nowhere counts as lost: a
#: live worker holds a message it took for far less before kombu records it.
GRACE_S = 2.0


class LostJobSweeper:
    """A thread that looks for lost jobs every RESTORE_INTERVAL_S seconds and sends them again.

    Every worker runs one; Redis lets one sweep through per interval.
    """

    def __init__(self, celery: Celery, registry: JobRegistry) -> None:
        self.celery = celery
        self.registry = registry
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lss-lost-jobs", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(RESTORE_INTERVAL_S):
            try:
                self.sweep()
            except Unavailable:
                pass  # Redis is away: the worker itself reports it, and waits for it
            except Exception:
                log.exception("sweep for lost jobs failed")

    def sweep(self) -> list[str]:
        """Send the lost jobs again; their ids."""
        lost = self.registry.lost(QUEUE, UNACKED_KEY, GRACE_S, RESTORE_INTERVAL_S)
        sent = []
        for number, endpoint, request in lost:
            job_id = format_job_id(number)
            log.warning("%s (%s) was lost with a worker: sent again", job_id, endpoint)
            self.celery.send_task(TASK_NAME, args=(endpoint, request), task_id=job_id)
            sent.append(job_id)
        return sent
