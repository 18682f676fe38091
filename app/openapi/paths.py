"""The pieces of the OpenAPI document: media types, answers, and the two job routes' paths
(submit with `Prefer: wait`, get_results with its validators)."""

from __future__ import annotations

from typing import Any

from app.openapi.schemas import DATA, body_schema, ref

JSON = "application/json"
HTML = "text/html"


def json_answer(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def error_answer(description: str) -> dict[str, Any]:
    return json_answer(ref("Error"), description)


def html_answer(description: str) -> dict[str, Any]:
    return {"description": description, "content": {HTML: {"schema": {"type": "string"}}}}


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


def submit_path(endpoint: str, example: dict[str, Any] | None = None) -> dict[str, Any]:
    """POST /api/<endpoint>: a question of one endpoint, answered with a job id; `example`: a
    body the loaded data answers, which the interactive docs send as it is."""
    schema, answer = DATA[endpoint]
    content: dict[str, Any] = {"schema": ref(body_schema(endpoint))}
    if example is not None:
        content["example"] = example
    return {
        "post": {
            "operationId": f"submit_{endpoint}",
            "tags": ["jobs"],
            "summary": f"Submit a {endpoint} job",
            "description": f"Starts a job; its finished answer's `data` is {answer} "
            f"(schema `{schema}`). Poll GET /api/get_results/{{job_id}}.",
            "requestBody": {"required": True, "content": {JSON: content}},
            "parameters": [_PREFER],
            "responses": {
                "200": {
                    **json_answer(
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
                "400": error_answer(
                    "The body is not a JSON object, or a field is missing or unknown"
                ),
                "403": error_answer(
                    "From a browser on another site (Sec-Fetch-Site or Origin), unless its "
                    "origin is in LSS_CORS_ORIGINS"
                ),
                "413": error_answer("The body is over the size limit"),
                "429": _retry_later(
                    "Too many live jobs (LSS_MAX_LIVE_JOBS), or this address is over LSS_RATE_LIMIT"
                ),
                "503": _retry_later(
                    "Shutting down, a disk short of space, or the job store is unavailable"
                ),
            },
        }
    }


def _retry_later(description: str) -> dict[str, Any]:
    """A refusal that may say when to try again."""
    return {
        **error_answer(description),
        "headers": {
            "Retry-After": {
                "description": "Seconds after which the request may succeed",
                "schema": {"type": "integer", "minimum": 1},
            }
        },
    }


#: The admin token of graceful_shutdown (LSS_ADMIN_TOKEN), as a security scheme.
ADMIN_TOKEN_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "description": "LSS_ADMIN_TOKEN; without it set, graceful_shutdown is for loopback clients",
}


def shutdown_path() -> dict[str, Any]:
    """GET, HEAD (as the course asks) and POST /api/graceful_shutdown."""
    ok = {"type": "object", "required": ["status"], "properties": {"status": {"type": "string"}}}
    answers = {
        "200": json_answer(
            {**ok, "properties": {"status": {"enum": ["running", "done"]}}},
            "running while accepted jobs remain, then done",
        ),
        "401": error_answer("LSS_ADMIN_TOKEN is set and the request lacks it"),
        "403": error_answer(
            "From a browser on another site, or (no LSS_ADMIN_TOKEN) from another machine"
        ),
    }
    operation = {
        "summary": "Stop accepting jobs; finish the accepted ones",
        "responses": answers,
        "tags": ["service"],
        "security": [{}, {"adminToken": []}],
    }
    return {
        "get": {"operationId": "graceful_shutdown", **operation},
        "post": {"operationId": "graceful_shutdown_post", **operation},
    }


def get_operation(operation_id: str, summary: str, responses: dict[str, Any], **extra: Any) -> dict:
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


def results_path() -> dict[str, Any]:
    """GET /api/get_results/{job_id}."""
    return get_operation(
        "get_results",
        "A job's status, or its answer once done",
        {
            "200": {
                "description": "running, done (with data) or error (the job failed); with "
                "format=csv a done job's data comes as CSV with a header row. A done result "
                "never changes: it has a strong ETag and is immutable; any other is no-store",
                "headers": _CACHE_HEADERS,
                "content": {
                    JSON: {"schema": ref("JobResult")},
                    "text/csv": {"schema": {"type": "string"}},
                },
            },
            "304": {
                "description": "Done, and If-None-Match named its ETag: no body",
                "headers": _CACHE_HEADERS,
            },
            "400": error_answer("Unknown value of format"),
            "404": error_answer("Never issued, or not a job id: reason `Invalid job_id`"),
            "410": error_answer("Expired and purged: reason `job <id> expired`"),
            "503": error_answer("The job store is unavailable"),
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
