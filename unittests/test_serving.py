"""The RSGI layer (app/serving) against granian's own WSGI interface, both real granian servers.

The same echo app (unittests/support/echo_apps.py) is served by granian's WSGI (the reference:
what the service ran on before) and by `BufferedWSGI`; every request below must get the same
environ, body and answer from both. Then what only the layer does: a body over the limit is not
read, a body late by the timeout gets 408 while its one thread serves others, a client gone
mid-body reaches no thread.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import orjson
import pytest

from unittests.support.echo_apps import BODY_TIMEOUT_S, MAX_BODY
from unittests.support.servers import ROOT, end_process, free_port

_SERVE = (
    "import sys; from api_server import make_server; "
    "make_server(sys.argv[1], '127.0.0.1', int(sys.argv[2]), 1, 1, sys.argv[3] == 'rsgi')"
    ".serve()"
)
_JSON = b'{"question": "Percent of adults aged 18 years and older who have obesity"}'


def _chunked(*pieces: bytes) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"


#: name -> a raw request (each closes its connection).
REQUESTS = {
    "get": b"GET /x?a=1&b=%C3%A9 HTTP/1.1\r\nHost: h:1\r\nConnection: close\r\n\r\n",
    "head": b"HEAD /x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
    "http/1.0 without host": b"GET /x HTTP/1.0\r\n\r\n",
    "utf-8 path": b"GET /caf%C3%A9/%E2%82%AC HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
    "space and plus in path": b"GET /a%20b+c HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
    "repeated headers": (
        b"GET /x HTTP/1.1\r\nHost: h\r\nX-Many: 1\r\nX-Many: 2\r\nCookie: a=1\r\nCookie: b=2\r\n"
        b"Accept: a\r\nAccept: b\r\nConnection: close\r\n\r\n"
    ),
    "odd header names": (
        b"GET /x HTTP/1.1\r\nHost: h\r\nX-Dash-Case_and_UNDER: v\r\nPrefer: wait=5\r\n"
        b'If-None-Match: "abc"\r\nConnection: close\r\n\r\n'
    ),
    "post json": b"POST /x HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\n"
    b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(_JSON) - 10, _JSON[:-10]),
    "post empty": b"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    "post without length": b"POST /x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
    "post over the limit": b"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n"
    b"Connection: close\r\n\r\n" + b"a" * 100,
    "chunked": b"POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nConnection: close"
    b"\r\n\r\n" + _chunked(b"ab", b"cd" * 10),
    "chunked over the limit": b"POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
    b"Connection: close\r\n\r\n" + _chunked(*[b"x" * 30] * 5),
    "expect 100-continue": b"POST /x HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n"
    b"Content-Length: 4\r\nConnection: close\r\n\r\nbody",
    "latin-1 body": b"PUT /x HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nConnection: close\r\n\r\n"
    b"\xe9\xff",
    "streamed answer": b"GET /stream HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
    "app raises": b"GET /raise HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
    "keep-alive pair": b"GET /x HTTP/1.1\r\nHost: h\r\n\r\nGET /y HTTP/1.1\r\nHost: h\r\n"
    b"Connection: close\r\n\r\n",
}


class Granian:
    """A granian server process serving one of the echo apps."""

    def __init__(self, target: str, interface: str) -> None:
        self.port = free_port()
        app = f"unittests.support.echo_apps:{target}"
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _SERVE, app, str(self.port), interface],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.close()
                    pytest.fail(f"granian serving {target} did not start")
                time.sleep(0.05)

    def ask(self, raw: bytes, timeout: float = 5.0) -> bytes:
        """Send `raw` and return everything the server sends until it closes (Date removed)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as sock:
            sock.sendall(raw)
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return re.sub(rb"date: [^\r]*\r\n", b"", b"".join(chunks))

    def close(self) -> None:
        end_process(self.proc)


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[Granian, Granian]]:
    reference, layer = Granian("wsgi", "wsgi"), Granian("buffered", "rsgi")
    yield reference, layer
    reference.close()
    layer.close()


def _meaning(raw: bytes) -> list[object]:
    """Each answer in `raw` as what it means: its status line, its header lines in order (their
    order carries no meaning; granian's WSGI omits `server` on its own 500s), and its body, as
    JSON when it is an echo (the environ's keys in any order). Content-Length is kept: the echo's
    length does not depend on key order."""
    answers: list[object] = []
    while raw:
        head, _, rest = raw.partition(b"\r\n\r\n")
        status, *lines = head.split(b"\r\n")
        headers = sorted(line.lower() for line in lines if not line.lower().startswith(b"server:"))
        length = next((int(h[15:]) for h in headers if h.startswith(b"content-length:")), None)
        if length is None or status.startswith(b"HTTP/1.1 1"):  # chunked, or 100 Continue
            body, raw = (rest, b"") if not status.startswith(b"HTTP/1.1 1") else (b"", rest)
        else:
            body, raw = rest[:length], rest[length:]
        if body.startswith(b'{"environ"'):
            body = orjson.loads(body)
        answers.append((status, headers, body))
    return answers


@pytest.mark.parametrize("name", REQUESTS)
def test_every_request_gets_what_granians_wsgi_gives(servers, name):
    reference, layer = servers
    expected, got = reference.ask(REQUESTS[name]), layer.ask(REQUESTS[name])
    assert expected.startswith(b"HTTP/1."), expected
    # SERVER_PORT: each server's own (both of five digits, so the lengths agree)
    expected = expected.replace(b'"%d"' % reference.port, b'"port_"')
    got = got.replace(b'"%d"' % layer.port, b'"port_"')
    assert _meaning(got) == _meaning(expected)


def test_the_echo_shows_the_environ_it_compares(servers):
    """The comparison above is not empty: the echo carries the environ and body."""
    _, layer = servers
    answer = orjson.loads(layer.ask(REQUESTS["chunked over the limit"]).partition(b"\r\n\r\n")[2])
    assert answer["environ"]["REQUEST_METHOD"] == "POST"
    assert answer["environ"]["HTTP_TRANSFER_ENCODING"] == "chunked"
    assert len(answer["body"]) == MAX_BODY + 1  # read one over the limit, no further
    repeated = orjson.loads(layer.ask(REQUESTS["repeated headers"]).partition(b"\r\n\r\n")[2])
    assert repeated["environ"]["HTTP_X_MANY"] == "1,2"
    assert repeated["environ"]["HTTP_COOKIE"] == "a=1;b=2"


def test_a_late_body_gets_408_while_the_one_thread_serves_others(servers):
    _, layer = servers
    outcome: dict[str, object] = {}

    def slow() -> None:
        with socket.create_connection(("127.0.0.1", layer.port), timeout=10) as sock:
            sock.sendall(b"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc")
            started = time.monotonic()
            outcome["raw"] = sock.recv(65536)
            outcome["after"] = time.monotonic() - started
            outcome["then"] = sock.recv(65536)  # b"": the server closed the connection

    attackers = [threading.Thread(target=slow) for _ in range(3)]
    for attacker in attackers:
        attacker.start()
    time.sleep(0.2)
    started = time.monotonic()
    quick = layer.ask(b"GET /x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
    assert time.monotonic() - started < BODY_TIMEOUT_S / 2 and b" 200 OK" in quick
    for attacker in attackers:
        attacker.join()
    raw = outcome["raw"]
    assert isinstance(raw, bytes) and raw.startswith(b"HTTP/1.1 408 "), raw
    assert b"connection: close" in raw.lower()
    assert orjson.loads(raw.partition(b"\r\n\r\n")[2]) == {
        "status": "error",
        "reason": f"request body not received within {BODY_TIMEOUT_S} s",
    }
    assert BODY_TIMEOUT_S - 0.05 < outcome["after"] < BODY_TIMEOUT_S + 1  # type: ignore[operator]
    assert outcome["then"] == b""


def test_a_client_gone_mid_body_takes_no_thread(servers):
    """Clients that leave before their body is in are never handed to the one thread: a request
    right after them is answered at once (had they reached it, each would hold it 0.5 s)."""
    _, layer = servers
    for _ in range(4):
        with socket.create_connection(("127.0.0.1", layer.port)) as sock:
            sock.sendall(b"POST /sleep HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nab")
    time.sleep(0.1)
    started = time.monotonic()
    answer = layer.ask(b"GET /x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
    assert b" 200 OK" in answer
    assert time.monotonic() - started < 0.4
