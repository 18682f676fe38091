"""The wire contract, free of I/O: settings, URLs, back-off, and what each answer means.

`Client` and `AsyncClient` differ only in how they wait and send; everything they decide
(retry or not, which exception, is the job done) is decided here, once.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

from lss_client._httpx import httpx
from lss_client.errors import (
    BadRequest,
    JobExpired,
    JobFailed,
    JobNotFound,
    LssError,
    ServerError,
    ServerUnavailable,
    ServerUnreachable,
    ShuttingDown,
    TooManyRequests,
)
from lss_client.job import ENDPOINTS, QuestionInfo

#: The server a client talks to when neither the caller nor LSS_URL names one.
DEFAULT_URL = "http://127.0.0.1:5000"
#: The 503 reason that means "stop sending": every other 503 is worth a retry.
SHUTTING_DOWN = "shutting down"
#: The longest `Prefer: wait` a server honours (SPEC §14); a longer one is sent as this.
MAX_WAIT = 30
#: Transport failures worth another attempt: the server may be restarting or overloaded.
#: (A bad URL or an unsupported scheme fails at once.)
RETRYABLE = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


@dataclass(frozen=True)
class Policy:
    """How patient a client is; every duration in seconds."""

    #: Limit on one HTTP request (connect, send, wait for the answer).
    timeout: float = 10.0
    #: Extra attempts after a dropped or refused connection or a transient 503.
    retries: int = 4
    #: First wait before a retry; it doubles up to `retry_delay_max` (4 retries: 1.5 s in all).
    retry_delay: float = 0.1
    retry_delay_max: float = 2.0
    #: Longest wait before a retry that a 429's or 503's `Retry-After` may ask for (4 retries:
    #: 40 s in all at most).
    retry_after_max: float = 10.0
    #: First wait between two polls of a running job; it doubles up to `poll_delay_max`.
    #: The first poll is sent at once: the server itself lets it wait a few ms for the answer.
    poll_delay: float = 0.005
    poll_delay_max: float = 0.25
    #: How long to wait for one job to finish before raising JobTimeout (None: no limit).
    job_timeout: float | None = 300.0
    #: How long `ask` and `bulk` let the server hold their POST for the answer (SPEC §14,
    #: `Prefer: wait=N`, whole seconds, rounded up, at most MAX_WAIT); a job not done by then
    #: is polled as without it. 0 sends no header: every answer is polled for.
    wait: float = 5.0


class Running:
    """The poll's answer while a job is queued or executing (a marker, never instantiated)."""


def base_url(url: str | None) -> str:
    """The server's URL: `url`, else LSS_URL, else DEFAULT_URL; ValueError if it is not http(s)."""
    url = url or os.environ.get("LSS_URL") or DEFAULT_URL
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise ValueError(f"invalid server URL {url!r}: {exc}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(f"invalid server URL {url!r}: expected http://HOST[:PORT]")
    return url.rstrip("/")


def backoff(first: float, cap: float) -> Iterator[float]:
    """Waits that double from `first` up to `cap`, forever."""
    delay = first
    while True:
        yield delay
        delay = min(delay * 2, cap)


def submit_path(endpoint: str) -> str:
    """The path a Question of `endpoint` is POSTed to."""
    return f"/api/{endpoint}"


def held_wait(wait: float) -> int:
    """The whole seconds of `Prefer: wait` a POST asks for, from `Policy.wait` (0: none)."""
    return 0 if wait <= 0 else min(math.ceil(wait), MAX_WAIT)


def prefer(wait_s: int) -> dict[str, str]:
    """The headers that let the server hold a POST up to `wait_s` seconds (none for 0)."""
    return {"Prefer": f"wait={wait_s}"} if wait_s else {}


def result_path(job_id: str) -> str:
    """The path that polls `job_id`."""
    return f"/api/get_results/{quote(job_id, safe='')}"


def _body(response: httpx.Response) -> Any:
    """The parsed JSON body, or None when it is not JSON."""
    try:
        return response.json()
    except ValueError:
        return None


def _reason(response: httpx.Response) -> str:
    """The server's `reason`, or a description of an answer that has none."""
    body = _body(response)
    if isinstance(body, dict) and isinstance(body.get("reason"), str):
        return body["reason"]
    text = " ".join(response.text.split())[:120]
    return f"HTTP {response.status_code} {response.reason_phrase}" + (f": {text}" if text else "")


def is_transient(response: httpx.Response) -> bool:
    """True for an answer worth retrying: a 429, or a 503 other than `shutting down`."""
    status = response.status_code
    return status == 429 or (status == 503 and _reason(response) != SHUTTING_DOWN)


def retry_after(response: httpx.Response, cap: float) -> float | None:
    """The seconds a 429's or 503's `Retry-After` asks to wait (delta-seconds or an HTTP date),
    at most `cap`; None when it has none that can be read."""
    value = response.headers.get("Retry-After", "").strip()
    if value.isascii() and value.isdigit():
        return min(float(value[:9]), cap)
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return min(max(0.0, when - time.time()), cap)


def pause(last: httpx.Response | Exception | None, backoff: float, policy: Policy) -> float:
    """How long to wait before the next attempt: what the server's `Retry-After` asked (at most
    `policy.retry_after_max`), else the back-off's next step."""
    if isinstance(last, httpx.Response):
        asked = retry_after(last, policy.retry_after_max)
        if asked is not None:
            return asked
    return backoff


def failure(
    response: httpx.Response, job_id: str | None = None, endpoint: str | None = None
) -> LssError:
    """The exception for an answer that is not a success (`job_id` when polling a job)."""
    status, reason = response.status_code, _reason(response)
    if status == 503:
        cls = ShuttingDown if reason == SHUTTING_DOWN else ServerUnavailable
        return cls(reason, status_code=status, job_id=job_id)
    if status == 429:
        return TooManyRequests(reason, status_code=status, job_id=job_id)
    if job_id is not None and status == 404:
        return JobNotFound(f"{job_id}: {reason}", status_code=status, job_id=job_id)
    if job_id is not None and status == 410:
        return JobExpired(reason, status_code=status, job_id=job_id)
    if endpoint is not None and status in (404, 405):
        reason = f"no endpoint {endpoint!r} on the server; the endpoints: {', '.join(ENDPOINTS)}"
    if 400 <= status < 500:
        return BadRequest(reason, status_code=status, job_id=job_id)
    return ServerError(f"server error: {reason}", status_code=status, job_id=job_id)


def unreachable(url: str, exc: Exception, retries: int = 0) -> ServerUnreachable:
    """The exception for a server that could not be reached at all."""
    detail = str(exc) or type(exc).__name__
    tried = f" (after {retries} retries)" if retries else ""
    return ServerUnreachable(f"cannot reach the server at {url}{tried}: {detail}")


def give_up(url: str, last: httpx.Response | Exception | None, retries: int) -> LssError:
    """The exception once retries are spent on a 429, a transient 503 or a transport failure."""
    if not isinstance(last, httpx.Response):
        return unreachable(url, last or RuntimeError("no request was sent"), retries)
    if last.status_code == 429:
        return TooManyRequests(
            f"server at {url} still refusing after {retries} retries: {_reason(last)}",
            status_code=429,
        )
    return ServerUnavailable(
        f"server at {url} still unavailable after {retries} retries: {_reason(last)}",
        status_code=last.status_code,
    )


def submitted(response: httpx.Response, endpoint: str) -> str:
    """The job id in a submission's answer, or raise what went wrong."""
    body = _body(response) if response.status_code == 200 else None
    if isinstance(body, dict) and isinstance(body.get("job_id"), str):
        return body["job_id"]
    if response.status_code == 200:
        raise ServerError(f"unexpected answer to a submission: {_reason(response)}")
    raise failure(response, endpoint=endpoint)


def accepted(response: httpx.Response, endpoint: str) -> tuple[str, Any]:
    """A submission's job id and, when the server held it to the end (`Prefer: wait`), the
    job's data; else `Running`. A held job that failed raises JobFailed, as its poll would.

    A server that ignores the header answers the job id alone: that is polled for as always.
    """
    job_id = submitted(response, endpoint)
    body = _body(response)
    if body.get("status") in ("done", "error"):
        return job_id, outcome(response, job_id)
    return job_id, Running


def outcome(response: httpx.Response, job_id: str) -> Any:
    """A poll's outcome: the job's data, `Running`, or raise what went wrong."""
    if response.status_code != 200:
        raise failure(response, job_id=job_id)
    body = _body(response)
    status = body.get("status") if isinstance(body, dict) else None
    if status == "running":
        return Running
    if status == "done" and "data" in body:
        return body["data"]
    if status == "error":
        raise JobFailed(f"{job_id} failed: {_reason(response)}", job_id=job_id)
    raise ServerError(f"unexpected answer for {job_id}: {_reason(response)}", job_id=job_id)


def field(response: httpx.Response, key: str) -> Any:
    """The `key` field of a read endpoint's answer, or raise what went wrong."""
    body = _body(response) if response.status_code == 200 else None
    if isinstance(body, dict) and key in body:
        return body[key]
    if response.status_code == 200:
        raise ServerError(f"unexpected answer: {_reason(response)}")
    raise failure(response)


def questions(response: httpx.Response) -> dict[str, str]:
    """`GET /api/questions` as {question: "lowest" or "highest"}."""
    return {item["question"]: item["best_is"] for item in field(response, "questions")}


def catalog(response: httpx.Response) -> dict[str, QuestionInfo]:
    """`GET /api/questions` in full: each question's QuestionInfo, by its text, in its order."""
    return {
        item["question"]: QuestionInfo(
            item["question"],
            item["best_is"],
            tuple(item.get("years", ())),
            {entry["category"]: tuple(entry["strata"]) for entry in item.get("categories", ())},
        )
        for item in field(response, "questions")
    }


def jobs(response: httpx.Response) -> dict[str, str]:
    """`GET /api/jobs` as {job_id: status}, in id order."""
    return {job: status for item in field(response, "data") for job, status in item.items()}
