"""Free disk space under the folders the engine writes (LSS_MIN_FREE_DISK_MB).

A full disk fails jobs half-way (a journal row without its answer, an answer without its row).
So the free space of each folder's file system is looked at every second (a `statvfs`, a few
microseconds), and while any is under the minimum a POST is refused `503` with `Retry-After` and
`/api/health` says which disk and folder: nothing is accepted that the disk may not hold.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from app.errors import Unavailable

MIB = 1024 * 1024


def mount_point(path: str) -> str:
    """The folder a file system is mounted on that holds `path` (the disk, for a person)."""
    path = os.path.realpath(path)
    try:
        device = os.stat(path).st_dev
        while path != os.path.dirname(path) and os.stat(os.path.dirname(path)).st_dev == device:
            path = os.path.dirname(path)
    except OSError:
        pass  # the folder itself names the disk well enough
    return path


class DiskSpace:
    """Whether the file systems of the engine's folders have the free space asked for."""

    def __init__(self, folders: Mapping[str, str], min_free_mb: int, retry_after: int) -> None:
        #: What each folder is for (a person's words) -> its path.
        self.folders = dict(folders)
        self.min_free = min_free_mb * MIB
        self.min_free_mb = min_free_mb
        self.retry_after = retry_after
        #: Why the disk is short, while it is (None when every folder has the space).
        self.short: str | None = None

    def look(self) -> None:
        """Look at each folder's free space now."""
        if not self.min_free:
            return
        short = None
        for what, folder in self.folders.items():
            try:
                stats = os.statvfs(folder)
            except OSError:
                continue  # gone or unreadable: the engine's health says so in its own words
            free = stats.f_bavail * stats.f_frsize
            if free < self.min_free:
                short = (
                    f"disk full: {free / MIB:.1f} MiB free on {mount_point(folder)}, the disk of "
                    f"the {what} {folder}; LSS_MIN_FREE_DISK_MB asks for {self.min_free_mb}"
                )
                break
        self.short = short

    def refusal(self) -> Unavailable | None:
        """A 503 while a disk is short, else None."""
        short = self.short
        if short is None:
            return None
        return Unavailable(f"{short}; no job is accepted", retry_after=self.retry_after)
