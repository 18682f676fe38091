"""Waiting for the file system to settle: after a mass deletion, creating a file costs 5 to 20 times
its CPU for minutes (ext4 searches past the freed inodes), so `baseline` waits it out first."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

#: CPU per file created above which the file system is taken to be still busy (a quiet one: 20 to
#: 60 µs per file on the machines here).
SLOW_FILE_US = 100.0
#: Longest wait for it, in seconds: the six minutes a deleted inode may stay out of use, and more.
MAX_WAIT_S = 420.0
_PROBE_FILES = 300


def file_create_us(folder: Path) -> float:
    """CPU microseconds to create, write and close one small file (a probe of a few hundred in a
    new folder in `folder`). The files stay: deleting them would slow the next probe down, the
    very thing it looks for; they go with `folder` when the benchmark ends."""
    probe = Path(tempfile.mkdtemp(prefix="probe-", dir=folder))
    started = time.process_time()
    for number in range(_PROBE_FILES):
        fd = os.open(probe / f"{number}.json", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            os.write(fd, b"{}" * 100)
        finally:
            os.close(fd)
    return 1e6 * (time.process_time() - started) / _PROBE_FILES


def wait_quiet(
    folder: Path,
    seconds: float = 1.0,
    log: Callable[[str], None] = lambda _: None,
) -> float:
    """Write every dirty page out now, not during the next measurement, wait until creating a
    file in `folder` is fast again (at most MAX_WAIT_S), then `seconds` more for exiting
    servers; how long the file system was waited for."""
    os.sync()
    started = time.monotonic()
    cost = file_create_us(folder)
    while cost > SLOW_FILE_US and time.monotonic() - started < MAX_WAIT_S:
        log(f"creating a file costs {cost:.0f} µs of CPU (an earlier deletion?): waiting")
        time.sleep(10)
        cost = file_create_us(folder)
    waited = time.monotonic() - started
    if cost > SLOW_FILE_US:
        log(f"creating a file still costs {cost:.0f} µs after {waited:.0f} s: measuring anyway")
    time.sleep(seconds)
    return waited


def settle(folder: Path, notes: list[str], log: Callable[[str], None]) -> None:
    """wait_quiet before a section, with a note for the report if the file system was waited
    for (10 s or more)."""
    waited = wait_quiet(folder, log=log)
    if waited >= 10:
        notes.append(f"waited {waited:.0f} s for file creation to be fast again")
