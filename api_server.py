"""Start Le Stats Sportif: build the app and serve it with waitress until SIGTERM or SIGINT.

On either signal the service stops accepting jobs, finishes every job already accepted (still
answering reads meanwhile), then exits 0.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

import waitress

from app import create_app, shutdown
from app.config import ConfigError
from app.data_ingestor import DatasetError

log = logging.getLogger("lss")


def _route_waitress_log() -> None:
    """Send waitress's own warnings to the service log rather than stderr."""
    server_log = logging.getLogger("waitress")
    for handler in log.handlers:
        server_log.addHandler(handler)
    server_log.propagate = False
    # Under load waitress warns of its request backlog on every burst; that is no error.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)


def make_server(app: Callable[..., Any], host: str, port: int, threads: int) -> Any:
    """The waitress server `make run` uses (the benchmark serves its floor with it too)."""
    return waitress.create_server(
        app,
        host=host,
        port=port,
        threads=threads,
        connection_limit=1000,
        asyncore_use_poll=True,
        ident="le-stats-sportif",
    )


def main() -> int:
    """Serve until a signal has drained the job pool; return the process exit code."""
    try:
        app = create_app()
    except (ConfigError, DatasetError) as error:
        print(f"le-stats-sportif: cannot start: {error}", file=sys.stderr)
        return 2
    manager = app.extensions["lss.jobs"]
    host, port = app.config["HOST"], app.config["PORT"]
    try:
        server = make_server(app, host, port, app.config["SERVER_THREADS"])
    except OSError as error:
        print(f"le-stats-sportif: cannot listen on {host}:{port}: {error}", file=sys.stderr)
        shutdown(app)
        return 2
    _route_waitress_log()
    main_thread = threading.get_ident()
    drained = threading.Event()
    draining = threading.Lock()

    def drain_then_wake_main() -> None:
        manager.drain()
        drained.set()
        signal.pthread_kill(main_thread, signal.SIGTERM)  # wakes the server loop to exit

    def on_signal(signum: int, _frame: object) -> None:
        if drained.is_set():
            raise SystemExit(0)  # waitress closes its sockets on SystemExit
        if draining.acquire(blocking=False):
            log.info("%s received: draining accepted jobs", signal.Signals(signum).name)
            threading.Thread(target=drain_then_wake_main, name="lss-drain").start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    log.info("serving on http://%s:%d", host, port)
    print(f"Le Stats Sportif serving {manager.dataset.path} on http://{host}:{port}", flush=True)
    server.run()
    shutdown(app)
    return 0


if __name__ == "__main__":
    sys.exit(main())
