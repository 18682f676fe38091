"""`Folding`: what a process counted in plain numbers, added to its Prometheus metrics.

An increment of a Prometheus value in the multiprocess mode takes a lock and writes a
memory-mapped file (2 µs for a counter, 6 µs for a histogram's observation on the benchmark's
machine); a job and its requests made five of them, half of what SPEC §17 allows the metrics. So
the engines and the HTTP layer count into a `Tally` instead (a dictionary under a lock, a tenth of
that), and `Folding` adds what grew to the metrics: every FOLD_EVERY_S on a thread of its own,
before this process answers a scrape, and when it stops. A scrape answered by one server process
may miss the other processes' last second; a server process killed outright loses its last
second of counts (its files keep the rest).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Mapping

from app.engine.maintenance import Maintenance, Round
from app.tracing.counts import Tally

#: Seconds between two folds.
FOLD_EVERY_S = 1.0
#: Adds `grown` to the metric a key's labels name (the key without its kind).
Apply = Callable[[tuple[Hashable, ...], float], None]


class Folding:
    """Adds a `Tally`'s growth to the metrics, by the kind of each key (its first item)."""

    def __init__(self, tally: Tally, apply: Mapping[str, Apply]) -> None:
        self.tally = tally
        self._apply = dict(apply)
        self._folded: dict[Hashable, float] = {}
        self._lock = threading.Lock()
        self._thread = Maintenance([Round("metrics", FOLD_EVERY_S, self.fold)], "lss-metrics")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop folding, after a last fold."""
        self._thread.stop()
        self.fold()

    def fold(self) -> None:
        """Add what was counted since the last fold to the metrics (from any thread)."""
        with self._lock:
            totals = self.tally.snapshot()
            for key, total in totals.items():
                grown = total - self._folded.get(key, 0)
                if grown > 0:
                    kind, *labels = key  # type: ignore[misc]
                    self._apply[kind](tuple(labels), grown)
            self._folded = totals


def by_labels(make: Callable[..., Callable[[float], None]]) -> Apply:
    """An `Apply` that finds the metric's increment by its labels once, then keeps it."""
    found: dict[tuple[Hashable, ...], Callable[[float], None]] = {}

    def apply(labels: tuple[Hashable, ...], grown: float) -> None:
        inc = found.get(labels)
        if inc is None:
            inc = found[labels] = make(*labels)
        inc(grown)

    return apply
