"""The HTTP API: job submission, results, and the read-only service endpoints."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, g, request

from app.errors import InvalidInput
from app.manager import JobManager
from app.questions import QUESTIONS
from app.task import TASKS

bp = Blueprint("api", __name__, url_prefix="/api")


def _manager() -> JobManager:
    return current_app.extensions["lss.jobs"]


def _json_body() -> object:
    """The request body parsed as JSON (whatever its content type); InvalidInput if it is not."""
    payload = request.get_json(force=True, silent=True)
    if payload is None:
        raise InvalidInput("request body must be a JSON object")
    return payload


def _submit(task_name: str):
    """Validate the body for the task, accept it as a job and answer with the job id."""
    manager = _manager()
    task = TASKS[task_name].from_payload(_json_body(), manager.dataset)
    g.job_id = manager.submit(task)
    return {"job_id": g.job_id}


for _name in TASKS:
    bp.add_url_rule(
        f"/{_name}",
        endpoint=_name,
        view_func=_submit,
        methods=["POST"],
        defaults={"task_name": _name},
    )


@bp.get("/get_results/<path:job_id>")
def get_results(job_id: str):
    g.job_id = job_id
    wait = current_app.config["RESULT_WAIT_MS"] / 1000
    return Response(_manager().result(job_id, wait), mimetype="application/json")


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
    """Mount the API."""
    app.register_blueprint(bp)
