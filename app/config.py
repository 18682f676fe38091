"""Named defaults and the environment variables that override them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

#: config key -> (environment variable, default, parser). One line each in the README.
SETTINGS: dict[str, tuple[str, Any]] = {
    # Interface the HTTP server binds to.
    "HOST": ("LSS_HOST", "127.0.0.1"),
    # TCP port of the HTTP server.
    "PORT": ("LSS_PORT", 5000),
    # The BRFSS extract to load at start-up.
    "DATA_FILE": ("LSS_DATA_FILE", str(ROOT / "nutrition_activity_obesity_usa_subset.csv")),
    # Folder holding one <job_id>.json file per finished job.
    "RESULTS_DIR": ("LSS_RESULTS_DIR", str(ROOT / "results")),
    # Rotating log file.
    "LOG_FILE": ("LSS_LOG_FILE", str(ROOT / "webserver.log")),
    # Worker threads of the job pool; the CPU count when unset.
    "THREADS": ("TP_NUM_OF_THREADS", os.cpu_count() or 1),
    # Largest accepted request body, in bytes (64 KiB).
    "MAX_CONTENT_LENGTH": ("LSS_MAX_BODY_BYTES", 64 * 1024),
    # Size at which the log file is rotated, in bytes (10 MiB).
    "LOG_MAX_BYTES": ("LSS_LOG_MAX_BYTES", 10 * 1024 * 1024),
    # Rotated log files kept.
    "LOG_BACKUPS": ("LSS_LOG_BACKUPS", 5),
    # Threads of the WSGI server that answer HTTP requests.
    "SERVER_THREADS": ("LSS_SERVER_THREADS", 8),
}


class ConfigError(ValueError):
    """A setting has a value the service cannot start with."""


def _positive_int(name: str, raw: str) -> int:
    """Parse a strictly positive integer setting, naming the variable when it is not one."""
    try:
        value = int(raw.strip())
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigError(f"{name} must be a positive integer, got {raw!r}")
    return value


def load(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Return the settings: defaults, overridden by whichever variables are set in `environ`."""
    environ = os.environ if environ is None else environ
    config: dict[str, Any] = {}
    for key, (variable, default) in SETTINGS.items():
        raw = environ.get(variable)
        if raw is None or (raw.strip() == "" and not isinstance(default, int)):
            config[key] = default
        elif isinstance(default, int):
            config[key] = _positive_int(variable, raw)
        else:
            config[key] = raw
    if config["PORT"] > 65535:
        raise ConfigError(f"LSS_PORT must be at most 65535, got {config['PORT']}")
    return config
