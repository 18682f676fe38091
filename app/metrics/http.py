"""The HTTP layer's metrics: answers by route and status, refusals by reason, held requests.

The request layer (`app.tracing.layer`) counts each answer in plain integers (`Tally`), which
costs a request a tenth of a Prometheus increment in the multiprocess mode; `HttpCounts` folds
those counts into the counters below every FOLD_EVERY_S, before this process answers a scrape,
and when it stops. A scrape answered by one server process may so miss at most the last second
of the others' answers, never one for good.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable

from prometheus_client import Counter
from prometheus_client.metrics import MetricWrapperBase

from app.engine.maintenance import Maintenance, Round
from app.metrics.instruments import REGISTRY
from app.tracing.counts import ANSWER, HELD, REFUSAL, Tally

#: Seconds between two folds of the counts into Prometheus's counters.
FOLD_EVERY_S = 1.0
#: Every reason a request is refused for, with its status (made at 0, so that a rate over each
#: exists from the start): the request policy's (app.policy), the 408 of app.serving, and the
#: engines' 503s (app.errors).
REFUSALS = {
    "host": 421,  # a foreign Host on a loopback server
    "cross_site": 403,  # a state change from another site
    "admin_token": 401,  # graceful_shutdown without the admin token
    "admin_remote": 403,  # graceful_shutdown from another machine, no token set
    "rate_limit": 429,  # LSS_RATE_LIMIT
    "live_jobs": 429,  # LSS_MAX_LIVE_JOBS
    "disk": 503,  # LSS_MIN_FREE_DISK_MB
    "body_timeout": 408,  # LSS_BODY_TIMEOUT_S
    "shutting_down": 503,  # a graceful shutdown began
    "unavailable": 503,  # the journal or Redis cannot take the job (or is full)
}
#: What becomes of a POST with `Prefer: wait`: answered with its job's answer, with its id after
#: the wait, or with its id at once since every place to hold one was taken.
HELD_OUTCOMES = ("done", "waited", "busy")

ANSWERS = Counter(
    "lss_http_answers",
    "HTTP answers, by route (its template: /api/get_results/{job_id}) and status",
    ["route", "status"],
    registry=REGISTRY,
)
REFUSED = Counter(
    "lss_http_refusals",
    "Requests refused, by reason (host, cross_site, admin_token, admin_remote, rate_limit, "
    "live_jobs, disk, body_timeout, shutting_down, unavailable) and status",
    ["reason", "status"],
    registry=REGISTRY,
)
HELD_REQUESTS = Counter(
    "lss_http_held_requests",
    "POSTs with Prefer: wait, by outcome: done (answered with the job's answer), waited (with its "
    "id, not done in time), busy (not held: every place was taken)",
    ["outcome"],
    registry=REGISTRY,
)


class HttpCounts:
    """Folds the request layer's `Tally` into the counters, every FOLD_EVERY_S on a thread of its
    own, and whenever `fold` is called."""

    def __init__(self, tally: Tally) -> None:
        self.tally = tally
        self._folded: dict[Hashable, int] = {}
        self._lock = threading.Lock()
        self._children: dict[Hashable, MetricWrapperBase] = {}
        for reason, status in REFUSALS.items():
            REFUSED.labels(reason, str(status))
        for outcome in HELD_OUTCOMES:
            HELD_REQUESTS.labels(outcome)
        self._thread = Maintenance([Round("http counts", FOLD_EVERY_S, self.fold)], "lss-metrics")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop folding, after a last fold."""
        self._thread.stop()
        self.fold()

    def fold(self) -> None:
        """Add what was counted since the last fold to the counters (from any thread)."""
        with self._lock:
            totals = self.tally.snapshot()
            for key, total in totals.items():
                grown = total - self._folded.get(key, 0)
                if grown > 0:
                    self._child(key).inc(grown)
            self._folded = totals

    def _child(self, key: Hashable) -> MetricWrapperBase:
        child = self._children.get(key)
        if child is None:
            kind, *labels = key  # type: ignore[misc]
            metric = {ANSWER: ANSWERS, REFUSAL: REFUSED, HELD: HELD_REQUESTS}[kind]
            child = self._children[key] = metric.labels(*(str(label) for label in labels))
        return child
