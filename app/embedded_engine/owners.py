"""Which process runs a job: owner tokens that survive pid reuse, and whether their owner lives.

A token is "<pid>:<process start time>:<engine number>". The start time (Linux: clock ticks after
boot, from /proc) tells a live process from a new one that got a dead one's pid; the engine number
tells apart the engines one process built (tests build several, one after the other).
"""

from __future__ import annotations

import itertools
import os
import threading

_counter = itertools.count(1)
_lock = threading.Lock()
#: Tokens of the engines of this process that are still running.
_live: set[str] = set()


def _start_time(pid: int) -> str:
    """When process `pid` started ("" where /proc cannot tell); FileNotFoundError if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
    except FileNotFoundError:
        if os.path.isdir("/proc/self"):
            raise
        os.kill(pid, 0)  # no /proc (not Linux): the pid alone; ProcessLookupError if gone
        return ""
    if fields[0] == b"Z":  # a zombie: ended, only waiting for its parent
        raise FileNotFoundError(pid)
    return fields[19].decode()  # field 22 of the file: start time


def new_token() -> str:
    """A token for a new engine of this process, live until `release`."""
    token = f"{os.getpid()}:{_start_time(os.getpid())}:{next(_counter)}"
    with _lock:
        _live.add(token)
    return token


def release(token: str) -> None:
    """The engine holding `token` stopped: its unfinished jobs may be adopted."""
    with _lock:
        _live.discard(token)


def alive(token: str) -> bool:
    """True while the engine that holds `token` may still run its jobs."""
    try:
        pid_text, started, _ = token.split(":")
        pid = int(pid_text)
    except ValueError:
        return False  # not a token this code made: nobody runs its jobs
    if pid == os.getpid():
        with _lock:
            return token in _live
    try:
        return _start_time(pid) == started
    except (FileNotFoundError, ProcessLookupError):
        return False
    except PermissionError:
        return True  # exists, owned by someone else
