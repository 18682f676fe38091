"""The job routes served in front of Flask: the HTTP corners the envelope table does not reach."""

from __future__ import annotations

import io
import os
import re
from typing import Any

import orjson
import pytest

from app.task import StatesMean
from unittests.conftest import OBESITY


def _call(app, method: str, path: str, body: bytes = b"", **environ: Any):
    """Run one raw WSGI request through the app: (status line, headers, body)."""
    env = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "5000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "CONTENT_LENGTH": str(len(body)),
    }
    env.update(environ)
    started: list[Any] = []
    chunks = app(env, lambda status, headers, exc_info=None: started.extend([status, headers]))
    return started[0], dict(started[1]), b"".join(chunks)


def _log_text(app) -> str:
    app.extensions["lss.log"].flush()
    return open(app.config["LOG_FILE"], encoding="utf-8").read()


BODY = orjson.dumps({"question": OBESITY})


def test_head_of_a_result_sends_its_headers_only(app):
    _call(app, "POST", "/api/global_mean", BODY)
    status, headers, body = _call(app, "HEAD", "/api/get_results/job_id_1")
    _, _, full = _call(app, "GET", "/api/get_results/job_id_1")
    assert status == "200 OK"
    assert body == b""
    assert headers["Content-Length"] == str(len(full))
    assert headers["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    ("path", "allowed"),
    [("/api/states_mean", "OPTIONS, POST"), ("/api/get_results/job_id_1", "GET, HEAD, OPTIONS")],
)
def test_options_lists_the_methods_like_every_other_route(app, path, allowed):
    status, headers, body = _call(app, "OPTIONS", path)
    assert (status, headers["Allow"], body) == ("200 OK", allowed, b"")
    _, flask_headers, _ = _call(app, "OPTIONS", "/api/jobs")  # served by Flask, in any order
    assert set(flask_headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


def test_wrong_method_names_the_allowed_ones_in_the_header_too(app):
    status, headers, body = _call(app, "DELETE", "/api/get_results/job_id_1")
    assert status == "405 METHOD NOT ALLOWED"
    assert headers["Allow"] == "GET, HEAD, OPTIONS"
    assert orjson.loads(body)["reason"] == "method not allowed; allowed: GET, HEAD, OPTIONS"


def test_a_body_sent_without_a_length_is_read_up_to_the_limit(make_app):
    app = make_app(MAX_CONTENT_LENGTH=len(BODY))
    chunked = {"CONTENT_LENGTH": "", "wsgi.input_terminated": True}
    status, _, body = _call(app, "POST", "/api/global_mean", BODY, **chunked)
    assert (status, orjson.loads(body)) == ("200 OK", {"job_id": "job_id_1"})
    status, _, body = _call(app, "POST", "/api/global_mean", BODY + b" ", **chunked)
    assert status == "413 REQUEST ENTITY TOO LARGE"
    assert orjson.loads(body)["reason"] == f"request body too large (limit {len(BODY)} bytes)"
    assert f"-> POST /api/global_mean body=<over {len(BODY)} bytes>" in _log_text(app)


@pytest.mark.parametrize("length", ["", "ten", "-5"])
def test_a_missing_or_bad_length_reads_as_an_empty_body(app, length):
    status, _, body = _call(app, "POST", "/api/global_mean", BODY, CONTENT_LENGTH=length)
    assert status == "400 BAD REQUEST"
    assert orjson.loads(body)["reason"] == "request body must be a JSON object"


def test_an_unexpected_error_is_a_logged_500_and_the_next_request_is_served(app, monkeypatch):
    def broken(cls, payload, dataset):
        raise RuntimeError("validator bug")

    monkeypatch.setattr(StatesMean, "from_payload", classmethod(broken))
    status, _, body = _call(app, "POST", "/api/states_mean", BODY)
    assert status == "500 INTERNAL SERVER ERROR"
    assert orjson.loads(body) == {"status": "error", "reason": "internal error; see the server log"}
    monkeypatch.undo()
    assert _call(app, "POST", "/api/states_mean", BODY)[0] == "200 OK"
    text = _log_text(app)
    # The error line carries the request's id, as its exit line does.
    who = rf"\[{os.getpid()} MainThread req=([^\]]+)\]"
    (request_id,) = re.findall(rf"ERROR {who} unhandled error in POST /api/states_mean", text)
    assert "RuntimeError: validator bug" in text
    assert re.findall(rf"INFO {who} <- POST /api/states_mean 500 ", text) == [request_id]


def test_a_path_is_logged_as_the_client_sent_it(app):
    path = "/api/get_results/job_id_é".encode().decode("latin-1")  # how WSGI hands it over
    assert _call(app, "GET", path)[0] == "404 NOT FOUND"
    assert "<- GET /api/get_results/job_id_é 404 job_id=job_id_é" in _log_text(app)


@pytest.mark.parametrize("path", ["/api/states_mean", "/api/get_results/job_id_1", "/api/jobs"])
def test_an_error_that_says_when_to_come_back_sends_retry_after(app, monkeypatch, path):
    """A refusal with a `retry_after` (a full disk, too many jobs) tells the client when, on the
    job routes and on Flask's alike; one without sends no Retry-After."""
    from app.errors import Unavailable

    def refuse(*_args: Any, **_kwargs: Any):
        raise Unavailable("come back later", retry_after=7)

    engine = app.extensions["lss.engine"]
    for name in ("submit", "result", "statuses"):
        monkeypatch.setattr(engine, name, refuse)
    method = "POST" if path == "/api/states_mean" else "GET"
    status, headers, body = _call(app, method, path, BODY)
    assert status == "503 SERVICE UNAVAILABLE"
    assert headers["Retry-After"] == "7"
    assert orjson.loads(body) == {"status": "error", "reason": "come back later"}
    monkeypatch.setattr(engine, "submit", lambda *_: (_ for _ in ()).throw(Unavailable("down")))
    status, headers, _ = _call(app, "POST", "/api/states_mean", BODY)
    assert status == "503 SERVICE UNAVAILABLE"
    assert "Retry-After" not in headers
