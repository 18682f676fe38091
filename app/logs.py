"""The service log: a rotating file (or stdout), one line per record, route entries and exits.

How a line looks, as text or as JSON (LSS_LOG_FORMAT), is `app.tracing.lines`; the request id
and job id it carries come from the thread's trace (`app.tracing.context`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import sys
import threading
import time
import traceback
from pathlib import Path

from flask import Flask, request

from app.tracing import context
from app.tracing.lines import entry_line, exit_line, lines_for, one_line, record_line
from app.tracing.outputs import STDOUT, SharedFile, Stdout

__all__ = ["LogWriter", "body_for_log", "configure", "entry_line", "exit_line", "one_line"]

log = logging.getLogger("lss")

#: Longest request body echoed into the log, in characters.
_BODY_LOG_LIMIT = 300
#: Most records the writer takes off the queue before it writes and flushes.
_BATCH = 1024
#: How long the writer lets records gather after the first of a batch, in seconds. Waking the
#: writer for every record made it fight the request threads for the GIL on every request.
_LINGER = 0.01
#: Queued after the last record: the writer closes the file and exits.
_STOP = object()
#: Seconds between two complaints on stderr about a log file that cannot be written.
COMPLAIN_EVERY_S = 60.0
#: The kinds of request line queued by `entry` and `exit` (the first item of their tuple).
_ENTRY, _EXIT = object(), object()


class _Enqueue(logging.Handler):
    """Hands records to the writer thread, each with the request and job ids of the thread that
    logged it; the queue is thread-safe, so no handler lock."""

    def __init__(self, records: queue.SimpleQueue[object]) -> None:
        super().__init__()
        self._records = records

    def handle(self, record: logging.LogRecord) -> bool:
        trace = context.current()
        if trace is None:
            self._records.put((record, None, None))
        else:
            self._records.put((record, trace.request_id, trace.job_id))
        return True

    def emit(self, record: logging.LogRecord) -> None:
        self.handle(record)


class LogWriter:
    """The one thread that formats and writes log records, so request threads never wait on I/O.

    Records are formatted here, after the fact: the service logs only strings and numbers, which
    cannot change in between. Besides standard records it takes request lines from `entry()` and
    `exit()`: the entry and exit of every request, queued as a tuple without building a LogRecord.

    It lets records gather for a few milliseconds, then writes them all at once: a busy server
    wakes it and makes one write call per batch instead of one per record.
    """

    def __init__(
        self, path: str | Path, max_bytes: int, backups: int, log_format: str = "text"
    ) -> None:
        if str(path) == STDOUT:
            self.file: SharedFile | Stdout = Stdout()
        else:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.file = SharedFile(path, max_bytes, backups)
        self._lines = lines_for(log_format, os.getpid())
        self._records: queue.SimpleQueue[object] = queue.SimpleQueue()
        self.handler = _Enqueue(self._records)
        #: "<path>: <reason>" while the log file cannot be written (None while it can).
        self.failure: str | None = None
        self._lost = 0
        self._complained = -COMPLAIN_EVERY_S
        self._thread = threading.Thread(target=self._run, name="lss-log-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            batch = [self._records.get()]
            time.sleep(_LINGER)  # let a busy server's records gather: one wake-up per batch
            with contextlib.suppress(queue.Empty):
                while len(batch) < _BATCH:
                    batch.append(self._records.get_nowait())
            lines = [line for item in batch if (line := self._line(item)) is not None]
            try:
                self.file.write_lines(lines)
            except OSError as error:  # a full disk must not end the writer: later batches may fit
                self._failed(error, len(lines))
            else:
                if self.failure is not None:
                    self._recovered()
            for item in batch:
                if isinstance(item, threading.Event):
                    item.set()
                elif item is _STOP:
                    self.file.close()
                    return

    def _failed(self, error: OSError, lost: int) -> None:
        """Note that a batch was lost: `failure` says why (for /api/health), and stderr hears it
        at most once every COMPLAIN_EVERY_S, however many batches fail."""
        self.failure = f"{self.file.path}: {error.strerror or error}"
        self._lost += lost
        now = time.monotonic()
        if now - self._complained >= COMPLAIN_EVERY_S:
            self._complained = now
            print(
                f"le-stats-sportif: cannot write the log {self.failure}; its lines are lost until "
                f"it can (said at most once a minute)",
                file=sys.stderr,
                flush=True,
            )

    def _recovered(self) -> None:
        """The log takes lines again: say in it how many were lost."""
        lost, self._lost, self.failure = self._lost, 0, None
        message = f"the log file takes lines again; {lost} line(s) were lost while it could not"
        line = self._lines.message(time.time(), "INFO", "lss-log-writer", None, None, message)
        with contextlib.suppress(OSError):
            self.file.write_lines([line + "\n"])

    def _line(self, item: object) -> str | None:
        """The log line of a queued item (None for the writer's own markers), on one line."""
        if not isinstance(item, tuple):
            return None
        try:
            kind = item[0]
            if kind is _EXIT:
                return self._lines.exit(item) + "\n"  # type: ignore[arg-type]
            if kind is _ENTRY:
                return self._lines.entry(item) + "\n"  # type: ignore[arg-type]
            if isinstance(kind, logging.LogRecord):
                return record_line(self._lines, *item) + "\n"
            created, thread, request_id, message = item
            return self._lines.message(created, "INFO", thread, request_id, None, message) + "\n"
        except Exception:
            traceback.print_exc(file=sys.stderr)
        return None

    def info(self, message: str) -> None:
        """Log `message` at INFO, as `log.info` would, at a fraction of its cost."""
        if log.isEnabledFor(logging.INFO):
            thread = threading.current_thread().name
            self._records.put((time.time(), thread, context.request_id(), message))

    def entry(self, method: str, path: str, body: str | None = None) -> None:
        """Log a request's entry line (a POST with its body, shortened: `body_for_log`)."""
        if log.isEnabledFor(logging.INFO):
            thread = threading.current_thread().name
            request_id = context.request_id()
            self._records.put((_ENTRY, time.time(), thread, request_id, method, path, body))

    def exit(self, method: str, path: str, status: int, job_id: str | None = None) -> None:
        """Log a request's exit line, with the ms since it came in (its trace's start)."""
        if log.isEnabledFor(logging.INFO):
            now = time.time()
            thread = threading.current_thread().name
            trace = context.current()
            if trace is None:
                request_id, ms = None, None
            else:
                request_id, ms = trace.request_id, (now - trace.started) * 1000
            self._records.put((_EXIT, now, thread, request_id, method, path, status, job_id, ms))

    def flush(self, timeout: float | None = 5) -> bool:
        """Wait until every record logged so far is written."""
        if not self._thread.is_alive():
            return True
        written = threading.Event()
        self._records.put(written)
        return written.wait(timeout)

    def stop(self, timeout: float | None = 5) -> None:
        """Write what is queued, close the file and end the thread (later records are dropped)."""
        if self._thread.is_alive():
            self._records.put(_STOP)
            self._thread.join(timeout)


def configure(
    path: str | Path, max_bytes: int, backups: int, log_format: str = "text"
) -> LogWriter:
    """Send the "lss" logger to a rotating file at `path` (stdout for "-"), replacing an earlier
    one, its lines as LSS_LOG_FORMAT says."""
    writer = LogWriter(path, max_bytes, backups, log_format)
    for old in [h for h in log.handlers if isinstance(h, _Enqueue)]:
        log.removeHandler(old)
    log.addHandler(writer.handler)
    log.setLevel(logging.INFO)
    # The format shows no file, line or process: skip the stack walk and the calls that find them.
    logging._srcfile = None
    logging.logProcesses = logging.logMultiprocessing = False
    log.propagate = False
    return writer


def body_for_log(body: bytes, length: int | None) -> str:
    """A request body (`length` bytes long) as log text: shortened, never parsed."""
    if length and length > _BODY_LOG_LIMIT:
        return f"<{length} bytes>"
    text = body.decode("utf-8", "replace")
    return text if len(text) <= _BODY_LOG_LIMIT else text[:_BODY_LOG_LIMIT] + "..."


def init_app(app: Flask) -> None:
    """Log every route entry with its parameters and every exit with status (and job id)."""
    settings = app.config
    writer = app.extensions["lss.log"] = configure(
        settings["LOG_FILE"], settings["LOG_MAX_BYTES"], settings["LOG_BACKUPS"],
        settings.get("LOG_FORMAT", "text"),
    )  # fmt: skip

    @app.before_request
    def _log_entry() -> None:
        body = None
        if request.method == "POST":
            length = request.content_length
            raw = b"" if length and length > _BODY_LOG_LIMIT else request.get_data(cache=True)
            body = body_for_log(raw, length)
        writer.entry(request.method, request.path, body)

    @app.after_request
    def _log_exit(response):
        writer.exit(request.method, request.path, response.status_code)
        return response
