"""The Celery engine's answers in Redis: each distinct body stored once, under its digest.

A job's record points to its answer by the digest (`lss:answer:<digest>`), as the embedded
engine's result files are links to one file per distinct answer: a thousand jobs asking the same
question keep one copy of its 80 KB, not a thousand. The job registry's scripts (FINISH, READ)
write and read them; an answer is kept as long as the longest-lived job that points to it.
"""

from __future__ import annotations

import hashlib
import threading

#: The prefix of an answer's key; its digest follows.
ANSWER_KEY = "lss:answer:"
#: Milliseconds an answer outlives the last job that points to it: Redis expires the two keys
#: apart, and a read that found the job must find its answer.
MARGIN_MS = 1000
#: Digests remembered by body; a worker's body for a task is the same object job after job
#: (app.engine.answers caches it), so a lookup costs a pointer comparison. Cleared when full.
_REMEMBERED = 4096
_REMEMBERED_BYTES = 32 << 20


def digest(body: bytes) -> str:
    """The name of `body` among the answers: a 128-bit BLAKE2b of its bytes, in hex."""
    return hashlib.blake2b(body, digest_size=16).hexdigest()


class StoredAnswers:
    """The digests of the bodies this process stored lately, so that it sends a body Redis has
    already only when Redis says it has lost it (expired)."""

    def __init__(self) -> None:
        self._digests: dict[bytes, str] = {}
        self._bytes = 0
        self._lock = threading.Lock()

    def known(self, body: bytes) -> str | None:
        """The digest of `body` if this process stored it lately, else None."""
        return self._digests.get(body)

    def remember(self, body: bytes, name: str) -> None:
        """`body` is stored in Redis under the digest `name`."""
        with self._lock:
            if len(self._digests) >= _REMEMBERED or self._bytes + len(body) > _REMEMBERED_BYTES:
                self._digests.clear()
                self._bytes = 0
            if body not in self._digests:
                self._digests[body] = name
                self._bytes += len(body)
