"""Server processes for the benchmark: start on a free port, wait until ready, sample, stop."""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "nutrition_activity_obesity_usa_subset.csv"
#: Where generated datasets, quick reports and profiles go (not in git).
OUT = ROOT / "bench" / "out"
STARTUP_TIMEOUT = 300.0
STOP_TIMEOUT = 15.0


def free_port() -> int:
    """A TCP port the kernel just handed out as free (bound to port 0, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """A running server process, its folder, and what was measured while it started."""

    name: str
    host: str
    port: int
    process: subprocess.Popen[bytes]
    workdir: Path
    startup_s: float = 0.0
    rss_after_start: int = 0

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def output(self) -> bytes:
        """What the process printed so far (stdout and stderr)."""
        return (self.workdir / "server.out").read_bytes()

    def tree(self) -> list[psutil.Process]:
        """The server process and its children (granian's server processes)."""
        with suppress(psutil.NoSuchProcess):
            main = psutil.Process(self.process.pid)
            return [main, *main.children(recursive=True)]
        return []

    def rss(self) -> int:
        """The proportional set size (PSS) of the process tree: shared pages count once."""
        total = 0
        for proc in self.tree():
            with suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                total += proc.memory_full_info().pss
        return total

    def cpu_s(self) -> float:
        """User + system CPU seconds used so far by the process tree."""
        total = 0.0
        for proc in self.tree():
            with suppress(psutil.NoSuchProcess):
                total += sum(proc.cpu_times()[:2])
        return total


def healthy(server: Server) -> bool:
    """Whether GET /api/health answers 200, on a fresh connection."""
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5.0)
    try:
        conn.request("GET", "/api/health")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def _stop(server: Server) -> None:
    """SIGTERM the server; kill it (and any child left) if it has not exited in time."""
    children = server.tree()[1:]
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()
    for child in children:
        with suppress(psutil.NoSuchProcess):
            child.kill()


@contextmanager
def running(
    name: str,
    argv: list[str],
    data_file: Path = BUNDLED,
    env: dict[str, str] | None = None,
    parent: Path | None = None,
    cwd: Path = ROOT,
    ready: Callable[[Server], bool] = healthy,
    port: int | None = None,
) -> Iterator[Server]:
    """Start `argv` with its own port, results and log in a folder of `parent` (else removed at
    the end), and yield it once `ready`."""
    host, port = "127.0.0.1", port or free_port()
    prefix = re.sub(r"[^\w.-]+", "_", name)
    workdir = Path(tempfile.mkdtemp(prefix=f"lss-bench-{prefix}-", dir=parent))
    environ = {
        **os.environ,
        "LSS_HOST": host,
        "LSS_PORT": str(port),
        "LSS_DATA_FILE": str(data_file),
        "LSS_RESULTS_DIR": str(workdir / "results"),
        "LSS_LOG_FILE": str(workdir / "webserver.log"),
        "PYTHONUNBUFFERED": "1",
        **(env or {}),
    }
    with open(workdir / "server.out", "wb") as out:
        spawned = time.perf_counter()
        process = subprocess.Popen(
            argv, cwd=cwd, env=environ, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(name, host, port, process, workdir)
    try:
        while not ready(server):
            if process.poll() is not None or time.perf_counter() > spawned + STARTUP_TIMEOUT:
                tail = server.output[-2000:].decode(errors="replace")
                raise RuntimeError(f"{name} did not start (exit code {process.poll()}):\n{tail}")
            time.sleep(0.01)
        server.startup_s = time.perf_counter() - spawned
        server.rss_after_start = server.rss()
        yield server
    finally:
        _stop(server)
        if parent is None:
            shutil.rmtree(workdir, ignore_errors=True)


def service_argv(root: Path = ROOT) -> list[str]:
    """The service (of the checkout at `root`), started the way `make run` starts it."""
    return [sys.executable, str(root / "api_server.py")]


def limit_argv() -> list[str]:
    """The raw WSGI limit app (bench/limit.py)."""
    return [sys.executable, "-m", "bench.limit"]


class MemorySampler:
    """A server's peak memory, sampled a few times a second while it is measured, and only then."""

    def __init__(self, server: Server, interval: float = 0.25) -> None:
        self.server, self.interval, self.peak = server, interval, server.rss()

    @contextmanager
    def measuring(self) -> Iterator[None]:
        """Sample on a thread while the body runs, and once as it ends."""
        done = threading.Event()

        def sample() -> None:
            while not done.wait(self.interval):
                self.peak = max(self.peak, self.server.rss())

        thread = threading.Thread(target=sample, name="rss-sampler", daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join()
            self.peak = max(self.peak, self.server.rss())
