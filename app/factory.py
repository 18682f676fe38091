"""Building the service (`create_app`) and stopping it (`shutdown`)."""

from __future__ import annotations

import atexit
import logging
import os
import signal
import threading
from collections.abc import Mapping
from typing import Any

import orjson
from flask import Flask
from flask.json.provider import JSONProvider

from app import config, errors, logs, pages, routes, startup
from app.embedded_engine.engine import EmbeddedEngine
from app.embedded_engine.journal import Journal
from app.embedded_engine.store import ResultStore
from app.engine.interface import Engine
from app.engine.observer import NOBODY, JobObserver
from app.openapi import document as openapi
from app.policy import gate
from app.startup import Prepared
from app.task_runner import ThreadPool


class _OrjsonProvider(JSONProvider):
    """JSON via orjson: keys kept in insertion order, floats at full precision, no NaN."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return orjson.dumps(obj).decode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return orjson.loads(s)


def create_app(
    test_config: Mapping[str, Any] | None = None, *, prepared: Prepared | None = None
) -> Flask:
    """Build the service: settings, logging, the dataset, the job engine and the routes.

    Settings come from the defaults, then the environment, then `test_config`. A `THREADS` of 0
    (test_config only) runs every job inline, synchronously, during its POST. `prepared` is the
    checked start that api_server made once for all of its server processes; without it, the app
    makes its own (a new run). A start-up problem raises StartupError, one line naming the culprit.
    """
    app = Flask(__name__, static_folder=None)  # the pages serve their own static files
    app.json = _OrjsonProvider(app)
    app.config.update(config.load())
    if test_config:
        app.config.update(test_config)
    if prepared is None:
        prepared = startup.prepare(app.config)

    logs.init_app(app)
    errors.init_app(app)
    logger = logging.getLogger("lss")
    logger.info("loaded dataset %s", prepared.dataset.describe())
    observer = app.extensions["lss.observer"] = _observer(app.config)
    engine = app.extensions["lss.engine"] = _build_engine(app.config, prepared, observer)
    engine.start()
    # However the process ends (`flask run` and Ctrl-C included), accepted jobs finish first.
    atexit.register(shutdown, app)
    _drain_on_sigterm_under_flask_run()
    logger.info("ready: %s engine, %d pool thread(s)", engine.name, app.config["THREADS"])
    routes.init_app(app)
    openapi.init_app(app)
    pages.init_app(app)
    if app.config["METRICS"]:
        from app.metrics import exposition

        exposition.init_app(app)
    gate.init_app(app)  # last: the request policy is in front of everything the app serves
    return app


def _observer(settings: Mapping[str, Any]) -> JobObserver:
    """Who counts the engine's jobs: Prometheus's metrics (loaded only then), or nobody."""
    if not settings.get("METRICS"):
        return NOBODY
    from app.metrics import exposition

    return exposition.observer("celery" if settings.get("BROKER_URL") else "embedded")


def _build_engine(
    settings: Mapping[str, Any], prepared: Prepared, observer: JobObserver = NOBODY
) -> Engine:
    """The Celery engine if LSS_BROKER_URL is set; else the embedded engine: this process's pool
    over the shared journal and results folder."""
    if settings.get("BROKER_URL"):
        from app.celery_engine.engine import CeleryEngine  # Celery is loaded only when it is used

        return CeleryEngine(
            prepared.dataset,
            prepared.broker_url or settings["BROKER_URL"],
            visibility_timeout=settings["VISIBILITY_TIMEOUT_S"],
            result_ttl=settings["RESULT_TTL_S"],
            error_ttl=settings["ERROR_TTL_S"],
            maintenance_interval=settings["MAINTENANCE_INTERVAL_S"],
            workers=settings["WORKERS"],
            reopen=not prepared.reopened,
            observer=observer,
        )
    threads = int(settings["THREADS"])
    return EmbeddedEngine(
        prepared.dataset,
        ResultStore(settings["RESULTS_DIR"]),
        Journal(config.journal_path(settings)),
        ThreadPool(threads) if threads > 0 else None,
        result_ttl=settings["RESULT_TTL_S"],
        error_ttl=settings["ERROR_TTL_S"],
        maintenance_interval=settings["MAINTENANCE_INTERVAL_S"],
        workers=settings["WORKERS"],
        observer=observer,
    )


def _drain_on_sigterm_under_flask_run() -> None:
    """Under `flask run`, have SIGTERM stop the server as Ctrl-C does, so the drain at exit runs
    (Python's default for SIGTERM ends the process at once)."""
    if os.environ.get("FLASK_RUN_FROM_CLI") == "true" and (
        threading.current_thread() is threading.main_thread()
    ):
        signal.signal(signal.SIGTERM, signal.default_int_handler)


def shutdown(app: Flask, timeout: float | None = None) -> bool:
    """Finish every job this process accepted, stop its pool, then write out and close the log.

    Returns False if jobs were still running when `timeout` ran out. Calling it again is harmless.
    """
    admission = app.extensions.get("lss.admission")
    if admission is not None:
        admission.stop()
    drained = app.extensions["lss.engine"].drain(timeout)
    app.extensions["lss.observer"].close()
    logger = logging.getLogger("lss")
    if drained:
        logger.info("stopped: every accepted job finished")
    else:
        logger.error("stopped with job(s) unfinished after %s s", timeout)
    app.extensions["lss.log"].stop()
    return drained
