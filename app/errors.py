"""Exceptions any layer may raise, and the one place that turns them into JSON error bodies."""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

log = logging.getLogger("lss")


class ApiError(Exception):
    """An error the client caused or must know of; carries its HTTP status and reason."""

    status_code = 400

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidInput(ApiError):
    """The request body or a parameter is not acceptable."""

    status_code = 400


class JobNotFound(ApiError):
    """The job id was never issued (or is not a job id at all)."""

    status_code = 404

    def __init__(self, reason: str = "Invalid job_id") -> None:
        super().__init__(reason)


class ShuttingDown(ApiError):
    """A graceful shutdown began: no new job is accepted."""

    status_code = 503

    def __init__(self, reason: str = "shutting down") -> None:
        super().__init__(reason)


def error_response(status_code: int, reason: str):
    """The JSON error envelope every failing request answers with."""
    response = jsonify({"status": "error", "reason": reason})
    response.status_code = status_code
    return response


def init_app(app: Flask) -> None:
    """Register the handlers that give every error the JSON envelope."""

    @app.errorhandler(ApiError)
    def _api_error(error: ApiError):
        return error_response(error.status_code, error.reason)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        allowed = ", ".join(sorted(getattr(error, "valid_methods", None) or []))
        reasons = {
            404: "no such endpoint; see the README for the API",
            405: f"method not allowed; allowed: {allowed}",
            413: f"request body too large (limit {app.config['MAX_CONTENT_LENGTH']} bytes)",
        }
        response = error_response(error.code or 500, reasons.get(error.code, error.description))
        if allowed:
            response.headers["Allow"] = allowed
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log.error("unhandled error", exc_info=error)
        return error_response(500, "internal error; see the server log")
