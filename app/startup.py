"""What a run of the server checks and prepares once, before it serves: a problem stops it here.

`api_server.py` does this in its main process, before it starts the server processes, so that
they share the loaded dataset and a start-up problem is one line from one process. `create_app`
does it itself when it is not given what this returns (`flask run`, tests).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.config import StartupError, journal_path
from app.data_ingestor import Dataset, load_dataset
from app.embedded_engine import journal
from app.embedded_engine.store import ResultStore
from app.errors import Unavailable


@dataclass(frozen=True)
class Prepared:
    """A run's checked start: the loaded dataset (the folders and the journal are ready too)."""

    dataset: Dataset
    #: Celery engine: False when Redis did not answer at start, so an earlier run's shutdown
    #: flag is still to be cleared (the engine does it when Redis answers).
    reopened: bool = True
    #: Celery engine: LSS_BROKER_URL, with the local Redis's password if it names that Redis
    #: without one (app.celery_engine.password).
    broker_url: str | None = None


def _reason(error: OSError) -> str:
    return error.strerror or str(error)


def check_log_file(path: str) -> None:
    """The log file can be created and appended to."""
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8"):
            pass
    except OSError as error:
        raise StartupError(
            f"log file {path} (LSS_LOG_FILE): cannot open it: {_reason(error)}"
        ) from None


def prepare_results(store: ResultStore, settings: Mapping[str, Any]) -> None:
    """The results folder exists and is writable; the journal is ready and accepts jobs again."""
    try:
        store.prepare()
    except OSError as error:
        raise StartupError(
            f"results folder {store.folder} (LSS_RESULTS_DIR): cannot create or write it: "
            f"{_reason(error)}"
        ) from None
    path = journal_path(settings)
    journal.prepare(path, store.legacy(), store.legacy_mark())
    store.forget_legacy_mark()
    log = journal.Journal(path)
    try:
        log.clear_shutdown()  # a new run: the flag of an earlier run's graceful shutdown goes
    except Unavailable as error:
        raise journal.JournalError(f"job journal {path}: cannot write it ({error})") from None
    finally:
        log.close()


def reopen_registry(url: str) -> bool:
    """Celery engine: clear an earlier run's shutdown flag in Redis; False if Redis is down.

    A Redis that is down does not stop the start: the service answers 503 until it returns.
    """
    from app.celery_engine.registry import JobRegistry  # only the Celery engine needs redis

    registry = JobRegistry(url, log_outages=False)
    try:
        registry.clear_shutdown()
    except Unavailable as error:
        print(
            f"le-stats-sportif: warning: {error.reason}; serving anyway, jobs answer 503 "
            "until it does",
            file=sys.stderr,
            flush=True,
        )
        return False
    finally:
        registry.close()
    return True


def prepare(settings: Mapping[str, Any]) -> Prepared:
    """Check the log file and the job store (results folder and journal, or Redis), then load
    the dataset."""
    check_log_file(settings["LOG_FILE"])
    if settings.get("BROKER_URL"):  # the Celery engine: its jobs live in Redis
        from app.celery_engine.password import with_password  # no Celery or redis-py loaded

        url = with_password(settings["BROKER_URL"], settings)
        dataset = load_dataset(settings["DATA_FILE"])
        return Prepared(dataset, reopened=reopen_registry(url), broker_url=url)
    prepare_results(ResultStore(settings["RESULTS_DIR"]), settings)
    return Prepared(load_dataset(settings["DATA_FILE"]))
