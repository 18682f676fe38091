"""How a log line is written: as text (the default) or as one JSON object (LSS_LOG_FORMAT=json).

Both carry the same facts. Every line: the UTC time with milliseconds, the level, the process
and thread, the message; a line written while a request or a job is served, its request id and
job id (`context`); a request's entry and exit lines, its method and path; an exit line, the
status, the job id it concerned and the duration in ms. A line is always one line: in text,
control characters are escaped (a line feed becomes `\\x0a`), except the lines of a traceback,
which follow its first; in JSON, escaping does it (the traceback is a field).
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

import orjson

from app.tracing import context

#: The formats LSS_LOG_FORMAT names.
FORMATS = ("text", "json")
#: A request's entry and exit lines as the log writer queues them (its kind first):
#: (kind, time, thread, request id, method, path, body shown) and
#: (kind, time, thread, request id, method, path, status, job id, ms).
EntryItem = tuple[object, float, str, "str | None", str, str, "str | None"]
ExitItem = tuple[object, float, str, "str | None", str, str, int, "str | None", "float | None"]
#: What a text line may not hold as it is, and how it is written instead: C0 and C1 controls
#: (CR and LF among them), DEL, and the Unicode line and paragraph separators. A client's body,
#: path or header can then never begin a line of its own, or a forged one.
_ESCAPES = {code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F, *range(0x80, 0xA0))} | {
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}
#: The same characters in a JSON line, as JSON escapes: JSON itself escapes the C0 controls
#: only, and a reader splitting lines as Python does would split at the others.
_JSON_ESCAPES = {code: f"\\u{code:04x}" for code in _ESCAPES if code >= 0x20}


def one_line(text: str) -> str:
    """`text` with its control characters escaped (a line feed as `\\x0a`): one line, always."""
    return text if text.isprintable() else text.translate(_ESCAPES)


def entry_line(method: str, path: str, body: str | None = None) -> str:
    """The message of a request's arrival (POSTs show their body)."""
    return f"-> {method} {path}" if body is None else f"-> {method} {path} body={body}"


def exit_line(
    method: str, path: str, status: int, job_id: str | None = None, ms: float | None = None
) -> str:
    """The message of a request's answer: its status, the job id it concerned if any, and how
    long it took, in ms, if known."""
    line = f"<- {method} {path} {status}"
    if job_id is not None:
        line += f" job_id={job_id}"
    return line if ms is None else f"{line} {ms:.2f}ms"


class Clock:
    """ISO-8601 UTC timestamps with milliseconds; the text up to the second is made once a
    second, and a stamp once a millisecond (the lines of a batch often share one). Each is kept
    with its key in one tuple, so that threads formatting at once never mix two."""

    def __init__(self) -> None:
        self._second: tuple[int, str] = (-1, "")
        self._last: tuple[int, str] = (-1, "")

    def stamp(self, created: float) -> str:
        ms = int(created * 1000)
        last = self._last
        if last[0] == ms:
            return last[1]
        second, fraction = divmod(ms, 1000)
        known = self._second
        if known[0] != second:
            known = self._second = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
        stamp = f"{known[1]}.{fraction:03d}Z"
        self._last = (ms, stamp)
        return stamp


class TextLines:
    """`2025-06-01T12:00:00.125Z INFO [4242 lss-request-1 req=3f9a0c17b2e4-1a] <- POST
    /api/best5 200 job_id=job_id_7 1.84ms`: time, level, [process thread request job], message."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.clock = Clock()

    def _who(self, thread: str, request_id: str | None, job_id: str | None) -> str:
        who = f"[{self.pid} {thread}"
        if request_id is not None:
            who += f" req={request_id}"
        if job_id is not None:
            who += f" job={job_id}"
        return who + "]"

    # A line of every request is made twice per request, by the log writer's thread: `entry` and
    # `exit` make it in one piece, as `message` would.

    def entry(self, item: EntryItem) -> str:
        """A request's entry line, from the tuple LogWriter queued."""
        _, created, thread, request_id, method, path, body = item
        req = "" if request_id is None else f" req={request_id}"
        message = entry_line(method, path, body)
        return one_line(f"{self.clock.stamp(created)} INFO [{self.pid} {thread}{req}] {message}")

    def exit(self, item: ExitItem) -> str:
        """A request's exit line, from the tuple LogWriter queued."""
        _, created, thread, request_id, method, path, status, job_id, ms = item
        req = "" if request_id is None else f" req={request_id}"
        message = exit_line(method, path, status, job_id, ms)
        return one_line(f"{self.clock.stamp(created)} INFO [{self.pid} {thread}{req}] {message}")

    def message(
        self, created: float, level: str, thread: str, request_id: str | None,
        job_id: str | None, message: str, traceback: str | None = None,
    ) -> str:  # fmt: skip
        """Any other line; a traceback follows on lines of its own."""
        stamp = self.clock.stamp(created)
        line = f"{stamp} {level} {self._who(thread, request_id, job_id)} {one_line(message)}"
        return line if traceback is None else f"{line}\n{traceback}"


class JsonLines:
    """`{"time": ..., "level": ..., "message": ..., "pid": ..., "thread": ..., "request_id": ...,
    "method": ..., "path": ..., "status": 200, "duration_ms": 1.84, "job_id": ...}`: the fields
    a line has, one object a line."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.clock = Clock()

    def _dump(self, fields: dict[str, Any]) -> str:
        line = orjson.dumps(fields).decode()
        return line if line.isprintable() else line.translate(_JSON_ESCAPES)

    def _fields(
        self, created: float, level: str, message: str, thread: str, request_id: str | None
    ) -> dict[str, Any]:
        fields = {"time": self.clock.stamp(created), "level": level, "message": message,
                  "pid": self.pid, "thread": thread}  # fmt: skip
        if request_id is not None:
            fields["request_id"] = request_id
        return fields

    def entry(self, item: EntryItem) -> str:
        """A request's entry line, from the tuple LogWriter queued."""
        _, created, thread, request_id, method, path, body = item
        fields = self._fields(created, "INFO", entry_line(method, path, body), thread, request_id)
        fields["method"], fields["path"] = method, path
        return self._dump(fields)

    def exit(self, item: ExitItem) -> str:
        """A request's exit line, from the tuple LogWriter queued."""
        _, created, thread, request_id, method, path, status, job_id, ms = item
        message = exit_line(method, path, status, job_id, ms)
        fields = self._fields(created, "INFO", message, thread, request_id)
        fields["method"], fields["path"], fields["status"] = method, path, status
        if ms is not None:
            fields["duration_ms"] = round(ms, 3)
        if job_id is not None:
            fields["job_id"] = job_id
        return self._dump(fields)

    def message(
        self, created: float, level: str, thread: str, request_id: str | None,
        job_id: str | None, message: str, traceback: str | None = None,
    ) -> str:  # fmt: skip
        """Any other line; a traceback is its `traceback` field."""
        fields = self._fields(created, level, message, thread, request_id)
        if job_id is not None:
            fields["job_id"] = job_id
        if traceback is not None:
            fields["traceback"] = traceback
        return self._dump(fields)


def lines_for(log_format: str, pid: int) -> TextLines | JsonLines:
    """The line writer of LSS_LOG_FORMAT."""
    return JsonLines(pid) if log_format == "json" else TextLines(pid)


_FORMATTER = logging.Formatter()


def record_line(
    lines: TextLines | JsonLines, record: logging.LogRecord, request_id: str | None,
    job_id: str | None,
) -> str:  # fmt: skip
    """The line of a standard log record, with its traceback (or stack) if it has one."""
    if record.exc_info and not record.exc_text:
        record.exc_text = _FORMATTER.formatException(record.exc_info)
    stack = record.stack_info and _FORMATTER.formatStack(record.stack_info)
    traceback = "\n".join(t for t in (record.exc_text, stack) if t) or None
    thread = record.threadName or str(record.thread)
    message = record.getMessage()
    return lines.message(
        record.created, record.levelname, thread, request_id, job_id, message, traceback
    )


class TraceFormatter(logging.Formatter):
    """The lines of LSS_LOG_FORMAT for a handler that formats in the thread that logs (a Celery
    worker's): the trace is the one bound to that thread now."""

    def __init__(self, log_format: str) -> None:
        super().__init__()
        self.lines = lines_for(log_format, os.getpid())

    def format(self, record: logging.LogRecord) -> str:
        self.lines.pid = record.process or os.getpid()
        trace = context.current()
        if trace is None:
            return record_line(self.lines, record, None, None)
        return record_line(self.lines, record, trace.request_id, trace.job_id)
