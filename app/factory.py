"""Building the service (`create_app`) and stopping it (`shutdown`)."""

from __future__ import annotations

import atexit
import logging
from collections.abc import Mapping
from typing import Any

import orjson
from flask import Flask
from flask.json.provider import JSONProvider

from app import config, errors, logs, openapi, pages, routes
from app.data_ingestor import load_dataset
from app.manager import JobManager
from app.store import ResultStore
from app.task_runner import ThreadPool


class _OrjsonProvider(JSONProvider):
    """JSON via orjson: keys kept in insertion order, floats at full precision, no NaN."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return orjson.dumps(obj).decode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return orjson.loads(s)


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the service: settings, logging, the dataset, the job pool and the routes.

    Settings come from the defaults, then the environment, then `test_config`. A `THREADS` of 0
    (test_config only) runs every job inline, synchronously, during its POST.
    """
    app = Flask(__name__, static_folder=None)  # the pages serve their own static files
    app.json = _OrjsonProvider(app)
    app.config.update(config.load())
    if test_config:
        app.config.update(test_config)

    logs.init_app(app)
    errors.init_app(app)
    logger = logging.getLogger("lss")

    try:
        dataset = load_dataset(app.config["DATA_FILE"])
        logger.info("loaded dataset %s", dataset.describe())
        threads = int(app.config["THREADS"])
        store = ResultStore(app.config["RESULTS_DIR"])
    except Exception as error:
        logger.error("cannot start: %s", error)
        app.extensions["lss.log"].stop()
        raise
    pool = ThreadPool(threads) if threads > 0 else None
    app.extensions["lss.jobs"] = manager = JobManager(dataset, store, pool)
    # However the process ends (`flask run` and Ctrl-C included), accepted jobs finish first.
    atexit.register(shutdown, app)
    logger.info(
        "ready: %d worker thread(s), results in %s, next job id job_id_%d",
        threads,
        app.config["RESULTS_DIR"],
        manager.jobs_issued + 1,
    )

    routes.init_app(app)
    openapi.init_app(app)
    pages.init_app(app)
    return app


def shutdown(app: Flask, timeout: float | None = None) -> bool:
    """Finish every accepted job, stop the workers, then write out and close the log.

    Returns False if jobs were still running when `timeout` ran out. Calling it again is harmless.
    """
    manager = app.extensions["lss.jobs"]
    drained = manager.drain(timeout)
    if drained:
        logging.getLogger("lss").info(
            "stopped: every accepted job finished (%d issued)", manager.jobs_issued
        )
    else:
        logging.getLogger("lss").error("stopped with %d job(s) unfinished", manager.num_pending)
    app.extensions["lss.log"].stop()
    return drained
