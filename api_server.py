"""Start Le Stats Sportif: serve the app with granian until SIGTERM or SIGINT.

The main process checks everything a run needs (settings, log file, results folder, journal,
dataset) once, then granian forks LSS_WORKERS server processes from it, each with the app, its own
job pool, and the dataset inherited from the main process. A start-up problem is one line on
stderr and exit code 2. On SIGTERM or SIGINT granian stops taking requests and ends the server
processes, each of which first finishes every job it accepted; then all exit 0. A server process
that dies is started again, and the jobs it left unfinished are run again.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import sys
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from granian import Granian

    from app.serving.adapter import BufferedWSGI
    from app.startup import Prepared

#: What granian is told to serve; the server processes build it with `_load_service` instead.
SERVICE = "app:create_app"
#: Linux prctl option: the signal a process gets when its parent dies.
_PR_SET_PDEATHSIG = 1


def _stop_start_up(signum: int, frame: Any) -> None:
    """SIGTERM or SIGINT before the server is up: nothing was accepted, nothing to drain, so
    leave at once (an exception raised here could be swallowed by whatever code it lands in)."""
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":  # as early as possible: granian installs its own once it serves
    for _signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(_signum, _stop_start_up)


def _end_with_supervisor() -> None:
    """On Linux, have the kernel kill this server process if granian's main process dies first,
    so that a crashed server leaves no orphan holding the port."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _stop_at_once_until_serving() -> None:
    """In a new server process, until granian's own handlers are in place, a stop signal ends it
    at once: it has accepted nothing yet, and jobs it adopted are still unfinished in the journal.
    Run right after the fork (the handlers inherited from the main process would swallow it)."""
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: os._exit(0))


def _load_service(prepared: Prepared, _target: str) -> BufferedWSGI:
    """Build the service inside a granian server process, from the main process's checked start:
    the Flask app, behind the layer that gathers each request's body before a thread runs it."""
    _end_with_supervisor()
    _stop_at_once_until_serving()  # again: under the "spawn" start method no fork hook runs
    from multiprocessing import util

    from app import create_app, shutdown  # Flask is needed here only
    from app.config import StartupError
    from app.serving.adapter import BufferedWSGI

    try:
        app = create_app(prepared=prepared)
    except StartupError as error:  # the main process checked it all; only a race gets here
        print(f"le-stats-sportif: cannot start: {error.message}", file=sys.stderr, flush=True)
        os._exit(2)
    # The server process leaves through os._exit, which skips atexit; multiprocessing runs its
    # own exit finalizers just before. This one drains the accepted jobs and writes out the log.
    util.Finalize(None, shutdown, args=(app,), exitpriority=100)
    return BufferedWSGI.around(app)


def check_port(host: str, port: int) -> None:
    """Raise OSError if something already listens on host:port.

    granian binds with SO_REUSEPORT, so a second server would silently share the port with the
    first (each with its own jobs) instead of failing; a plain bind finds out first.
    """
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is no listener
        probe.bind(address)


def make_server(
    target: str, host: str, port: int, threads: int, workers: int = 1, rsgi: bool = True
) -> Granian:
    """The server `make run` uses for `target`, a "module:factory" making an RSGI application
    that runs its own `threads` (the service: app/serving); with `rsgi` False, a WSGI one that
    granian runs in `threads` threads of its own (the benchmark's raw WSGI limit)."""
    from granian import Granian  # here: importing it takes long enough to race a signal
    from granian.constants import Interfaces

    return Granian(
        target,
        factory=True,
        interface=Interfaces.RSGI if rsgi else Interfaces.WSGI,
        address=host,
        port=port,
        workers=workers,
        blocking_threads=None if rsgi else threads,
        websockets=False,
        respawn_failed_workers=True,
        log_level="warning",
    )


def serve(settings: dict[str, Any], loader: Callable[[str], Any]) -> None:
    """Serve `loader`'s app with the settings' address, threads and processes until stopped."""
    server = make_server(
        SERVICE, settings["HOST"], settings["PORT"], settings["SERVER_THREADS"], settings["WORKERS"]
    )
    server.serve(target_loader=loader)


def warn_if_exposed(settings: dict[str, Any]) -> None:
    """Bound beyond loopback without LSS_ADMIN_TOKEN: say so once, on stderr (one line)."""
    from app.policy.hosts import is_loopback

    if not settings["ADMIN_TOKEN"] and not is_loopback(settings["HOST"]):
        print(
            f"warning: LSS_HOST={settings['HOST']} is reachable from other machines and "
            "LSS_ADMIN_TOKEN is not set: graceful_shutdown answers clients on this machine only "
            "(docs/network.md)",
            file=sys.stderr,
            flush=True,
        )


def main() -> int:
    """Check, prepare, then serve until a signal has drained every server process; the exit code."""
    from app import config  # here: the stop signals are caught from the first line of the module
    from app.config import StartupError

    settings: dict[str, Any] = {}
    metrics_folder = None
    try:
        settings = config.load()
        check_port(settings["HOST"], settings["PORT"])
        warn_if_exposed(settings)
        from app.startup import prepare  # loads pandas: after the cheap checks

        prepared = prepare(settings)
        if settings["METRICS"]:  # before the server processes import prometheus_client
            from app.metrics.folder import make_run_folder

            metrics_folder = make_run_folder()
        workers = settings["WORKERS"]
        print(
            f"Le Stats Sportif serving {prepared.dataset.path} on "
            f"http://{settings['HOST']}:{settings['PORT']} "
            f"({workers} server process{'es' if workers > 1 else ''})",
            flush=True,
        )
        os.register_at_fork(after_in_child=_stop_at_once_until_serving)
        serve(settings, partial(_load_service, prepared))
    except StartupError as error:
        print(f"le-stats-sportif: cannot start: {error.message}", file=sys.stderr)
        return 2
    except OSError as error:  # the port (prepare turns its own OSErrors into StartupErrors)
        where = f"{settings.get('HOST')}:{settings.get('PORT')}"
        print(f"le-stats-sportif: cannot listen on {where}: {error}", file=sys.stderr)
        return 2
    except SystemExit as exit_:  # granian's way to report a server process that failed
        return exit_.code if isinstance(exit_.code, int) else 1
    finally:
        if metrics_folder is not None:
            from app.metrics.folder import remove_run_folder

            remove_run_folder(metrics_folder)
    return 0


def command(argv: list[str] | None = None) -> int:
    """`lss-server` (and `python api_server.py`): serve, or say the version. The settings are
    the environment's (LSS_*), as for `make run`; a problem is one line and exit code 2."""
    for signum in (signal.SIGTERM, signal.SIGINT):  # until granian installs its own
        signal.signal(signum, _stop_start_up)
    args = sys.argv[1:] if argv is None else argv
    if args in (["--version"], ["-V"]):
        from app.distribution.version import VERSION

        print(f"lss-server {VERSION}")
        return 0
    if args in (["--help"], ["-h"]):
        print(
            "usage: lss-server [--version]\n\nServe Le Stats Sportif until SIGTERM or SIGINT. "
            "Settings come from the environment (LSS_HOST, LSS_PORT, LSS_DATA_FILE, "
            "LSS_RESULTS_DIR, ...: see the README's settings table)."
        )
        return 0
    if args:
        print(f"le-stats-sportif: cannot start: unknown arguments {' '.join(args)!r} "
              "(lss-server takes only --version or --help)", file=sys.stderr)  # fmt: skip
        return 2
    return main()


if __name__ == "__main__":
    sys.exit(command())
