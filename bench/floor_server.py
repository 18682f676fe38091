"""Serve the floor app: ``python -m bench.floor_server --port P [--server granian|waitress|...]``.

granian (the default) is built by api_server.make_server, the function that serves the service,
so the two differ only in the application. waitress and cheroot are there for the server
comparison. The data file comes from LSS_DATA_FILE, as for the service. SIGTERM ends the process.
"""

from __future__ import annotations

import argparse
import os
import sys

from app import config

SERVERS = ("granian", "waitress", "cheroot")
#: The floor's factory, as granian imports it in its worker.
FLOOR = "bench.floor:app_from_env"


def server_threads() -> int:
    """The WSGI thread count api_server.py uses (LSS_SERVER_THREADS, else the config default)."""
    return int(config.load()["SERVER_THREADS"])


def serve_granian(host: str, port: int, threads: int) -> None:
    """Serve the floor with the very server api_server.py builds for the service."""
    from api_server import check_port, make_server

    check_port(host, port)
    make_server(FLOOR, host, port, threads).serve()


def serve_waitress(app: object, host: str, port: int, threads: int) -> None:
    """Serve `app` with waitress, as the service was served before granian."""
    import waitress

    waitress.serve(
        app, host=host, port=port, threads=threads, connection_limit=1000, asyncore_use_poll=True
    )


def serve_cheroot(app: object, host: str, port: int, threads: int) -> None:
    """Serve `app` with cheroot's thread-pool WSGI server."""
    from cheroot import wsgi

    server = wsgi.Server((host, port), app, numthreads=threads, server_name="lss-floor")
    try:
        server.start()
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, build the floor app and serve it until the process is ended."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", choices=SERVERS, default="granian")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=None, help="default: as the service")
    args = parser.parse_args(argv)
    threads = args.threads or server_threads()
    if "LSS_DATA_FILE" not in os.environ:
        os.environ["LSS_DATA_FILE"] = str(config.load()["DATA_FILE"])
    print(f"floor ({args.server}, {threads} threads) on http://{args.host}:{args.port}", flush=True)
    if args.server == "granian":  # the worker builds the app
        serve_granian(args.host, args.port, threads)
        return 0
    from app.data_ingestor import DatasetError  # here only: granian's main process stays light
    from bench.floor import app_from_env

    try:
        app = app_from_env()
    except DatasetError as error:
        print(f"floor: cannot start: {error}", file=sys.stderr)
        return 2
    serve = serve_waitress if args.server == "waitress" else serve_cheroot
    serve(app, args.host, args.port, threads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
