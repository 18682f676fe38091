"""The metrics the engines count, defined once per process, and the observer that counts them.

Under `api_server.py` every server process writes its values to its own files in the run's
metrics folder (prometheus_client's multiprocess mode, `app.metrics.folder`), and `GET /metrics`
sums them. Elsewhere (`flask run`, a Celery worker) the process's values are in memory and
`REGISTRY` holds them. Label values are looked up once and kept, so counting a job costs a
dictionary lookup and a write to memory.
"""

from __future__ import annotations

import os

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily

from app.data_ingestor import Dataset
from app.distribution.version import VERSION
from app.engine.observer import JobObserver

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
POOL_THREADS = Gauge(
    "lss_pool_threads",
    "Pool threads the server processes keep (embedded engine)",
    multiprocess_mode="livesum",
    registry=REGISTRY,
)
POOL_ALIVE = Gauge(
    "lss_pool_threads_alive",
    "Pool threads running (embedded engine); fewer than lss_pool_threads until one is replaced",
    multiprocess_mode="livesum",
    registry=REGISTRY,
)
POOL_REPLACED = Counter(
    "lss_pool_threads_replaced",
    "Pool threads that died and were replaced (embedded engine)",
    registry=REGISTRY,
)


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


class PrometheusObserver(JobObserver):
    """Counts what an engine reports into the metrics above.

    Every endpoint's series are made at once, at 0, for what this process counts (`accepting`:
    a web process; `finishing`: where jobs run), so that a rate over them exists from the start.
    """

    def __init__(self, endpoints: list[str], *, accepting: bool, finishing: bool) -> None:
        self._accepted = {e: ACCEPTED.labels(e) for e in endpoints} if accepting else {}
        self._finished = {
            (e, ok): FINISHED.labels(e, OUTCOMES[not ok])
            for e in (endpoints if finishing else ())
            for ok in (True, False)
        }
        self._seconds = {e: JOB_SECONDS.labels(e) for e in endpoints} if finishing else {}
        self._replaced = 0

    def accepted(self, endpoint: str) -> None:
        counter = self._accepted.get(endpoint)
        if counter is None:
            counter = self._accepted[endpoint] = ACCEPTED.labels(endpoint)
        counter.inc()

    def finished(self, endpoint: str, ok: bool, seconds: float) -> None:
        counter = self._finished.get((endpoint, ok))
        if counter is None:
            counter = self._finished[endpoint, ok] = FINISHED.labels(endpoint, OUTCOMES[not ok])
        counter.inc()
        histogram = self._seconds.get(endpoint)
        if histogram is None:
            histogram = self._seconds[endpoint] = JOB_SECONDS.labels(endpoint)
        histogram.observe(max(seconds, 0.0))

    def pool(self, size: int, alive: int, replaced: int) -> None:
        POOL_THREADS.set(size)
        POOL_ALIVE.set(alive)
        if replaced > self._replaced:
            POOL_REPLACED.inc(replaced - self._replaced)
            self._replaced = replaced

    def close(self) -> None:
        if multiprocess():
            from prometheus_client import multiprocess as files

            files.mark_process_dead(os.getpid())
