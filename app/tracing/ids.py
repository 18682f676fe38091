"""Request ids: the client's `X-Request-ID` when it is a sensible one, else one made here.

A made id is this process's random prefix and a counter (`3f9a0c17b2e4-1a`): unique across the
server processes and their restarts without the cost of a random number per request.
"""

from __future__ import annotations

import itertools
import re
import secrets

#: The ids a client may give (SPEC §17): anything else is replaced by a made one.
ACCEPTED = re.compile(r"[A-Za-z0-9._:/+=-]{1,128}")
#: The request header, as a WSGI environ names it, and as an answer carries it.
ENVIRON_KEY = "HTTP_X_REQUEST_ID"
HEADER = "X-Request-ID"


class RequestIds:
    """Takes or makes the id of each request of this process."""

    def __init__(self) -> None:
        # Made in each server process (create_app runs after the fork): its own prefix.
        self._prefix = secrets.token_hex(6) + "-"
        self._counter = itertools.count(1)  # next() on it is atomic: no lock

    def take(self, offered: str | None) -> str:
        """`offered` if it matches ACCEPTED, else a new id."""
        if offered and ACCEPTED.fullmatch(offered):
            return offered
        return f"{self._prefix}{next(self._counter):x}"
