"""`BufferedWSGI`: a WSGI app served through granian's RSGI interface, each body gathered first.

granian calls `__rsgi__` on the server process's event loop once a request's headers are in. The
body is awaited there, where a slow client costs a coroutine and a buffer, not a thread: at most
`max_body` + 1 bytes (a declared length over the limit is not read at all, so the app refuses it
with its own 413), within `body_timeout` seconds of the headers' end, else a 408 with the JSON
error body and the connection closed. Only then does one of the request threads run the WSGI app,
with the body in memory, and send its answer.

A request the app answers at once, waiting for nothing (`at_hand`: a plain poll of a job whose
final answer the process holds in memory), is answered on the loop itself: the same WSGI app on
the same environ, without the hand-over to a thread (about a tenth of the service's jobs/s).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from app.errors import error_body
from app.serving import environ
from app.serving.threads import RequestThreads, WSGIApp, answer

if TYPE_CHECKING:
    from flask import Flask

_LATE_HEADERS = [("Content-Type", "application/json"), ("Connection", "close")]


def timeout_reason(seconds: float) -> str:
    """The reason of the 408 a request gets when its body is not in after `seconds`."""
    return f"request body not received within {seconds:g} s"


#: (method, path, query) -> the environ entries with which the app answers that request at once,
#: without waiting for anything (no lock held by others, no file, no network, no sleep), or None.
AtHand = Callable[[str, str, str], "dict[str, Any] | None"]


class BufferedWSGI:
    """The RSGI application granian serves: `app`'s requests, each with its whole body.

    `on_late`, if given, is told of a request refused with 408 (its method, path, the
    `X-Request-ID` it came with, and the seconds waited), for its log lines and counts (the app
    logs and counts every other request itself), and gives a header for its answer.
    """

    def __init__(
        self,
        app: WSGIApp,
        threads: int,
        max_body: int,
        body_timeout: float,
        on_late: Callable[[str, str, str | None, float], tuple[str, str]] | None = None,
        at_hand: AtHand | None = None,
    ) -> None:
        self._app = app
        self._at_hand = at_hand
        self._answered: Any = None
        self._threads = RequestThreads(app, threads)
        self._max_body = max_body
        self._timeout = body_timeout
        self._on_late = on_late
        self._loop: Any = None
        self._late = error_body(timeout_reason(body_timeout))

    @classmethod
    def around(cls, app: Flask) -> BufferedWSGI:
        """The layer in front of the service's app: its request threads, body limit and timeout
        from the app's settings, its 408s logged and counted by the app's request layer."""
        settings = app.config
        return cls(
            app,
            settings["SERVER_THREADS"],
            settings["MAX_CONTENT_LENGTH"],
            settings["BODY_TIMEOUT_S"],
            app.extensions["lss.trace"].late,
            app.extensions.get("lss.at_hand"),
        )

    def __rsgi_init__(self, loop: Any) -> None:
        """Called by granian in the server process, with its event loop, before serving."""
        self._loop = loop
        self._answered = loop.create_future()  # what a request answered on the loop returns
        self._answered.set_result(None)
        self._threads.start(loop)

    def __rsgi_del__(self, loop: Any) -> None:
        """Called by granian once every connection was answered and its loop stopped."""
        self._threads.stop()

    def __rsgi__(self, scope: Any, proto: Any) -> Awaitable[None]:
        headers = scope.headers  # each read of it copies granian's header map: read once
        wanted = self._wanted(headers)
        if wanted:
            return self._with_body(scope, headers, proto, wanted)
        if self._at_hand is not None:
            extra = self._at_hand(scope.method, scope.path, scope.query_string)
            if extra is not None:  # answered at once, here: no hand-over to a thread
                env = environ.build(scope, headers, b"")
                env.update(extra)
                answer(self._app, env, proto)  # an exception goes to granian: a 500, logged
                return self._answered
        # No body to wait for: straight to a thread, without a coroutine of our own.
        return self._threads.run(scope, headers, b"", proto)

    async def _with_body(self, scope: Any, headers: Any, proto: Any, wanted: int) -> None:
        """Gather the body on the loop, then hand the request to a thread (or answer 408)."""
        deadline = self._loop.time() + self._timeout
        try:
            body = await self._gather(proto, wanted, deadline)
        except TimeoutError:
            self._refuse_late(scope, headers, proto)
            return
        except RuntimeError:  # granian's protocol error: the client left, nobody to answer
            return
        await self._threads.run(scope, headers, body, proto)

    def _wanted(self, headers: Any) -> int:
        """How much body to gather: 0 for none (absent, empty, or declared over the limit, which
        the app refuses unread), -1 for a body of unknown length (chunked), else its length."""
        if "transfer-encoding" in headers:
            return -1
        declared = headers.get("content-length")
        if not declared:
            return 0
        try:
            length = int(declared)
        except ValueError:  # granian refuses a malformed length itself
            return 0
        return length if 0 < length <= self._max_body else 0

    async def _gather(self, proto: Any, wanted: int, deadline: float) -> bytes:
        """The body: its `wanted` bytes, or for a chunked one up to `max_body` + 1 (enough for the
        app to see it is over the limit); TimeoutError once `deadline` passed without it."""
        if wanted > 0:
            return await self._by(proto(), deadline)
        chunks, size = [], 0
        stream = proto.__aiter__()
        while size <= self._max_body:
            try:
                chunk = await self._by(stream.__anext__(), deadline)
            except StopAsyncIteration:
                break
            if not chunk:  # granian's end of the body
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)

    async def _by(self, awaitable: Any, deadline: float) -> Any:
        """Await one of granian's body awaitables, cancelled (TimeoutError) at `deadline`."""
        expired = []

        def expire() -> None:
            expired.append(True)
            awaitable.cancel()

        timer = self._loop.call_at(deadline, expire)
        try:
            return await awaitable
        except asyncio.CancelledError:
            if expired:
                raise TimeoutError from None
            raise
        finally:
            timer.cancel()

    def _refuse_late(self, scope: Any, headers: Any, proto: Any) -> None:
        """Answer 408 and close the connection (the rest of the body is never read)."""
        answer = [*_LATE_HEADERS, ("Content-Length", str(len(self._late)))]
        if self._on_late is not None:
            offered = headers.get("x-request-id")
            answer.append(self._on_late(scope.method, scope.path, offered, self._timeout))
        proto.response_bytes(408, answer, self._late)
