"""`Prefer: wait=N` (RFC 7240) on the POSTs: hold the request until the job is done, up to N s.

A held request sleeps on the engine's wait for its job, not in a pool thread or a Celery worker.
It does hold one of the server's request threads, so a server process holds at most a fixed
number of requests at once (its request threads but one): a POST beyond that is answered at once
with its job id, as without the header, and health and reads always find a thread.
"""

from __future__ import annotations

import threading

#: The longest wait a client may ask for, in seconds (SPEC §14).
MAX_WAIT_S = 30


def wanted_wait(prefer: str) -> int | None:
    """The seconds a Prefer header asks to wait (capped at MAX_WAIT_S), or None.

    Preferences are comma-separated, each `token[=value]` with optional `;` parameters; names
    compare case-insensitively and the value may be quoted. A malformed wait is ignored, as
    RFC 7240 asks of preferences a server does not understand.
    """
    for preference in prefer.split(","):
        name, _, value = preference.split(";", 1)[0].partition("=")
        if name.strip().lower() != "wait":
            continue
        value = value.strip().strip('"')
        if value.isascii() and value.isdigit():  # not "²", which int() refuses
            # A huge number is just a long wait (int() refuses more than 4,300 digits).
            return min(int(value), MAX_WAIT_S) if len(value) <= 6 else MAX_WAIT_S
        return None
    return None


class HeldRequests:
    """How many requests may be held at once; a request that finds none free is not held."""

    def __init__(self, limit: int) -> None:
        self._free = threading.BoundedSemaphore(limit) if limit > 0 else None

    def try_hold(self) -> bool:
        """Take a place if one is free, at once; True if taken (release it after)."""
        return self._free is not None and self._free.acquire(blocking=False)

    def release(self) -> None:
        if self._free is not None:
            self._free.release()
