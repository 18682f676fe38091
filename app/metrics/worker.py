"""A Celery worker's own `/metrics`: the jobs it finished, served on LSS_WORKER_METRICS_PORT.

Workers may run on other machines than the web processes, so they cannot share the web's metrics
folder: each worker is a target of its own for Prometheus (a worker is one process, whose pool
threads share its counters in memory). The web's `/metrics` counts what it accepts; the workers'
count what they finish, and how long each job took from its acceptance. Summed over the targets
by Prometheus, they give the service's figures (docs/operating.md).
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import start_http_server
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from app.data_ingestor import Dataset
from app.metrics import instruments
from app.task import TASKS


class _Info(Collector):
    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset

    def collect(self) -> Iterator[Metric]:
        yield from instruments.info("celery", self.dataset)


def serve(host: str, port: int, dataset: Dataset) -> instruments.PrometheusObserver:
    """Serve this worker's metrics at http://host:port/metrics (OSError if it cannot listen);
    the observer its jobs report to."""
    instruments.REGISTRY.register(_Info(dataset))
    start_http_server(port, addr=host, registry=instruments.REGISTRY)
    return instruments.PrometheusObserver(list(TASKS), accepting=False, finishing=True)
