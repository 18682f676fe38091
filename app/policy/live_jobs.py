"""The cap on live jobs (LSS_MAX_LIVE_JOBS), counted across every process without a scan per POST.

Live jobs are the ones `GET /api/jobs` lists: accepted and not yet purged, by any process. Counting
them is a scan (45 to 60 ms over a journal of a million jobs), so a POST never counts; it compares
two numbers this object keeps:

- `counted`: the service's live jobs at the last look, kept by a round of the policy's
  maintenance thread. Every second it adds the jobs numbered above the last look's highest number
  (an index range over the last second's jobs, by every process); every maintenance interval (60 s
  when that is 0) it counts them all again, which is when purged jobs leave the count.
- `since`: the jobs this process accepted after that look, and `pending`: the POSTs it let
  through and has not answered yet (a place each takes before its body is read, under a lock, so
  that its request threads cannot all pass the last free place at once).

A POST is refused once `counted + since + pending` reaches the cap. So the count is exact about
new jobs within a second, late about purged ones by at most one interval (it refuses early, never
late), and the other processes' jobs of the last second are the most it can miss: the service stays
within the cap plus one second of intake, and never passes LSS_WORKERS times the cap.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from app.errors import TooManyRequests

#: Seconds between two looks at the jobs accepted by every process.
LOOK_EVERY_S = 1.0


class LiveJobs:
    """This process's view of the live jobs of the whole service, and the cap on them."""

    def __init__(
        self,
        count: Callable[[int], tuple[int, int]],
        cap: int,
        recount_every: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        #: The engine's count: (live jobs numbered above N, the highest number issued).
        self._count = count
        self.cap = cap
        self._recount_every = recount_every
        self._clock = clock
        self._lock = threading.Lock()
        self.counted = 0
        self.since = 0
        self.pending = 0
        self._highest = 0
        self._recounted = -math.inf

    def look(self) -> None:
        """Count the jobs accepted since the last look (all of them, once an interval passed)."""
        with self._lock:
            seen = self.since
        now = self._clock()
        if now - self._recounted >= self._recount_every:
            live, highest = self._count(0)
            self._recounted = now
        else:
            added, highest = self._count(self._highest)
            live = self.counted + added
        with self._lock:
            # The jobs this process accepted during the count may be in it and in `since` too:
            # counted twice until the next look, which errs on the safe side.
            self.counted, self._highest = live, max(highest, self._highest)
            self.since -= seen

    def take(self) -> TooManyRequests | None:
        """Take a place for one more job (give it back with `answered`), or a 429 while the live
        jobs are at the cap (0: no cap)."""
        if not self.cap:
            return None
        with self._lock:
            if self.counted + self.since + self.pending < self.cap:
                self.pending += 1
                return None
        wait = self._recount_every - (self._clock() - self._recounted)
        return TooManyRequests(
            f"too many live jobs: the service keeps at most {self.cap} (LSS_MAX_LIVE_JOBS) until "
            "older ones expire",
            retry_after=max(1, math.ceil(min(wait, self._recount_every))),
        )

    def answered(self, accepted: bool) -> None:
        """A POST that took a place was answered: a job more if `accepted`, else none."""
        if self.cap:
            with self._lock:
                self.pending -= 1
                self.since += accepted
