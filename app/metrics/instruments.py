"""The metrics the engines count, defined once per process, and the observer that counts them.

Under `api_server.py` every server process writes its values to its own files in the run's
metrics folder (prometheus_client's multiprocess mode, `app.metrics.folder`), and `GET /metrics`
sums them. Elsewhere (`flask run`, a Celery worker) the process's values are in memory and
`REGISTRY` holds them. A job is counted into a `Tally` (a dictionary entry), which
`app.metrics.folding` adds to the metrics every second and before a scrape.
"""

from __future__ import annotations

import bisect
import math
import os
from collections.abc import Hashable
from typing import Any

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily

from app.data_ingestor import Dataset
from app.distribution.version import VERSION
from app.engine.observer import JobObserver
from app.metrics.folding import by_labels
from app.tracing.counts import Tally

# `*_created` samples say when a counter was made; nothing here reads them.
prometheus_client.disable_created_metrics()

#: Where the counted metrics live when one process serves them.
REGISTRY = CollectorRegistry(auto_describe=True)
#: Upper bounds of the submit-to-done histogram, in seconds: jobs take milliseconds when the
#: service keeps up, and queue for seconds when it does not.
JOB_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
OUTCOMES = ("done", "error")

ACCEPTED = Counter(
    "lss_jobs_accepted",
    "Jobs accepted: recorded in the journal (or Redis) before their id was answered",
    ["endpoint"],
    registry=REGISTRY,
)
FINISHED = Counter(
    "lss_jobs_finished",
    "Jobs finished, by outcome: done, or error (a failed job, answered with its reason)",
    ["endpoint", "outcome"],
    registry=REGISTRY,
)
JOB_SECONDS = Histogram(
    "lss_job_seconds",
    "Seconds from a job's acceptance to its end (queueing included)",
    ["endpoint"],
    buckets=JOB_BUCKETS,
    registry=REGISTRY,
)


class _PoolMetrics:
    """The embedded engine's pool gauges, made by the first observer of a pool: a metric without
    labels shows at 0 from the moment it is made, and neither a web process of the Celery engine
    nor a worker (whose threads Celery runs) has a pool to show."""

    def __init__(self) -> None:
        self.threads = Gauge(
            "lss_pool_threads",
            "Pool threads the server processes keep (embedded engine)",
            multiprocess_mode="livesum",
            registry=REGISTRY,
        )
        self.alive = Gauge(
            "lss_pool_threads_alive",
            "Pool threads running (embedded engine); fewer than lss_pool_threads until one is "
            "replaced",
            multiprocess_mode="livesum",
            registry=REGISTRY,
        )
        self.replaced = Counter(
            "lss_pool_threads_replaced",
            "Pool threads that died and were replaced (embedded engine)",
            registry=REGISTRY,
        )


_pool_metrics: list[_PoolMetrics] = []


def pool_metrics() -> _PoolMetrics:
    """The pool gauges, made on first use (once per process)."""
    if not _pool_metrics:
        _pool_metrics.append(_PoolMetrics())
    return _pool_metrics[0]


def gauge(name: str, documentation: str, value: float, **labels: str) -> GaugeMetricFamily:
    """One gauge sample, made when a scrape comes."""
    family = GaugeMetricFamily(name, documentation, labels=list(labels))
    family.add_metric(list(labels.values()), value)
    return family


def info(engine: str, dataset: Dataset) -> list[GaugeMetricFamily]:
    """The two info metrics (gauges of value 1, since the multiprocess mode has no Info type):
    the build's version and engine, the dataset's hash and usable rows."""
    return [
        gauge("lss_build_info", "The service's version and engine", 1,
              version=VERSION, engine=engine),
        gauge("lss_dataset_info", "The loaded dataset: its SHA-256 and its usable rows", 1,
              sha256=dataset.sha256, rows=str(dataset.rows_used)),
    ]  # fmt: skip


def multiprocess() -> bool:
    """True when this process writes its values to a metrics folder (PROMETHEUS_MULTIPROC_DIR
    was set when prometheus_client was first imported)."""
    return bool(getattr(prometheus_client.values.ValueClass, "_multiprocess", False))


#: The kinds of key the observer counts into its tally (app.tracing.counts).
_ACCEPTED, _FINISHED, _BUCKET, _SECONDS = "accepted", "finished", "bucket", "seconds"
#: The histogram's upper bounds with its last, +Inf: an observation goes to the first it is under.
_BOUNDS = (*JOB_BUCKETS, math.inf)


class _ManyObservations:
    """Adds many observations at once to the submit-to-done histogram of an endpoint.

    prometheus_client adds one at a time (`observe`: the sum, then one bucket); a fold adds a
    bucket's count and a sum of seconds straight to the values the histogram keeps (per bucket,
    cumulated only when it is collected). test_metrics checks the exposition against `observe`'s.
    """

    def __init__(self) -> None:
        self._children: dict[Hashable, Any] = {}

    def _child(self, endpoint: Hashable) -> Any:
        child = self._children.get(endpoint)
        if child is None:
            child = self._children[endpoint] = JOB_SECONDS.labels(endpoint)
        return child

    def bucket(self, labels: tuple[Hashable, ...], grown: float) -> None:
        endpoint, bucket = labels
        self._child(endpoint)._buckets[bucket].inc(grown)

    def seconds(self, labels: tuple[Hashable, ...], grown: float) -> None:
        self._child(labels[0])._sum.inc(grown)


_many = _ManyObservations()
#: How the observer's counts are added to the metrics (app.metrics.folding).
APPLY = {
    _ACCEPTED: by_labels(lambda endpoint: ACCEPTED.labels(endpoint).inc),
    _FINISHED: by_labels(lambda endpoint, ok: FINISHED.labels(endpoint, OUTCOMES[not ok]).inc),
    _BUCKET: _many.bucket,
    _SECONDS: _many.seconds,
}


class PrometheusObserver(JobObserver):
    """Counts what an engine reports, into `tally` (added to the metrics above by
    `app.metrics.folding`, with APPLY); the pool's state straight into its gauges.

    Every endpoint's series are made at once, at 0, for what this process counts (`accepting`:
    a web process; `finishing`: where jobs run), so that a rate over them exists from the start.
    """

    def __init__(
        self, endpoints: list[str], *, accepting: bool, finishing: bool, tally: Tally | None = None
    ) -> None:
        self.tally = Tally() if tally is None else tally
        for endpoint in endpoints:
            if accepting:
                ACCEPTED.labels(endpoint)
            if finishing:
                for outcome in OUTCOMES:
                    FINISHED.labels(endpoint, outcome)
                JOB_SECONDS.labels(endpoint)
        self._replaced = 0

    def accepted(self, endpoint: str) -> None:
        self.tally.add((_ACCEPTED, endpoint))

    def finished(self, endpoint: str, ok: bool, seconds: float) -> None:
        seconds = max(seconds, 0.0)
        bucket = bisect.bisect_left(_BOUNDS, seconds)
        self.tally.add((_FINISHED, endpoint, ok), (_BUCKET, endpoint, bucket))
        self.tally.add_amount((_SECONDS, endpoint), seconds)

    def pool(self, size: int, alive: int, replaced: int) -> None:
        metrics = pool_metrics()
        metrics.threads.set(size)
        metrics.alive.set(alive)
        if replaced > self._replaced:
            metrics.replaced.inc(replaced - self._replaced)
            self._replaced = replaced

    def close(self) -> None:
        if multiprocess():
            from prometheus_client import multiprocess as files

            files.mark_process_dead(os.getpid())
