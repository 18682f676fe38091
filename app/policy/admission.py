"""Whether the service takes one more job: the rate limit, the free disk and the live jobs.

Checked before a POST's body is read, in that order; a refusal accepts nothing (`429` or `503`,
each with `Retry-After`). The disk and the live jobs are looked at by a thread of this process
every second (`Maintenance`, the engines' own), so a POST only compares numbers. A disk that is
short also makes `/api/health` a `503` naming it (`reasons`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from app.engine.interface import Engine
from app.engine.maintenance import Maintenance, Round
from app.errors import ApiError, Unavailable
from app.policy.disk import DiskSpace
from app.policy.live_jobs import LOOK_EVERY_S, LiveJobs
from app.policy.rate import RateLimit

log = logging.getLogger("lss")

#: The period of the full recount of live jobs and of `Retry-After` for a full disk when the
#: maintenance interval is 0 (nothing is purged then, but space may still be made by hand).
_QUIET_INTERVAL_S = 60


class Admission:
    """This process's bounds on new jobs, and the thread that keeps them up to date."""

    def __init__(self, engine: Engine, settings: Mapping[str, Any]) -> None:
        interval = settings["MAINTENANCE_INTERVAL_S"] or _QUIET_INTERVAL_S
        self.live = LiveJobs(engine.live_jobs, settings["MAX_LIVE_JOBS"], interval)
        self.disk = DiskSpace(engine.local_folders(), settings["MIN_FREE_DISK_MB"], interval)
        self.rate = RateLimit(settings["RATE_LIMIT"]) if settings["RATE_LIMIT"] else None
        #: The reason the live jobs could not be counted last time (logged once per outage).
        self._count_failed: str | None = None
        rounds = [Round("disk space", LOOK_EVERY_S, self.disk.look)]
        if self.live.cap:
            rounds.append(Round("live jobs", LOOK_EVERY_S, self._look_at_jobs))
        self._maintenance = Maintenance(rounds, name="lss-admission")

    def start(self) -> None:
        """Look once now (a disk already full refuses the first POST), then every second."""
        self.disk.look()
        if self.live.cap:
            self._look_at_jobs()
        self._maintenance.start()

    def stop(self) -> None:
        self._maintenance.stop()

    def _look_at_jobs(self) -> None:
        """Count the live jobs; while the engine's store cannot say, keep the last count and
        log that once (the engine's own 503s tell the clients)."""
        try:
            self.live.look()
        except Unavailable as error:
            if self._count_failed is None:
                log.error("cannot count the live jobs: %s", error.reason)
            self._count_failed = error.reason
        else:
            if self._count_failed is not None:
                log.info("live jobs counted again: %d", self.live.counted)
            self._count_failed = None

    def refusal(self, address: str | None) -> ApiError | None:
        """Why one more job from `address` is refused now, or None: then it has a place among
        the live jobs until `answered` says whether it was accepted."""
        if self.rate is not None:
            refused = self.rate.refusal(address)
            if refused is not None:
                return refused
        if self.disk.short is not None:
            return self.disk.refusal()
        return self.live.take()

    def answered(self, accepted: bool) -> None:
        """The POST that `refusal` let through was answered: a job was `accepted`, or not."""
        self.live.answered(accepted)

    def reasons(self) -> list[str]:
        """Why this process cannot take jobs now, for /api/health (empty if it can)."""
        short = self.disk.short
        return [] if short is None else [short]
