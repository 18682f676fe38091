"""The load generator's HTTP client: `http.client` cost more CPU per request than the servers."""

from __future__ import annotations

import socket

_HEAD_END = b"\r\n\r\n"
_LENGTH = b"\r\ncontent-length:"
_CLOSE = b"\r\nconnection: close"


class Connection:
    """Keep-alive HTTP/1.1, answers framed by Content-Length; anything else is a ConnectionError."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self._sock = socket.create_connection((host, port), timeout=timeout)
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._host = f"Host: {host}:{port}\r\n".encode()
        self._buffer = b""
        #: True once the server asked to close (or close() was called): open a new one.
        self.closed = False

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: bytes = b""
    ) -> tuple[int, bytes]:
        """Send one request (`headers`: extra header lines, each ending in CRLF) and read its
        answer; (status, body)."""
        line = f"{method} {path} HTTP/1.1\r\n".encode() + self._host + headers
        if body is None:
            self._sock.sendall(line + b"\r\n")
        else:
            length = f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            self._sock.sendall(line + length.encode() + body)
        buffer = self._buffer
        while (end := buffer.find(_HEAD_END)) < 0:
            buffer += self._receive()
        head = buffer[:end].lower()
        at = head.find(_LENGTH)
        if not head.startswith(b"http/1.1 ") or at < 0:
            raise ConnectionError(f"unexpected answer head: {buffer[:end][:200]!r}")
        stop = head.find(b"\r\n", at + 2)
        size = int(head[at + len(_LENGTH) : stop if stop >= 0 else len(head)])
        start = end + len(_HEAD_END)
        while len(buffer) < start + size:
            buffer += self._receive()
        self._buffer = buffer[start + size :]
        if _CLOSE in head:
            self.close()
        return int(head[9:12]), buffer[start : start + size]

    def _receive(self) -> bytes:
        """The next bytes from the server."""
        chunk = self._sock.recv(1 << 16)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        return chunk

    def close(self) -> None:
        """Close the socket; a later request on this connection fails."""
        self.closed = True
        self._sock.close()
