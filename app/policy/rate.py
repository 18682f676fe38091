"""The rate limit on each client address (LSS_RATE_LIMIT), through the `limits` library.

Off by default. When set (`N/second`, `N/minute` or `N/hour`), a client address may submit at
most N jobs in any such moving window (limits' moving-window strategy, exact, in memory);
the next gets `429` with `Retry-After`, the seconds until the oldest of its window leaves it.
Each server process counts on its own, so a client whose connections reach several processes
may submit between N and LSS_WORKERS times N. The address is the TCP peer's: behind a reverse proxy
every client shares the proxy's, so limit there instead.
"""

from __future__ import annotations

import math
import time

from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from app.errors import TooManyRequests


class RateLimit:
    """The jobs each client address may submit per period, counted in this process."""

    def __init__(self, spec: str) -> None:
        self.spec = spec
        self._item = parse(spec)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def refusal(self, address: str | None) -> TooManyRequests | None:
        """Count one request from `address`; a 429 once it is over the limit, else None."""
        key = address or "-"
        if self._limiter.hit(self._item, key):
            return None
        reset = self._limiter.get_window_stats(self._item, key).reset_time
        return TooManyRequests(
            f"rate limit: at most {self.spec} from one client address (LSS_RATE_LIMIT)",
            retry_after=max(1, math.ceil(reset - time.time())),
        )
