"""A WSGI app that answers with what it was given, served two ways for test_serving.py.

`wsgi` is served by granian's own WSGI interface (the reference), `buffered` by the service's
RSGI layer (app/serving) with small limits: 64-byte bodies, one request thread, a 1 s body
timeout. Paths: /stream answers with a generator (no length), /raise raises, /sleep takes 0.5 s,
anything else echoes the environ's CGI and wsgi.* values and the body as far as it was read (all
of it, or 65 bytes of a chunked one: one over the limit, as the gateway reads).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import orjson

MAX_BODY = 64
BODY_TIMEOUT_S = 1
_CGI = ("HTTP_", "SERVER_", "REMOTE_", "REQUEST_", "CONTENT_", "PATH_INFO", "QUERY_STRING")
_CGI_EXACT = {"SCRIPT_NAME", "GATEWAY_INTERFACE"}
_WSGI_VALUES = {
    "wsgi.url_scheme",
    "wsgi.input_terminated",
    "wsgi.multithread",
    "wsgi.multiprocess",
    "wsgi.run_once",
    "wsgi.version",
}


def _numbers() -> Iterator[bytes]:
    yield b"["
    for number in range(3):
        yield b"%d," % number
    yield b"3]"


def echo(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    path = environ["PATH_INFO"]
    if path == "/raise":
        raise RuntimeError("planted")
    if path == "/stream":
        start_response("200 OK", [("Content-Type", "application/json")])
        return _numbers()
    if path == "/sleep":
        time.sleep(0.5)
    length = int(environ.get("CONTENT_LENGTH") or 0)
    stream = environ["wsgi.input"]
    if length > MAX_BODY:
        body = b""
    elif length:
        body = stream.read(length)
    else:
        body = stream.read(MAX_BODY + 1)
    seen = {
        key: value if isinstance(value, (str, bool, tuple)) else repr(value)
        for key, value in environ.items()
        if key.startswith(_CGI) or key in _CGI_EXACT or key in _WSGI_VALUES
    }
    out = orjson.dumps({"environ": seen, "body": body.decode("latin-1")})
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(out)))]
    start_response("200 OK", headers)
    return [out]


def wsgi() -> Callable[..., Iterable[bytes]]:
    return echo


def buffered() -> Any:
    from app.serving.adapter import BufferedWSGI

    return BufferedWSGI(echo, 1, MAX_BODY, BODY_TIMEOUT_S)
