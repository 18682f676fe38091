"""The schemas of SPEC §13 in the OpenAPI document: the selection fields every body may carry,
and the answers of state_trend, compare_to_national and disparities."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from app.analytics.rows import LAST_YEAR

_NUMBER_OR_NULL = {"type": ["number", "null"]}
_TEXT = {"type": "string"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(required: list[str], properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": properties, **extra}


#: The optional fields of every body (SPEC §13), by name.
SELECTION_FIELDS: dict[str, Any] = {
    "years": {
        "type": ["array", "null"],
        "items": {"type": "integer", "minimum": 1, "maximum": LAST_YEAR},
        "minItems": 2,
        "maxItems": 2,
        "description": "[from, to], inclusive (one year: [y, y]); only rows of those years "
        "(null: as if absent)",
        "example": [2015, 2022],
    },
    "stratification": {
        "oneOf": [_ref("Stratification"), {"type": "null"}],
        "description": "only the rows of one group (null: as if absent)",
    },
}


def category_field(strata: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """The field disparities needs beside question and state: a category of the loaded data."""
    return {"category": {"type": "string", "enum": sorted(strata)}}


_ESTIMATE = {
    "value": _NUMBER_OR_NULL,
    "low": _NUMBER_OR_NULL,
    "high": _NUMBER_OR_NULL,
    "sample_size": {"type": ["integer", "null"], "description": "unweighted respondents"},
    "reliable": {"type": "boolean"},
    "unreliable": {
        "type": "array",
        "items": _TEXT,
        "description": "why not reliable: sample_size < 50, a half-width over 10 points, "
        "a relative standard error over 0.30, or no value",
    },
    "reason": {**_TEXT, "description": "why a value is missing, when it is"},
}
_ESTIMATE_KEYS = ["value", "low", "high", "sample_size", "reliable", "unreliable"]
#: What a pooled value of compare_to_national or disparities stands for.
_BEHIND = {
    "years_used": {
        "type": "array",
        "items": {"type": "integer"},
        "description": "the years of the rows the value pools, ascending (empty: no value)",
    },
    "rows_suppressed": {
        "type": "integer",
        "minimum": 0,
        "description": "rows of the selection left out because their value was suppressed",
    },
}

#: Every field of the three answers that says where they come from.
_ABOUT = {"method": _TEXT, "provenance": _ref("Provenance")}


def _slope_schema() -> dict[str, Any]:
    """state_trend's slope (SPEC §13, §15.1)."""
    return {
        "oneOf": [
            {"type": "null"},
            _object(
                ["per_year", "low", "high", "trend", "dispersion", "df"],
                {
                    "per_year": {"type": "number"},
                    "low": {"type": "number"},
                    "high": {"type": "number"},
                    "trend": {"enum": ["rising", "falling", "stable"]},
                    "dispersion": {
                        "type": "number",
                        "minimum": 0,
                        "description": "X^2 / df: the scatter about the line over what the "
                        "years' intervals explain; above 1 it widens the interval (t quantile)",
                    },
                    "df": {"type": "integer", "minimum": 1, "description": "years - 2"},
                },
            ),
        ],
        "description": "weighted least squares over the series, its interval counting the "
        "scatter (null: fewer than 3 years, see slope_reason)",
    }


def _apc_schema() -> dict[str, Any]:
    """state_trend's annual percent changes and joinpoints (SPEC §15.2)."""
    bound = {"type": ["number", "null"], "description": "null only beyond a double's range"}
    change = {"apc": {"type": "number"}, "low": bound, "high": bound}
    required = ["segments", "joinpoints", "aapc", "selection", "dispersion", "df", "years_left_out"]
    segment = _object(
        ["from", "to", "apc", "low", "high"],
        {"from": {"type": "integer"}, "to": {"type": "integer"}, **change},
    )
    return {
        "oneOf": [
            {"type": "null"},
            _object(
                required,
                {
                    "segments": {"type": "array", "items": segment, "minItems": 1},
                    "joinpoints": {
                        "type": "array",
                        "items": {"type": "integer"},
                        "maxItems": 2,
                        "description": "the years where the log-linear trend bends",
                    },
                    "aapc": _object(
                        ["value", "low", "high"],
                        {"value": {"type": "number"}, "low": bound, "high": bound},
                        description="average annual percent change over the whole series",
                    ),
                    "selection": {"const": "bic"},
                    "dispersion": {"type": "number", "minimum": 0},
                    "df": {"type": "integer", "minimum": 1, "description": "years - 2k - 2"},
                    "years_left_out": {
                        "type": "array",
                        "items": {"type": "integer"},
                        "description": "years whose value is not positive (no logarithm)",
                    },
                },
            ),
        ],
        "description": "annual percent change on the log scale with 0-2 joinpoints chosen by "
        "BIC, as NCI's Joinpoint (null: fewer than 3 years with a positive value, see "
        "apc_reason)",
    }


def analytics_schemas(strata: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """The components of SPEC §13, for data with these categories and strata."""
    return {
        "Stratification": {
            "description": "One group (default Total / Total for the new statistics)",
            "oneOf": [
                _object(
                    ["category", "stratum"],
                    {"category": {"const": category}, "stratum": {"enum": list(members)}},
                    additionalProperties=False,
                )
                for category, members in sorted(strata.items())
            ],
        },
        "Provenance": _object(
            [
                "dataset_sha256",
                "rows_used",
                "rows_suppressed",
                "rows_missing",
                "rows_without_ci",
                "service_version",
            ],
            {
                "dataset_sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                "rows_used": {"type": "integer", "minimum": 0},
                "rows_suppressed": {"type": "integer", "minimum": 0},
                "rows_missing": {"type": "integer", "minimum": 0},
                "rows_without_ci": {"type": "integer", "minimum": 0},
                "service_version": _TEXT,
            },
        ),
        "YearEstimate": _object(
            ["year", *_ESTIMATE_KEYS], {"year": {"type": "integer"}, **_ESTIMATE}
        ),
        "StateTrend": _object(
            [
                "state",
                "question",
                "stratification",
                "series",
                "missing_years",
                "suppressed_years",
                "slope",
                "apc",
                *_ABOUT,
            ],
            {
                "state": _TEXT,
                "question": _TEXT,
                "stratification": _ref("Stratification"),
                "series": {"type": "array", "items": _ref("YearEstimate")},
                "missing_years": {"type": "array", "items": {"type": "integer"}},
                "suppressed_years": {
                    "type": "array",
                    "items": {"type": "integer"},
                    "description": "the missing years whose rows were suppressed",
                },
                "slope": _slope_schema(),
                "slope_reason": _TEXT,
                "apc": _apc_schema(),
                "apc_reason": _TEXT,
                **_ABOUT,
            },
        ),
        "NationalComparison": _object(
            ["question", "stratification", "years", "national", "states", "adjustment", *_ABOUT],
            {
                "question": _TEXT,
                "stratification": _ref("Stratification"),
                "years": {"type": ["array", "null"], "items": {"type": "integer"}},
                "national": _object(
                    ["value", "low", "high", "sample_size", *_BEHIND], {**_ESTIMATE, **_BEHIND}
                ),
                "states": {
                    "type": "object",
                    "description": "location -> its comparison, ascending by value",
                    "additionalProperties": _object(
                        [*_ESTIMATE_KEYS, *_BEHIND, "z", "p", "p_adjusted", "versus"],
                        {
                            **_ESTIMATE,
                            **_BEHIND,
                            "z": _NUMBER_OR_NULL,
                            "p": _NUMBER_OR_NULL,
                            "p_adjusted": {**_NUMBER_OR_NULL, "description": "Holm"},
                            "versus": {"enum": ["higher", "similar", "lower", None]},
                        },
                    ),
                },
                "adjustment": {"const": "holm"},
                **_ABOUT,
            },
        ),
        "Disparities": _object(
            ["state", "question", "category", "reference", "strata", *_ABOUT],
            {
                "state": _TEXT,
                "question": _TEXT,
                "category": _TEXT,
                "reference": {
                    "type": ["string", "null"],
                    "description": "the best stratum by the question's direction",
                },
                "reference_reason": _TEXT,
                "strata": {
                    "type": "array",
                    "items": _object(
                        [
                            "stratum",
                            *_ESTIMATE_KEYS,
                            *_BEHIND,
                            "gap",
                            "gap_low",
                            "gap_high",
                            "ratio",
                        ],
                        {
                            "stratum": _TEXT,
                            **_ESTIMATE,
                            **_BEHIND,
                            "gap": _NUMBER_OR_NULL,
                            "gap_low": _NUMBER_OR_NULL,
                            "gap_high": _NUMBER_OR_NULL,
                            "ratio": _NUMBER_OR_NULL,
                        },
                    ),
                },
                **_ABOUT,
            },
        ),
    }


def rankings_schema() -> dict[str, Any]:
    """The answer of rankings (SPEC §15.3)."""
    rank = {"type": ["integer", "null"], "minimum": 1}
    share = {"type": ["number", "null"], "minimum": 0, "maximum": 1}
    ranks = ["rank", "rank_low", "rank_high", "p_best5", "p_worst5"]
    location = _object(
        ["location", *_ESTIMATE_KEYS, "territory", *ranks],
        {
            "location": _TEXT,
            **_ESTIMATE,
            "territory": {"type": "boolean", "description": "Guam, Puerto Rico, Virgin Islands"},
            "rank": {**rank, "description": "1 = best by the question's direction; null: no value"},
            "rank_low": {**rank, "description": "the rank at least 2.5% of the draws reach"},
            "rank_high": {**rank, "description": "the rank at least 97.5% of the draws reach"},
            "p_best5": {**share, "description": "share of the draws ranking it in the first five"},
            "p_worst5": {**share, "description": "share of the draws ranking it in the last five"},
        },
    )
    return _object(
        ["question", "stratification", "years", "locations", "draws", "seed", *_ABOUT],
        {
            "question": _TEXT,
            "stratification": _ref("Stratification"),
            "years": {"type": ["array", "null"], "items": {"type": "integer"}},
            "locations": {
                "type": "array",
                "items": location,
                "description": "every location but National, in rank order; those without a "
                "value last, by name",
            },
            "draws": {"type": "integer", "minimum": 1},
            "seed": {"type": "integer"},
            **_ABOUT,
        },
    )
