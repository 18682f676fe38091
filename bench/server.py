"""Server processes for the benchmark: start on a free port, wait for health, sample, stop."""

from __future__ import annotations

import http.client
import os
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
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
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
    health: bytes = b""
    _ps: psutil.Process | None = field(default=None, repr=False)

    def tree(self) -> list[psutil.Process]:
        """The server process and its children (gunicorn's worker, for one)."""
        if self._ps is None:
            self._ps = psutil.Process(self.process.pid)
        try:
            return [self._ps, *self._ps.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def rss(self) -> int:
        """Memory of the whole process tree, in bytes: the proportional set size (PSS), so that
        pages the worker processes share with the main process they were forked from count
        once, split between them (resident size where the system cannot tell PSS)."""
        total = 0
        for proc in self.tree():
            with suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                try:
                    total += proc.memory_full_info().pss
                except AttributeError:
                    total += proc.memory_info().rss
        return total

    def cpu_times(self) -> tuple[float, float]:
        """(user, system) CPU seconds used so far by the process tree."""
        user = system = 0.0
        for proc in self.tree():
            try:
                times = proc.cpu_times()
            except psutil.NoSuchProcess:
                continue
            user += times.user
            system += times.system
        return user, system

    def context_switches(self) -> int:
        """Context switches (voluntary and not) of every thread of the process tree so far
        (Linux: /proc/<pid>/task/<tid>/status; 0 where it cannot tell)."""
        total = 0
        for proc in self.tree():
            with suppress(OSError):
                for task in os.scandir(f"/proc/{proc.pid}/task"):
                    with suppress(OSError), open(f"{task.path}/status") as status:
                        total += sum(
                            int(line.split()[1]) for line in status if "ctxt_switches" in line
                        )
        return total

    def output_tail(self, lines: int = 20) -> str:
        """The last lines the server printed (stdout and stderr)."""
        try:
            text = (self.workdir / "server.out").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def _get(host: str, port: int, path: str, timeout: float = 2.0) -> tuple[int, bytes]:
    """One GET on a fresh connection."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _wait_healthy(server: Server, spawned: float) -> None:
    """Poll GET /api/health until it answers 200; record the start-up time and memory."""
    limit = spawned + STARTUP_TIMEOUT
    while time.perf_counter() < limit:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"{server.name} exited with code {server.process.returncode} during start-up:\n"
                + server.output_tail()
            )
        try:
            status, body = _get(server.host, server.port, "/api/health", timeout=5.0)
        except OSError:
            status, body = 0, b""
        if status == 200:
            server.startup_s = time.perf_counter() - spawned
            server.rss_after_start = server.rss()
            server.health = body
            return
        time.sleep(0.01)
    raise RuntimeError(f"{server.name} was not healthy after {STARTUP_TIMEOUT:.0f} s")


def _stop(server: Server) -> None:
    """SIGTERM the server; kill it (and any child left) if it has not exited in time."""
    process = server.process
    children = server.tree()[1:]
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for child in children:
        with suppress(psutil.NoSuchProcess):
            child.kill()


@contextmanager
def running(
    name: str,
    argv: list[str],
    data_file: Path,
    env: dict[str, str] | None = None,
    parent: Path | None = None,
    cwd: Path = ROOT,
) -> Iterator[Server]:
    """Start `argv` on a free port with a fresh results dir and log, yield it once healthy.

    The folder is made in `parent` and left there for the caller to remove once nothing is being
    measured (deleting tens of thousands of result files keeps the file system busy for a while
    after); without a parent it is removed when the server stops.
    """
    host = "127.0.0.1"
    port = free_port(host)
    workdir = Path(tempfile.mkdtemp(prefix=f"lss-bench-{name}-", dir=parent))
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
    argv = [part.replace("{port}", str(port)).replace("{host}", host) for part in argv]
    with open(workdir / "server.out", "wb") as out:
        spawned = time.perf_counter()
        process = subprocess.Popen(
            argv,
            cwd=cwd,
            env=environ,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
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


def floor_argv(server: str = "granian", threads: int | None = None) -> list[str]:
    """The floor app under `server` (granian, waitress or cheroot), on the placeholder port."""
    argv = [sys.executable, "-m", "bench.floor_server", "--server", server, "--port", "{port}"]
    return [*argv, "--threads", str(threads)] if threads else argv


def gunicorn_argv(threads: int) -> list[str]:
    """The floor app under gunicorn: one forked gthread worker with `threads` threads."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        "1",
        "--worker-class",
        "gthread",
        "--threads",
        str(threads),
        "--bind",
        "{host}:{port}",
        "--graceful-timeout",
        "5",
        "--log-level",
        "warning",
        "bench.floor:app_from_env()",
    ]


def waitress_argv(target: str, threads: int) -> list[str]:
    """`target` (a factory, "module:function") under waitress, in one process."""
    return [
        sys.executable,
        "-m",
        "waitress",
        "--host",
        "{host}",
        "--port",
        "{port}",
        "--threads",
        str(threads),
        "--connection-limit",
        "1000",
        "--asyncore-use-poll",
        "--call",
        target,
    ]


class MemorySampler:
    """A server's peak memory, sampled on a background thread while the server is measured.

    A sample reads the memory map of each of its processes (the kernel walks their page tables
    under their memory-map lock) and finds its worker processes by scanning every process on the
    machine. Fifty samples a second of every running server took CPU from the one measured and
    stalled it (its p99 at 16 connections: 29 ms against 12 without), so samples are taken a few
    times a second, only inside `measuring()`, and once at the end of each measured stretch: an
    idle server's memory does not change.
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
