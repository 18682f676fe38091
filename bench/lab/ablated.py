"""The service with parts of a job's record left out: what each part costs, measured under wrk.

Only the benchmark starts it (`python -m bench.lab.ablated --without journal`), next to
the real service, to turn "what the gap to the limit is made of" from estimates into measurements:

- `journal`: a job's id comes from a counter in its process and its end is not written; the
  journal is still created, read and checkpointed as usual, only a job's two writes are gone;
- `file`: no result file is written; the answer stays in memory, where get_results finds it;
- `log`: the job routes write no entry and exit lines (other log records, start-up's and
  failures', are written as usual).

Everything else (the gateway, validation, the pool, granian and its settings) is the service as
it is. These are not modes of the product: a job without a journal row or a result file is lost
when its process stops, and every request is logged, so nothing here is reachable from the
service's settings.
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

#: Job numbers of a worker process start at its pid times this, so processes never share one.
_PER_PROCESS = 10**9


def _without_journal() -> None:
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
    from app.embedded_engine.store import ResultStore

    def write(self: ResultStore, number: int, body: bytes, shared: bool = False) -> None:
        return None

    ResultStore.write = write  # type: ignore[method-assign]


def _without_log() -> None:
    from app.logs import LogWriter

    def info(self: LogWriter, message: str) -> None:
        return None

    LogWriter.info = info  # type: ignore[method-assign]


#: Parts that can be left out -> what leaves each out.
PARTS: dict[str, Callable[[], None]] = {
    "journal": _without_journal,
    "file": _without_file,
    "log": _without_log,
}


def main(argv: list[str] | None = None) -> int:
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
