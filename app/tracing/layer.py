"""`RequestTrace`: the WSGI layer in front of everything, the request policy included.

For each request it takes the client's `X-Request-ID` or makes one (`ids`), binds the request's
trace to the thread for as long as the app runs (so that every line logged meanwhile carries the
id, and the exit line its duration), sends the id back on the answer, whatever answered it (a
job route, Flask, a page, a refusal of the policy, a 404), and counts the answer by route and
status, a refusal also by its reason, and a held request by what became of it (`counts`).
A request whose body never came (the 408 of `app.serving`) reaches no WSGI layer: `late` does
the same for it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from flask import Flask
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RoutingException

from app.tracing import context, ids
from app.tracing.context import Trace
from app.tracing.counts import ANSWER, HELD, REFUSAL, Tally

if TYPE_CHECKING:
    from app.logs import LogWriter

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
Header = tuple[str, str]

#: The route of a path that no route serves (a 404), so that the label stays bounded.
UNMATCHED = "unmatched"
#: Paths with a variable part whose route was found, kept (the pages' files, the states...).
_CACHED_PATHS = 1024
#: Flask's `<converter:name>` in a rule, written as OpenAPI writes a variable: `{name}`.
_VARIABLE = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


class Routes:
    """The route of a path, a bounded label: the path itself for a route without variables, else
    its template (`/api/get_results/{job_id}`); UNMATCHED for a path no route serves."""

    def __init__(
        self, exact: Iterable[str], templates: Iterable[str], match: Callable[[str], str | None]
    ) -> None:
        self._exact = {path: path for path in exact}
        #: (the fixed part before the first variable, the template) of the routes served in
        #: front of Flask, which serve every path under that part; longest first.
        self._prefixed = sorted(
            ((t.split("{", 1)[0], t) for t in templates), key=lambda pair: -len(pair[0])
        )
        self._match = lru_cache(maxsize=_CACHED_PATHS)(match)

    def of(self, path: str) -> str:
        route = self._exact.get(path)
        if route is not None:
            return route
        for prefix, template in self._prefixed:
            if path.startswith(prefix):
                return template
        return self._match(path) or UNMATCHED

    @classmethod
    def of_app(cls, app: Flask, served: Iterable[str]) -> Routes:
        """The routes of `app`: `served`, the paths (templates in OpenAPI's syntax) answered in
        front of Flask, then Flask's rules (those with a variable found by its URL map)."""
        served = list(served)
        exact = [p for p in served if "{" not in p]
        exact += [rule.rule for rule in app.url_map.iter_rules() if not rule.arguments]
        adapter = app.url_map.bind("localhost")

        def match(path: str) -> str | None:
            try:
                rule, _ = adapter.match(path, method="GET", return_rule=True)
            except (HTTPException, RoutingException):
                return None
            return _VARIABLE.sub(r"{\1}", rule.rule)

        return cls(exact, [p for p in served if "{" in p], match)


class RequestTrace:
    """WSGI middleware: a request's id, trace and counts around `app` (see the module)."""

    def __init__(
        self, app: WSGIApp, writer: LogWriter, routes: Routes | None, tally: Tally | None
    ) -> None:
        self._next = app
        self._writer = writer
        self._ids = ids.RequestIds()
        self._routes = routes
        self._tally = tally if routes is not None else None

    def routes(self) -> list[tuple[str, str]]:
        """The routes served in front of Flask (this layer adds none)."""
        return self._next.routes()  # type: ignore[attr-defined]

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        request_id = self._ids.take(environ.get(ids.ENVIRON_KEY))
        trace = Trace(request_id, time.time())
        header = (ids.HEADER, request_id)
        tally = self._tally

        def respond(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if tally is not None:
                self._count(tally, environ.get("PATH_INFO", ""), int(status[:3]), trace)
            return start_response(status, [*headers, header], exc_info)

        previous = context.bind(trace)
        try:
            return self._next(environ, respond)
        finally:
            context.bind(previous)

    def _count(self, tally: Tally, path: str, status: int, trace: Trace) -> None:
        tally.add((ANSWER, self._routes.of(path), status))  # type: ignore[union-attr]
        if trace.refusal is not None:
            tally.add((REFUSAL, trace.refusal, status))
        if trace.held is not None:
            tally.add((HELD, trace.held))

    def late(self, method: str, path: str, offered_id: str | None, waited: float) -> Header:
        """A request refused with 408 before it reached any WSGI layer (app.serving), `waited`
        seconds after its headers: its entry and exit lines, its count; the header its answer
        adds."""
        request_id = self._ids.take(offered_id)
        trace = Trace(request_id, time.time() - waited)
        trace.refusal = "body_timeout"
        previous = context.bind(trace)
        try:
            self._writer.entry(method, path, f"<not in within {waited:g} s>")
            self._writer.exit(method, path, 408)
        finally:
            context.bind(previous)
        if self._tally is not None:
            self._count(self._tally, path, 408, trace)
        return (ids.HEADER, request_id)


def init_app(app: Flask, tally: Tally | None) -> RequestTrace:
    """Put the layer in front of everything the app serves (call it after every other layer);
    with a `tally`, answers are counted into it."""
    writer = app.extensions["lss.log"]
    routes = None
    if tally is not None:
        served = [path for _method, path in app.wsgi_app.routes()]  # type: ignore[attr-defined]
        routes = Routes.of_app(app, served)
    layer = RequestTrace(app.wsgi_app, writer, routes, tally)
    app.wsgi_app = layer  # type: ignore[method-assign]
    app.extensions["lss.trace"] = layer
    return layer
