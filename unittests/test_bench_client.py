"""The benchmark's HTTP client (keep-alive framing, refusals) and its load generator's checks."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench import load
from bench.connection import Connection
from bench.server import running, service_argv
from bench.workload import Plan, build_plan
from unittests.conftest import BUNDLED_CSV


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self._answer(201, b"got " + body)

    def do_GET(self) -> None:
        if self.path == "/close":
            self._answer(200, b"bye", close=True)
        elif self.path == "/unframed":
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"no length")
            self.close_connection = True
        else:
            self._answer(200, self.path.encode())

    def _answer(self, status: int, body: bytes, close: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def _connect(server: ThreadingHTTPServer) -> Connection:
    host, port = server.server_address[:2]
    return Connection(str(host), int(port), timeout=5)


def test_requests_share_one_connection(server):
    conn = _connect(server)
    assert conn.request("GET", "/api/a") == (200, b"/api/a")
    assert conn.request("POST", "/api/b", b'{"x": 1}') == (201, b'got {"x": 1}')
    assert conn.request("GET", "/api/c") == (200, b"/api/c")
    assert not conn.closed
    conn.close()


def test_a_server_that_closes_marks_the_connection_closed(server):
    conn = _connect(server)
    assert conn.request("GET", "/close") == (200, b"bye")
    assert conn.closed


def test_an_answer_without_a_length_is_refused(server):
    conn = _connect(server)
    with pytest.raises(ConnectionError, match="unexpected answer head"):
        conn.request("GET", "/unframed")
    conn.close()


@pytest.fixture(scope="module")
def plan() -> Plan:
    return build_plan(BUNDLED_CSV)


def test_the_load_generator_finds_the_service_right(plan: Plan) -> None:
    with running("service", service_argv(), BUNDLED_CSV) as server:
        result = load.run(plan, server, 4, 1.0)
    assert result.checked > 100 and result.jobs > 50
    assert result.wrong == 0 and result.bad == 0
    assert 0 < result.p50_ms <= result.p99_ms < 1000


def test_the_load_generator_counts_wrong_answers_and_refusals(plan: Plan) -> None:
    wrong = dataclasses.replace(plan, expected={key: b'{"Ohio":1.0}' for key in plan.expected})
    unknown = dataclasses.replace(plan, combos=(("best5", "Percent of cats"),))
    with running("service", service_argv(), BUNDLED_CSV) as server:
        result = load.run(wrong, server, 2, 0.5)
        assert result.checked > 0 and result.wrong == result.checked
        refused = load.run(unknown, server, 1, 0.3)
    assert refused.wrong == 0 and refused.bad == refused.checked > 0 and refused.jobs == 0


def test_the_load_generator_can_ask_to_be_held_as_lss_does(plan: Plan) -> None:
    """With `wait` every POST carries `Prefer: wait`: quick jobs come back answered, checked,
    with (almost) no get_results at all."""
    with running("service", service_argv(), BUNDLED_CSV) as server:
        result = load.run(plan, server, 2, 1.0, wait=5)
        log = (server.workdir / "webserver.log").read_text()
    assert result.checked > 100 and result.wrong == 0 and result.bad == 0
    posts, polls = log.count("POST /api/"), log.count("/api/get_results/")
    assert posts >= result.checked and polls < posts / 10
