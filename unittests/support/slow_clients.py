"""Hostile clients for SPEC §16.2: raw sockets that send a request's body, or its headers, slowly.

`SlowBodies` keeps N connections open for as long as it runs, each sending complete headers that
declare a body, then one byte of it a second; when the server answers or closes one, it records
what happened and opens another. `SlowHeaders` keeps N connections sending one header line a
second, never ending the headers. `health_times` asks /api/health from a normal client on a fresh
connection at a steady pace and returns how long each answer took.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from dataclasses import dataclass

#: The body each slow request declares, in bytes.
DECLARED = 1000
_HEADERS = (
    b"POST /api/states_mean HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    b"Content-Length: %d\r\n\r\n" % DECLARED
)


@dataclass
class Outcome:
    """How one slow request ended: `answer` (the raw bytes the server sent, up to its closing the
    connection) or `closed` (nothing sent), `after` seconds from the end of its headers."""

    kind: str
    after: float
    raw: bytes = b""

    @property
    def status(self) -> int | None:
        if not self.raw.startswith(b"HTTP/1.1 "):
            return None
        return int(self.raw[9:12])

    @property
    def body(self) -> bytes:
        return self.raw.partition(b"\r\n\r\n")[2]

    @property
    def header_block(self) -> str:
        return self.raw.partition(b"\r\n\r\n")[0].decode("latin-1").lower()


class _Attackers:
    """`count` threads each running `attack` until `stop()`."""

    def __init__(self, port: int, count: int) -> None:
        self.port = port
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._loop, daemon=True) for _ in range(count)]
        self.outcomes: list[Outcome] = []
        self._lock = threading.Lock()

    def __enter__(self) -> _Attackers:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            outcome = self.attack()
            if outcome is not None:
                with self._lock:
                    self.outcomes.append(outcome)

    def attack(self) -> Outcome | None:
        raise NotImplementedError

    def _trickle(self, opening: bytes, piece: bytes) -> Outcome | None:
        """Send `opening`, then `piece` once a second until the server answers or closes (the
        outcome), or until stopped (None: the connection was still open)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
            sock.sendall(opening)
            started = time.monotonic()
            next_piece = started + 1
            while not self._stop.is_set():
                # Asleep until the next piece is due (or stop is seen within 0.2 s).
                sock.settimeout(max(0.001, min(next_piece - time.monotonic(), 0.2)))
                try:
                    data = sock.recv(65536)
                except TimeoutError:
                    if time.monotonic() >= next_piece:
                        next_piece += 1
                        try:
                            sock.sendall(piece)
                        except OSError:
                            return Outcome("closed", time.monotonic() - started)
                    continue
                except OSError:
                    return Outcome("closed", time.monotonic() - started)
                after = time.monotonic() - started
                if not data:
                    return Outcome("closed", after)
                return Outcome("answer", after, data + _rest(sock))
        return None


class SlowBodies(_Attackers):
    """Connections sending a declared 1,000-byte body at one byte a second."""

    def attack(self) -> Outcome | None:
        return self._trickle(_HEADERS, b" ")


class SlowHeaders(_Attackers):
    """Connections sending one header line a second, never ending the headers."""

    def attack(self) -> Outcome | None:
        return self._trickle(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n", b"X-Slow: 1\r\n")


def _rest(sock: socket.socket, wait: float = 2.0) -> bytes:
    """What the server still sends, until it closes the connection (or `wait` seconds pass)."""
    sock.settimeout(wait)
    chunks = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except OSError:
        chunks.append(b"<still open>")
    return b"".join(chunks)


def health_times(port: int, seconds: float, every: float, timeout: float = 5.0) -> list[float]:
    """Ask /api/health on a fresh connection every `every` s for `seconds` s: each answer's time
    (`timeout` for one that did not come, or was not a 200)."""
    took = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        started = time.monotonic()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            connection.request("GET", "/api/health")
            response = connection.getresponse()
            response.read()
            ok = response.status == 200
        except OSError:
            ok = False
        finally:
            connection.close()
        elapsed = time.monotonic() - started
        took.append(elapsed if ok else timeout)
        time.sleep(max(0.0, every - elapsed))
    return took
