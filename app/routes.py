"""The HTTP API: the read-only service endpoints here, the job routes in app.gateway."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app

from app.gateway import JobGateway
from app.manager import JobManager
from app.questions import QUESTIONS

bp = Blueprint("api", __name__, url_prefix="/api")


def _manager() -> JobManager:
    return current_app.extensions["lss.jobs"]


@bp.get("/jobs")
def jobs():
    statuses = [{job_id: status.value} for job_id, status in _manager().statuses()]
    return {"status": "done", "data": statuses}


@bp.get("/num_jobs")
def num_jobs():
    return {"num_jobs": _manager().num_pending}


@bp.get("/graceful_shutdown")
def graceful_shutdown():
    remaining = _manager().close()
    return {"status": "running" if remaining else "done"}


@bp.get("/questions")
def questions():
    return {"questions": [{"question": q, "best_is": best.value} for q, best in QUESTIONS.items()]}


@bp.get("/states")
def states():
    return {"states": _manager().dataset.locations}


@bp.get("/health")
def health():
    manager = _manager()
    pool = manager.pool
    return {
        "status": "shutting down" if manager.closed else "ok",
        "dataset": manager.dataset.describe(),
        "threads": pool.num_threads if pool else 0,
        "threads_alive": pool.alive if pool else 0,
        "jobs_issued": manager.jobs_issued,
        "jobs_pending": manager.num_pending,
    }


def init_app(app: Flask) -> None:
    """Mount the API: the job routes in front of Flask, the others as a blueprint."""
    app.register_blueprint(bp)
    app.wsgi_app = JobGateway(  # type: ignore[method-assign]
        app.wsgi_app,
        app.extensions["lss.jobs"],
        app.extensions["lss.log"],
        max_body=app.config["MAX_CONTENT_LENGTH"],
        result_wait=app.config["RESULT_WAIT_MS"] / 1000,
    )
