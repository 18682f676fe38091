"""The answers both engines keep: each distinct task's serialized result, computed once.

Distinct tasks used to be bounded by the questions and locations (about 1,600 for the nine).
With year ranges and stratifications they are not (every range of every stratum of every
state is its own answer), so the oldest answers are let go past a limit and computed again if
asked for: memory stays bounded whatever clients send.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from app.data_ingestor import Dataset
from app.engine.interface import done_body
from app.task import Task

#: Distinct answers kept: every answer of the nine and the three new endpoints without a
#: selection fits about three times over (9 x 55 x (3 + 1 + 6) + 9 x 7, some 5,000).
KEPT = 16384


class Answers:
    """Serialized done bodies by task key, the first kept the first let go past `limit`.

    Safe without a lock: each OrderedDict operation is atomic under the GIL, and two threads
    computing the same answer at once only compute it twice.
    """

    def __init__(self, dataset: Dataset, limit: int = KEPT) -> None:
        self.dataset = dataset
        self._limit = limit
        self._bodies: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()

    def __len__(self) -> int:
        return len(self._bodies)

    def body(self, task: Task) -> bytes:
        """The done body of `task`: remembered, or computed now (and remembered)."""
        body = self._bodies.get(task.key)
        if body is None:
            body = self._bodies[task.key] = done_body(task.compute(self.dataset))
            while len(self._bodies) > self._limit:
                self._bodies.popitem(last=False)
        return body
