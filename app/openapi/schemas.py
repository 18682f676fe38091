"""The schemas of the OpenAPI document: bodies, answers and errors, as components to refer to."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from app.analytics.rows import LAST_YEAR
from app.engine.job import JOB_ID_PATTERN
from app.openapi.analytics_schemas import (
    SELECTION_FIELDS,
    analytics_schemas,
    category_field,
    rankings_schema,
)
from app.questions import QUESTIONS, STRATA
from app.task import TASKS

#: A job id as the API issues it.
JOB_ID = {"type": "string", "pattern": f"^{JOB_ID_PATTERN.pattern}$"}


def ref(name: str) -> dict[str, str]:
    """A reference to the component `name`."""
    return {"$ref": f"#/components/schemas/{name}"}


_NUMBERS = {"type": "object", "additionalProperties": {"type": "number"}}

#: What `data` holds for each endpoint (SPEC section 3).
DATA = {
    "states_mean": ("LocationMeans", "every location's mean, ascending"),
    "state_mean": ("LocationMeans", "the state's mean"),
    "best5": ("LocationMeans", "the five best locations, best first"),
    "worst5": ("LocationMeans", "the five worst locations, worst first"),
    "global_mean": ("GlobalMean", "the mean over every row of the question"),
    "diff_from_mean": ("LocationMeans", "global mean minus each location's mean"),
    "state_diff_from_mean": ("LocationMeans", "global mean minus the state's mean"),
    "mean_by_category": ("CategoryMeans", "every (location, category, stratum) mean"),
    "state_mean_by_category": ("StateCategoryMeans", "the state's (category, stratum) means"),
    "state_trend": ("StateTrend", "the state's pooled value per year and its weighted trend"),
    "compare_to_national": ("NationalComparison", "every location against the nation, Holm"),
    "disparities": ("Disparities", "every stratum of a category against the best one"),
    "rankings": ("Rankings", "every location ranked, with its rank interval"),
}


def body_schema(endpoint: str) -> str:
    """The name of the body component an endpoint takes."""
    task = TASKS[endpoint]
    if task.needs_category:
        return "CategoryBody"
    return "StateQuestionBody" if task.needs_state else "QuestionBody"


def schemas(locations: list[str], strata: Mapping[str, Sequence[str]] = STRATA) -> dict[str, Any]:
    """The components every operation refers to, for data of these locations and strata."""
    return {
        "Error": {
            "type": "object",
            "required": ["status", "reason"],
            "properties": {"status": {"const": "error"}, "reason": {"type": "string"}},
            "description": "Every error body; /api/health adds its reasons and counters.",
        },
        "Dataset": {
            "type": "object",
            "description": "The loaded extract, as the pages' banner names it",
            "required": ["kind", "synthetic", "sha256", "years", "suppression_footnotes"],
            "properties": {
                "path": {"type": "string"},
                "kind": {"enum": ["synthetic sample", "CDC extract"]},
                "synthetic": {"type": "boolean"},
                "rows_read": {"type": "integer", "minimum": 0},
                "rows_used": {"type": "integer", "minimum": 0},
                "rows_skipped": {"type": "integer", "minimum": 0},
                "questions": {"type": "integer", "minimum": 0},
                "locations": {"type": "integer", "minimum": 0},
                "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                "years": {
                    "type": ["array", "null"],
                    "items": {"type": "integer", "minimum": 1, "maximum": LAST_YEAR},
                    "minItems": 2,
                    "maxItems": 2,
                    "description": "[first, last] year of the rows (null: no row has a year)",
                },
                "suppression_footnotes": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "the Data_Value_Footnote texts of the rows counted as "
                    "suppressed (the CDC's words)",
                },
                "missing_columns": {"type": "array", "items": {"type": "string"}},
            },
        },
        "Question": {"type": "string", "enum": list(QUESTIONS)},
        "Location": {"type": "string", "enum": locations},
        "QuestionCatalog": {
            "type": "object",
            "required": ["question", "best_is", "years", "categories"],
            "properties": {
                "question": ref("Question"),
                "best_is": {"enum": ["lowest", "highest"]},
                "years": {"type": "array", "items": {"type": "integer"}},
                "categories": {
                    "type": "array",
                    "description": "as the data names them, in SPEC §2's order (`Sex` in "
                    "`Gender`'s place), others after by name",
                    "items": {
                        "type": "object",
                        "required": ["category", "strata"],
                        "properties": {
                            "category": {"type": "string"},
                            "strata": {"type": "array", "items": {"type": "string"}},
                        },
                    },
                },
            },
        },
        "QuestionBody": {
            "type": "object",
            "required": ["question"],
            "properties": {"question": ref("Question"), **SELECTION_FIELDS},
        },
        "StateQuestionBody": {
            "type": "object",
            "required": ["question", "state"],
            "properties": {
                "question": ref("Question"),
                "state": ref("Location"),
                **SELECTION_FIELDS,
            },
        },
        "CategoryBody": {
            "type": "object",
            "required": ["question", "state", "category"],
            "description": "disparities compares the strata of `category`: no stratification",
            "properties": {
                "question": ref("Question"),
                "state": ref("Location"),
                **category_field(strata),
                "years": SELECTION_FIELDS["years"],
            },
        },
        **analytics_schemas(strata),
        "Rankings": rankings_schema(),
        "JobAccepted": {
            "type": "object",
            "required": ["job_id"],
            "properties": {"job_id": JOB_ID},
            "additionalProperties": False,
        },
        "LocationMeans": {**_NUMBERS, "description": "location -> number, in the answer's order"},
        "GlobalMean": {
            "type": "object",
            "required": ["global_mean"],
            "properties": {"global_mean": {"type": "number"}},
            "additionalProperties": False,
        },
        "CategoryMeans": {
            **_NUMBERS,
            "description": "Python's str() of ('Location', 'Category', 'Stratum') -> mean",
        },
        "StateCategoryMeans": {
            "type": "object",
            "additionalProperties": {
                **_NUMBERS,
                "description": "Python's str() of ('Category', 'Stratum') -> mean",
            },
        },
        "RecentJobs": {
            "type": "object",
            "required": ["counts", "jobs"],
            "properties": {
                "counts": {
                    "type": "object",
                    "required": ["running", "done", "error"],
                    "additionalProperties": {"type": "integer", "minimum": 0},
                },
                "jobs": {"type": "array", "items": ref("JobView")},
            },
        },
        "JobView": {
            "type": "object",
            "required": ["job_id", "endpoint", "status", "accepted"],
            "properties": {
                "job_id": {"type": "string"},
                "endpoint": {"enum": list(TASKS)},
                "question": {"type": ["string", "null"]},
                "state": {"type": ["string", "null"]},
                "status": {"enum": ["running", "done", "error"]},
                "accepted": {"type": "string"},
                "started": {"type": ["string", "null"]},
                "finished": {"type": ["string", "null"]},
                "reason": {"type": ["string", "null"]},
            },
        },
        "JobAnswered": {
            "description": "A job held with `Prefer: wait` that finished: its id and its result",
            "allOf": [
                {"type": "object", "required": ["job_id"], "properties": {"job_id": JOB_ID}},
                ref("JobResult"),
            ],
        },
        "JobResult": {
            "oneOf": [
                {
                    "type": "object",
                    "required": ["status"],
                    "properties": {"status": {"const": "running"}},
                    "additionalProperties": False,
                },
                {
                    "type": "object",
                    "required": ["status", "data"],
                    "properties": {
                        "status": {"const": "done"},
                        "data": {"anyOf": [ref(name) for name in sorted(set(DATA_SCHEMAS))]},
                    },
                },
                {
                    "type": "object",
                    "required": ["status", "reason"],
                    "properties": {"status": {"const": "error"}, "reason": {"type": "string"}},
                },
            ]
        },
    }


DATA_SCHEMAS = {name for name, _ in DATA.values()}
