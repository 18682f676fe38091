"""A finished job's answer as CSV: `GET /api/get_results/<id>?format=csv`, for scripts.

The nine endpoints answer with four shapes of `data`, and each becomes a table with a header:

- `{"global_mean": x}` (global_mean): one column `global_mean`, one row;
- `{location: number}` (states_mean, state_mean, best5, worst5, diff_from_mean,
  state_diff_from_mean): columns `location,value`, in the answer's order;
- `{"('Location', 'Category', 'Stratum')": mean}` (mean_by_category) and
  `{location: {"('Category', 'Stratum')": mean}}` (state_mean_by_category): columns
  `location,category,stratum,value`, the by-category keys split back into their parts.

The statistics of SPEC §13 and §15 become a table of their rows, one column per field:

- state_trend: one row per year of `series`;
- compare_to_national: the nation first (as `National`, without a test), then every location of
  `states` in the answer's order;
- disparities: one row per stratum of `strata`;
- rankings: one row per location of `locations`, in rank order (the unranked last).

Numbers keep their full precision, a null is an empty field, `unreliable` is its reasons
joined by "; ". A text field that begins with `=`, `+`, `-`, `@`, a tab or a CR is written after
a `'`, so that a spreadsheet shows it rather than running it as a formula. Only a done job's
answer has a CSV form; every other answer (running, error, 404, 410) stays JSON.
"""

from __future__ import annotations

import ast
import csv
import io
import re
from typing import Any
from urllib.parse import parse_qs

import orjson

from app.errors import InvalidInput

FORMATS = ("json", "csv")
CSV_TYPE = "text/csv; charset=utf-8"
_DONE = b'{"status":"done"'


def wants_csv(query: str) -> bool:
    """Whether a get_results query string asks for CSV; InvalidInput for an unknown format."""
    values = parse_qs(query, keep_blank_values=True).get("format")
    if not values:
        return False
    if values[0] not in FORMATS:
        raise InvalidInput(
            f"unknown format {values[0][:40]!r} in parameter 'format'; use json or csv"
        )
    return values[0] == "csv"


def _parts(key: str) -> list[str]:
    """The strings of a by-category key, which is Python's str() of a tuple of strings."""
    value = ast.literal_eval(key)
    if not isinstance(value, tuple) or not all(isinstance(part, str) for part in value):
        raise ValueError(f"not a tuple of strings: {key!r}")
    return list(value)


_ESTIMATE = ["value", "low", "high", "sample_size"]
_RELIABILITY = ["reliable", "unreliable"]
#: Each new statistic's list of rows (by its key in `data`) and the columns of a row.
_STATISTICS = (
    ("series", ["year", *_ESTIMATE, *_RELIABILITY]),
    ("strata", ["stratum", *_ESTIMATE, "gap", "gap_low", "gap_high", "ratio", *_RELIABILITY]),
    ("states", ["location", *_ESTIMATE, "z", "p", "p_adjusted", "versus", *_RELIABILITY]),
    (
        "locations",
        [
            "location",
            "rank",
            *_ESTIMATE,
            "rank_low",
            "rank_high",
            "p_best5",
            "p_worst5",
            "territory",
            *_RELIABILITY,
            "reason",
        ],
    ),
)


def _field(value: Any) -> Any:
    """One field of a statistic's row as CSV text or number."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "; ".join(map(str, value))
    return value


def _statistic(data: dict[str, Any]) -> tuple[list[str], list[list[Any]]] | None:
    """The table of a state_trend, disparities, compare_to_national or rankings answer, else
    None."""
    if "method" not in data:  # every answer of the new statistics has one, none of the nine's
        return None
    for key, columns in _STATISTICS:
        rows = data.get(key)
        if key == "states" and isinstance(rows, dict):  # location -> row, after the nation
            nation = {"location": "National", **data["national"]}
            rows = [nation, *({"location": name, **row} for name, row in rows.items())]
        if isinstance(rows, list):
            return columns, [[_field(row.get(column)) for column in columns] for row in rows]
    return None


def table(data: Any) -> tuple[list[str], list[list[Any]]]:
    """The header and rows of one answer's `data`, whichever endpoint gave it."""
    if not isinstance(data, dict):
        raise ValueError("an answer's data is a JSON object")
    statistic = _statistic(data)
    if statistic is not None:
        return statistic
    if list(data) == ["global_mean"]:
        return ["global_mean"], [[data["global_mean"]]]
    header = ["location", "category", "stratum", "value"]
    if data and all(isinstance(value, dict) for value in data.values()):
        return header, [
            [location, *_parts(key), mean]
            for location, means in data.items()
            for key, mean in means.items()
        ]
    if data and all(key.startswith("(") for key in data):
        return header, [[*_parts(key), mean] for key, mean in data.items()]
    return ["location", "value"], [[location, value] for location, value in data.items()]


#: How a text cell a spreadsheet would run as a formula begins (OWASP's list).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: A number written as text ("-3.5", "+2e-3"): a spreadsheet reads it as the number it is.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def cell(value: Any) -> Any:
    """A field as written: a text cell that would begin a formula gets a leading `'` (a data file
    from anywhere may plant one); numbers, negative ones included, stay numbers."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def to_csv(data: Any) -> bytes:
    """`data` as CSV text (UTF-8, CRLF line ends as RFC 4180 has them), header first."""
    header, rows = table(data)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([cell(value) for value in row] for row in rows)
    return out.getvalue().encode()


def csv_body(body: bytes) -> bytes | None:
    """The CSV form of a get_results body if the job is done; None for any other answer."""
    if not body.startswith(_DONE):
        return None
    return to_csv(orjson.loads(body)["data"])
