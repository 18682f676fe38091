"""The GET answers' contract (`GET /api/answers/<endpoint>.json|.csv`), free of I/O: a Question's
URL, and what the server's answer to it means.

The URL carries the question's fields as query parameters: `question`, `state`, `category`,
`years` (`2015-2022`, or one year `2020`) and `stratification` (`Category:Stratum`), encoded
with `%20` for spaces so that any HTTP client (pandas' and R's `read.csv` included) reads it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from lss_client import tidy
from lss_client._httpx import httpx
from lss_client.errors import JobFailed, ServerError
from lss_client.job import Question
from lss_client.protocol import Running, failure, outcome

#: The longest a server holds a GET answer for its job (LSS_ANSWER_WAIT_S is at most 30 s):
#: a request's time limit is the policy's plus this.
LONGEST_HOLD = 30
FORMATS = ("json", "csv")


def parameters(asked: Question) -> dict[str, str]:
    """The query parameters of `asked`, in the order a person reads them."""
    found = {"question": asked.question}
    if asked.state is not None:
        found["state"] = asked.state
    if asked.category is not None:
        found["category"] = asked.category
    years = tidy.years_text(asked.years)
    if years is not None:
        found["years"] = years
    group = tidy.group_text(asked.stratification)
    if group is not None:
        found["stratification"] = group
    return found


def path(asked: Question, fmt: str = "json") -> str:
    """The path and query of `asked`'s GET answer as `fmt` (json or csv)."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be json or csv, not {fmt!r}")
    query = urlencode(parameters(asked), quote_via=quote)
    return f"/api/answers/{quote(asked.endpoint, safe='')}.{fmt}?{query}"


def url(base: str, asked: Question, fmt: str = "csv") -> str:
    """The whole URL of `asked`'s answer on the server at `base`: one GET answers it (CSV for
    `pandas.read_csv(url)` and R's `read.csv(url)`, by default)."""
    return base.rstrip("/") + path(asked, fmt)


def _job_id(location: str | None) -> str | None:
    """The job id at the end of a `/api/get_results/<id>` header."""
    if not location or "/api/get_results/" not in location:
        return None
    return location.rsplit("/", 1)[1] or None


def answered(response: httpx.Response, endpoint: str) -> tuple[str | None, Any]:
    """What a GET answer says: (job id, its data) when done; (job id, Running) when the job is
    to be polled; (None, Running) from a server that has no GET answers (an earlier version:
    submit the question instead). Raise what went wrong otherwise (JobFailed for a job that
    failed)."""
    status = response.status_code
    if status == 200:
        body = response.json()
        job_id = _job_id(response.headers.get("Content-Location"))
        if isinstance(body, dict) and body.get("status") == "done" and "data" in body and job_id:
            return job_id, body["data"]
        raise ServerError(f"unexpected answer to GET {endpoint}: {response.text[:120]}")
    if status == 202:
        job_id = _job_id(response.headers.get("Location"))
        if job_id is None:
            raise ServerError(f"a 202 for {endpoint} without the job's Location")
        return job_id, Running
    if status == 404 and "/api/answers/" not in response.text:
        return None, Running  # the server's generic 404: it predates GET answers
    job_id = _job_id(response.headers.get("Content-Location"))
    if status == 500 and job_id is not None:
        reason = response.json().get("reason", "job failed")
        raise JobFailed(f"{job_id} failed: {reason}", job_id=job_id)
    raise failure(response, endpoint=endpoint)


def csv_text(response: httpx.Response, job_id: str) -> str:
    """The CSV of `get_results/<job_id>?format=csv`; raise what went wrong (JobFailed for a job
    that failed, ServerError for one not done yet)."""
    if response.status_code == 200 and response.headers.get("Content-Type", "").startswith(
        "text/csv"
    ):
        return response.text
    outcome(response, job_id)  # raises for an error status or a failed job
    raise ServerError(f"{job_id} is not done yet: no CSV to give", job_id=job_id)
