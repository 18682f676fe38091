"""Server processes for the benchmark: start on a free port, wait for health, sample, stop."""

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
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "nutrition_activity_obesity_usa_subset.csv"
STARTUP_TIMEOUT = 300.0
STOP_TIMEOUT = 15.0


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port the kernel just handed out as free (bound to port 0, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """A running server process and what was measured while it started."""

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

    def tree(self) -> list[psutil.Process]:
        """The server process and its children (granian's worker processes)."""
        with suppress(psutil.NoSuchProcess):
            main = psutil.Process(self.process.pid)
            return [main, *main.children(recursive=True)]
        return []

    def rss(self) -> int:
        """Memory of the process tree in bytes: the proportional set size (PSS), so that pages the
        worker processes share with the main process count once."""
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


def _healthy(host: str, port: int) -> bool:
    """Whether GET /api/health answers 200 on a fresh connection."""
    conn = http.client.HTTPConnection(host, port, timeout=5.0)
    try:
        conn.request("GET", "/api/health")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def _wait_healthy(server: Server, spawned: float) -> None:
    """Poll /api/health until it answers 200; record the start-up time and memory."""
    while time.perf_counter() < spawned + STARTUP_TIMEOUT:
        if server.process.poll() is not None:
            output = (server.workdir / "server.out").read_text(errors="replace")
            raise RuntimeError(f"{server.name} exited during start-up:\n{output[-2000:]}")
        if _healthy(server.host, server.port):
            server.startup_s = time.perf_counter() - spawned
            server.rss_after_start = server.rss()
            return
        time.sleep(0.01)
    raise RuntimeError(f"{server.name} was not healthy after {STARTUP_TIMEOUT:.0f} s")


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
) -> Iterator[Server]:
    """Start `argv` on a free port with a fresh results folder and log; yield it once healthy.

    The folder is made in `parent` and left for the caller to remove once nothing is measured
    any more; without a parent it is removed when the server stops.
    """
    host, port = "127.0.0.1", free_port()
    prefix = re.sub(r"[^\w.-]+", "_", name)
    workdir = Path(tempfile.mkdtemp(prefix=f"lss-bench-{prefix}-", dir=parent))
    environ = {
        **os.environ,
        **(env or {}),
        "LSS_HOST": host,
        "LSS_PORT": str(port),
        "LSS_DATA_FILE": str(data_file),
        "LSS_RESULTS_DIR": str(workdir / "results"),
        "LSS_LOG_FILE": str(workdir / "webserver.log"),
        "PYTHONUNBUFFERED": "1",
    }
    with open(workdir / "server.out", "wb") as out:
        spawned = time.perf_counter()
        process = subprocess.Popen(
            argv, cwd=cwd, env=environ, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(name=name, host=host, port=port, process=process, workdir=workdir)
    try:
        _wait_healthy(server, spawned)
        yield server
    finally:
        _stop(server)
        if parent is None:
            shutil.rmtree(workdir, ignore_errors=True)


def service_argv(root: Path = ROOT) -> list[str]:
    """The service (of the checkout at `root`), started the way `make run` starts it."""
    return [sys.executable, str(root / "api_server.py")]


def limit_argv() -> list[str]:
    """The raw WSGI limit app (bench/limit.py), on the port `running` hands it."""
    return [sys.executable, "-m", "bench.limit"]


class MemorySampler:
    """A server's peak memory, sampled on a background thread while the server is measured.

    A sample reads the memory map of each of its processes (under their memory-map lock) and
    finds its worker processes by scanning every process on the machine. Fifty samples a second
    of every running server took CPU from the one measured and stalled it, so samples are taken a
    few times a second, only inside `measuring()`, and once as it ends: an idle server's memory
    does not change.
    """

    def __init__(self, server: Server, interval: float = 0.25) -> None:
        self.server = server
        self.interval = interval
        self.peak = server.rss()
        self._measuring = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            if self._measuring.is_set():
                self.peak = max(self.peak, self.server.rss())

    @contextmanager
    def measuring(self) -> Iterator[None]:
        """Sample while the body runs, and once as it ends."""
        self._measuring.set()
        try:
            yield
        finally:
            self._measuring.clear()
            self.peak = max(self.peak, self.server.rss())

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
