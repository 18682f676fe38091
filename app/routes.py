"""The HTTP API: the service endpoints here, the two job routes in app.gateway."""

from __future__ import annotations

import os
from collections.abc import Iterator
from itertools import chain, islice

from flask import Blueprint, Flask, Response, current_app, request

from app.analytics.catalog import question_catalog
from app.distribution.version import VERSION
from app.engine.interface import Engine
from app.errors import InvalidInput, ShuttingDown
from app.gateway import JobGateway
from app.prefer import HeldRequests

bp = Blueprint("api", __name__, url_prefix="/api")

#: Most jobs `GET /api/jobs/recent` lists, and how many it lists unless asked.
RECENT_LIMIT = 500
RECENT_DEFAULT = 50
#: Jobs per chunk of the streamed `GET /api/jobs` body.
_CHUNK = 1024


def _engine() -> Engine:
    return current_app.extensions["lss.engine"]


@bp.get("/jobs")
def jobs():
    """Every live job and its status, in id order: streamed, since there may be millions."""
    rows = _engine().statuses()
    first = list(islice(rows, 1))  # a journal that cannot be read fails here, as a 503

    def body() -> Iterator[bytes]:
        yield b'{"status":"done","data":['
        items = (b'{"%s":"%s"}' % (i.encode(), s.value.encode()) for i, s in chain(first, rows))
        separator = b""
        while chunk := list(islice(items, _CHUNK)):
            yield separator + b",".join(chunk)
            separator = b","
        yield b"]}"

    return Response(body(), mimetype="application/json")


@bp.get("/jobs/recent")
def recent_jobs():
    """Live jobs counted by status, and the latest ones with their times (the job monitor)."""
    raw = request.args.get("limit", str(RECENT_DEFAULT))
    # ASCII digits only: "²".isdigit() is True, and int() refuses it (a 500 before this check).
    limit = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 6 else 0
    if not 1 <= limit <= RECENT_LIMIT:
        raise InvalidInput(
            f"parameter 'limit' must be a whole number from 1 to {RECENT_LIMIT}, got {raw!r}"
        )
    return _engine().recent(limit)


@bp.get("/num_jobs")
def num_jobs():
    return {"num_jobs": _engine().num_pending()}


@bp.route("/graceful_shutdown", methods=["GET", "POST"])
def graceful_shutdown():
    """Begin a graceful shutdown (who may: app.policy.admin)."""
    remaining = _engine().close()
    return {"status": "running" if remaining else "done"}


@bp.get("/questions")
def questions():
    """The nine questions, each with its better end, its years, categories and strata."""
    catalog = current_app.extensions.get("lss.questions")
    if catalog is None:  # the same for the life of the app: made once
        table = _engine().dataset.rows
        catalog = current_app.extensions["lss.questions"] = {"questions": question_catalog(table)}
    return catalog


@bp.get("/states")
def states():
    return {"states": _engine().dataset.locations}


@bp.get("/health")
def health():
    """200 when this process can serve; 503 with the reasons when not, or when shutting down."""
    engine = _engine()
    reasons, details = engine.health()
    reasons += current_app.extensions["lss.admission"].reasons()
    log_failure = current_app.extensions["lss.log"].failure
    if log_failure is not None:  # the service still serves: said, not a reason for a 503
        details["log"] = log_failure
    if engine.closed_here or (not reasons and engine.closed):
        raise ShuttingDown()
    if reasons:
        body = {"status": "error", "reason": "; ".join(reasons), "reasons": reasons}
        return {**body, "version": VERSION, **details}, 503
    return {"status": "ok", "version": VERSION, **details}


@bp.get("/version")
def version():
    """The service's version and the loaded dataset's SHA-256."""
    return {"version": VERSION, "dataset_sha256": _engine().dataset.sha256}


@bp.get("/livez")
def livez():
    """200 for as long as this process answers at all: no I/O, no lock, no engine."""
    return {"status": "ok", "pid": os.getpid()}


@bp.get("/readyz")
def readyz():
    """200 when this process should be sent requests; 503 with the reasons when not (the job
    store does not take a write, no worker answers, a graceful shutdown began...)."""
    reasons = _engine().ready()
    if reasons:
        body = {"status": "error", "reason": "; ".join(reasons), "reasons": reasons}
        return {**body, "pid": os.getpid()}, 503
    return {"status": "ok", "pid": os.getpid()}


def init_app(app: Flask) -> None:
    """Mount the API: the job routes in front of Flask, the others as a blueprint."""
    app.register_blueprint(bp)
    # A held request keeps a request thread: one is always left for health and reads. Shared by
    # `Prefer: wait` and the GET answers (app.answers).
    held = app.extensions["lss.held"] = HeldRequests(app.config["SERVER_THREADS"] - 1)
    app.wsgi_app = gateway = JobGateway(  # type: ignore[method-assign]
        app.wsgi_app,
        app.extensions["lss.engine"],
        app.extensions["lss.log"],
        max_body=app.config["MAX_CONTENT_LENGTH"],
        result_wait=app.config["RESULT_WAIT_MS"] / 1000,
        held=held,
    )
    # Polls answered on the server's event loop when their final body is at hand (app/serving).
    app.extensions["lss.at_hand"] = gateway.at_hand
