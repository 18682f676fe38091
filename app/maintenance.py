"""The maintenance thread of the embedded engine: expiry, adoption, and the shared shutdown flag.

Every LSS_MAINTENANCE_INTERVAL_S seconds (0: never) it purges jobs that finished more than their
time to live ago (LSS_RESULT_TTL_S for answers, LSS_ERROR_TTL_S for failures; 0 keeps them):
result file first, then journal row, then the files of answers no live job links to. Every few
seconds it adopts the unfinished jobs of server processes that died, picks up a graceful shutdown
begun by another process, and checks the pool's threads; twice a second it checkpoints the
journal. Every process runs one; several at once only race to delete the same rows.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from app.errors import Unavailable
from app.job import JobStatus

if TYPE_CHECKING:
    from app.embedded_engine import EmbeddedEngine

log = logging.getLogger("lss")

#: Jobs purged per journal transaction: short transactions keep new jobs from waiting.
PURGE_BATCH = 500
#: Seconds between two looks for jobs left unfinished by processes that died.
ADOPT_EVERY_S = 2.0
#: Seconds between two checkpoints of the journal's write-ahead log, made here so that the
#: threads that commit jobs do not wait for the copy and its fsync (see journal.py).
CHECKPOINT_EVERY_S = 0.5


def purge_expired(engine: EmbeddedEngine, now: float) -> int:
    """Delete every job whose time to live ran out before `now`; how many were deleted."""
    purged = 0
    for status in (JobStatus.DONE, JobStatus.ERROR):
        ttl = engine.ttl[status]
        while ttl:
            numbers = engine.journal.expired(status, now - ttl, PURGE_BATCH)
            for number in numbers:
                engine.store.delete(number)
            if numbers:
                engine.journal.delete(numbers)
                engine.forget(numbers)
            purged += len(numbers)
            if len(numbers) < PURGE_BATCH:
                break
    engine.store.sweep()  # the files of answers no live job has any more
    return purged


class Maintenance:
    """A thread that adopts orphaned jobs every few seconds and purges every `interval` seconds.

    Adoption runs often because a restart can come while the killed processes are still exiting
    (their jobs are then not yet orphans); purging runs at the operator's interval (0: never).
    """

    def __init__(self, engine: EmbeddedEngine, interval: float) -> None:
        self.engine = engine
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lss-maintenance", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop after the round under way, if any."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()

    def _run(self) -> None:
        adopted = purged = time.monotonic()
        while not self._stop.wait(CHECKPOINT_EVERY_S):
            now = time.monotonic()
            try:
                self.engine.journal.checkpoint()
                if now - adopted >= ADOPT_EVERY_S:
                    adopted = now
                    purging = bool(self.interval) and now - purged >= self.interval
                    if purging:
                        purged = now
                    self.tick(purge=purging)
            except Unavailable as error:
                log.error("maintenance skipped: %s", error.reason)
            except Exception:
                log.exception("maintenance failed")

    def tick(self, now: float | None = None, purge: bool = True) -> None:
        """One round: purge (if asked), adopt orphaned jobs, notice a shutdown, check the pool."""
        if purge:
            purged = purge_expired(self.engine, time.time() if now is None else now)
            if purged:
                log.info("purged %d expired job(s)", purged)
        if not self.engine.closed:
            self.engine.recover()
        if self.engine.pool is not None:
            self.engine.pool.check()
