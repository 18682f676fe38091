"""The HTTP layer's metrics: answers by route and status, refusals by reason, held requests.

The request layer (`app.tracing.layer`) counts each answer into the process's `Tally`, and
`app.metrics.folding` adds the counts to the counters below (`APPLY`).
"""

from __future__ import annotations

from prometheus_client import Counter

from app.metrics.folding import by_labels
from app.metrics.instruments import REGISTRY
from app.tracing.counts import ANSWER, HELD, REFUSAL

#: Every reason a request is refused for, with its status (made at 0, so that a rate over each
#: exists from the start): the request policy's (app.policy), the 408 of app.serving, and the
#: engines' 503s (app.errors).
REFUSALS = {
    "host": 421,  # a foreign Host on a loopback server
    "cross_site": 403,  # a state change from another site
    "admin_token": 401,  # graceful_shutdown without the admin token
    "admin_remote": 403,  # graceful_shutdown from another machine, no token set
    "rate_limit": 429,  # LSS_RATE_LIMIT
    "live_jobs": 429,  # LSS_MAX_LIVE_JOBS
    "disk": 503,  # LSS_MIN_FREE_DISK_MB
    "body_timeout": 408,  # LSS_BODY_TIMEOUT_S
    "shutting_down": 503,  # a graceful shutdown began
    "unavailable": 503,  # the journal or Redis cannot take the job (or is full)
}
#: What becomes of a POST with `Prefer: wait`: answered with its job's answer, with its id after
#: the wait, or with its id at once since every place to hold one was taken.
HELD_OUTCOMES = ("done", "waited", "busy")

ANSWERS = Counter(
    "lss_http_answers",
    "HTTP answers, by route (its template: /api/get_results/{job_id}) and status",
    ["route", "status"],
    registry=REGISTRY,
)
REFUSED = Counter(
    "lss_http_refusals",
    "Requests refused, by reason (host, cross_site, admin_token, admin_remote, rate_limit, "
    "live_jobs, disk, body_timeout, shutting_down, unavailable) and status",
    ["reason", "status"],
    registry=REGISTRY,
)
HELD_REQUESTS = Counter(
    "lss_http_held_requests",
    "POSTs with Prefer: wait, by outcome: done (answered with the job's answer), waited (with its "
    "id, not done in time), busy (not held: every place was taken)",
    ["outcome"],
    registry=REGISTRY,
)


def make_series() -> None:
    """Every refusal reason and held outcome at 0, so that a rate over each exists from the
    start."""
    for reason, status in REFUSALS.items():
        REFUSED.labels(reason, str(status))
    for outcome in HELD_OUTCOMES:
        HELD_REQUESTS.labels(outcome)


#: How the request layer's counts (app.tracing.counts) are added to the metrics (by
#: app.metrics.folding).
APPLY = {
    ANSWER: by_labels(lambda route, status: ANSWERS.labels(route, str(status)).inc),
    REFUSAL: by_labels(lambda reason, status: REFUSED.labels(reason, str(status)).inc),
    HELD: by_labels(lambda outcome: HELD_REQUESTS.labels(outcome).inc),
}
