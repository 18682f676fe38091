"""The service log: a rotating file, UTC timestamps, route entries and exits at INFO."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import queue
import sys
import threading
import time
import traceback
from pathlib import Path

from flask import Flask, request

log = logging.getLogger("lss")

#: Longest request body echoed into the log, in characters.
_BODY_LOG_LIMIT = 300
#: A line: UTC time, level, [process id and thread], message. Several processes share the file.
_FORMAT = "%(asctime)s %(levelname)s [{pid} %(threadName)s] %(message)s"
#: Most records the writer takes off the queue before it writes and flushes.
_BATCH = 1024
#: How long the writer lets records gather after the first of a batch, in seconds. Waking the
#: writer for every record made it fight the request threads for the GIL on every request.
_LINGER = 0.01
#: Queued after the last record: the writer closes the file and exits.
_STOP = object()
#: Seconds between two complaints on stderr about a log file that cannot be written.
COMPLAIN_EVERY_S = 60.0
#: What a log line may not hold as it is, and how it is written instead: C0 and C1 controls
#: (CR and LF among them), DEL, and the Unicode line and paragraph separators. A client's body,
#: path or header can then never begin a line of its own, or a forged one.
_ESCAPES = {code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F, *range(0x80, 0xA0))} | {
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


def one_line(text: str) -> str:
    """`text` with its control characters escaped (a line feed as `\\x0a`): one line, always."""
    return text if text.isprintable() else text.translate(_ESCAPES)


class _Clock:
    """ISO-8601 UTC timestamps with milliseconds; the text up to the second is made once."""

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""

    def stamp(self, created: float) -> str:
        second = int(created)
        if second != self._second:
            self._second = second
            self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self._prefix}.{int((created - second) * 1000):03d}Z"


class _UTCFormatter(logging.Formatter):
    """Formats records with the writer's clock (UTC, milliseconds)."""

    def __init__(self, fmt: str, clock: _Clock) -> None:
        super().__init__(fmt)
        self._clock = clock

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return self._clock.stamp(record.created)


class _SharedFile:
    """A rotating log file that several processes append to.

    Each batch of lines goes out in one write to a file opened for appending, so the lines of
    different processes never mix. A process that finds the file full locks it, checks that no
    other process rotated it first, and rotates it; one that finds the file rotated under it opens
    the new one. A file exceeds `max_bytes` only if a single line does.
    """

    def __init__(self, path: str | Path, max_bytes: int, backups: int) -> None:
        self.path = str(path)
        self.max_bytes = max_bytes
        self.backups = backups
        self._fd = -1
        self._inode = -1
        self._open()

    def _open(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._inode = os.fstat(self._fd).st_ino

    def write_lines(self, lines: list[str]) -> None:
        """Append `lines` (each with its terminator), rotating first whenever the file is full."""
        with contextlib.suppress(FileNotFoundError):
            if os.stat(self.path).st_ino != self._inode:
                self._open()  # another process rotated it
        size = os.fstat(self._fd).st_size
        chunk: list[bytes] = []
        for line in lines:
            data = line.encode("utf-8", "replace")
            if size and size + len(data) > self.max_bytes:
                self._write(chunk)
                chunk = []
                size = self._rotate()
            chunk.append(data)
            size += len(data)
        self._write(chunk)

    def _write(self, chunk: list[bytes]) -> None:
        view = memoryview(b"".join(chunk))
        while view:
            view = view[os.write(self._fd, view) :]

    def _rotate(self) -> int:
        """Rotate the file unless another process just did; the size of the file to write now.

        The lock is taken on the open file itself: a process that waited for it while another
        rotated finds that the path names a new file, and only opens that one.
        """
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            with contextlib.suppress(FileNotFoundError):
                if os.stat(self.path).st_ino == self._inode:
                    for number in range(self.backups - 1, 0, -1):
                        with contextlib.suppress(FileNotFoundError):
                            os.replace(f"{self.path}.{number}", f"{self.path}.{number + 1}")
                    os.replace(self.path, f"{self.path}.1")
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._open()
        return os.fstat(self._fd).st_size

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


class _Enqueue(logging.Handler):
    """Hands records to the writer thread; the queue is thread-safe, so no handler lock."""

    def __init__(self, records: queue.SimpleQueue[object]) -> None:
        super().__init__()
        self._records = records

    def handle(self, record: logging.LogRecord) -> bool:
        self._records.put(record)
        return True

    def emit(self, record: logging.LogRecord) -> None:
        self._records.put(record)


class LogWriter:
    """The one thread that formats and writes log records, so request threads never wait on I/O.

    Records are formatted here, after the fact: the service logs only strings and numbers, which
    cannot change in between. Besides standard records it takes request lines from `info()`: the
    entry and exit of every request, queued without building a LogRecord, in the same format.

    It lets records gather for a few milliseconds, then writes them all at once: a busy server
    wakes it and makes one write call per batch instead of one per record.
    """

    def __init__(self, path: str | Path, max_bytes: int, backups: int) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.file = _SharedFile(path, max_bytes, backups)
        self._clock = _Clock()
        self._pid = os.getpid()
        self._formatter = _UTCFormatter(_FORMAT.format(pid=self._pid), self._clock)
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
        with contextlib.suppress(OSError):
            self.file.write_lines([self._line((time.time(), "lss-log-writer", message)) or ""])

    def _line(self, item: object) -> str | None:
        """The log line of a queued item (None for the writer's own markers), on one line."""
        if isinstance(item, tuple):
            created, thread, message = item
            message = one_line(message)
            return f"{self._clock.stamp(created)} INFO [{self._pid} {thread}] {message}\n"
        if isinstance(item, logging.LogRecord):
            try:
                if item.exc_info is None and item.stack_info is None:
                    return one_line(self._formatter.format(item)) + "\n"
                # A traceback keeps its lines; the message before it is made one line.
                item.msg, item.args = one_line(item.getMessage()), None
                return self._formatter.format(item) + "\n"
            except Exception:
                traceback.print_exc(file=sys.stderr)
        return None

    def info(self, message: str) -> None:
        """Log `message` at INFO, as `log.info` would, at a fraction of its cost."""
        if log.isEnabledFor(logging.INFO):
            self._records.put((time.time(), threading.current_thread().name, message))

    def flush(self, timeout: float | None = 5) -> bool:
        """Wait until every record logged so far is in the file."""
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


def configure(path: str | Path, max_bytes: int, backups: int) -> LogWriter:
    """Send the "lss" logger to a rotating file at `path`, replacing an earlier one."""
    writer = LogWriter(path, max_bytes, backups)
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


def entry_line(method: str, path: str, body: str | None = None) -> str:
    """The line a request's arrival leaves in the log (POSTs show their body)."""
    return f"-> {method} {path}" if body is None else f"-> {method} {path} body={body}"


def exit_line(method: str, path: str, status: int, job_id: str | None = None) -> str:
    """The line a request's answer leaves in the log (with the job id it concerned, if any)."""
    if job_id is None:
        return f"<- {method} {path} {status}"
    return f"<- {method} {path} {status} job_id={job_id}"


def init_app(app: Flask) -> None:
    """Log every route entry with its parameters and every exit with status (and job id)."""
    writer = app.extensions["lss.log"] = configure(
        app.config["LOG_FILE"], app.config["LOG_MAX_BYTES"], app.config["LOG_BACKUPS"]
    )

    @app.before_request
    def _log_entry() -> None:
        body = None
        if request.method == "POST":
            length = request.content_length
            raw = b"" if length and length > _BODY_LOG_LIMIT else request.get_data(cache=True)
            body = body_for_log(raw, length)
        writer.info(entry_line(request.method, request.path, body))

    @app.after_request
    def _log_exit(response):
        writer.info(exit_line(request.method, request.path, response.status_code))
        return response
