"""The floor: the least a Flask app can do to speak the job API, answering from precomputed bytes.

POST /api/<endpoint> only looks the answer up and hands out the next id; GET get_results returns the
precomputed body. No validation beyond the lookup, no pool, no files, no logging: whatever the
service costs above this is the price of its jobs, files and logs.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import orjson
from flask import Flask, Response, request

from bench.load import Key, Plan
from bench.workload import done_body, load_plan

_JSON = "application/json"
_PREFIX = "job_id_"


def create_floor_app(plan: Plan) -> Flask:
    """A Flask app answering the nine endpoints inline from `plan`'s expected answers."""
    app = Flask(__name__)
    answers = {key: done_body(data) for key, data in plan.expected.items()}
    ids = itertools.count(1)  # next() on a count is atomic under the GIL
    issued: dict[int, Key] = {}

    @app.post("/api/<endpoint>")
    def submit(endpoint: str) -> Response:
        payload = orjson.loads(request.get_data())
        key = Key(endpoint, payload.get("question"), payload.get("state"))
        if key not in answers:
            return Response(b'{"status":"error","reason":"unknown"}', 400, mimetype=_JSON)
        number = next(ids)
        issued[number] = key
        return Response(b'{"job_id":"job_id_%d"}' % number, mimetype=_JSON)

    @app.get("/api/get_results/<job_id>")
    def get_results(job_id: str) -> Response:
        digits = job_id[len(_PREFIX) :]
        key = issued.get(int(digits)) if job_id.startswith(_PREFIX) and digits.isdigit() else None
        if key is None:
            return Response(b'{"status":"error","reason":"Invalid job_id"}', 404, mimetype=_JSON)
        return Response(answers[key], mimetype=_JSON)

    @app.get("/api/health")
    def health() -> Response:
        return Response(
            orjson.dumps({"status": "ok", "floor": True, "answers": len(answers)}), mimetype=_JSON
        )

    return app


def app_from_env() -> Flask:
    """The floor app for the data file named by LSS_DATA_FILE (the gunicorn entry point)."""
    return create_floor_app(load_plan(Path(os.environ["LSS_DATA_FILE"])))
