"""Result files: one `<job_id>.json` per finished job, written atomically.

Many jobs have the same answer (an answer depends only on the question asked and the dataset).
Such a result is a hard link: each distinct answer is written once, whole, to its own file in
`.answers/` (named by a hash of its bytes), and each job's `<job_id>.json` is one more name for
it, made in a single step. Every job still has its own complete file, read-only since they share
their bytes; deleting one leaves the others. Where hard links are refused, every result is a file
of its own.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from app.engine.job import JOB_ID_PATTERN, JobStatus, format_job_id

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
#: The folder, inside the results folder, of the files of shared answers.
SHARED_FOLDER = ".answers"
#: Answers whose file name a store remembers; a dataset has far fewer distinct answers.
_SHARED_NAMES = 4096
#: What linking to an answer's file fails with where the file system has no hard links.
_NO_LINKS = (errno.EPERM, errno.EOPNOTSUPP, errno.ENOSYS, errno.EXDEV)
#: A temporary file of a shared answer older than this (seconds) was left by a crash.
_STALE_TMP_S = 60


def _write_all(fd: int, body: bytes) -> None:
    """Write every byte of `body`, looping over short writes."""
    view = memoryview(body)
    while view:
        view = view[os.write(fd, view) :]


def _removed(folder_fd: int) -> bool:
    """True if the folder open as `folder_fd` was removed (its name may now be a new folder)."""
    return folder_fd >= 0 and os.fstat(folder_fd).st_nlink == 0


def _read_at(name: str, folder_fd: int | None = None) -> bytes | None:
    """The bytes of file `name` (in the folder open as `folder_fd`), or None if there is none."""
    try:
        fd = os.open(name, os.O_RDONLY, dir_fd=folder_fd)
    except FileNotFoundError:
        return None
    try:  # plain reads: no buffering layer, no terminal check, no stat
        chunks = [os.read(fd, _READ_SIZE)]
        while len(chunks[-1]) == _READ_SIZE:
            chunks.append(os.read(fd, _READ_SIZE))
        return b"".join(chunks)
    finally:
        os.close(fd)


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


def _write_atomically(
    tmp: str, name: str, body: bytes, mode: int = 0o644, dir_fd: int | None = None
) -> None:
    """Write `body` to the file `tmp`, then rename it to `name` (both relative to `dir_fd`, if
    given). Paths are plain strings: this can run once per job, and pathlib doubles its cost."""
    try:
        with contextlib.suppress(FileNotFoundError):  # left by a crash (maybe read-only)
            os.unlink(tmp, dir_fd=dir_fd)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode, dir_fd=dir_fd)
        try:
            _write_all(fd, body)
        finally:
            os.close(fd)
        os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp, dir_fd=dir_fd)
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
        #: Shared answers are linked until the file system says it cannot.
        self._linking = True
        self._shared_fd = -1  # opened in the results folder's descriptor, forgotten with it
        #: Answer body -> the name of its file in SHARED_FOLDER (bodies are the engine's cached
        #: answers: the same object each time, so a lookup hashes nothing).
        self._shared_names: dict[bytes, str] = {}

    def prepare(self) -> None:
        """Create the folder if needed and prove it writable; OSError naming the problem if not."""
        self.folder.mkdir(parents=True, exist_ok=True)
        _write_atomically(self._tmp(_PROBE_NAME), f"{self._dir}/{_PROBE_NAME}", b"")
        os.unlink(f"{self._dir}/{_PROBE_NAME}")

    def writable(self) -> bool:
        """True if a result could be written now (cheap: no file is created)."""
        return os.access(self._dir, os.W_OK | os.X_OK)

    def path(self, number: int) -> str:
        """Where job `number`'s result lives."""
        return f"{self._dir}/{format_job_id(number)}.json"

    def write(self, number: int, body: bytes, shared: bool = False) -> None:
        """Store job `number`'s result body atomically, replacing an earlier one (a job run again
        after a crash). A `shared` body (an answer other jobs may have too) is linked to its
        answer's file where the file system allows."""
        name = f"{format_job_id(number)}.json"
        if shared and self._linking and self._link_shared(name, body):
            return
        if self._unnamed:
            folder_fd = self._open_folder()
            try:
                _link_whole(folder_fd, name, body)
                return
            except FileExistsError:
                pass  # only a rename replaces a file atomically
            except OSError as error:
                if _removed(folder_fd):
                    self._forget_folder(folder_fd)
                elif error.errno in _NO_UNNAMED_FILES:
                    self._unnamed = False
                else:
                    raise
        # Each job's file has a single writer, so its temporary name needs no randomness.
        _write_atomically(self._tmp(name), f"{self._dir}/{name}", body)

    def _link_shared(self, name: str, body: bytes) -> bool:
        """Give the answer's file (made if need be) the name `name`; False if the caller is to
        write the file itself: a file of that name exists (only a rename replaces it), the file
        system refuses hard links, the folder went away, or the shared folder cannot be used."""
        for _ in range(3):
            try:
                folder_fd, shared_fd = self._open_folder(), self._open_shared()
                source = self._shared_names.get(body) or self._publish(shared_fd, body)
                os.link(source, name, src_dir_fd=shared_fd, dst_dir_fd=folder_fd)
                return True
            except FileExistsError:
                return False
            except OSError as error:
                if error.errno in _NO_LINKS:
                    self._linking = False
                    return False
                if _removed(self._folder_fd):
                    self._forget_folder(self._folder_fd)  # open it afresh, or fail
                elif error.errno == errno.EMLINK:  # the file system's most links to one file
                    self._publish(shared_fd, body, fresh=True)
                elif error.errno == errno.ENOENT:  # swept, or removed by hand: made again
                    self._shared_names.pop(body, None)
                    if _removed(self._shared_fd):
                        self._shared_fd = -1
                else:
                    return False  # anything else: this job's file is written whole instead
        return False

    def _publish(self, shared_fd: int, body: bytes, fresh: bool = False) -> str:
        """The name of `body`'s file in the shared folder: the file there if it holds `body`,
        else (or if `fresh`) a new one written whole and renamed over it."""
        source = f"{hashlib.blake2b(body, digest_size=16).hexdigest()}.json"
        if fresh or _read_at(source, shared_fd) != body:
            # Any thread of any process may publish the same answer: a temporary name of its own.
            tmp = f".{source}.{os.getpid()}-{threading.get_ident()}{_TMP_SUFFIX}"
            _write_atomically(tmp, source, body, 0o444, shared_fd)
        if len(self._shared_names) >= _SHARED_NAMES:
            self._shared_names.clear()
        self._shared_names[body] = source
        return source

    def _open_shared(self) -> int:
        """The shared answers' folder, made and opened once (again if the results folder was)."""
        if self._shared_fd < 0:
            folder_fd = self._open_folder()
            with self._lock:
                if self._shared_fd < 0:
                    with contextlib.suppress(FileExistsError):
                        os.mkdir(SHARED_FOLDER, dir_fd=folder_fd)
                    self._shared_fd = os.open(
                        SHARED_FOLDER, os.O_RDONLY | os.O_DIRECTORY, dir_fd=folder_fd
                    )
                    self._shared_names.clear()
        return self._shared_fd

    def sweep(self) -> int:
        """Delete the shared answers' files no result links to any more (and temporary files
        left by a crash); how many. A job linking to one meanwhile makes it again."""
        swept, stale_before = 0, time.time() - _STALE_TMP_S
        with contextlib.suppress(FileNotFoundError), os.scandir(self.shared_folder) as entries:
            for entry in entries:
                with contextlib.suppress(FileNotFoundError):
                    info = entry.stat(follow_symlinks=False)
                    stale = entry.name.endswith(_TMP_SUFFIX) and info.st_mtime < stale_before
                    if stale or (entry.name.endswith(".json") and info.st_nlink == 1):
                        os.unlink(entry.path)
                        swept += 1
        return swept

    @property
    def shared_folder(self) -> str:
        return f"{self._dir}/{SHARED_FOLDER}"

    def _open_folder(self) -> int:
        """The results folder, opened once (the first write of each thread may race to it)."""
        if self._folder_fd < 0:
            with self._lock:
                if self._folder_fd < 0:
                    self._folder_fd = os.open(self._dir, os.O_RDONLY | os.O_DIRECTORY)
        return self._folder_fd

    def _forget_folder(self, folder_fd: int) -> None:
        """Open the folder (and the shared answers' folder in it) afresh at the next write. The
        old descriptors stay open: another thread may be writing through them, and a closed
        number could be reused by any file."""
        with self._lock:
            if self._folder_fd == folder_fd:
                self._folder_fd = self._shared_fd = -1

    def read(self, number: int) -> bytes | None:
        """The stored body of job `number`, or None when there is no such file."""
        return _read_at(self.path(number))

    def _tmp(self, name: str) -> str:
        """The temporary name of file `name` of the results folder while it is written."""
        return f"{self._dir}/.{name}{_TMP_SUFFIX}"

    def delete(self, number: int) -> None:
        """Remove job `number`'s result (and a write of it cut short), if there is one."""
        for path in (self.path(number), self._tmp(f"{format_job_id(number)}.json")):
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
