"""`Tally`: counts kept in plain integers on the request path, read by whoever reports them.

Counting a request into a Prometheus counter of the multiprocess mode costs a lock and a write to
a memory-mapped file (about 3 µs on the benchmark's machine); an entry of a dictionary costs a
tenth of that. The HTTP layer counts here, and `app.metrics.http` folds the counts into
Prometheus's counters every second and before each scrape (SPEC §17: metrics at most 5% of jobs/s).
"""

from __future__ import annotations

import threading
from collections.abc import Hashable

#: The kinds of key the HTTP layer counts (the first item of each key).
ANSWER = "answer"  # (ANSWER, route, status): every answer
REFUSAL = "refusal"  # (REFUSAL, reason, status): answers that refused the request
HELD = "held"  # (HELD, outcome): POSTs with `Prefer: wait`, by what became of them


class Tally:
    """Counts by key, from any thread; `snapshot` gives the totals so far."""

    def __init__(self) -> None:
        self._counts: dict[Hashable, int] = {}
        self._lock = threading.Lock()

    def add(self, key: Hashable) -> None:
        """Count one more `key`."""
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + 1

    def snapshot(self) -> dict[Hashable, int]:
        """The totals so far, by key (a copy)."""
        with self._lock:
            return dict(self._counts)
