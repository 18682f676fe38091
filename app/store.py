"""Result files: one `<job_id>.json` per finished job, written atomically."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path

from app.job import JOB_ID_PATTERN, format_job_id

#: Prefix of a result body that records a failed job.
ERROR_PREFIX = b'{"status":"error"'
_TMP_SUFFIX = ".tmp"
_MARK_NAME = ".last_job_id"
#: Read size for result files: most fit in one read.
_READ_SIZE = 1 << 16
_RESULT_NAME = re.compile(JOB_ID_PATTERN.pattern + r"\.json")


def _write_all(fd: int, body: bytes) -> None:
    """Write every byte of `body`, looping over short writes."""
    view = memoryview(body)
    while view:
        view = view[os.write(fd, view) :]


def _write_atomically(folder: str, name: str, body: bytes) -> None:
    """Write `body` under a temporary name in `folder`, then rename it to `name`."""
    # Each name has a single writer, so the temporary name needs no randomness. Paths are plain
    # strings here: this runs once per job, and pathlib would double its cost.
    tmp = f"{folder}/.{name}{_TMP_SUFFIX}"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            _write_all(fd, body)
        finally:
            os.close(fd)
        os.replace(tmp, f"{folder}/{name}")
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


class ResultStore:
    """The results folder: atomic writes, reads, and what an earlier run left behind.

    Beside the results it keeps a mark: the highest job id that may have been issued, so that
    ids stay unique across restarts even when a run ended before writing its last results.
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._dir = str(self.folder)
        self._mark = self.folder / _MARK_NAME
        for leftover in self.folder.glob(f".*{_TMP_SUFFIX}"):
            leftover.unlink(missing_ok=True)  # a write cut short by a crash

    def path(self, number: int) -> str:
        """Where job `number`'s result lives."""
        return f"{self._dir}/{format_job_id(number)}.json"

    def write(self, number: int, body: bytes) -> None:
        """Store job `number`'s result body atomically."""
        _write_atomically(self._dir, f"{format_job_id(number)}.json", body)

    def read(self, number: int) -> bytes | None:
        """The stored body of job `number`, or None when there is no such file."""
        try:
            fd = os.open(self.path(number), os.O_RDONLY)
        except FileNotFoundError:
            return None
        try:  # plain reads: no buffering layer, no terminal check, no stat
            chunks = [os.read(fd, _READ_SIZE)]
            while len(chunks[-1]) == _READ_SIZE:
                chunks.append(os.read(fd, _READ_SIZE))
            return b"".join(chunks)
        finally:
            os.close(fd)

    def _entries(self) -> Iterator[tuple[int, os.DirEntry[str]]]:
        """(job number, directory entry) of every result file."""
        for entry in os.scandir(self.folder):
            match = _RESULT_NAME.fullmatch(entry.name)
            if match:
                yield int(match.group(1)), entry

    def numbers(self) -> set[int]:
        """The job numbers that have a result file."""
        return {number for number, _ in self._entries()}

    def scan(self) -> tuple[int, set[int]]:
        """The highest job id any earlier run may have issued, and the ids recorded as failed."""
        highest, failed = self.read_mark(), set()
        for number, entry in self._entries():
            highest = max(highest, number)
            with open(entry.path, "rb") as file:
                if file.read(len(ERROR_PREFIX)) == ERROR_PREFIX:
                    failed.add(number)
        return highest, failed

    def read_mark(self) -> int:
        """The highest job number recorded as possibly issued (0 when none)."""
        try:
            return int(self._mark.read_text(encoding="ascii").strip() or 0)
        except FileNotFoundError:
            return 0
        except ValueError as error:
            raise OSError(f"{self._mark}: not a job number ({error})") from None

    def write_mark(self, number: int) -> None:
        """Record that job numbers up to `number` may have been issued."""
        _write_atomically(self._dir, _MARK_NAME, f"{number}\n".encode("ascii"))
