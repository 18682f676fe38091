"""The raw WSGI limit: the two job routes answered inline from precomputed answers, nothing else.

No framework, no validation, no pool, no result files, no journal, no log: what the HTTP server
(granian, as `make run` configures it) and the machine allow for one submit and its polls. The
service's throughput is reported as a fraction of this app's, measured side by side.
Serve with `python -m bench.limit` (LSS_DATA_FILE, LSS_HOST and LSS_PORT as for the service).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterable
from typing import Any

import orjson

from app.data_ingestor import load_dataset
from app.engine.interface import done_body
from app.task import TASKS

#: Answers kept for polling; older ones are dropped (a closed loop polls right away).
KEEP = 1 << 16
_JSON = ("Content-Type", "application/json")


def _answers(path: str) -> dict[tuple[str, str, str | None], bytes]:
    """The done body of every (endpoint, question, state) the data can answer."""
    dataset = load_dataset(path)
    answers = {}
    for endpoint, task in TASKS.items():
        for question, index in dataset.questions.items():
            for state in index.state_means if task.needs_state else [None]:
                answers[(endpoint, question, state)] = done_body(
                    task(question, state).compute(dataset)
                )
    return answers


def create_app() -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    """The WSGI callable, its answers computed from LSS_DATA_FILE."""
    answers = _answers(os.environ["LSS_DATA_FILE"])
    ids = itertools.count(1)
    results: dict[int, bytes] = {}

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ["PATH_INFO"]
        if environ["REQUEST_METHOD"] == "POST":
            body = orjson.loads(environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"])))
            number = next(ids)
            results[number] = answers[(path[5:], body["question"], body.get("state"))]
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
    ).serve()


if __name__ == "__main__":
    main()
