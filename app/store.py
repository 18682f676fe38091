"""Result files: one `<job_id>.json` per finished job, written atomically."""

from __future__ import annotations

import os
from pathlib import Path

from app.job import JOB_ID_PATTERN, format_job_id

#: Prefix of a result body that records a failed job.
ERROR_PREFIX = b'{"status":"error"'
_TMP_SUFFIX = ".tmp"


def _write_all(fd: int, body: bytes) -> None:
    """Write every byte of `body`, looping over short writes."""
    view = memoryview(body)
    while view:
        view = view[os.write(fd, view) :]


class ResultStore:
    """The results folder: atomic writes, reads, and what an earlier run left behind."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        for leftover in self.folder.glob(f".*{_TMP_SUFFIX}"):
            leftover.unlink(missing_ok=True)  # a write cut short by a crash

    def path(self, number: int) -> Path:
        """Where job `number`'s result lives."""
        return self.folder / f"{format_job_id(number)}.json"

    def write(self, number: int, body: bytes) -> None:
        """Write the body under a temporary name, then rename it into place."""
        # One writer per job id, so the temporary name needs no randomness.
        tmp = self.folder / f".{format_job_id(number)}{_TMP_SUFFIX}"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                _write_all(fd, body)
            finally:
                os.close(fd)
            os.replace(tmp, self.path(number))
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def read(self, number: int) -> bytes | None:
        """The stored body of job `number`, or None when there is no such file."""
        try:
            return self.path(number).read_bytes()
        except FileNotFoundError:
            return None

    def scan(self) -> tuple[int, set[int]]:
        """The highest job number on disk and the numbers whose result records an error."""
        highest, failed = 0, set()
        for entry in os.scandir(self.folder):
            stem = entry.name.removesuffix(".json")
            match = JOB_ID_PATTERN.fullmatch(stem)
            if not match or stem == entry.name:
                continue
            number = int(match.group(1))
            highest = max(highest, number)
            with open(entry.path, "rb") as file:
                if file.read(len(ERROR_PREFIX)) == ERROR_PREFIX:
                    failed.add(number)
        return highest, failed
