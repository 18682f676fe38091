"""The failures a client reports: one exception class each, all under `LssError`."""

from __future__ import annotations


class LssError(Exception):
    """Base of every failure the client reports; `reason` is one line meant for a person."""

    def __init__(
        self, reason: str, *, status_code: int | None = None, job_id: str | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status_code = status_code
        self.job_id = job_id


class BadRequest(LssError):
    """The server refused the request (400, 413, an unknown endpoint): `reason` is its own."""


class JobNotFound(LssError):
    """The server never issued this job id (404 `Invalid job_id`)."""


class JobExpired(LssError):
    """The job existed but its result was purged (410)."""


class JobFailed(LssError):
    """The job ran and ended in error: `reason` is the server's."""


class JobTimeout(LssError):
    """The job was still running when the client's patience (`Policy.job_timeout`) ran out."""


class ShuttingDown(LssError):
    """The server began a graceful shutdown and takes no new job (503 `shutting down`)."""


class ServerUnavailable(LssError):
    """The server kept answering 503 (other than shutting down) through every retry."""


class TooManyRequests(LssError):
    """The server kept answering 429 (its rate limit, or its cap on live jobs) through every
    retry, each after the wait its `Retry-After` asked for."""


class ServerUnreachable(LssError):
    """No answer: connection refused, dropped or timed out through every retry, or a bad URL."""


class ServerError(LssError):
    """The server failed (500) or answered something that is not this API's JSON."""


class NoMatch(LssError):
    """A name typed by a person matches none, or several, of the valid ones (`candidates`)."""

    def __init__(self, reason: str, candidates: list[str]) -> None:
        super().__init__(reason)
        self.candidates = candidates


#: Failures after which a bulk call sends nothing more: every later request would fail too.
FATAL: tuple[type[LssError], ...] = (
    ShuttingDown,
    ServerUnavailable,
    ServerUnreachable,
    TooManyRequests,
)
