"""The GET answers' paths (SPEC §18): `/api/answers/<endpoint>.json` and `.csv`, one operation
each, their parameters the endpoint's body fields, with the enums of the loaded data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from app.analytics.rows import LAST_YEAR
from app.openapi.paths import JSON, error_answer, json_answer
from app.openapi.schemas import DATA, ref
from app.task import TASKS

CSV = "text/csv"
_TEXT = {"type": "string"}
#: `2015-2022`, or one year: `2020` (the server checks the range: 1 to LAST_YEAR, from <= to).
_YEARS = r"^[1-9][0-9]{0,3}(-[1-9][0-9]{0,3})?$"


def _query(name: str, schema: dict[str, Any], required: bool, description: str) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "schema": schema,
        "description": description,
    }


def _parameters(endpoint: str, strata: Mapping[str, Sequence[str]]) -> list[dict[str, Any]]:
    task = TASKS[endpoint]
    groups = [f"{category}:{stratum}" for category, kept in strata.items() for stratum in kept]
    found = [_query("question", ref("Question"), True, "The question's exact text")]
    if task.needs_state:
        found.append(_query("state", ref("Location"), True, "A location with data for it"))
    if task.needs_category:
        category = {"type": "string", "enum": sorted(strata)}
        found.append(_query("category", category, True, "The category whose strata it compares"))
    years = {"type": "string", "pattern": _YEARS, "example": "2015-2022"}
    found.append(_query("years", years, False, f"FROM-TO or one year, 1 to {LAST_YEAR}"))
    if task.takes_stratification:
        group = {"type": "string", "enum": groups, "example": "Total:Total"}
        found.append(_query("stratification", group, False, "CATEGORY:STRATUM"))
    found.append(
        {
            "name": "If-None-Match",
            "in": "header",
            "required": False,
            "schema": _TEXT,
            "description": "ETags the client holds: 304 and no job if the answer's is one",
        }
    )
    return found


def _headers(names: Sequence[str]) -> dict[str, Any]:
    described = {
        "ETag": "Strong: the service's version, the dataset's SHA-256 and the question",
        "Cache-Control": "`public, max-age=3600` (a new dataset is a new ETag)",
        "Content-Location": "/api/get_results/{job_id}: the job that answered",
        "Content-Disposition": 'attachment; filename="<endpoint>-<question>[-<state>]'
        '[-<years>].csv"',
        "Location": "/api/get_results/{job_id}: poll it for the answer",
        "Retry-After": "Seconds after which to poll",
    }
    return {name: {"description": described[name], "schema": _TEXT} for name in names}


def answer_path(endpoint: str, fmt: str, strata: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """GET /api/answers/<endpoint>.<fmt>."""
    schema, answer = DATA[endpoint]
    done = {
        "type": "object",
        "required": ["status", "data"],
        "properties": {"status": {"const": "done"}, "data": ref(schema)},
    }
    content = {JSON: {"schema": done}} if fmt == "json" else {CSV: {"schema": _TEXT}}
    ok = ["ETag", "Cache-Control", "Content-Location", *(["Content-Disposition"] * (fmt == "csv"))]
    running = {
        "type": "object",
        "required": ["job_id", "status"],
        "properties": {"job_id": _TEXT, "status": {"const": "running"}},
    }
    return {
        "get": {
            "operationId": f"answer_{endpoint}_{fmt}",
            "tags": ["answers"],
            "summary": f"{endpoint} as {fmt.upper()}, in one request",
            "description": f"A job like POST /api/{endpoint}'s, made from the query, held up to "
            f"LSS_ANSWER_WAIT_S for its answer: {answer}"
            + (" (the tidy table: one row a record, named columns)" if fmt == "csv" else ""),
            "parameters": _parameters(endpoint, strata),
            "responses": {
                "200": {"description": "Done", "headers": _headers(ok), "content": content},
                "202": {
                    **json_answer(running, "Not done in time: poll the job"),
                    "headers": _headers(["Location", "Retry-After"]),
                },
                "304": {
                    "description": "If-None-Match named the answer's ETag: no job, no body",
                    "headers": _headers(["ETag", "Cache-Control"]),
                },
                "400": error_answer("A parameter is missing, unknown, repeated or has no data"),
                "403": error_answer(
                    "From a browser on another site, other than a link the user followed"
                ),
                "429": error_answer("Over LSS_RATE_LIMIT or LSS_MAX_LIVE_JOBS (Retry-After)"),
                "500": error_answer("The job failed"),
                "503": error_answer("Shutting down, a disk short of space, or the store away"),
            },
        }
    }


def answer_paths(strata: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """Every endpoint's two GET answers, by path."""
    return {
        f"/api/answers/{endpoint}.{fmt}": answer_path(endpoint, fmt, strata)
        for endpoint in TASKS
        for fmt in ("json", "csv")
    }
