"""`GET /metrics`: the counted metrics of every server process, and the figures of the moment.

What the engines count comes from the run's metrics folder, summed over the server processes
(or from this process's memory when it is the only one, under `flask run`). What the service
holds is read when Prometheus asks, by the process that answers: pending and stored jobs, result
files and bytes, free disk, whether the job store answers, and two info metrics (gauges of value
1 whose labels carry the build's version and engine, and the dataset's hash and rows).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from flask import Blueprint, Flask, Response, current_app
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from app.engine.interface import Engine
from app.errors import Unavailable
from app.metrics import folder, instruments
from app.metrics.instruments import PrometheusObserver, gauge, info
from app.task import TASKS

bp = Blueprint("metrics", __name__)


class ServiceCollector(Collector):
    """The figures of the moment, read from the engine when a scrape comes."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        engine = self.engine
        yield from info(engine.name, engine.dataset)
        try:
            held = engine.inventory()
        except Unavailable:
            yield gauge("lss_job_store_up", "1 if the journal (or Redis) answered", 0)
            return
        yield gauge("lss_job_store_up", "1 if the journal (or Redis) answered", 1)
        yield gauge("lss_jobs_pending", "Jobs queued or executing, service-wide", held.pending)
        rows = GaugeMetricFamily(
            "lss_journal_rows", "Jobs the journal (or Redis) keeps, by status", labels=["status"]
        )
        for status, count in held.stored.items():
            rows.add_metric([status], count)
        yield rows
        if held.result_files is not None:
            yield gauge("lss_result_files", "Result files, one a job", held.result_files)
        if held.result_bytes is not None:
            yield gauge(
                "lss_result_bytes", "Bytes of the result files, shared answers counted once",
                held.result_bytes,
            )  # fmt: skip
        free = GaugeMetricFamily(
            "lss_disk_free_bytes", "Free bytes on the disk of each folder", labels=["folder"]
        )
        for role, count in held.free_bytes.items():
            free.add_metric([role], count)
        yield free


@bp.get("/metrics")
def metrics() -> Response:
    """The Prometheus text format."""
    run_folder = os.environ.get(folder.VARIABLE)
    if instruments.multiprocess() and run_folder:
        folder.forget_dead(run_folder)
        counted = CollectorRegistry(auto_describe=False)
        MultiProcessCollector(counted, run_folder)
    else:
        counted = instruments.REGISTRY
    body = generate_latest(counted) + generate_latest(current_app.extensions["lss.metrics"])
    return Response(body, content_type=CONTENT_TYPE_LATEST)


def observer(engine_name: str) -> PrometheusObserver:
    """The observer of a web process's engine: the embedded engine accepts and runs its jobs;
    the Celery engine's web processes accept them and its workers run them."""
    return PrometheusObserver(list(TASKS), accepting=True, finishing=engine_name == "embedded")


def init_app(app: Flask) -> None:
    """Serve /metrics for the app's engine."""
    service = app.extensions["lss.metrics"] = CollectorRegistry(auto_describe=False)
    service.register(ServiceCollector(app.extensions["lss.engine"]))
    app.register_blueprint(bp)
