"""The request policy as one WSGI layer in front of the job gateway and Flask.

For each request, in this order: a foreign `Host` on a loopback server is `421`; a request that
changes state (any POST, and graceful_shutdown whatever its method) from another site is `403`;
graceful_shutdown without the admin token (or, without a token, from another machine) is `401`
or `403`; a job past the rate limit, the free disk or the live jobs is `429` or `503`. Preflights
of the listed CORS origins are answered here. Every answer, refused or not, leaves with
`X-Content-Type-Options: nosniff` (and the CORS headers of a listed origin).

Everything is decided from settings read once: a request without browser headers (curl, the
client, the course checker) costs a lookup of its `Host`, one of its method and path, and a list
of headers one longer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from werkzeug.http import HTTP_STATUS_CODES

from app.errors import ApiError, MisdirectedRequest, error_body
from app.logs import LogWriter, entry_line, exit_line
from app.policy.admin import SHUTDOWN_PATH, AdminGuard
from app.policy.admission import Admission
from app.policy.hosts import AllowedHosts, host_check
from app.policy.origins import VARY, Origins
from app.task import TASKS

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

NOSNIFF = ("X-Content-Type-Options", "nosniff")
_STATUS = {code: f"{code} {phrase.upper()}" for code, phrase in HTTP_STATUS_CODES.items()}
_JSON = ("Content-Type", "application/json")


class RequestPolicy:
    """WSGI middleware: refuses what the policy refuses, passes the rest on to `app`."""

    def __init__(
        self,
        app: WSGIApp,
        writer: LogWriter,
        hosts: AllowedHosts | None,
        origins: Origins,
        admin: AdminGuard,
        admission: Admission,
    ) -> None:
        self._next = app
        self._writer = writer
        self._hosts = hosts
        self._origins = origins
        self._cors = bool(origins.listed)
        self._admin = admin
        self.admission = admission
        self._job_paths = frozenset(f"/api/{name}" for name in TASKS)
        self._nosniff = [NOSNIFF]

    def routes(self) -> list[tuple[str, str]]:
        """The routes served in front of Flask: the gateway's (the policy adds none)."""
        return self._next.routes()  # type: ignore[attr-defined]

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        host = environ.get("HTTP_HOST") or None  # granian gives "" for a request without one
        if host is not None and self._hosts is not None and not self._hosts.allows(host):
            shown = host[:80]
            refused = MisdirectedRequest(f"this server does not answer for the host {shown!r}")
            return self._refuse(environ, start_response, refused)
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "")
        if method == "POST" or path == SHUTDOWN_PATH:
            refused = self._state_change(environ, host, method, path)
            if refused is not None:
                return self._refuse(environ, start_response, refused)
            if method == "POST" and path in self._job_paths:
                return self._submit(environ, start_response)
        elif method == "OPTIONS" and self._cors:
            allowed = self._origins.preflight(
                environ.get("HTTP_ORIGIN"), environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD")
            )
            if allowed is not None:
                return self._answer(environ, start_response, 204, b"", allowed)
        if self._cors:
            return self._next(environ, self._with_cors(environ, start_response))

        def respond(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, [*headers, NOSNIFF], exc_info)

        return self._next(environ, respond)

    def _state_change(
        self, environ: dict[str, Any], host: str | None, method: str, path: str
    ) -> ApiError | None:
        """Why a request that changes state is refused, or None."""
        site = environ.get("HTTP_SEC_FETCH_SITE")
        origin = environ.get("HTTP_ORIGIN")
        if site is not None or origin is not None:
            refused = self._origins.refusal(site, origin, host)
            if refused is not None:
                return refused
        if path == SHUTDOWN_PATH:
            return self._admin.refusal(
                environ.get("HTTP_AUTHORIZATION"), environ.get("REMOTE_ADDR")
            )
        if method == "POST" and path in self._job_paths:
            return self.admission.refusal(environ.get("REMOTE_ADDR"))
        return None

    def _submit(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """A job's POST that the admission let through: its 200 is a job accepted, anything else
        (or an exception) gives its place among the live jobs back."""
        extra = [NOSNIFF, *self._cors_headers(environ)] if self._cors else self._nosniff
        answered = self.admission.answered
        told = False

        def respond(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            nonlocal told
            if not told:
                told = True
                answered(status.startswith("200"))
            return start_response(status, [*headers, *extra], exc_info)

        try:
            return self._next(environ, respond)
        finally:
            if not told:
                answered(False)

    def _with_cors(self, environ: dict[str, Any], start_response: StartResponse) -> StartResponse:
        extra = [NOSNIFF, *self._cors_headers(environ)]

        def respond(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, [*headers, *extra], exc_info)

        return respond

    def _cors_headers(self, environ: dict[str, Any]) -> list[tuple[str, str]]:
        """`Vary: Origin` on every answer once origins are listed, and a listed origin's own."""
        if not self._cors:
            return []
        origin = environ.get("HTTP_ORIGIN")
        return [VARY, *(self._origins.answer_headers(origin) if origin else ())]

    def _refuse(
        self, environ: dict[str, Any], start_response: StartResponse, error: ApiError
    ) -> Iterable[bytes]:
        headers = [_JSON, *error.headers(), *self._cors_headers(environ)]
        return self._answer(
            environ, start_response, error.status_code, error_body(error.reason), headers
        )

    def _answer(
        self,
        environ: dict[str, Any],
        start_response: StartResponse,
        status: int,
        body: bytes,
        headers: list[tuple[str, str]],
    ) -> Iterable[bytes]:
        """Answer here, leaving the entry and exit lines a route would (the body is not read)."""
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "")
        if not path.isascii():  # WSGI paths arrive as latin-1; log what the client sent
            path = path.encode("latin-1").decode("utf-8", "replace")
        self._writer.info(entry_line(method, path))
        start_response(_STATUS[status], [*headers, ("Content-Length", str(len(body))), NOSNIFF])
        self._writer.info(exit_line(method, path, status))
        return () if method == "HEAD" else (body,)


def init_app(app: Flask) -> None:
    """Put the policy in front of everything the app serves (call it last), and start the
    admission's thread; `app.extensions["lss.admission"]` is for /api/health and shutdown."""
    settings = app.config
    admission = app.extensions["lss.admission"] = Admission(app.extensions["lss.engine"], settings)
    admission.start()
    app.wsgi_app = RequestPolicy(  # type: ignore[method-assign]
        app.wsgi_app,
        app.extensions["lss.log"],
        host_check(settings["HOST"], settings["ALLOWED_HOSTS"]),
        Origins(settings["CORS_ORIGINS"]),
        AdminGuard(settings["ADMIN_TOKEN"]),
        admission,
    )
