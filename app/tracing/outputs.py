"""Where log lines go: a rotating file that several processes append to, or the standard output.

Both take a batch of lines at a time and write it in one piece, so that the lines of different
server processes never mix.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import sys
from pathlib import Path

#: LSS_LOG_FILE's name for the standard output.
STDOUT = "-"


class SharedFile:
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
        _write_all(self._fd, b"".join(chunk))

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


class Stdout:
    """The standard output, shared with the other server processes (LSS_LOG_FILE=-).

    Nothing rotates it (whatever reads it does). Each batch is one write; around it a lock on
    the stream itself (an open file description of its own, so that the other processes' locks
    exclude this one) keeps two processes' batches whole, even on a pipe, where the kernel keeps
    writes whole only up to PIPE_BUF bytes. Where the stream cannot be locked (a socket), batches
    are written in pieces of at most PIPE_BUF bytes, cut between lines.
    """

    path = "<stdout>"

    def __init__(self) -> None:
        self._fd = sys.stdout.fileno()
        try:
            self._lock: int | None = os.open(f"/proc/self/fd/{self._fd}", os.O_WRONLY)
        except OSError:
            self._lock = None

    def write_lines(self, lines: list[str]) -> None:
        data = "".join(lines).encode("utf-8", "replace")
        if self._lock is None:
            for piece in _pieces(data, select.PIPE_BUF):
                _write_all(self._fd, piece)
            return
        fcntl.flock(self._lock, fcntl.LOCK_EX)
        try:
            _write_all(self._fd, data)
        finally:
            fcntl.flock(self._lock, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None


def _pieces(data: bytes, size: int) -> list[bytes]:
    """`data` cut after line ends into pieces of at most `size` bytes (a longer line alone)."""
    pieces, start = [], 0
    while len(data) - start > size:
        end = data.rfind(b"\n", start, start + size) + 1 or data.find(b"\n", start) + 1
        end = end if end > start else len(data)
        pieces.append(data[start:end])
        start = end
    return [*pieces, data[start:]] if start < len(data) else pieces


def _write_all(fd: int, data: bytes) -> None:
    """Write all of `data` (a write may take only part of it)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
