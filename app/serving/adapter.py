"""`BufferedWSGI`: a WSGI app served through granian's RSGI interface, each body gathered first.

granian calls `__rsgi__` on the server process's event loop once a request's headers are in. The
body is awaited there, where a slow client costs a coroutine and a buffer, not a thread: at most
`max_body` + 1 bytes (a declared length over the limit is not read at all, so the app refuses it
with its own 413), within `body_timeout` seconds of the headers' end, else a 408 with the JSON
error body and the connection closed. Only then does one of the request threads run the WSGI app,
with the body in memory, and send its answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from app.errors import error_body
from app.logs import entry_line, exit_line
from app.serving.threads import RequestThreads, WSGIApp

if TYPE_CHECKING:
    from flask import Flask

_LATE_HEADERS = [("Content-Type", "application/json"), ("Connection", "close")]


def timeout_reason(seconds: float) -> str:
    """The reason of the 408 a request gets when its body is not in after `seconds`."""
    return f"request body not received within {seconds:g} s"


class BufferedWSGI:
    """The RSGI application granian serves: `app`'s requests, each with its whole body.

    `log_line`, if given, receives the entry and exit lines of a request refused with 408 (the
    app logs every other request itself).
    """

    def __init__(
        self,
        app: WSGIApp,
        threads: int,
        max_body: int,
        body_timeout: float,
        log_line: Callable[[str], None] | None = None,
    ) -> None:
        self._threads = RequestThreads(app, threads)
        self._max_body = max_body
        self._timeout = body_timeout
        self._log_line = log_line
        self._loop: Any = None
        self._late = error_body(timeout_reason(body_timeout))

    @classmethod
    def around(cls, app: Flask) -> BufferedWSGI:
        """The layer in front of the service's app: its request threads, body limit and timeout
        from the app's settings, its 408s in the app's log."""
        settings = app.config
        return cls(
            app,
            settings["SERVER_THREADS"],
            settings["MAX_CONTENT_LENGTH"],
            settings["BODY_TIMEOUT_S"],
            app.extensions["lss.log"].info,
        )

    def __rsgi_init__(self, loop: Any) -> None:
        """Called by granian in the server process, with its event loop, before serving."""
        self._loop = loop
        self._threads.start(loop)

    def __rsgi_del__(self, loop: Any) -> None:
        """Called by granian once every connection was answered and its loop stopped."""
        self._threads.stop()

    def __rsgi__(self, scope: Any, proto: Any) -> Awaitable[None]:
        headers = scope.headers  # each read of it copies granian's header map: read once
        wanted = self._wanted(headers)
        if wanted:
            return self._with_body(scope, headers, proto, wanted)
        # No body to wait for: straight to a thread, without a coroutine of our own.
        return self._threads.run(scope, headers, b"", proto)

    async def _with_body(self, scope: Any, headers: Any, proto: Any, wanted: int) -> None:
        """Gather the body on the loop, then hand the request to a thread (or answer 408)."""
        deadline = self._loop.time() + self._timeout
        try:
            body = await self._gather(proto, wanted, deadline)
        except TimeoutError:
            self._refuse_late(scope, proto)
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

    def _refuse_late(self, scope: Any, proto: Any) -> None:
        """Answer 408 and close the connection (the rest of the body is never read)."""
        if self._log_line is not None:
            path, method = scope.path, scope.method
            self._log_line(entry_line(method, path, f"<not in within {self._timeout:g} s>"))
            self._log_line(exit_line(method, path, 408))
        headers = [*_LATE_HEADERS, ("Content-Length", str(len(self._late)))]
        proto.response_bytes(408, headers, self._late)
