"""Result files: one `<job_id>.json` per finished job, written atomically."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path

from app.job import JOB_ID_PATTERN, JobStatus, format_job_id

#: Prefix of a result body that records a failed job.
ERROR_PREFIX = b'{"status":"error"'
_TMP_SUFFIX = ".tmp"
#: What opening an unnamed file (O_TMPFILE) fails with where the kernel or file system lacks it.
_NO_UNNAMED_FILES = (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL)
#: The id mark of the layout before the journal (the highest id possibly issued).
_MARK_NAME = ".last_job_id"
_PROBE_NAME = ".write-probe"
#: Read size for result files: most fit in one read.
_READ_SIZE = 1 << 16
_RESULT_NAME = re.compile(JOB_ID_PATTERN.pattern + r"\.json")


def _write_all(fd: int, body: bytes) -> None:
    """Write every byte of `body`, looping over short writes."""
    view = memoryview(body)
    while view:
        view = view[os.write(fd, view) :]


def _link_whole(folder_fd: int, name: str, body: bytes) -> None:
    """Write `body` to a new file with no name in the folder open as `folder_fd`, then give it
    `name`: it appears whole or not at all, with one change to the folder instead of a create
    and a rename, and a write cut short by a crash leaves nothing behind. FileExistsError if
    `name` is taken; OSError with an errno in _NO_UNNAMED_FILES where the file system cannot."""
    fd = os.open(".", os.O_WRONLY | os.O_TMPFILE, 0o644, dir_fd=folder_fd)
    try:
        _write_all(fd, body)
        # linkat with AT_SYMLINK_FOLLOW (a folder fd makes os.link use linkat) names the file.
        os.link(f"/proc/self/fd/{fd}", name, dst_dir_fd=folder_fd)
    finally:
        os.close(fd)


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
    """The results folder: one file per finished job, written atomically, read back, deleted.

    Which files belong to live jobs is the journal's business; the store never lists the folder,
    except once, to hand a results folder of the earlier layout (no journal yet) to a new journal.
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self._dir = str(self.folder)
        #: Results are written as unnamed files, then linked in, until the folder says it cannot.
        self._unnamed = hasattr(os, "O_TMPFILE") and os.path.isdir("/proc/self/fd")
        self._folder_fd = -1
        self._lock = threading.Lock()

    def prepare(self) -> None:
        """Create the folder if needed and prove it writable; OSError naming the problem if not."""
        self.folder.mkdir(parents=True, exist_ok=True)
        _write_atomically(self._dir, _PROBE_NAME, b"")
        os.unlink(f"{self._dir}/{_PROBE_NAME}")

    def writable(self) -> bool:
        """True if a result could be written now (cheap: no file is created)."""
        return os.access(self._dir, os.W_OK | os.X_OK)

    def path(self, number: int) -> str:
        """Where job `number`'s result lives."""
        return f"{self._dir}/{format_job_id(number)}.json"

    def write(self, number: int, body: bytes) -> None:
        """Store job `number`'s result body atomically, replacing an earlier one (a job run again
        after a crash)."""
        name = f"{format_job_id(number)}.json"
        if self._unnamed:
            folder_fd = self._open_folder()
            try:
                _link_whole(folder_fd, name, body)
                return
            except FileExistsError:
                pass  # only a rename replaces a file atomically
            except OSError as error:
                if os.fstat(folder_fd).st_nlink == 0:  # the folder open here was removed
                    self._forget_folder(folder_fd)
                elif error.errno in _NO_UNNAMED_FILES:
                    self._unnamed = False
                else:
                    raise
        _write_atomically(self._dir, name, body)

    def _open_folder(self) -> int:
        """The results folder, opened once (the first write of each thread may race to it)."""
        if self._folder_fd < 0:
            with self._lock:
                if self._folder_fd < 0:
                    self._folder_fd = os.open(self._dir, os.O_RDONLY | os.O_DIRECTORY)
        return self._folder_fd

    def _forget_folder(self, folder_fd: int) -> None:
        """Open the folder afresh at the next write. The old descriptor stays open: another
        thread may be writing through it, and a closed number could be reused by any file."""
        with self._lock:
            if self._folder_fd == folder_fd:
                self._folder_fd = -1

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

    def delete(self, number: int) -> None:
        """Remove job `number`'s result (and a write of it cut short), if there is one."""
        for path in (self.path(number), f"{self._dir}/.{format_job_id(number)}.json{_TMP_SUFFIX}"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)

    # -- the earlier layout: result files and an id mark, no journal ----------------------------

    def legacy(self) -> Iterator[tuple[int, JobStatus, float]]:
        """(number, status, time written) of every result file in the folder."""
        with os.scandir(self.folder) as entries:
            for entry in entries:
                match = _RESULT_NAME.fullmatch(entry.name)
                if match:
                    with open(entry.path, "rb") as file:
                        failed = file.read(len(ERROR_PREFIX)) == ERROR_PREFIX
                    status = JobStatus.ERROR if failed else JobStatus.DONE
                    yield int(match.group(1)), status, entry.stat().st_mtime

    def legacy_mark(self) -> int:
        """The highest job number the earlier layout recorded as possibly issued (0 when none)."""
        try:
            return int((self.folder / _MARK_NAME).read_text(encoding="ascii").strip() or 0)
        except (FileNotFoundError, ValueError):
            return 0

    def forget_legacy_mark(self) -> None:
        """The journal now keeps the ids: the earlier layout's mark is not needed any more."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.folder / _MARK_NAME)
