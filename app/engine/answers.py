"""The answers both engines keep: each distinct task's serialized result, computed once.

Distinct tasks used to be bounded by the questions and locations (about 1,600 for the nine).
With year ranges and stratifications they are not (every range of every stratum of every
state is its own answer), so the oldest answers are let go past a count and a size, and
computed again if asked for: memory stays bounded whatever clients send.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from app.data_ingestor import Dataset
from app.engine.interface import done_body
from app.task import Task

#: Distinct answers kept: every answer of the nine and the three new endpoints without a
#: selection fits about three times over (9 x 55 x (3 + 1 + 6) + 9 x 7, some 5,000)...
KEPT = 16384
#: ... and their bytes (all of those take some 15 MB on the bundled data).
KEPT_BYTES = 64 << 20


class Answers:
    """Serialized done bodies by task key; past `limit` answers or `limit_bytes`, the first
    kept are the first let go.

    A hit takes no lock (a dict lookup is atomic under the GIL); a miss takes one to add the
    body and count its bytes. Two threads missing the same answer at once compute it twice.
    """

    def __init__(self, dataset: Dataset, limit: int = KEPT, limit_bytes: int = KEPT_BYTES) -> None:
        self.dataset = dataset
        self._limit = limit
        self._limit_bytes = limit_bytes
        self._bodies: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._bodies)

    def known(self, task: Task) -> bool:
        """Whether `task`'s answer is kept here (so getting it costs a dictionary lookup)."""
        return task.key in self._bodies

    def body(self, task: Task) -> bytes:
        """The done body of `task`: remembered, or computed now (and remembered)."""
        body = self._bodies.get(task.key)
        if body is not None:
            return body
        body = done_body(task.compute(self.dataset))
        with self._lock:
            if task.key not in self._bodies:
                self._bodies[task.key] = body
                self._bytes += len(body)
            while len(self._bodies) > self._limit or self._bytes > self._limit_bytes:
                self._bytes -= len(self._bodies.popitem(last=False)[1])
        return body
