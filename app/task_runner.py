"""The job pool: a fixed set of worker threads fed by a blocking, thread-safe queue."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

log = logging.getLogger("lss")

#: Put once per worker after the last job: wakes a blocked worker so it can exit.
_STOP = object()


class PoolClosed(RuntimeError):
    """submit() was called after shutdown() began."""


class ThreadPool:
    """Runs submitted callables on `num_threads` long-lived threads, in submission order.

    Workers block on the queue (no polling). shutdown() sets the shutdown event, refuses new
    work, lets the workers drain everything already queued, and (optionally) joins them.
    """

    def __init__(self, num_threads: int, name: str = "lss-worker") -> None:
        if num_threads < 1:
            raise ValueError(f"a pool needs at least one thread, got {num_threads}")
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._shutdown = threading.Event()
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}-{n}", daemon=True)
            for n in range(1, num_threads + 1)
        ]
        for thread in self._threads:
            thread.start()

    @property
    def num_threads(self) -> int:
        """How many workers the pool was started with."""
        return len(self._threads)

    @property
    def alive(self) -> int:
        """How many workers are still running."""
        return sum(thread.is_alive() for thread in self._threads)

    @property
    def closed(self) -> bool:
        """True once shutdown() began."""
        return self._shutdown.is_set()

    def submit(self, job: Callable[[], object]) -> None:
        """Queue `job` for a worker; raises PoolClosed once shutdown began."""
        with self._lock:
            if self._shutdown.is_set():
                raise PoolClosed("the pool is shutting down")
            self._queue.put(job)

    def shutdown(self, wait: bool = True, timeout: float | None = None) -> bool:
        """Stop accepting work and let the workers finish what is queued; True once all exited."""
        with self._lock:
            if not self._shutdown.is_set():
                self._shutdown.set()
                for _ in self._threads:
                    self._queue.put(_STOP)
        if wait:
            for thread in self._threads:
                thread.join(timeout)
        return self.alive == 0

    def _work(self) -> None:
        """Worker loop: run jobs until the stop marker that follows the last one."""
        while True:
            job = self._queue.get()
            if job is _STOP:
                return
            try:
                job()
            except BaseException:  # a job must never take its worker down
                log.exception("job raised in %s", threading.current_thread().name)
            del job
