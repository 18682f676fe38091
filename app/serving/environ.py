"""The WSGI environ of a request that granian handed over through RSGI, as granian's WSGI makes it.

The keys and values are the ones granian's own WSGI interface gives the app (2.8): the same
protocol names ("HTTP/1" for HTTP/1.0), the path percent-decoded and carried as latin-1 text,
headers joined with commas (cookies with semicolons), Content-Type and Content-Length without
their HTTP_ prefix, Host taken from the request line when the header is absent. Only the body
differs: it is already complete, in memory.
"""

from __future__ import annotations

import io
import sys
from typing import Any

#: What every request's environ starts from (granian's WSGI constants).
BASE: dict[str, Any] = {
    "GATEWAY_INTERFACE": "CGI/1.1",
    "SCRIPT_NAME": "",
    "SERVER_SOFTWARE": "Granian",
    "wsgi.errors": sys.stderr,
    "wsgi.input_terminated": True,  # the body's end is known (werkzeug reads chunked bodies so)
    "wsgi.multiprocess": False,
    "wsgi.multithread": True,
    "wsgi.run_once": False,
    "wsgi.version": (1, 0),
}
#: Headers that become CGI variables of their own, without the HTTP_ prefix.
_CGI = {"content-type": "CONTENT_TYPE", "content-length": "CONTENT_LENGTH"}
#: Header name -> environ key, made once per name seen (a handful of names in practice).
_KEYS: dict[str, str] = {}


def header_key(name: str) -> str:
    """The environ key of a header name, as lower-case HTTP/1 names arrive from granian."""
    key = _KEYS.get(name)
    if key is None:
        key = _CGI.get(name) or "HTTP_" + name.upper().replace("-", "_")
        if len(_KEYS) < 1024:  # names are the client's choice: keep the cache bounded
            _KEYS[name] = key
    return key


def _host_and_port(address: str) -> tuple[str, str]:
    """("127.0.0.1", "5000") from "127.0.0.1:5000", ("::1", "5000") from "[::1]:5000"."""
    host, _, port = address.rpartition(":")
    return host.strip("[]"), port


def build(scope: Any, headers: Any, body: bytes) -> dict[str, Any]:
    """The environ of an RSGI request `scope`, its `headers` (scope.headers) and whole `body`."""
    server_name, server_port = _host_and_port(scope.server)
    environ = BASE.copy()
    environ["SERVER_PROTOCOL"] = "HTTP/" + scope.http_version
    environ["SERVER_NAME"] = server_name
    environ["SERVER_PORT"] = server_port
    environ["REMOTE_ADDR"] = _host_and_port(scope.client)[0]
    environ["REQUEST_METHOD"] = scope.method
    path = scope.path
    environ["PATH_INFO"] = path if path.isascii() else path.encode().decode("latin-1")
    environ["QUERY_STRING"] = scope.query_string
    environ["wsgi.url_scheme"] = scope.scheme
    environ["wsgi.input"] = io.BytesIO(body)
    for name, value in headers.items():
        key = header_key(name)
        if key not in environ:
            environ[key] = value
        elif key[0] == "H":  # a repeated header; a repeated Content-Length keeps its first
            environ[key] += (";" if key == "HTTP_COOKIE" else ",") + value
    if "HTTP_HOST" not in environ:
        environ["HTTP_HOST"] = scope.authority or ""
    return environ
