"""The query string of `GET /api/answers/<endpoint>.<format>`: a POST body's fields as parameters.

`question`, `state`, `category`, `years` (`2015-2022`, or one year: `2020`) and `stratification`
(`Category:Stratum`, split at the first colon), each at most once, and only those the endpoint
takes. The syntax of `years` and `stratification` is checked here; then the fields go through
the very checks a POST body goes through (`Task.from_payload`), whose reasons name the
parameter. Every problem is an InvalidInput (400) naming the parameter.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from app.data_ingestor import Dataset
from app.errors import InvalidInput
from app.task import Task

#: More parameters than any endpoint takes, for a query string cut short before it is read.
_MOST = 8
#: How much of a client's bad value is echoed back.
_ECHO = 80
#: `2015-2022` or `2020`: ASCII digits only (not "²", which str.isdigit() takes).
_YEARS = re.compile(r"([0-9]{1,4})(?:-([0-9]{1,4}))?")
_YEARS_SHAPE = "FROM-TO or one year (2015-2022, 2020)"
_GROUP_SHAPE = "CATEGORY:STRATUM (such as Income:$75,000 or greater)"
#: Every parameter some endpoint takes.
_EVERY = frozenset({"question", "state", "category", "years", "stratification"})
#: "field 'years'" and "fields 'years' and ..." in a body's reasons.
_FIELD = re.compile(r"\bfield(s?) '")


def parameters(task_type: type[Task]) -> list[str]:
    """The parameters an endpoint takes, in the order a URL shows them."""
    return [
        "question",
        *(["state"] * task_type.needs_state),
        *(["category"] * task_type.needs_category),
        "years",
        *(["stratification"] * task_type.takes_stratification),
    ]


def _echo(value: str) -> str:
    return repr(value if len(value) <= _ECHO else value[: _ECHO - 3] + "...")


def _years(value: str) -> list[int]:
    match = _YEARS.fullmatch(value)
    if match is None:
        raise InvalidInput(f"parameter 'years' must be {_YEARS_SHAPE}, got {_echo(value)}")
    first = int(match[1])
    return [first, int(match[2]) if match[2] else first]


def _stratification(value: str) -> dict[str, str]:
    category, colon, stratum = value.partition(":")
    if not (colon and category and stratum):
        raise InvalidInput(f"parameter 'stratification' must be {_GROUP_SHAPE}, got {_echo(value)}")
    return {"category": category, "stratum": stratum}


def _payload(query: str, task_type: type[Task]) -> dict[str, Any]:
    """The request body the query string stands for."""
    try:
        pairs = parse_qsl(query, keep_blank_values=True, max_num_fields=_MOST)
    except ValueError:
        raise InvalidInput(f"too many parameters (at most {_MOST})") from None
    taken = parameters(task_type)
    payload: dict[str, Any] = {}
    for name, value in pairs:
        if name not in taken:
            known = "parameter" if name in _EVERY else "unknown parameter"
            raise InvalidInput(
                f"{known} {_echo(name)} is not one of {task_type.endpoint}'s; "
                f"it takes {', '.join(taken)}"
            )
        if name in payload:
            raise InvalidInput(f"parameter {name!r} is given more than once")
        if name == "years":
            payload[name] = _years(value)
        elif name == "stratification":
            payload[name] = _stratification(value)
        else:
            payload[name] = value
    return payload


def task(query: str, task_type: type[Task], dataset: Dataset) -> Task:
    """The task a GET answer's query string asks for, checked as its POST would be."""
    payload = _payload(query, task_type)
    try:
        return task_type.from_payload(payload, dataset)
    except InvalidInput as error:
        raise InvalidInput(_FIELD.sub(r"parameter\1 '", error.reason)) from None
