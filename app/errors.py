"""Exceptions any layer may raise, and the one place that turns them into JSON error bodies."""

from __future__ import annotations

import logging

import orjson
from flask import Flask, Response
from werkzeug.exceptions import HTTPException

log = logging.getLogger("lss")


class ApiError(Exception):
    """An error the client caused or must know of; carries its HTTP status and reason."""

    status_code = 400
    #: Seconds after which the client may try again (the `Retry-After` header), if it may.
    retry_after: int | None = None

    def __init__(self, reason: str, retry_after: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        if retry_after is not None:
            self.retry_after = retry_after

    def headers(self) -> list[tuple[str, str]]:
        """The headers an answer of this error carries beside its JSON body."""
        return [] if self.retry_after is None else [("Retry-After", str(self.retry_after))]


class InvalidInput(ApiError):
    """The request body or a parameter is not acceptable."""

    status_code = 400


class JobNotFound(ApiError):
    """The job id was never issued (or is not a job id at all)."""

    status_code = 404

    def __init__(self, reason: str = "Invalid job_id") -> None:
        super().__init__(reason)


class JobExpired(ApiError):
    """The job finished long enough ago that its answer was purged (SPEC §8)."""

    status_code = 410

    def __init__(self, job_id: str) -> None:
        super().__init__(f"job {job_id} expired")


class Unavailable(ApiError):
    """The service cannot answer right now (its job store is unreachable); try again later."""

    status_code = 503


class Unauthorized(ApiError):
    """A request that needs a credential came without the right one (`WWW-Authenticate` said)."""

    status_code = 401

    def headers(self) -> list[tuple[str, str]]:
        return [("WWW-Authenticate", 'Bearer realm="lss"'), *super().headers()]


class Forbidden(ApiError):
    """A request the service refuses whoever sends it this way (another site, another machine)."""

    status_code = 403


class MisdirectedRequest(ApiError):
    """The request names a host this server does not answer for (DNS rebinding)."""

    status_code = 421


class TooManyRequests(ApiError):
    """Too many requests from one address, or too many live jobs: try again after a while."""

    status_code = 429


class ShuttingDown(ApiError):
    """A graceful shutdown began: no new job is accepted."""

    status_code = 503

    def __init__(self, reason: str = "shutting down") -> None:
        super().__init__(reason)


#: The reason of a 500: the details go to the log, not to the client.
INTERNAL_ERROR = "internal error; see the server log"


def error_body(reason: str) -> bytes:
    """The JSON error envelope every failing request answers with."""
    return orjson.dumps({"status": "error", "reason": reason})


def method_not_allowed(allowed: str) -> str:
    """The reason of a 405, naming the methods the path takes."""
    return f"method not allowed; allowed: {allowed}"


def too_large(limit: int) -> str:
    """The reason of a 413."""
    return f"request body too large (limit {limit} bytes)"


def error_response(status_code: int, reason: str) -> Response:
    """`error_body` as a Flask response."""
    return Response(error_body(reason), status_code, mimetype="application/json")


def init_app(app: Flask) -> None:
    """Register the handlers that give every error the JSON envelope."""

    @app.errorhandler(ApiError)
    def _api_error(error: ApiError):
        response = error_response(error.status_code, error.reason)
        response.headers.extend(error.headers())
        return response

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        allowed = ", ".join(sorted(getattr(error, "valid_methods", None) or []))
        reasons = {
            404: "no such endpoint; see the README for the API",
            405: method_not_allowed(allowed),
            413: too_large(app.config["MAX_CONTENT_LENGTH"]),
        }
        response = error_response(error.code or 500, reasons.get(error.code, error.description))
        if allowed:
            response.headers["Allow"] = allowed
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log.error("unhandled error", exc_info=error)
        return error_response(500, INTERNAL_ERROR)
