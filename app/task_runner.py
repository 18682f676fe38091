"""The job pool: a fixed set of pool threads fed by a blocking, thread-safe queue.

A watchdog thread replaces a pool thread that died (whatever killed it) and reports the work item it
held, so that no accepted job is left without an answer. Everything blocks: an idle pool uses no
CPU at all.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Protocol

log = logging.getLogger("lss")

#: Put once per thread after the last job: wakes a blocked thread so it can exit.
_STOP = object()


class WorkItem(Protocol):
    """What the pool runs. `abandon()` is called instead of a normal ending when `run()` raised
    or the thread running it died, so that the item can still record an outcome; str() names it
    in the log."""

    def run(self) -> None: ...

    def abandon(self, reason: str) -> None: ...


class PoolClosed(RuntimeError):
    """submit() was called after shutdown() began."""


class ThreadPool:
    """Runs submitted work items on `num_threads` long-lived threads, in submission order.

    Its threads block on the queue (no polling). shutdown() sets the shutdown event, refuses new
    work, lets the threads drain everything already queued, and (optionally) joins them.
    """

    def __init__(self, num_threads: int, name: str = "lss-pool") -> None:
        if num_threads < 1:
            raise ValueError(f"a pool needs at least one thread, got {num_threads}")
        self._name = name
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._shutdown = threading.Event()
        self._lock = threading.Lock()
        self._spawned = 0
        #: Threads that died, with what killed them; the watchdog's inbox (None: stop).
        self._deaths: queue.SimpleQueue[tuple[threading.Thread, BaseException] | None] = (
            queue.SimpleQueue()
        )
        #: Pool thread -> the item it is running.
        self._held: dict[threading.Thread, WorkItem] = {}
        #: How many dead threads the watchdog replaced.
        self.replaced = 0
        self._threads = [self._spawn() for _ in range(num_threads)]
        self._watchdog = threading.Thread(target=self._watch, name=f"{name}-watchdog", daemon=True)
        self._watchdog.start()

    def _spawn(self) -> threading.Thread:
        self._spawned += 1
        thread = threading.Thread(target=self._work, name=f"{self._name}-{self._spawned}")
        thread.daemon = True
        thread.start()
        return thread

    @property
    def num_threads(self) -> int:
        """How many threads the pool keeps."""
        return len(self._threads)

    @property
    def alive(self) -> int:
        """How many of its threads are running right now."""
        return sum(thread.is_alive() for thread in self._threads)

    @property
    def queued(self) -> int:
        """Items waiting for a thread (roughly: the queue changes as this is read)."""
        return self._queue.qsize()

    @property
    def closed(self) -> bool:
        """True once shutdown() began."""
        return self._shutdown.is_set()

    def submit(self, item: WorkItem) -> None:
        """Queue `item` for a thread; raises PoolClosed once shutdown began."""
        with self._lock:
            if self._shutdown.is_set():
                raise PoolClosed("the pool is shutting down")
            self._queue.put(item)

    def shutdown(self, wait: bool = True, timeout: float | None = None) -> bool:
        """Stop accepting work and let the threads finish what is queued; True once all exited."""
        with self._lock:
            if not self._shutdown.is_set():
                self._shutdown.set()
                for _ in self._threads:
                    self._queue.put(_STOP)
        if wait:
            for thread in list(self._threads):
                thread.join(timeout)
            if self.alive == 0:
                self._deaths.put(None)
                self._watchdog.join(timeout)
        return self.alive == 0

    def _work(self) -> None:
        """A pool thread's loop: run items until the stop marker that follows the last one."""
        me = threading.current_thread()
        try:
            while True:
                item = self._queue.get()
                if item is _STOP:
                    return
                self._held[me] = item  # type: ignore[assignment]
                try:
                    item.run()  # type: ignore[attr-defined]
                except Exception as error:  # the item failed; its thread keeps serving
                    _abandon(item, me, f"{type(error).__name__}: {error}", error)  # type: ignore[arg-type]
                del self._held[me], item
        except BaseException as death:  # reported to the watchdog, which logs it
            self._deaths.put((me, death))

    def check(self) -> None:
        """Report threads that ended without telling the watchdog (a backstop: none should)."""
        with self._lock:
            if self._shutdown.is_set():
                return
            silent = [thread for thread in self._threads if not thread.is_alive()]
        for thread in silent:
            self._deaths.put((thread, RuntimeError("ended without a word")))

    def _watch(self) -> None:
        """Replace each thread that died, and abandon the item it held."""
        while True:
            death = self._deaths.get()
            if death is None:
                return
            thread, cause = death
            with self._lock:
                if thread not in self._threads:
                    continue  # already replaced (reported twice)
                self._threads[self._threads.index(thread)] = self._spawn()
                self.replaced += 1
            log.error("%s died (%s); replaced it", thread.name, type(cause).__name__)
            item = self._held.pop(thread, None)
            if item is not None:
                reason = f"pool thread died: {type(cause).__name__}: {cause}"
                _abandon(item, thread, reason.rstrip(": "), cause)


def _abandon(item: WorkItem, thread: threading.Thread, reason: str, cause: BaseException) -> None:
    """Log why `item` did not end normally, with the traceback, and let it record the failure."""
    log.error("%s failed on %s: %s", item, thread.name, reason, exc_info=cause)
    try:
        item.abandon(reason)
    except Exception:
        log.exception("%s: could not record the failure of its work item", thread.name)
