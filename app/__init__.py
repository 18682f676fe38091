"""Le Stats Sportif: a job API over the CDC BRFSS nutrition, activity and obesity extract."""

from __future__ import annotations

import atexit
import logging
from collections.abc import Mapping
from typing import Any

import orjson
from flask import Flask
from flask.json.provider import JSONProvider

from app import config, errors, logs, routes
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
    app = Flask(__name__)
    app.json = _OrjsonProvider(app)
    app.config.update(config.load())
    if test_config:
        app.config.update(test_config)

    logs.init_app(app)
    errors.init_app(app)
    logger = logging.getLogger("lss")

    dataset = load_dataset(app.config["DATA_FILE"])
    logger.info("loaded dataset %s", dataset.describe())
    threads = int(app.config["THREADS"])
    pool = ThreadPool(threads) if threads > 0 else None
    manager = JobManager(dataset, ResultStore(app.config["RESULTS_DIR"]), pool)
    app.extensions["lss.jobs"] = manager
    # However the process ends (`flask run` and Ctrl-C included), accepted jobs finish first.
    atexit.register(manager.drain)
    logger.info(
        "ready: %d worker thread(s), results in %s, next job id job_id_%d",
        threads,
        app.config["RESULTS_DIR"],
        manager.jobs_issued + 1,
    )

    routes.init_app(app)
    return app
