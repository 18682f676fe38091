"""A bare Celery round trip, the floor under the Celery engine: a no-op task and its result.

`python -m bench.celery_bare URL N` runs N Celery workers on the broker URL with the engine's
settings and flags (app.celery_engine.settings, worker.WORKER_FLAGS), a result backend on the same
Redis added, and answers GET on LSS_PORT with 200 once they all started (so that a lineup starts,
samples and stops it like a server, the workers its children). `drive` is its client: threads
that send the no-op with `apply_async` and wait for its result (`AsyncResult.get`, which the
Redis backend answers by pub/sub: one message, no polling).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from celery import Celery

from app import config
from app.celery_engine.settings import make_celery
from app.celery_engine.worker import WORKER_FLAGS
from bench.load import LEAD_IN_S, _percentile
from bench.point import Slice

NOOP = "bench.noop"
READY_LINE = "bare worker ready"
TIMEOUT_S = 10.0


def noop() -> None:
    """The task: nothing to do."""


def app(url: str) -> Celery:
    """The engine's Celery app on `url` with a result backend there too, and the no-op task."""
    settings = config.load()
    celery = make_celery(url, settings["VISIBILITY_TIMEOUT_S"], settings["THREADS"])
    celery.conf.update(result_backend=url, task_ignore_result=False)
    celery.task(name=NOOP)(noop)
    return celery


@cache
def _client(url: str) -> Celery:
    return app(url)


def drive(url: str, clients: int, seconds: float) -> Slice:
    """`clients` threads sending no-ops back to back: LEAD_IN_S uncounted, then `seconds`."""
    celery = _client(url)
    noop = celery.tasks[NOOP]
    window = time.perf_counter() + LEAD_IN_S
    deadline = window + seconds
    records: list[list[tuple[float, float, bool]]] = [[] for _ in range(clients)]

    def loop(mine: list[tuple[float, float, bool]]) -> None:
        while (start := time.perf_counter()) < deadline:
            try:
                noop.apply_async().get(timeout=TIMEOUT_S)
                ok = True
            except Exception:  # a timeout or a lost connection: counted, not fatal
                ok = False
            mine.append((start, time.perf_counter(), ok))

    threads = [threading.Thread(target=loop, args=(r,), daemon=True) for r in records]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(deadline - time.perf_counter() + TIMEOUT_S + 5)
    every = [r for mine in records for r in mine]
    done = sorted((e - s) * 1000 for s, e, ok in every if ok and window <= e <= deadline)
    bad = sum(not ok for _, _, ok in every)
    p50, p99 = _percentile(done, 0.5), _percentile(done, 0.99)
    return Slice(len(done), seconds, bad, p50, p99, checked=len(every))


def _worker(url: str) -> None:
    """One Celery worker of the no-op, started as the engine's workers are."""
    from celery.signals import worker_ready

    # Celery sends what is printed to its log (stderr): the line goes to the pipe itself.
    worker_ready.connect(lambda **_: os.write(1, f"{READY_LINE}\n".encode()), weak=False)
    app(url).worker_main(["worker", "--loglevel=WARNING", *WORKER_FLAGS])


def _serve(url: str, count: int) -> None:
    """Start `count` workers; answer health on LSS_PORT once they all said they are ready."""
    argv = [sys.executable, "-m", "bench.celery_bare", "worker", url]
    workers = [subprocess.Popen(argv, stdout=subprocess.PIPE, text=True) for _ in range(count)]
    for worker in workers:
        for line in worker.stdout or ():
            if READY_LINE in line:
                break

    class Health(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ["LSS_PORT"])), Health)
    try:
        server.serve_forever()
    finally:
        for worker in workers:
            worker.terminate()


if __name__ == "__main__":
    if sys.argv[1] == "worker":
        _worker(sys.argv[2])
    else:
        _serve(sys.argv[1], int(sys.argv[2]))
