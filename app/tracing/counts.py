"""`Tally`: counts kept in plain numbers where they happen, read by whoever reports them.

Counting into a Prometheus value of the multiprocess mode costs a lock and a write to a
memory-mapped file; an entry of a dictionary costs a tenth of that. The HTTP layer and the
engines' observer count here, and `app.metrics.folding` adds the counts to Prometheus's metrics
every second and before each scrape (SPEC §17: metrics at most 5% of jobs/s).
"""

from __future__ import annotations

import threading
from collections.abc import Hashable

#: The kinds of key the HTTP layer counts (the first item of each key).
ANSWER = "answer"  # (ANSWER, route, status): every answer
REFUSAL = "refusal"  # (REFUSAL, reason, status): answers that refused the request
HELD = "held"  # (HELD, outcome): POSTs with `Prefer: wait`, by what became of them


class Tally:
    """Counts (or sums) by key, from any thread; `snapshot` gives the totals so far."""

    def __init__(self) -> None:
        self._counts: dict[Hashable, float] = {}
        self._lock = threading.Lock()

    def add(self, *keys: Hashable) -> None:
        """Count one more of each of `keys`."""
        with self._lock:
            counts = self._counts
            for key in keys:
                counts[key] = counts.get(key, 0) + 1

    def add_amount(self, key: Hashable, amount: float) -> None:
        """Add `amount` to `key`'s sum."""
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + amount

    def snapshot(self) -> dict[Hashable, float]:
        """The totals so far, by key (a copy)."""
        with self._lock:
            return dict(self._counts)
