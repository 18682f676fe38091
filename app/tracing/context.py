"""What a thread works for right now: a request, or a job and the request that submitted it.

The request layer binds a `Trace` to the request thread for as long as the app runs; a pool
thread (or a Celery worker's thread) binds one for each job it runs. Every log line a thread
writes meanwhile carries the trace's request id and job id, and a request's exit line its
duration. A thread-local attribute read: no lock, no allocation.
"""

from __future__ import annotations

import threading


class Trace:
    """A request (its id, and when it came in, `time.time()`), or a job (its id, and the id of
    the request that submitted it); `refusal` names why a request was refused, if it was, and
    `held` what became of a request held for `Prefer: wait`."""

    __slots__ = ("held", "job_id", "refusal", "request_id", "started")

    def __init__(
        self, request_id: str | None, started: float = 0.0, job_id: str | None = None
    ) -> None:
        self.request_id = request_id
        self.started = started
        self.job_id = job_id
        self.refusal: str | None = None
        self.held: str | None = None


class _Local(threading.local):
    trace: Trace | None = None


_local = _Local()


def current() -> Trace | None:
    """The trace bound to this thread, if any."""
    return _local.trace


def bind(trace: Trace | None) -> Trace | None:
    """Bind `trace` to this thread (None: unbind); the one it replaces, to bind back after."""
    previous = _local.trace
    _local.trace = trace
    return previous


def request_id() -> str | None:
    """The id of the request this thread serves (or whose job it runs), if any."""
    trace = _local.trace
    return None if trace is None else trace.request_id


def refused(reason: str | None) -> None:
    """Note why this thread's request is refused (a short code: `rate_limit`, `disk`...), for the
    count of refusals by reason; nothing when there is no reason or no request."""
    trace = _local.trace
    if reason is not None and trace is not None:
        trace.refusal = reason


def held(outcome: str) -> None:
    """Note what became of this thread's request, held for `Prefer: wait`: `done` (answered
    with its job's answer), `waited` (with its id, the job not done in time) or `busy` (not held:
    every place was taken)."""
    trace = _local.trace
    if trace is not None:
        trace.held = outcome
