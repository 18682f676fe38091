"""A real server process for tests: `api_server.py` started as `make run` starts it, on a free port.

Tests that cross the process boundary (end to end, the client, the pages) start servers through
the `start_server` fixture in conftest, each with its results folder and log under `tmp_path`.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
#: Seconds a server may take to answer its first health check, and to exit after a signal.
READY_TIMEOUT = 20.0
EXIT_TIMEOUT = 20.0


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """One `api_server.py` process and the files it writes."""

    def __init__(self, proc: subprocess.Popen[bytes], port: int, home: Path, results: Path) -> None:
        self.proc = proc
        self.port = port
        self.home = home
        self.results = results
        self.url = f"http://127.0.0.1:{port}"
        self.log_file = home / "webserver.log"

    @property
    def stderr(self) -> str:
        """What the process wrote on stderr so far."""
        return (self.home / "stderr.txt").read_text(errors="replace")

    def wait_ready(self) -> bool:
        """Wait for /api/health; False if the port was taken meanwhile, fail if the process died."""
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                if "Address already in use" in self.stderr:
                    return False
                pytest.fail(f"server exited with {self.proc.returncode}:\n{self.stderr}")
            try:
                if requests.get(f"{self.url}/api/health", timeout=1).status_code == 200:
                    return True
            except requests.RequestException:
                pass
            time.sleep(0.05)
        self.close()
        pytest.fail(f"server not ready within {READY_TIMEOUT} s:\n{self.stderr}")

    def stop(self, signum: int = signal.SIGTERM) -> int:
        """Send `signum` and return the exit code, failing if it takes longer than EXIT_TIMEOUT."""
        self.proc.send_signal(signum)
        try:
            return self.proc.wait(timeout=EXIT_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.close()
            pytest.fail(f"server still running {EXIT_TIMEOUT} s after {signum!r}:\n{self.stderr}")

    def close(self) -> None:
        """Make sure the process is gone: SIGTERM, then SIGKILL."""
        end_process(self.proc)


def end_process(proc: subprocess.Popen[bytes]) -> None:
    """Make sure a test's process is gone: SIGTERM, then SIGKILL if it lingers."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def server_env(home: Path, results: Path, port: int, **overrides: str) -> dict[str, str]:
    """The environment `make run` would give the server, pointed at the test's folders."""
    env = dict(os.environ)
    env.update(
        LSS_PORT=str(port),
        LSS_RESULTS_DIR=str(results),
        LSS_LOG_FILE=str(home / "webserver.log"),
        TP_NUM_OF_THREADS="2",
    )
    env.update(overrides)
    return env


def server_starter(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start servers (each in its own folder, results shared if asked); all stopped at the end."""
    servers: list[Server] = []

    def start(
        results: Path | None = None, argv: list[str] | None = None, **overrides: str
    ) -> Server:
        """A server started as `make run` does, or with `argv` (from the project's root)."""
        home = tmp_path / f"server{len(servers) + 1}"
        home.mkdir()
        results = results or home / "results"
        for _attempt in range(3):
            port = free_port()
            with (home / "stdout.txt").open("wb") as out, (home / "stderr.txt").open("wb") as err:
                proc = subprocess.Popen(
                    argv or [sys.executable, "api_server.py"],
                    cwd=ROOT,
                    env=server_env(home, results, port, **overrides),
                    stdout=out,
                    stderr=err,
                )
            server = Server(proc, port, home, results)
            servers.append(server)
            if server.wait_ready():
                return server
        pytest.fail(f"no free port found for the server:\n{server.stderr}")

    yield start
    for server in servers:
        server.close()
