"""The local Redis's passwords: made on `make redis`'s first start, read by the service and workers.

The redis-server of `make redis` (redis_server.py) requires a password. On its first start it
makes two, each in its own file in LSS_REDIS_DIR that only its owner may read (mode 0600: the
file is created with that mode and filled before it gets its name, so no process ever finds it
half written or open to others):

    password         the service's, for Redis's `default` user: what web processes and workers
                     use (every command they need, none of Redis's dangerous ones)
    admin-password   the operator's, for the `admin` user: every command (INFO, CONFIG, ...)

A web process (`make run`) or a worker (`make worker`) whose LSS_BROKER_URL names that Redis
(127.0.0.1 or localhost on LSS_REDIS_PORT) without credentials reads `password`, and so does a
worker without LSS_BROKER_URL; credentials in the URL are used as given (`redis://:@...`, an
empty password, says the Redis has none).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote, urlsplit, urlunsplit

from app import config
from app.config import StartupError

#: The files, in LSS_REDIS_DIR, of the service's password and of the operator's.
SERVICE_FILE, ADMIN_FILE = "password", "admin-password"
#: The Redis user of the operator's password (the service's is `default`).
ADMIN_USER = "admin"
#: The names by which a broker URL names the local Redis (it listens on 127.0.0.1 only).
LOCAL_HOSTS = ("127.0.0.1", "localhost")
#: Random bytes in a password made here (written as 43 URL-safe characters).
STRENGTH = 32


class Passwords(NamedTuple):
    """The local Redis's two passwords."""

    service: str
    admin: str


def _read(path: Path) -> str:
    """The password in `path` (its first line); StartupError, naming the file, if there is none."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        why = getattr(error, "strerror", None) or str(error)
        raise StartupError(
            f"Redis password file {path}: cannot read it ({why}); `make redis` makes it on its "
            "first start, or put the password in LSS_BROKER_URL"
        ) from None
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise StartupError(f"Redis password file {path} is empty")
    return lines[0].strip()


def _make(path: Path) -> None:
    """Write a new random password to `path`, unless another start made one first."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        try:
            os.fchmod(fd, 0o600)  # whatever the umask left
            os.write(fd, f"{secrets.token_urlsafe(STRENGTH)}\n".encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        with contextlib.suppress(FileExistsError):  # another start made it first: theirs
            os.link(temporary, path)  # never replaces a password
    finally:
        os.unlink(temporary)


def _kept(path: Path) -> str:
    """The password in `path`, made first if there is none; refused if others may read it."""
    try:
        if not path.exists():
            _make(path)
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError as error:
        raise StartupError(
            f"Redis password file {path}: cannot make it: {error.strerror or error}"
        ) from None
    if mode & 0o077:
        raise StartupError(
            f"Redis password file {path} can be read by other users (mode {mode:04o}): "
            f"`chmod 600 {path}`"
        )
    return _read(path)


def ensure(folder: str | Path) -> Passwords:
    """The passwords of the Redis whose data is in `folder`, made on its first start."""
    folder = Path(folder)
    return Passwords(_kept(folder / SERVICE_FILE), _kept(folder / ADMIN_FILE))


def service_password(folder: str | Path) -> str:
    """The service's password of the Redis whose data is in `folder`."""
    return _read(Path(folder) / SERVICE_FILE)


def names_local_redis(url: str, settings: Mapping[str, Any]) -> bool:
    """Whether `url` names the Redis of `make redis` (127.0.0.1 or localhost, LSS_REDIS_PORT)."""
    parts = urlsplit(url)
    return parts.hostname in LOCAL_HOSTS and (parts.port or 6379) == settings["REDIS_PORT"]


def with_password(url: str, settings: Mapping[str, Any]) -> str:
    """`url`, with the service's password of `make redis` if it names that Redis without
    credentials; as given otherwise. StartupError if the password file cannot be read."""
    parts = urlsplit(url)
    if "@" in parts.netloc or not names_local_redis(url, settings):
        return url
    secret = quote(service_password(settings["REDIS_DIR"]), safe="")
    return urlunsplit(parts._replace(netloc=f":{secret}@{parts.netloc}"))


def broker_url(settings: Mapping[str, Any]) -> str:
    """The Redis a worker serves (LSS_BROKER_URL, else the local one), with its password."""
    return with_password(config.worker_broker_url(settings), settings)
