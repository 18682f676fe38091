"""Expiry of the embedded engine's jobs: what the purge round of its maintenance does.

A job that finished more than its time to live ago (LSS_RESULT_TTL_S for answers,
LSS_ERROR_TTL_S for failures; 0 keeps them) loses its result file first, then its journal row;
last go the files of answers no live job links to any more. Several processes purging at once
only race to delete the same rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from app.embedded_engine.journal import Journal
from app.embedded_engine.store import ResultStore
from app.engine.job import JobStatus

#: Jobs purged per journal transaction: short transactions keep new jobs from waiting.
PURGE_BATCH = 500


def purge_expired(
    journal: Journal,
    store: ResultStore,
    ttl: Mapping[JobStatus, int],
    now: float,
    forget: Callable[[list[int]], None],
) -> int:
    """Delete every job whose time to live ran out before `now` (calling `forget` with each
    batch of numbers once they are gone); how many were deleted."""
    purged = 0
    for status in (JobStatus.DONE, JobStatus.ERROR):
        while ttl[status]:
            numbers = journal.expired(status, now - ttl[status], PURGE_BATCH)
            for number in numbers:
                store.delete(number)
            if numbers:
                journal.delete(numbers)
                forget(numbers)
            purged += len(numbers)
            if len(numbers) < PURGE_BATCH:
                break
    store.sweep()
    return purged
