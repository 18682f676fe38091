"""Named defaults and the environment variables that override them."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import click

from app.distribution import layout
from app.policy import settings as policy_settings

#: Where results, the log and Redis data go by default: the repository in a checkout, else the
#: current folder (an installed `lss-server`).
HOME = layout.home()
#: The broker of `make worker` when LSS_BROKER_URL is not set (port: LSS_REDIS_PORT).
DEFAULT_BROKER = "redis://127.0.0.1:6379/0"
#: Name of the job journal inside the results folder, unless LSS_JOURNAL says otherwise.
JOURNAL_NAME = "jobs.sqlite3"


class StartupError(click.ClickException):
    """The service cannot start; the message is one line naming the setting or file at fault.

    A click exception, so that `flask --app app run` shows it as one line and exits 2 like
    `api_server.py` does, instead of printing a traceback.
    """

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)


class ConfigError(StartupError):
    """A setting has a value the service cannot start with."""


def _integer(minimum: int, maximum: int | None = None) -> Callable[[str, str], int]:
    """A parser of whole numbers in [minimum, maximum] that names the variable when it fails."""

    def parse(name: str, raw: str) -> int:
        try:
            value = int(raw.strip())
        except ValueError:
            value = None
        if value is None or value < minimum or (maximum is not None and value > maximum):
            bound = f"between {minimum} and {maximum}" if maximum else f"at least {minimum}"
            kind = "a positive integer" if minimum == 1 else "a whole number"
            raise ConfigError(f"{name} must be {kind} ({bound}), got {raw!r}")
        return value

    return parse


def _text(name: str, raw: str) -> str:
    if not raw.strip():
        raise ConfigError(f"{name} is set but empty")
    return raw


def _optional_text(name: str, raw: str) -> str | None:
    """Text, or None (the setting's derived default) when set but empty."""
    return raw if raw.strip() else None


def _broker_url(name: str, raw: str) -> str | None:
    """A redis:// (or rediss://) URL, or None (the embedded engine) when set but empty."""
    if not raw.strip():
        return None
    url = raw.strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("redis", "rediss") or not parts.hostname:
        raise ConfigError(
            f"{name} must be a redis:// or rediss:// URL such as {DEFAULT_BROKER}, got {raw!r}"
        )
    return url


def _checked(parse: Callable[[str], Any]) -> Callable[[str, str], Any]:
    """A parser of a text setting whose ValueError becomes a ConfigError naming the variable."""

    def checked(name: str, raw: str) -> Any:
        try:
            return parse(raw)
        except ValueError as error:
            raise ConfigError(f"{name} {error}, got {raw!r}") from None

    return checked


def _memory(name: str, raw: str) -> str:
    """A size as Redis writes it: bytes, or a number with k, kb, m, mb, g or gb (0: no cap)."""
    value = raw.strip().lower()
    if not re.fullmatch(r"[0-9]+(?:[kmg]b?|b)?", value):
        raise ConfigError(f"{name} must be a size such as 512mb or 2gb (0: no limit), got {raw!r}")
    return value


#: config key -> (environment variable, default, parser). One line each in the README.
SETTINGS: dict[str, tuple[str, Any, Callable[[str, str], Any]]] = {
    # Interface the HTTP server binds to.
    "HOST": ("LSS_HOST", "127.0.0.1", _text),
    # TCP port of the HTTP server.
    "PORT": ("LSS_PORT", 5000, _integer(1, 65535)),
    # The BRFSS extract to load at start-up.
    "DATA_FILE": (
        "LSS_DATA_FILE",
        str(layout.sample()),
        _text,
    ),
    # Folder holding one <job_id>.json file per finished job.
    "RESULTS_DIR": ("LSS_RESULTS_DIR", str(HOME / "results"), _text),
    # The SQLite job journal; None: JOURNAL_NAME inside the results folder.
    "JOURNAL": ("LSS_JOURNAL", None, _optional_text),
    # Rotating log file.
    "LOG_FILE": ("LSS_LOG_FILE", str(HOME / "webserver.log"), _text),
    # Threads of the job pool; the CPU count when unset.
    "THREADS": ("TP_NUM_OF_THREADS", os.cpu_count() or 1, _integer(1)),
    # Largest accepted request body, in bytes (64 KiB).
    "MAX_CONTENT_LENGTH": ("LSS_MAX_BODY_BYTES", 64 * 1024, _integer(1)),
    # How long get_results lets a pending job finish before answering "running", in ms.
    "RESULT_WAIT_MS": ("LSS_RESULT_WAIT_MS", 10, _integer(0, 1000)),
    # Size at which the log file is rotated, in bytes (10 MiB).
    "LOG_MAX_BYTES": ("LSS_LOG_MAX_BYTES", 10 * 1024 * 1024, _integer(1)),
    # Rotated log files kept.
    "LOG_BACKUPS": ("LSS_LOG_BACKUPS", 5, _integer(1)),
    # Threads of the WSGI server that answer HTTP requests (4 measured best on 2 cores).
    "SERVER_THREADS": ("LSS_SERVER_THREADS", 4, _integer(1)),
    # Seconds a request's body may take to arrive, from the end of its headers (then 408).
    "BODY_TIMEOUT_S": ("LSS_BODY_TIMEOUT_S", 10, _integer(1, 3600)),
    # Server processes (granian's), each with its own pool, over one journal and results folder.
    "WORKERS": ("LSS_WORKERS", 2, _integer(1, 64)),
    # Seconds a finished job's answer is kept (0: forever).
    "RESULT_TTL_S": ("LSS_RESULT_TTL_S", 3 * 3600, _integer(0)),
    # Seconds a failed job's answer is kept (0: forever).
    "ERROR_TTL_S": ("LSS_ERROR_TTL_S", 3600, _integer(0)),
    # Seconds between two purges of expired jobs (0: never purge).
    "MAINTENANCE_INTERVAL_S": ("LSS_MAINTENANCE_INTERVAL_S", 60, _integer(0)),
    # Redis of the Celery engine (redis://HOST:PORT/DB); None: the embedded engine.
    "BROKER_URL": ("LSS_BROKER_URL", None, _broker_url),
    # Port of the redis-server `make redis` runs (and of the worker's default broker).
    "REDIS_PORT": ("LSS_REDIS_PORT", 6379, _integer(1, 65535)),
    # Folder of the data of the redis-server `make redis` runs.
    "REDIS_DIR": ("LSS_REDIS_DIR", str(HOME / "redis-data"), _text),
    # Memory cap of the redis-server `make redis` runs: past it, new jobs are refused (503).
    "REDIS_MAXMEMORY": ("LSS_REDIS_MAXMEMORY", "512mb", _memory),
    # Seconds before a task a worker took and never acknowledged is given to another worker.
    "VISIBILITY_TIMEOUT_S": ("LSS_VISIBILITY_TIMEOUT_S", 10, _integer(1, 86400)),
    # GET /metrics (Prometheus) and the counting behind it; 0 turns both off.
    "METRICS": ("LSS_METRICS", 1, _integer(0, 1)),
    # Port on which a Celery worker serves its own /metrics (0: none).
    "WORKER_METRICS_PORT": ("LSS_WORKER_METRICS_PORT", 0, _integer(0, 65535)),
    # Celery events and heartbeats from the workers, for Flower (off: each job would send two).
    "WORKER_EVENTS": ("LSS_WORKER_EVENTS", 0, _integer(0, 1)),
    # The token graceful_shutdown needs (Authorization: Bearer); None: loopback clients only.
    "ADMIN_TOKEN": ("LSS_ADMIN_TOKEN", None, _checked(policy_settings.admin_token)),
    # Origins (scheme://host[:port]) of other sites that may use the API from a browser.
    "CORS_ORIGINS": ("LSS_CORS_ORIGINS", frozenset(), _checked(policy_settings.origins)),
    # Host names a loopback-bound server answers for besides localhost, 127.0.0.1 and [::1].
    "ALLOWED_HOSTS": ("LSS_ALLOWED_HOSTS", frozenset(), _checked(policy_settings.host_names)),
    # Most live jobs (accepted, not yet purged) of the whole service; 0: no cap.
    "MAX_LIVE_JOBS": ("LSS_MAX_LIVE_JOBS", 1_000_000, _integer(0)),
    # MiB that must stay free on the disks of the results folder and journal; 0: no check.
    "MIN_FREE_DISK_MB": ("LSS_MIN_FREE_DISK_MB", 256, _integer(0)),
    # Jobs one client address may submit: N/second, N/minute or N/hour; None: no limit.
    "RATE_LIMIT": ("LSS_RATE_LIMIT", None, _checked(policy_settings.rate)),
}


def load(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Return the settings: defaults, overridden by whichever variables are set in `environ`."""
    environ = os.environ if environ is None else environ
    config: dict[str, Any] = {}
    for key, (variable, default, parse) in SETTINGS.items():
        raw = environ.get(variable)
        config[key] = default if raw is None else parse(variable, raw)
    return config


def worker_broker_url(settings: Mapping[str, Any]) -> str:
    """The Redis a worker serves: LSS_BROKER_URL, else the local one on LSS_REDIS_PORT."""
    return settings.get("BROKER_URL") or f"redis://127.0.0.1:{settings['REDIS_PORT']}/0"


def journal_path(settings: Mapping[str, Any]) -> str:
    """Where the job journal lives: LSS_JOURNAL, else inside the results folder."""
    return settings.get("JOURNAL") or os.path.join(settings["RESULTS_DIR"], JOURNAL_NAME)
