"""A stand-in HTTP server whose next answers a test scripts: faults a real server cannot be made
to show on demand (a dropped connection, a transient 503, an expired job, a job that never ends).

Unscripted requests get a minimal job API: `POST /api/<endpoint>` issues `job_id_<n>`, and
`GET /api/get_results/<id>` answers `running` for the first `running_polls` polls of the job,
then `done` with the request it was given. It counts what it saw, including how many jobs were
in flight (issued, not yet reported finished) at most.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: A scripted answer: `DROP` (close the connection without a word), (status, JSON body or
#: bytes), or None (the minimal job API's own answer).
DROP = "drop"
Action = str | tuple[int, Any] | None
SHUTTING_DOWN = (503, {"status": "error", "reason": "shutting down"})

QUESTION = "Percent of adults aged 18 years and older who have obesity"


class ScriptedServer:
    """The server's state: the script, the jobs it issued and what it counted."""

    def __init__(self, running_polls: int = 0) -> None:
        self.script: deque[Action] = deque()
        self.running_polls = running_polls
        #: Submissions after this many get 503 `shutting down` (None: no limit).
        self.accept_limit: int | None = None
        self.requests: list[tuple[str, str]] = []
        self.polls: dict[str, int] = {}
        self.bodies: dict[str, Any] = {}
        self.in_flight = 0
        self.peak_in_flight = 0
        self.lock = threading.Lock()
        self.url = ""

    def count(self, method: str) -> int:
        """How many requests with `method` it received."""
        return sum(1 for seen, _ in self.requests if seen == method)

    def answer(self, method: str, path: str, body: Any) -> Action:
        """The scripted action for this request, else the minimal job API's answer."""
        with self.lock:
            self.requests.append((method, path))
            action = self.script.popleft() if self.script else None
            return action if action is not None else self._job_api(method, path, body)

    def _job_api(self, method: str, path: str, body: Any) -> Action:
        """The unscripted answer: a minimal job API (called with the lock held)."""
        if method == "POST" and path.startswith("/api/"):
            if self.accept_limit is not None and len(self.bodies) >= self.accept_limit:
                return SHUTTING_DOWN
            job_id = f"job_id_{len(self.bodies) + 1}"
            self.bodies[job_id] = body
            self.polls[job_id] = 0
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            return 200, {"job_id": job_id}
        if path.startswith("/api/get_results/"):
            job_id = path.rsplit("/", 1)[1]
            if job_id not in self.polls:
                return 404, {"status": "error", "reason": "Invalid job_id"}
            self.polls[job_id] += 1
            if self.polls[job_id] <= self.running_polls:
                return 200, {"status": "running"}
            if self.polls[job_id] == self.running_polls + 1:
                self.in_flight -= 1
            return 200, {"status": "done", "data": {"echo": self.bodies[job_id]}}
        if path == "/api/questions":
            return 200, {"questions": [{"question": QUESTION, "best_is": "lowest"}]}
        if path == "/api/states":
            return 200, {"states": ["Ohio", "Oregon"]}
        return 404, {"status": "error", "reason": "no such endpoint"}


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        action = self.server.state.answer(method, self.path, body)
        if action == DROP:
            self.close_connection = True
            return
        status, payload = action
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test reads the counters instead."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # every request is a new connection (HTTP/1.0): no refusals
    state: ScriptedServer


@contextmanager
def scripted_server(running_polls: int = 0, port: int = 0) -> Iterator[ScriptedServer]:
    """Serve a ScriptedServer on 127.0.0.1 (`port`, or a free one) until the block ends."""
    httpd = _Server(("127.0.0.1", port), _Handler)
    httpd.state = ScriptedServer(running_polls)
    httpd.state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield httpd.state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)
