"""`GET /api/answers/<endpoint>.json` and `.csv`: a question in a URL, answered in one request.

Served straight from WSGI in front of the job gateway, as the job routes are. A request is
checked as its POST would be (`query`), then:

- `If-None-Match` with the answer's ETag (made without a job, `representation`): `304`, no job;
- else a job like any other, held up to LSS_ANSWER_WAIT_S for its answer the way `Prefer: wait`
  holds a POST (on a request thread, never a pool thread; with the POSTs' holds, at most
  LSS_SERVER_THREADS - 1 at once per server process: past that, or with a wait of 0, it is not
  held, and only an answer the engine has stored comes at once);
- done in time: `200` with the body get_results gives (or its tidy CSV, as a download), the ETag,
  `Cache-Control: public, max-age=3600` and `Content-Location` naming the job; the job failed:
  `500` with its reason; not done: `202` with `Location: /api/get_results/<id>` and
  `Retry-After`.

The bounds on new jobs (rate limit, disk, live jobs) are the POSTs', through the ticket the
request policy hands the request (`app.policy.admission.Ticket`), taken only once a job is
about to be made: a `304` costs none.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

import orjson
from werkzeug.http import HTTP_STATUS_CODES

from app import etag, export, prefer
from app.answers import query, representation
from app.engine.interface import DONE_PREFIX, RUNNING_BODY, Engine
from app.errors import INTERNAL_ERROR, ApiError, ShuttingDown, error_body, method_not_allowed
from app.logs import LogWriter, entry_line, exit_line
from app.policy.admission import TICKET
from app.task import TASKS, Task

log = logging.getLogger("lss")

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
Header = tuple[str, str]
Reply = tuple[int, list[Header], bytes, str | None]

PREFIX = "/api/answers/"
FORMATS = {"json": "application/json", "csv": export.CSV_TYPE}
#: Cache-Control of a 200 and a 304: an hour, for any cache (a new dataset is a new ETag).
CACHE = ("Cache-Control", "public, max-age=3600")
#: Seconds after which a 202's job is worth polling.
RETRY_AFTER_S = 1
_ALLOWED = "GET, HEAD, OPTIONS"
_JSON = ("Content-Type", "application/json")
#: Most characters of a query string the log shows.
_QUERY_LOG_LIMIT = 600
_STATUS = {code: f"{code} {phrase.upper()}" for code, phrase in HTTP_STATUS_CODES.items()}


class _NoSuchAnswer(ApiError):
    status_code = 404


class AnswerRoute:
    """WSGI middleware answering GET /api/answers/<endpoint>.<format> itself."""

    def __init__(
        self,
        next_app: WSGIApp,
        engine: Engine,
        writer: LogWriter,
        wait: float,
        held: prefer.HeldRequests,
    ) -> None:
        self._next = next_app
        self._engine = engine
        self._writer = writer
        self._wait = wait
        self._held = held

    def routes(self) -> list[tuple[str, str]]:
        """(method, path) of every route answered here and behind."""
        own = [("GET", f"{PREFIX}{name}.{fmt}") for name in TASKS for fmt in FORMATS]
        return [*own, *self._next.routes()]  # type: ignore[attr-defined]

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if not path.startswith(PREFIX):
            return self._next(environ, start_response)
        method = environ.get("REQUEST_METHOD", "GET")
        if not path.isascii():  # WSGI paths arrive as latin-1; log what the client sent
            path = path.encode("latin-1").decode("utf-8", "replace")
        asked = environ.get("QUERY_STRING", "")
        if not asked.isascii():  # unencoded UTF-8 bytes, which WSGI gives as latin-1 too
            asked = asked.encode("latin-1").decode("utf-8", "replace")
        shown = f"{path}?{asked[:_QUERY_LOG_LIMIT]}" if asked else path
        self._writer.info(entry_line(method, shown))
        if method in ("GET", "HEAD"):
            status, headers, body, job_id = self._answer(environ, path[len(PREFIX) :], asked)
        elif method == "OPTIONS":
            status, headers, body, job_id = 200, [("Allow", _ALLOWED)], b"", None
        else:
            body = error_body(method_not_allowed(_ALLOWED))
            status, headers, job_id = 405, [_JSON, ("Allow", _ALLOWED)], None
        if status != 304:
            headers.append(("Content-Length", str(len(body))))
        start_response(_STATUS[status], headers)
        self._writer.info(exit_line(method, path, status, job_id))
        return () if method == "HEAD" else (body,)

    def _answer(self, environ: dict[str, Any], name: str, asked: str) -> Reply:
        """The answer to one GET: 304, 200, 202, or the error (the job's id where there is one)."""
        try:
            task_type, fmt = _route(name)
            task = self._task(task_type, asked)
            tag = representation.etag(self._engine.dataset.sha256, task, fmt)
            held = environ.get("HTTP_IF_NONE_MATCH")
            if held and etag.matches(held, tag):  # a read: answered even while shutting down
                return 304, [("ETag", tag), CACHE], b"", None
            if self._engine.closed_here:
                raise ShuttingDown()
            ticket = environ.get(TICKET)
            refused = ticket.take() if ticket is not None else None
            if refused is not None:
                raise refused
            job_id, body = self._run(task)
            if ticket is not None:
                ticket.answered(True)
            return self._reply(task, fmt, tag, job_id, body)
        except ApiError as error:
            headers = [_JSON, etag.NO_STORE, *error.headers()]
            return error.status_code, headers, error_body(error.reason), None
        except Exception as error:
            log.error("unhandled error in GET %s%s", PREFIX, name, exc_info=error)
            return 500, [_JSON, etag.NO_STORE], error_body(INTERNAL_ERROR), None

    def _task(self, task_type: type[Task], asked: str) -> Task:
        """The task the query asks for. A refusal of it once a graceful shutdown began anywhere
        is the 503 a POST would get (the shared flag is read only then)."""
        try:
            return query.task(asked, task_type, self._engine.dataset)
        except ApiError as error:
            if error.status_code < 500 and self._engine.closed:
                raise ShuttingDown() from None
            raise

    def _run(self, task: Task) -> tuple[str, bytes]:
        """The job of `task`, held for its answer if a request thread may be held now."""
        wait = self._wait if self._wait > 0 and self._held.try_hold() else 0.0
        try:
            return self._engine.answer(task, wait)
        finally:
            if wait:
                self._held.release()

    def _reply(self, task: Task, fmt: str, tag: str, job_id: str, body: bytes) -> Reply:
        """The answer for a job that was accepted, whether done, failed or still running."""
        where = f"/api/get_results/{job_id}"
        if body == RUNNING_BODY:
            headers = [_JSON, etag.NO_STORE, ("Location", where)]
            headers.append(("Retry-After", str(RETRY_AFTER_S)))
            return 202, headers, b'{"job_id":"%s","status":"running"}' % job_id.encode(), job_id
        if not body.startswith(DONE_PREFIX):  # the job failed: the service's fault, not the URL's
            return 500, [_JSON, etag.NO_STORE, ("Content-Location", where)], body, job_id
        headers = [("Content-Type", FORMATS[fmt]), ("ETag", tag), CACHE]
        headers.append(("Content-Location", where))
        if fmt == "csv":
            data = orjson.loads(body)["data"]
            body = export.answer_csv(task.endpoint, task.payload(), data)
            headers.append(representation.disposition(task))
        return 200, headers, body, job_id


def _route(name: str) -> tuple[type[Task], str]:
    """The task class and format of `<endpoint>.<format>`; a 404 naming what exists."""
    endpoint, dot, fmt = name.rpartition(".")
    task_type = TASKS.get(endpoint)
    if not dot or task_type is None or fmt not in FORMATS:
        raise _NoSuchAnswer(
            f"no answer at {PREFIX}{name[:80]}; use {PREFIX}<endpoint>.json or .csv with an "
            f"endpoint of: {', '.join(TASKS)}"
        )
    return task_type, fmt
