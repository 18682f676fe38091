"""The operator's paths of the OpenAPI document: the version, the two probes and /metrics."""

from __future__ import annotations

from typing import Any

from app.openapi.paths import get_operation, json_answer

_PID = {"type": "integer", "description": "The server process that answered"}


def _probe_answer(description: str) -> dict[str, Any]:
    return json_answer(
        {
            "type": "object",
            "required": ["status", "pid"],
            "properties": {"status": {"const": "ok"}, "pid": _PID},
        },
        description,
    )


def operating_paths(metrics: bool) -> dict[str, Any]:
    """The paths of `GET /api/version`, `/api/livez`, `/api/readyz` and, if served, `/metrics`."""
    service = {"tags": ["service"]}
    not_ready = {
        "type": "object",
        "required": ["status", "reason", "reasons", "pid"],
        "properties": {
            "status": {"const": "error"},
            "reason": {"type": "string"},
            "reasons": {"type": "array", "items": {"type": "string"}},
            "pid": _PID,
        },
    }
    paths = {
        "/api/version": get_operation(
            "version",
            "The service's version and the loaded dataset's SHA-256",
            {
                "200": json_answer(
                    {
                        "type": "object",
                        "required": ["version", "dataset_sha256"],
                        "properties": {
                            "version": {"type": "string", "example": "1.0.0"},
                            "dataset_sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                        },
                    },
                    "The version (from the package metadata) and the data's hash",
                )
            },
            **service,
        ),
        "/api/livez": get_operation(
            "livez",
            "Liveness: this process answers (no I/O; 200 until it exits)",
            {"200": _probe_answer("The process is alive")},
            **service,
        ),
        "/api/readyz": get_operation(
            "readyz",
            "Readiness: this process should be sent requests",
            {
                "200": _probe_answer("Ready"),
                "503": json_answer(
                    not_ready,
                    "Not ready: the job store takes no write, no worker answers, or a graceful "
                    "shutdown began",
                ),
            },
            **service,
        ),
    }
    if metrics:
        paths["/metrics"] = get_operation(
            "metrics",
            "Prometheus metrics of every server process (text exposition format)",
            {
                "200": {
                    "description": "The metrics",
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                }
            },
            **service,
        )
    return paths
