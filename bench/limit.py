"""The raw WSGI limit: the two job routes answered inline from precomputed answers, nothing else.

Run by `python -m bench.limit` (LSS_DATA_FILE, LSS_PORT and the server settings as the service).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import orjson

from bench.workload import Key, build_plan, done_body

#: Answers kept for polling; older ones are dropped (a closed loop polls right away).
KEEP = 1 << 16
_JSON = ("Content-Type", "application/json")


def create_app() -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    """The WSGI callable, its answers computed from LSS_DATA_FILE."""
    plan = build_plan(Path(os.environ["LSS_DATA_FILE"]))
    answers = {key: done_body(data) for key, data in plan.expected.items()}
    ids = itertools.count(1)
    results: dict[int, bytes] = {}

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ["PATH_INFO"]
        if environ["REQUEST_METHOD"] == "POST":
            body = orjson.loads(environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"])))
            number = next(ids)
            results[number] = answers[Key(path[5:], body["question"], body.get("state"))]
            results.pop(number - KEEP, None)
            out = b'{"job_id":"job_id_%d"}' % number
        elif path.startswith("/api/get_results/job_id_"):
            out = results[int(path[24:])]
        else:  # /api/health, for the benchmark's readiness check
            out = b'{"status":"ok"}'
        start_response("200 OK", [_JSON, ("Content-Length", str(len(out)))])
        return (out,)

    return app


def main() -> None:
    """Serve the limit app with the service's own server settings (address, threads, processes)."""
    from api_server import check_port, make_server
    from app import config

    settings = config.load()  # LSS_HOST, LSS_PORT, LSS_SERVER_THREADS, LSS_WORKERS
    check_port(settings["HOST"], settings["PORT"])
    make_server(
        "bench.limit:create_app",
        settings["HOST"],
        settings["PORT"],
        settings["SERVER_THREADS"],
        settings["WORKERS"],
        rsgi=False,  # the limit stays granian's raw WSGI, without the service's RSGI layer
    ).serve()


if __name__ == "__main__":
    main()
