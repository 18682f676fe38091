"""What an engine tells whoever counts its jobs: accepted, finished, its pool's threads.

The engines call a `JobObserver` at the moments that count: a job accepted (its row or record
written), a job finished (with its outcome and the seconds from its acceptance), and the pool's
state each time the maintenance looks. This base class does nothing, at the cost of a method
call: it is what an engine has when metrics are off (LSS_METRICS=0). `app.metrics` gives the
Prometheus one.
"""

from __future__ import annotations


class JobObserver:
    """Told of every job's acceptance and end; does nothing here (metrics off)."""

    def accepted(self, endpoint: str) -> None:
        """A job of `endpoint` was accepted (recorded before its id was answered)."""

    def finished(self, endpoint: str, ok: bool, seconds: float) -> None:
        """A job of `endpoint` finished, done (`ok`) or failed, `seconds` after it was accepted."""

    def pool(self, size: int, alive: int, replaced: int) -> None:
        """This process's pool keeps `size` threads, `alive` of them running; `replaced` dead
        ones were replaced since it started."""

    def close(self) -> None:
        """This process stops: whatever it reported of itself alone (its pool) is void."""


#: The observer of an engine whose jobs nobody counts.
NOBODY = JobObserver()
