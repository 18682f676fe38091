"""The two job routes, served straight from WSGI: submit a question, fetch a job's result.

They carry nearly all of the traffic (every job is one POST and at least one get_results), so
they skip Flask's per-request machinery: no request or app context, no URL map, no hooks, no
Response object. A route is a dictionary lookup, the answer a ready-made body. Every other path
goes on to the Flask app, which serves the read-only endpoints and the JSON 404.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

import orjson
from werkzeug.http import HTTP_STATUS_CODES

from app import etag, export, prefer
from app.engine.interface import DONE_PREFIX, RUNNING_BODY, Engine
from app.errors import (
    INTERNAL_ERROR,
    ApiError,
    InvalidInput,
    ShuttingDown,
    error_body,
    method_not_allowed,
    too_large,
)
from app.logs import LogWriter, body_for_log
from app.task import TASKS, Task
from app.tracing import context

log = logging.getLogger("lss")

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

RESULTS_PREFIX = "/api/get_results/"
#: The environ key of a poll's final body found at hand (`JobGateway.at_hand`): (job id, body).
AT_HAND = "lss.result_at_hand"
_SUBMIT_METHODS = "OPTIONS, POST"
_RESULT_METHODS = "GET, HEAD, OPTIONS"
_JSON = "application/json"
_JSON_TYPE = ("Content-Type", _JSON)
Header = tuple[str, str]
#: "200 OK", "404 NOT FOUND"...: the status lines Flask sends, made once.
_STATUS = {code: f"{code} {phrase.upper()}" for code, phrase in HTTP_STATUS_CODES.items()}


class _TooLarge(ApiError):
    status_code = 413


class JobGateway:
    """WSGI middleware answering POST /api/<endpoint> and GET /api/get_results/<id> itself.

    It answers with the same bodies, status codes and log lines as the rest of the API: errors
    are `ApiError`s turned into the JSON envelope, anything unexpected a logged 500.
    """

    def __init__(
        self,
        flask_app: WSGIApp,
        engine: Engine,
        writer: LogWriter,
        max_body: int,
        result_wait: float,
        held: prefer.HeldRequests | None = None,
    ) -> None:
        self._next = flask_app
        self._engine = engine
        self._writer = writer
        self._max_body = max_body
        self._wait = result_wait
        self._tasks: dict[str, type[Task]] = {f"/api/{name}": task for name, task in TASKS.items()}
        self._etags = etag.ETags()
        #: Requests held at once, at most (shared with the GET answers of app.answers).
        self._held = held or prefer.HeldRequests(0)

    def routes(self) -> list[tuple[str, str]]:
        """(method, path) of every route answered here, the path in OpenAPI's syntax."""
        return [*(("POST", path) for path in self._tasks), ("GET", RESULTS_PREFIX + "{job_id}")]

    def at_hand(self, method: str, path: str, query: str) -> dict[str, Any] | None:
        """For a plain poll (no query) of a job whose final body this process holds in memory:
        the environ entry that hands the body to `_result`, so that the request is answered
        without waiting or reading anything (the serving layer runs it on its event loop)."""
        if query or method not in ("GET", "HEAD") or not path.startswith(RESULTS_PREFIX):
            return None
        job_id = path[len(RESULTS_PREFIX) :]
        body = self._engine.result_at_hand(job_id)
        return None if body is None else {AT_HAND: (job_id, body)}

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        task = self._tasks.get(path)
        if task is not None:
            return self._serve(environ, start_response, path, "POST", _SUBMIT_METHODS, task)
        if path.startswith(RESULTS_PREFIX):
            return self._serve(environ, start_response, path, "GET", _RESULT_METHODS, None)
        return self._next(environ, start_response)

    def _serve(
        self,
        environ: dict[str, Any],
        start_response: StartResponse,
        path: str,
        method: str,
        allowed: str,
        task: type[Task] | None,
    ) -> Iterable[bytes]:
        """Answer one request to a job route, logging its entry and exit."""
        requested = environ.get("REQUEST_METHOD", "GET")
        if not path.isascii():  # WSGI paths arrive as latin-1; log what the client sent
            path = path.encode("latin-1").decode("utf-8", "replace")
        headers = [("Content-Type", _JSON)]
        job_id = None
        if task is not None and requested == method:
            status, body, job_id, extra = self._submit(environ, path, task)
            headers.extend(extra)
            if job_id is not None and "HTTP_PREFER" in environ:
                body, applied = self._held_answer(environ["HTTP_PREFER"], job_id, body)
                if applied:
                    headers.append(("Preference-Applied", applied))
        else:
            self._writer.entry(requested, path)
            if task is None and requested in (method, "HEAD"):
                job_id = path[len(RESULTS_PREFIX) :]
                status, body, headers = self._result(job_id, environ)
            elif requested == "OPTIONS":
                status, body, headers = 200, b"", [("Allow", allowed)]
            else:
                status, body = 405, error_body(method_not_allowed(allowed))
                headers.append(("Allow", allowed))
        if status != 304:
            headers.append(("Content-Length", str(len(body))))
        start_response(_STATUS[status], headers)
        self._writer.exit(requested, path, status, job_id)
        return () if requested == "HEAD" else (body,)

    def _submit(
        self, environ: dict[str, Any], path: str, task_type: type[Task]
    ) -> tuple[int, bytes, str | None, list[Header]]:
        """Validate the body, accept it as a job and answer with the job id (and, for a refusal,
        the error's own headers)."""
        try:
            job_id = self._engine.submit(self._task(environ, path, task_type))
        except ApiError as error:
            context.refused(error.refusal)
            return error.status_code, error_body(error.reason), None, error.headers()
        except Exception as error:
            log.error("unhandled error in POST %s", path, exc_info=error)
            return 500, error_body(INTERNAL_ERROR), None, []
        return 200, b'{"job_id":"%s"}' % job_id.encode(), job_id, []

    def _held_answer(self, header: str, job_id: str, body: bytes) -> tuple[bytes, str | None]:
        """For `Prefer: wait=N`: the job's final body with its id once it finished within N s,
        and the preference applied; else the job id's body as it was, and None."""
        wait = prefer.wanted_wait(header)
        if not wait:
            return body, None
        if not self._held.try_hold():
            context.held("busy")
            return body, None
        try:
            result = self._engine.result(job_id, wait)
        except ApiError:  # expired meanwhile, or the store is away: the id is still the answer
            return body, None
        except Exception as error:
            log.error("unhandled error holding %s for Prefer: wait", job_id, exc_info=error)
            return body, None
        finally:
            self._held.release()
        if result == RUNNING_BODY:
            context.held("waited")
            return body, None
        context.held("done")
        return b'{"job_id":"%s",%s' % (job_id.encode(), result[1:]), f"wait={wait}"

    def _task(self, environ: dict[str, Any], path: str, task_type: type[Task]) -> Task:
        """The task a POST asks for, from its body.

        Once a graceful shutdown began every POST gets 503, malformed or not: this process's
        flag is checked before the body is parsed, and the shared one (another process may have
        begun the shutdown) before a refusal of the body is sent.
        """
        try:
            raw = self._read_body(environ, path)
            if self._engine.closed_here:
                raise ShuttingDown()
            try:
                payload = orjson.loads(raw)
            except orjson.JSONDecodeError:
                raise InvalidInput("request body must be a JSON object") from None
            return task_type.from_payload(payload, self._engine.dataset)
        except ApiError as error:
            if error.status_code < 500 and self._engine.closed:
                raise ShuttingDown() from None
            raise

    def _read_body(self, environ: dict[str, Any], path: str) -> bytes:
        """The request body, after logging the request's entry with it.

        A body sent without a length (chunked) is read as far as the server decoded it. Either
        way a body over the limit is not read and gets a 413.
        """
        length = _content_length(environ)
        stream = environ["wsgi.input"]
        if length > self._max_body:
            raw, shown = None, body_for_log(b"", length)
        elif length or not environ.get("wsgi.input_terminated"):
            raw = stream.read(length) if length else b""
            shown = body_for_log(raw, length)
        else:
            raw = stream.read(self._max_body + 1)
            if len(raw) > self._max_body:
                raw, shown = None, f"<over {self._max_body} bytes>"
            else:
                shown = body_for_log(raw, len(raw))
        self._writer.entry("POST", path, shown)
        if raw is None:
            raise _TooLarge(too_large(self._max_body))
        return raw

    def _result(self, job_id: str, environ: dict[str, Any]) -> tuple[int, bytes, list[Header]]:
        """The job's status or result body (CSV if asked and done) with its headers; a done
        result carries its ETag, and a request that already holds it gets 304."""
        try:
            query = environ.get("QUERY_STRING", "")
            as_csv = export.wants_csv(query) if query else False
            held = environ.get(AT_HAND)
            if held is not None and held[0] == job_id:
                body = held[1]
            else:
                body = self._engine.result(job_id, self._wait)
            if not body.startswith(DONE_PREFIX):
                return 200, body, [_JSON_TYPE, etag.NO_STORE]
            table = export.csv_body(body, *self._engine.job_request(job_id)) if as_csv else None
            kind = _JSON if table is None else export.CSV_TYPE
            body = body if table is None else table
            tag = self._etags.of(body)
            held = environ.get("HTTP_IF_NONE_MATCH")
            if held and etag.matches(held, tag):
                return 304, b"", [("ETag", tag), etag.IMMUTABLE]
            return 200, body, [("Content-Type", kind), ("ETag", tag), etag.IMMUTABLE]
        except ApiError as error:
            context.refused(error.refusal)
            headers = [_JSON_TYPE, etag.NO_STORE, *error.headers()]
            return error.status_code, error_body(error.reason), headers
        except Exception as error:
            log.error("unhandled error in get_results %s", job_id, exc_info=error)
            return 500, error_body(INTERNAL_ERROR), [_JSON_TYPE, etag.NO_STORE]


def _content_length(environ: dict[str, Any]) -> int:
    """The declared body length; 0 when absent or not a number (as werkzeug reads it)."""
    try:
        return max(0, int(environ.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0
