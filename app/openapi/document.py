"""The OpenAPI 3.1 document of every route, served at /api/openapi.json.

It is built from the same tables the service runs on (the tasks, the questions, the loaded
locations, categories and strata), so the enums it lists are the values the running server
accepts. A test compares its paths with the real routes (Flask's URL map and the gateway's) both
ways, and schemathesis checks the answers against it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flask import Blueprint, Flask, current_app

from app.analytics.catalog import loaded_strata
from app.distribution.version import VERSION
from app.openapi.answer_paths import answer_paths
from app.openapi.examples import request_examples
from app.openapi.operating import operating_paths
from app.openapi.paths import (
    ADMIN_TOKEN_SCHEME,
    HTML,
    JSON,
    error_answer,
    get_operation,
    html_answer,
    json_answer,
    results_path,
    shutdown_path,
    submit_path,
)
from app.openapi.schemas import ref, schemas
from app.questions import STRATA
from app.task import TASKS

bp = Blueprint("openapi", __name__, url_prefix="/api")


def build_document(
    locations: list[str],
    strata: Mapping[str, Sequence[str]] = STRATA,
    metrics: bool = True,
    examples: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The OpenAPI 3.1 document for a server that loaded data for `locations`, in the
    stratification categories `strata` (category -> its strata; by default SPEC §2's), serving
    /metrics unless `metrics` is false; `examples`: a request body per endpoint that the loaded
    data answers (app.openapi.examples)."""
    ok = {"type": "object", "required": ["status"], "properties": {"status": {"type": "string"}}}
    examples = examples or {}
    paths: dict[str, Any] = {
        f"/api/{endpoint}": submit_path(endpoint, examples.get(endpoint)) for endpoint in TASKS
    }
    paths["/api/get_results/{job_id}"] = results_path()
    paths |= answer_paths(strata)
    service = {"tags": ["service"]}
    paths |= {
        "/api/jobs": get_operation(
            "jobs",
            "Every live job and its status, in id order",
            {
                "200": json_answer(
                    {
                        **ok,
                        "properties": {
                            "status": {"const": "done"},
                            "data": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "additionalProperties": {"enum": ["running", "done", "error"]},
                                },
                            },
                        },
                    },
                    "[{job_id: status}, ...]",
                )
            },
            **service,
        ),
        "/api/jobs/recent": get_operation(
            "jobs_recent",
            "Live jobs counted by status, and the latest ones with their times",
            {
                "200": json_answer(
                    ref("RecentJobs"), "Counts over every live job; latest job first"
                ),
                "400": error_answer("limit is not a whole number from 1 to 500"),
                "503": error_answer("The job store is unavailable"),
            },
            parameters=[
                {
                    "name": "limit",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50},
                }
            ],
            **service,
        ),
        "/api/num_jobs": get_operation(
            "num_jobs",
            "Jobs queued or executing right now",
            {
                "200": json_answer(
                    {
                        "type": "object",
                        "required": ["num_jobs"],
                        "properties": {"num_jobs": {"type": "integer", "minimum": 0}},
                    },
                    "The count",
                )
            },
            **service,
        ),
        "/api/graceful_shutdown": shutdown_path(),
        "/api/questions": get_operation(
            "questions",
            "The nine questions: which end of each is better, and the years, categories and "
            "strata the loaded data has for it",
            {
                "200": json_answer(
                    {
                        "type": "object",
                        "required": ["questions"],
                        "properties": {
                            "questions": {
                                "type": "array",
                                "items": ref("QuestionCatalog"),
                            }
                        },
                    },
                    "The questions in SPEC order",
                )
            },
            **service,
        ),
        "/api/states": get_operation(
            "states",
            "Every location in the loaded data, by name",
            {
                "200": json_answer(
                    {
                        "type": "object",
                        "required": ["states"],
                        "properties": {"states": {"type": "array", "items": ref("Location")}},
                    },
                    "The locations",
                )
            },
            **service,
        ),
        "/api/health": get_operation(
            "health",
            "Whether the service can take and run jobs, with its counters",
            {
                "200": json_answer(
                    {
                        **ok,
                        "properties": {
                            "status": {"const": "ok"},
                            "version": {"type": "string"},
                            "engine": {"enum": ["embedded", "celery"]},
                            "pid": {"type": "integer"},
                            "workers": {"type": "integer"},
                            "dataset": ref("Dataset"),
                        },
                        "description": "More counters may follow; clients ignore unknown ones.",
                    },
                    "Healthy: the status, the engine, the answering process and its counters",
                ),
                "503": error_answer("Unhealthy (with reasons and counters) or shutting down"),
            },
            **service,
        ),
        "/api/openapi.json": get_operation(
            "openapi",
            "This document",
            {"200": json_answer({"type": "object"}, "OpenAPI 3.1")},
            **service,
        ),
    }
    paths |= operating_paths(metrics)
    pages = {"tags": ["pages"]}
    paths |= {
        "/": get_operation(
            "page_dashboard",
            "Dashboard: map, ranking, national mean",
            {"200": html_answer("HTML page")},
            **pages,
        ),
        "/states/{name}": get_operation(
            "page_state",
            "A location against the national mean, and its breakdown by category",
            {
                "200": html_answer("HTML page"),
                "404": {
                    "description": "No such location (HTML); a name with a slash is no page "
                    "at all (the JSON error)",
                    "content": {
                        HTML: {"schema": {"type": "string"}},
                        JSON: {"schema": ref("Error")},
                    },
                },
            },
            parameters=[
                {"name": "name", "in": "path", "required": True, "schema": ref("Location")}
            ],
            **pages,
        ),
        "/jobs": get_operation(
            "page_jobs", "Live job monitor", {"200": html_answer("HTML page")}, **pages
        ),
        "/api/docs": get_operation(
            "page_docs",
            "Interactive documentation of this document",
            {"200": html_answer("HTML page")},
            **pages,
        ),
        "/pages/static/{filename}": get_operation(
            "page_static",
            "The pages' scripts, styles, map shapes and their vendored libraries",
            {
                "200": {"description": "The file", "content": {"*/*": {"schema": {}}}},
                "404": error_answer("No such file"),
            },
            parameters=[
                {
                    "name": "filename",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string"},
                    "example": "js/lss.js",
                }
            ],
            **pages,
        ),
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Le Stats Sportif",
            "version": VERSION,
            "description": "Statistics on US adult health per state (the loaded dataset is named "
            "at GET /api/health). POST a question, get a job id at once, poll "
            "GET /api/get_results/{job_id}; or GET /api/answers/{endpoint}.json (or .csv) with the "
            "question in the query for the answer in one request. Every error body is "
            '{"status": "error", "reason": "..."}. A server bound to loopback answers 421 to a '
            "Host other than its own names (LSS_ALLOWED_HOSTS adds some).",
        },
        "tags": [
            {"name": "jobs", "description": "Submit questions and fetch their answers"},
            {"name": "answers", "description": "A question in a URL: its answer in one GET"},
            {"name": "service", "description": "The service's state and its vocabularies"},
            {"name": "pages", "description": "HTML pages and their static files"},
        ],
        "paths": paths,
        "components": {
            "schemas": schemas(locations, strata),
            "securitySchemes": {"adminToken": ADMIN_TOKEN_SCHEME},
        },
    }


@bp.get("/openapi.json")
def openapijson_answer() -> dict[str, Any]:
    """This server's OpenAPI document."""
    document = current_app.extensions.get("lss.openapi")
    if document is None:
        dataset = current_app.extensions["lss.engine"].dataset
        metrics = bool(current_app.config.get("METRICS"))
        document = build_document(
            dataset.locations, loaded_strata(dataset.rows), metrics, request_examples(dataset)
        )
        current_app.extensions["lss.openapi"] = document
    return document


def init_app(app: Flask) -> None:
    """Serve /api/openapi.json."""
    app.register_blueprint(bp)
