"""Validators for finished results: a strong ETag per answer body, and If-None-Match.

A done result never changes (the same request on the same dataset gets the same bytes), so it
is served with a strong ETag derived from its bytes and `Cache-Control: public, max-age=31536000,
immutable`; a client that sends the tag back in If-None-Match gets `304` and no body. Anything
else `get_results` answers (running, failed, unknown, expired) may change, so it is `no-store`.
"""

from __future__ import annotations

import hashlib

#: Cache-Control of a done result: it is the same for as long as it exists.
IMMUTABLE = ("Cache-Control", "public, max-age=31536000, immutable")
#: Cache-Control of every other answer of get_results.
NO_STORE = ("Cache-Control", "no-store")
#: Tags remembered by body; a body is usually the same object poll after poll, so the lookup
#: costs a pointer comparison. Cleared when full: the tags are cheap to make again. Bodies read
#: back from result files, and CSV tables, are new objects each time: the bytes bound keeps
#: what those hold here small.
_REMEMBERED = 4096
_REMEMBERED_BYTES = 8 << 20


class ETags:
    """The strong ETag of each body, remembered for the bodies seen lately."""

    def __init__(self) -> None:
        self._tags: dict[bytes, str] = {}
        self._bytes = 0

    def of(self, body: bytes) -> str:
        """The quoted strong ETag of `body`: equal bytes, equal tags."""
        tag = self._tags.get(body)
        if tag is None:
            if len(self._tags) >= _REMEMBERED or self._bytes + len(body) > _REMEMBERED_BYTES:
                self._tags.clear()
                self._bytes = 0
            tag = f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'
            self._tags[body] = tag
            self._bytes += len(body)
        return tag


def matches(if_none_match: str, tag: str) -> bool:
    """Whether an If-None-Match header names `tag` (or is `*`), compared weakly (RFC 9110)."""
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == tag:
            return True
    return False
