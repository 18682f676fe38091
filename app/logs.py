"""The service log: a rotating file, UTC timestamps, route entries and exits at INFO."""

from __future__ import annotations

import logging
import time
from logging.handlers import RotatingFileHandler
from pathlib import Path

from flask import Flask, g, request

log = logging.getLogger("lss")

#: Longest request body echoed into the log, in characters.
_BODY_LOG_LIMIT = 300


class _UTCFormatter(logging.Formatter):
    """ISO-8601 timestamps in UTC with milliseconds."""

    converter = time.gmtime

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%S", self.converter(record.created)) + (
            f".{int(record.msecs):03d}Z"
        )


class _RotatingFile(RotatingFileHandler):
    """Rotates once the file has grown past maxBytes, judged by the stream position alone.

    The standard check stats the file and formats each record a second time to measure it.
    """

    def shouldRollover(self, record: logging.LogRecord) -> bool:
        if self.stream is None:
            self.stream = self._open()
        return 0 < self.maxBytes <= self.stream.tell()


def configure(path: str | Path, max_bytes: int, backups: int) -> logging.Handler:
    """Send the "lss" logger to a rotating file at `path`, replacing an earlier file handler."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    handler = _RotatingFile(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
    handler.setFormatter(_UTCFormatter("%(asctime)s %(levelname)s [%(threadName)s] %(message)s"))
    for old in [h for h in log.handlers if isinstance(h, RotatingFileHandler)]:
        log.removeHandler(old)
        old.close()
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    # The format shows no file or line, so skip the stack walk that finds them on every record.
    logging._srcfile = None
    log.propagate = False
    return handler


def _body_for_log() -> str:
    """The request body as text, shortened; the body itself is never parsed here."""
    if request.content_length and request.content_length > _BODY_LOG_LIMIT:
        return f"<{request.content_length} bytes>"
    text = request.get_data(cache=True, as_text=True)
    return text if len(text) <= _BODY_LOG_LIMIT else text[:_BODY_LOG_LIMIT] + "..."


def init_app(app: Flask) -> None:
    """Log every route entry with its parameters and every exit with status and job id."""
    configure(app.config["LOG_FILE"], app.config["LOG_MAX_BYTES"], app.config["LOG_BACKUPS"])

    @app.before_request
    def _log_entry() -> None:
        if request.method == "POST":
            log.info("-> %s %s body=%s", request.method, request.path, _body_for_log())
        else:
            log.info("-> %s %s", request.method, request.path)

    @app.after_request
    def _log_exit(response):
        job_id = g.get("job_id")
        if job_id:
            log.info(
                "<- %s %s %d job_id=%s", request.method, request.path, response.status_code, job_id
            )
        else:
            log.info("<- %s %s %d", request.method, request.path, response.status_code)
        return response
