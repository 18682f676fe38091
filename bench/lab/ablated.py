"""The service with parts of a job's record left out (`--without journal|file|log`), for `gap`.

Not modes of the product: a job without a journal row or result file is lost when its process
stops, and every request is logged, so nothing here is reachable from the service's settings.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

from bench.server import ROOT

#: Job numbers of a server process start at its pid times this, so processes never share one.
_PER_PROCESS = 10**9


def _without_journal() -> None:
    """Ids from a counter in the process, no row written (the journal is still made and read)."""
    from app.embedded_engine.journal import Journal

    numbers = itertools.count(1)
    lock = threading.Lock()

    def accept(
        self: Journal, endpoint: str, request: dict[str, Any], owner: str, now: float
    ) -> int:
        with lock:
            return os.getpid() * _PER_PROCESS + next(numbers)

    def finish_many(self: Journal, ends: list[Any]) -> None:
        return None

    Journal.accept = accept  # type: ignore[method-assign]
    Journal.finish_many = finish_many  # type: ignore[method-assign]


def _without_file() -> None:
    """No result file: the answer stays in memory, where get_results finds it."""
    from app.embedded_engine.store import ResultStore

    def write(self: ResultStore, number: int, body: bytes, shared: bool = False) -> None:
        return None

    ResultStore.write = write  # type: ignore[method-assign]


def _without_log() -> None:
    """No entry and exit lines of requests (other records are written as usual)."""
    from app.logs import LogWriter

    def nothing(self: LogWriter, *args: object) -> None:
        return None

    LogWriter.info = LogWriter.entry = LogWriter.exit = nothing  # type: ignore[method-assign]


#: Parts that can be left out -> what leaves each out.
PARTS: dict[str, Callable[[], None]] = {
    "journal": _without_journal,
    "file": _without_file,
    "log": _without_log,
}


def main(argv: list[str] | None = None) -> int:
    """Leave the parts out, then start the service as api_server.py does."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--without", action="append", choices=PARTS, default=[])
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    import api_server  # the service's launcher, patched below before it forks its workers

    for part in args.without:
        PARTS[part]()
    return api_server.main()


if __name__ == "__main__":
    sys.exit(main())
