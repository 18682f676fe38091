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
import time
from typing import Any

import orjson
from celery import Celery

from app.celery_engine.registry import JOB_KEY, PREFIX, RUNNING_KEY, JobRegistry
from app.celery_engine.settings import QUEUE, RESTORE_INTERVAL_S, TASK_NAME
from app.engine.job import JOB_ID_PREFIX, format_job_id
from app.errors import Unavailable

log = logging.getLogger("lss")

#: Kombu's hash of the messages workers took and have not acknowledged.
UNACKED_KEY = "unacked"
#: Seconds after it was accepted (or sent again) before a job that is nowhere counts as lost: a
#: live worker holds a message it took for far less before kombu records it.
GRACE_S = 2.0
#: Held for a second by the worker whose sweep runs.
SWEEP_LOCK_KEY = PREFIX + "sweep"

#: The lost jobs, atomically. KEYS: the running jobs, the queue, kombu's unacked hash, the sweep's
#: lock. ARGV: now, the grace (s), the job id prefix, the lock's life (ms), the job hash prefix.
#: kombu pops with BRPOP, then writes its "unacked" hash: a message in between lives only in the
#: worker's socket. Once the queue is empty, a job accepted more than the grace ago that is not
#: unacknowledged is nowhere but in the registry: it is returned, to be sent again. Only one
#: caller per lock's life gets an answer; the jobs returned count as accepted now.
LOST = """
if redis.call('LLEN', KEYS[2]) > 0 then return {} end
local candidates = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1] - ARGV[2])
if #candidates == 0 then return {} end
if not redis.call('SET', KEYS[4], 1, 'NX', 'PX', ARGV[4]) then return {} end
local held = {}
for _, entry in ipairs(redis.call('HVALS', KEYS[3])) do
  local ok, message = pcall(cjson.decode, entry)
  if ok and type(message[1]) == 'table' and type(message[1].headers) == 'table' then
    held[tostring(message[1].headers.id)] = true
  end
end
local lost = {}
for _, n in ipairs(candidates) do
  if not held[ARGV[3] .. n] then
    local job = redis.call('HMGET', ARGV[5] .. n, 'endpoint', 'request')
    if job[1] then
      redis.call('ZADD', KEYS[1], 'XX', ARGV[1], n)
      table.insert(lost, {n, job[1], job[2]})
    end
  end
end
return lost
"""


class LostJobSweeper:
    """A thread that looks for lost jobs every RESTORE_INTERVAL_S seconds and sends them again.

    Every worker runs one; Redis lets one sweep through per interval.
    """

    def __init__(self, celery: Celery, registry: JobRegistry) -> None:
        self.celery = celery
        self.registry = registry
        self._lost = registry.redis.register_script(LOST)
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

    def lost(self) -> list[tuple[int, str, dict[str, Any]]]:
        """(number, endpoint, request) of the jobs no queue or worker holds (the script LOST);
        empty if another worker's sweep ran within the last RESTORE_INTERVAL_S."""
        with self.registry.reaching():
            found = self._lost(
                keys=[RUNNING_KEY, QUEUE, UNACKED_KEY, SWEEP_LOCK_KEY],
                args=[
                    repr(time.time()),
                    GRACE_S,
                    JOB_ID_PREFIX,
                    int(RESTORE_INTERVAL_S * 1000),
                    JOB_KEY,
                ],
            )
        return [
            (int(n), endpoint.decode(), orjson.loads(request)) for n, endpoint, request in found
        ]

    def sweep(self) -> list[str]:
        """Send the lost jobs again; their ids."""
        lost = self.lost()
        sent = []
        for number, endpoint, request in lost:
            job_id = format_job_id(number)
            log.warning("%s (%s) was lost with a worker: sent again", job_id, endpoint)
            self.celery.send_task(TASK_NAME, args=(endpoint, request), task_id=job_id)
            sent.append(job_id)
        return sent
