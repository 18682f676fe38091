"""Answers as CSV: `GET /api/get_results/<id>?format=csv` and `GET /api/answers/<endpoint>.csv`.

The table is the tidy one of `app.answers.tidy` (one row a record, named columns, the selection
as columns). Numbers keep their full precision, a null is an empty field, a boolean `true` or
`false`. A text field that begins with `=`, `+`, `-`, `@`, a tab or a CR is written after a
`'`, so that a spreadsheet shows it rather than running it as a formula (a data file from
anywhere may plant one); numbers, negative ones included, stay numbers. Only a done job's answer
has a CSV form; every other answer (running, error, 404, 410) stays JSON.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

import orjson

from app.answers import tidy
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


#: How a text cell a spreadsheet would run as a formula begins (OWASP's list).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: A number written as text ("-3.5", "+2e-3"): a spreadsheet reads it as the number it is.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def cell(value: Any) -> Any:
    """A field as written: a text cell that would begin a formula gets a leading `'`; booleans
    as `true` / `false`; numbers stay numbers."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def to_csv(header: list[str], rows: list[list[Any]]) -> bytes:
    """A table as CSV text (UTF-8, CRLF line ends as RFC 4180 has them), header first."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([cell(name) for name in header])
    writer.writerows([cell(value) for value in row] for row in rows)
    return out.getvalue().encode()


def answer_csv(endpoint: str, request: Mapping[str, Any], data: Any) -> bytes:
    """The tidy CSV of `endpoint`'s answer `data` to `request` (the job's body)."""
    return to_csv(*tidy.table(endpoint, request, data))


def csv_body(body: bytes, endpoint: str, request: Mapping[str, Any]) -> bytes | None:
    """The CSV form of a get_results body if the job is done; None for any other answer."""
    if not body.startswith(_DONE):
        return None
    return answer_csv(endpoint, request, orjson.loads(body)["data"])
