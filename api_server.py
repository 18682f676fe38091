"""Start Le Stats Sportif: serve the app with granian until SIGTERM or SIGINT.

granian does the HTTP work in Rust and runs the app in exactly one worker process, which its main
process starts and supervises: the app, its job pool and every job live in that one worker. On
SIGTERM or SIGINT granian stops taking requests and ends the worker, which first finishes every
job already accepted; then both exit 0.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import sys
from multiprocessing import util
from typing import TYPE_CHECKING

from granian import Granian
from granian.constants import Interfaces

from app import config
from app.config import ConfigError

if TYPE_CHECKING:
    from flask import Flask

#: The factory granian's worker calls to build the service (this module's `worker_app`).
SERVICE = "api_server:worker_app"
#: Linux prctl option: the signal a process gets when its parent dies.
_PR_SET_PDEATHSIG = 1


def _end_with_supervisor() -> None:
    """On Linux, have the kernel kill this worker if granian's main process dies first, so that
    a crashed server leaves no orphan holding the port."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def worker_app() -> Flask:
    """Build the service inside granian's worker; exit 2 with a one-line reason if it cannot."""
    _end_with_supervisor()
    from app import create_app, shutdown  # here only: the main process never loads Flask or pandas
    from app.data_ingestor import DatasetError

    try:
        app = create_app()
    except (ConfigError, DatasetError) as error:
        print(f"le-stats-sportif: cannot start: {error}", file=sys.stderr, flush=True)
        os._exit(2)
    # The worker leaves through os._exit, which skips atexit; multiprocessing runs its own exit
    # finalizers just before. This one drains the accepted jobs and writes out the log.
    util.Finalize(None, shutdown, args=(app,), exitpriority=100)
    host, port = app.config["HOST"], app.config["PORT"]
    path = app.extensions["lss.jobs"].dataset.path
    print(f"Le Stats Sportif serving {path} on http://{host}:{port}", flush=True)
    return app


def check_port(host: str, port: int) -> None:
    """Raise OSError if something already listens on host:port.

    granian binds with SO_REUSEPORT, so a second server would silently share the port with the
    first (each with its own jobs) instead of failing; a plain bind finds out first.
    """
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is no listener
        probe.bind(address)


def make_server(target: str, host: str, port: int, threads: int) -> Granian:
    """The server `make run` uses for `target`, a "module:factory" (the benchmark's floor too)."""
    return Granian(
        target,
        factory=True,
        interface=Interfaces.WSGI,
        address=host,
        port=port,
        workers=1,
        blocking_threads=threads,
        websockets=False,
        log_level="warning",
    )


def main() -> int:
    """Serve until a signal has drained the job pool; return the process exit code."""
    try:
        settings = config.load()
    except ConfigError as error:
        print(f"le-stats-sportif: cannot start: {error}", file=sys.stderr)
        return 2
    host, port = settings["HOST"], settings["PORT"]
    try:
        check_port(host, port)
        make_server(SERVICE, host, port, settings["SERVER_THREADS"]).serve()
    except OSError as error:
        print(f"le-stats-sportif: cannot listen on {host}:{port}: {error}", file=sys.stderr)
        return 2
    except SystemExit as exit_:  # granian's way to report a worker that failed
        return exit_.code if isinstance(exit_.code, int) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
