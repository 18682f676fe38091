"""The OpenAPI 3.1 document of every route, served at /api/openapi.json.

It is built from the same tables the service runs on (the nine tasks, the questions, the loaded
locations), so the enums it lists are the values the running server accepts. A test compares its
paths with the real routes (Flask's URL map and the gateway's) both ways, and schemathesis checks
the answers against it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, current_app

from app.openapi.schemas import DATA, ref, schemas
from app.task import TASKS

bp = Blueprint("openapi", __name__, url_prefix="/api")

_JSON = "application/json"
_HTML = "text/html"


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {_JSON: {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(ref("Error"), description)


def _html(description: str) -> dict[str, Any]:
    return {"description": description, "content": {_HTML: {"schema": {"type": "string"}}}}


#: The request header of SPEC §14 on every POST.
_PREFER = {
    "name": "Prefer",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
    "example": "wait=5",
    "description": "RFC 7240. `wait=N` (seconds, at most 30): hold the request until the job "
    "is done or N s passed; a server holding as many requests as it may answers at once",
}


def _submit(endpoint: str) -> dict[str, Any]:
    """POST /api/<endpoint>: one of the nine questions, answered with a job id."""
    needs_state = TASKS[endpoint].needs_state
    schema, answer = DATA[endpoint]
    return {
        "post": {
            "operationId": f"submit_{endpoint}",
            "tags": ["jobs"],
            "summary": f"Submit a {endpoint} job",
            "description": f"Starts a job; its finished answer's `data` is {answer} "
            f"(schema `{schema}`). Poll GET /api/get_results/{{job_id}}.",
            "requestBody": {
                "required": True,
                "content": {
                    _JSON: {"schema": ref("StateQuestionBody" if needs_state else "QuestionBody")}
                },
            },
            "parameters": [_PREFER],
            "responses": {
                "200": {
                    **_json(
                        {"oneOf": [ref("JobAccepted"), ref("JobAnswered")]},
                        "Accepted: the job's id; with `Prefer: wait=N` and the job finished "
                        "within N s, its id with its done or error body",
                    ),
                    "headers": {
                        "Preference-Applied": {
                            "description": "`wait=N` when the answer is the finished job's",
                            "schema": {"type": "string"},
                        }
                    },
                    "links": {
                        "GetResult": {
                            "operationId": "get_results",
                            "parameters": {"job_id": "$response.body#/job_id"},
                        }
                    },
                },
                "400": _error("The body is not a JSON object, or a field is missing or unknown"),
                "413": _error("The body is over the size limit"),
                "503": _error("Shutting down, or the job store is unavailable"),
            },
        }
    }


def _get(operation_id: str, summary: str, responses: dict[str, Any], **extra: Any) -> dict:
    return {
        "get": {"operationId": operation_id, "summary": summary, "responses": responses, **extra}
    }


#: The validators of a get_results answer.
_CACHE_HEADERS = {
    "ETag": {
        "description": "Of a done result only: strong, the same for the same request and data",
        "schema": {"type": "string"},
    },
    "Cache-Control": {
        "description": "`public, max-age=31536000, immutable` when done, else `no-store`",
        "schema": {"type": "string"},
    },
}


def _results() -> dict[str, Any]:
    """GET /api/get_results/{job_id}."""
    return _get(
        "get_results",
        "A job's status, or its answer once done",
        {
            "200": {
                "description": "running, done (with data) or error (the job failed); with "
                "format=csv a done job's data comes as CSV with a header row. A done result "
                "never changes: it has a strong ETag and is immutable; any other is no-store",
                "headers": _CACHE_HEADERS,
                "content": {
                    _JSON: {"schema": ref("JobResult")},
                    "text/csv": {"schema": {"type": "string"}},
                },
            },
            "304": {
                "description": "Done, and If-None-Match named its ETag: no body",
                "headers": _CACHE_HEADERS,
            },
            "400": _error("Unknown value of format"),
            "404": _error("Never issued, or not a job id: reason `Invalid job_id`"),
            "410": _error("Expired and purged: reason `job <id> expired`"),
            "503": _error("The job store is unavailable"),
        },
        tags=["jobs"],
        parameters=[
            {
                "name": "job_id",
                "in": "path",
                "required": True,
                "schema": {"type": "string"},
                "example": "job_id_1",
            },
            {
                "name": "format",
                "in": "query",
                "required": False,
                "schema": {"type": "string", "enum": ["json", "csv"], "default": "json"},
                "description": "csv: a done job's data as CSV; other answers stay JSON",
            },
            {
                "name": "If-None-Match",
                "in": "header",
                "required": False,
                "schema": {"type": "string"},
                "description": "ETags the client holds (or *): 304 if the done result has one",
            },
        ],
    )


def build_document(locations: list[str]) -> dict[str, Any]:
    """The OpenAPI 3.1 document for a server that loaded data for `locations`."""
    ok = {"type": "object", "required": ["status"], "properties": {"status": {"type": "string"}}}
    paths: dict[str, Any] = {f"/api/{endpoint}": _submit(endpoint) for endpoint in TASKS}
    paths["/api/get_results/{job_id}"] = _results()
    service = {"tags": ["service"]}
    paths |= {
        "/api/jobs": _get(
            "jobs",
            "Every live job and its status, in id order",
            {
                "200": _json(
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
        "/api/jobs/recent": _get(
            "jobs_recent",
            "Live jobs counted by status, and the latest ones with their times",
            {
                "200": _json(ref("RecentJobs"), "Counts over every live job; latest job first"),
                "400": _error("limit is not a whole number from 1 to 500"),
                "503": _error("The job store is unavailable"),
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
        "/api/num_jobs": _get(
            "num_jobs",
            "Jobs queued or executing right now",
            {
                "200": _json(
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
        "/api/graceful_shutdown": _get(
            "graceful_shutdown",
            "Stop accepting jobs; finish the accepted ones",
            {
                "200": _json(
                    {**ok, "properties": {"status": {"enum": ["running", "done"]}}},
                    "running while accepted jobs remain, then done",
                )
            },
            **service,
        ),
        "/api/questions": _get(
            "questions",
            "The nine questions and which end of each is better",
            {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["questions"],
                        "properties": {
                            "questions": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["question", "best_is"],
                                    "properties": {
                                        "question": ref("Question"),
                                        "best_is": {"enum": ["lowest", "highest"]},
                                    },
                                },
                            }
                        },
                    },
                    "The questions",
                )
            },
            **service,
        ),
        "/api/states": _get(
            "states",
            "Every location in the loaded data, by name",
            {
                "200": _json(
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
        "/api/health": _get(
            "health",
            "Whether the service can take and run jobs, with its counters",
            {
                "200": _json(
                    {
                        **ok,
                        "properties": {
                            "status": {"const": "ok"},
                            "engine": {"enum": ["embedded", "celery"]},
                            "pid": {"type": "integer"},
                            "workers": {"type": "integer"},
                            "dataset": {"type": "object"},
                        },
                        "description": "More counters may follow; clients ignore unknown ones.",
                    },
                    "Healthy: the status, the engine, the answering process and its counters",
                ),
                "503": _error("Unhealthy (with reasons and counters) or shutting down"),
            },
            **service,
        ),
        "/api/openapi.json": _get(
            "openapi", "This document", {"200": _json({"type": "object"}, "OpenAPI 3.1")}, **service
        ),
    }
    pages = {"tags": ["pages"]}
    paths |= {
        "/": _get(
            "page_dashboard",
            "Dashboard: map, ranking, national mean",
            {"200": _html("HTML page")},
            **pages,
        ),
        "/states/{name}": _get(
            "page_state",
            "A location against the national mean, and its breakdown by category",
            {
                "200": _html("HTML page"),
                "404": {
                    "description": "No such location (HTML); a name with a slash is no page "
                    "at all (the JSON error)",
                    "content": {
                        _HTML: {"schema": {"type": "string"}},
                        _JSON: {"schema": ref("Error")},
                    },
                },
            },
            parameters=[
                {"name": "name", "in": "path", "required": True, "schema": ref("Location")}
            ],
            **pages,
        ),
        "/jobs": _get("page_jobs", "Live job monitor", {"200": _html("HTML page")}, **pages),
        "/api/docs": _get(
            "page_docs",
            "Interactive documentation of this document",
            {"200": _html("HTML page")},
            **pages,
        ),
        "/pages/static/{filename}": _get(
            "page_static",
            "The pages' scripts, styles, map shapes and their vendored libraries",
            {
                "200": {"description": "The file", "content": {"*/*": {"schema": {}}}},
                "404": _error("No such file"),
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
            "version": "1.0.0",
            "description": "Statistics on US adult health per state (CDC BRFSS). POST a question, "
            "get a job id at once, poll GET /api/get_results/{job_id}. Every error body is "
            '{"status": "error", "reason": "..."}.',
        },
        "tags": [
            {"name": "jobs", "description": "Submit questions and fetch their answers"},
            {"name": "service", "description": "The service's state and its vocabularies"},
            {"name": "pages", "description": "HTML pages and their static files"},
        ],
        "paths": paths,
        "components": {"schemas": schemas(locations)},
    }


@bp.get("/openapi.json")
def openapi_json() -> dict[str, Any]:
    """This server's OpenAPI document."""
    document = current_app.extensions.get("lss.openapi")
    if document is None:
        locations = current_app.extensions["lss.engine"].dataset.locations
        document = current_app.extensions["lss.openapi"] = build_document(locations)
    return document


def init_app(app: Flask) -> None:
    """Serve /api/openapi.json."""
    app.register_blueprint(bp)
