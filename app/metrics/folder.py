"""The run's metrics folder: where prometheus_client's multiprocess mode keeps each server
process's values, so that `GET /metrics`, answered by any one process, sums them all.

`api_server.py`'s main process makes a new folder for each run, before it starts the server
processes (PROMETHEUS_MULTIPROC_DIR must be set before prometheus_client is imported), and
removes it when the run ends (or, if it was killed, the next run does): counts start at 0 with
each run, as a Prometheus counter may.
Counters and histograms of a server process that died stay in the sum (they counted real jobs);
its gauges of the moment (its pool threads) go, when it stops or when a scrape finds it gone.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
import tempfile

#: The variable prometheus_client reads, once, when it is first imported.
VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
#: A run folder's name: the prefix, the pid of the run's main process, a random part.
_PREFIX = "lss-metrics-"
_RUN_FOLDER = re.compile(re.escape(_PREFIX) + r"(\d+)-[^/]+")
#: The files of gauges whose values count only while their process lives.
_LIVE_FILE = re.compile(r"gauge_live[a-z]+_(\d+)\.db")


def make_run_folder() -> str:
    """A new, empty metrics folder for this run, named in the environment the server
    processes inherit. Folders of earlier runs whose main process is gone (killed before it
    could remove its own) are removed first."""
    for stale in glob.glob(os.path.join(tempfile.gettempdir(), f"{_PREFIX}*")):
        match = _RUN_FOLDER.fullmatch(os.path.basename(stale))
        if match and not _alive(int(match.group(1))):
            shutil.rmtree(stale, ignore_errors=True)
    folder = tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-")
    os.environ[VARIABLE] = folder
    return folder


def remove_run_folder(folder: str) -> None:
    """The run is over: its metrics folder goes."""
    shutil.rmtree(folder, ignore_errors=True)
    if os.environ.get(VARIABLE) == folder:
        del os.environ[VARIABLE]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def forget_dead(folder: str) -> list[int]:
    """Drop the live gauges of server processes that are gone (killed, or ended without a
    word); the pids dropped."""
    from prometheus_client import multiprocess  # only where the folder is in use

    dead = set()
    for path in glob.glob(os.path.join(folder, "gauge_live*.db")):
        match = _LIVE_FILE.fullmatch(os.path.basename(path))
        if match and not _alive(int(match.group(1))):
            dead.add(int(match.group(1)))
    for pid in dead:
        with contextlib.suppress(FileNotFoundError):
            multiprocess.mark_process_dead(pid, folder)
    return sorted(dead)
