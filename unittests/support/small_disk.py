"""A small disk for tests that need one full: a tmpfs mounted by the test (root only).

Skipped with the reason where the test cannot mount one (not root, or no permission); under CI,
which runs as root, a failure instead, so that those tests always run there.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

MIB = 1024 * 1024


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@contextlib.contextmanager
def small_disk(folder: Path, mib: int) -> Iterator[Path]:
    """A tmpfs of `mib` MiB mounted on `folder` for the block; unmounted afterwards."""
    if os.geteuid() != 0:
        _unavailable("mounting a small tmpfs to fill needs root (CI runs as root)")
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={mib}m", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode:
        _unavailable(f"cannot mount a tmpfs on {folder}: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        # Lazily: a process of the test may still hold a file there; it goes when they close.
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def free_bytes(folder: Path) -> int:
    stats = os.statvfs(folder)
    return stats.f_bavail * stats.f_frsize


def fill(folder: Path, leave: int = 0, name: str = "filler") -> Path:
    """Write a file into `folder` until `leave` bytes are free on its disk (or none are)."""
    path = folder / name
    block = b"\0" * (64 * 1024)
    with path.open("ab", buffering=0) as out:
        try:
            while (room := free_bytes(folder) - leave) > 0:
                out.write(block[: min(len(block), room)])
        except OSError:  # the disk is full: that was the point
            pass
    return path
