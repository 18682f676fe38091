"""`RequestThreads`: the threads of a server process that run the WSGI app, fed by its event loop.

The event loop hands over a request whose body is complete; one of the threads runs the app and
sends the answer itself, straight to granian. The request's coroutine on the loop then only has to
end, and nothing waits on that: the coroutines of answered requests are ended by the next request
that arrives, or by a sweep every SWEEP_S while any is outstanding, so a busy loop is not woken
once more per request (waking it costs about as much as the rest of the hand-over).
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections import deque
from collections.abc import Callable, Iterable
from queue import SimpleQueue
from typing import Any

from app.serving import environ

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: Seconds between two sweeps of answered requests while some are outstanding.
SWEEP_S = 0.01


class _Reply:
    """The status and headers a WSGI app gives `start_response`."""

    __slots__ = ("headers", "status")

    def __init__(self) -> None:
        self.status = 200
        self.headers: list[tuple[str, str]] = []

    def __call__(self, status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        self.status = int(status[:3])
        self.headers = headers


def answer(app: WSGIApp, env: dict[str, Any], proto: Any) -> None:
    """Run the WSGI app on one request and send its answer through granian's RSGI `proto`.

    A body of known length (a list or tuple, or a Content-Length) is sent in one piece; any other
    is streamed chunk by chunk, as granian's WSGI does (the job listing is a generator).
    """
    reply = _Reply()
    chunks = app(env, reply)
    try:
        if isinstance(chunks, (tuple, list)) or _has_length(reply.headers):
            proto.response_bytes(reply.status, reply.headers, b"".join(chunks))
            return
        pieces = iter(chunks)
        first = next(pieces, b"")  # a lazy app may call start_response only now
        stream = proto.response_stream(reply.status, reply.headers)
        for chunk in itertools.chain((first,), pieces):
            if chunk:
                stream.send_bytes(chunk)  # queued at once; granian's awaitable is already done
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


def _has_length(headers: list[tuple[str, str]]) -> bool:
    return any(len(name) == 14 and name.lower() == "content-length" for name, _ in headers)


class RequestThreads:
    """`count` threads running `app` on the requests the event loop hands them."""

    def __init__(self, app: WSGIApp, count: int) -> None:
        self._app = app
        self._count = count
        self._loop: Any = None
        self._queue: SimpleQueue[Any] = SimpleQueue()
        self._threads: list[threading.Thread] = []
        #: Futures of requests a thread answered, not yet ended on the loop.
        self._answered: deque[asyncio.Future[None]] = deque()
        #: Requests handed over and not yet ended (read and written on the loop only).
        self._outstanding = 0
        self._sweep: asyncio.TimerHandle | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start the threads; `loop` is the server process's event loop."""
        self._loop = loop
        for number in range(self._count):
            thread = threading.Thread(target=self._work, name=f"lss-request-{number}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """End the threads once they finished their requests, then every request's coroutine
        (called with the loop stopped, after granian answered every connection)."""
        for _thread in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join()
        self._threads.clear()
        if self._sweep is not None:
            self._sweep.cancel()
            self._sweep = None
        if self._answered:
            self._end_answered()
            if not self._loop.is_closed():
                self._loop.run_until_complete(asyncio.sleep(0))  # let those coroutines return

    def run(self, scope: Any, headers: Any, body: bytes, proto: Any) -> asyncio.Future[None]:
        """On the loop: hand a request over (its environ is made in the thread, off the loop);
        the future is done once it was answered (its exception set if the app raised)."""
        if self._answered:
            self._end_answered()
        waiting = self._loop.create_future()
        self._outstanding += 1
        self._queue.put((scope, headers, body, proto, waiting))
        if self._sweep is None:
            self._sweep = self._loop.call_later(SWEEP_S, self._swept)
        return waiting

    def _work(self) -> None:
        """A request thread: answer requests until told to stop (None)."""
        app, answered, queue = self._app, self._answered, self._queue
        while (item := queue.get()) is not None:
            scope, headers, body, proto, waiting = item
            try:
                answer(app, environ.build(scope, headers, body), proto)
            except BaseException as error:  # granian logs it and answers 500, as under WSGI
                self._loop.call_soon_threadsafe(self._fail, waiting, error)
            else:
                answered.append(waiting)

    def _swept(self) -> None:
        self._sweep = None
        self._end_answered()
        if self._outstanding:
            self._sweep = self._loop.call_later(SWEEP_S, self._swept)

    def _end_answered(self) -> None:
        answered = self._answered
        while answered:
            waiting = answered.popleft()
            self._outstanding -= 1
            if not waiting.done():  # not cancelled meanwhile
                waiting.set_result(None)

    def _fail(self, waiting: asyncio.Future[None], error: BaseException) -> None:
        self._outstanding -= 1
        if not waiting.done():
            waiting.set_exception(error)
