"""Answers as tidy records (SPEC §18): one a location, a year or a stratum, named fields.

The table the server's CSV has (`GET /api/answers/<endpoint>.csv`, `get_results?format=csv`),
built here from the JSON answer, so that `Answer.records()` and `Answer.to_pandas()` need no
second request: the record's own fields (`location`, `year` or `stratum`, `value`...), then the
selection (`question`, `years` as `2015-2022` or `2020`, `stratification` as
`Category:Stratum`, None where the request left it open), then the answer's other scalars
repeated, named by their path (`slope_per_year`, `national_value`, ...); lists of plain values
joined by "; "; `state_trend`'s APC segment on each year it spans (`apc_segment_from`, ...);
`method` left out; values unrounded; reasons kept. The server's `app.answers.tidy` is the other
side of this contract, and a test holds the two together.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

Table = tuple[list[str], list[list[Any]]]

#: The selection's columns, after each record's own.
SELECTION = ("question", "years", "stratification")
#: A statistic's list (or mapping) of records, by its key in the answer.
_RECORDS = ("series", "strata", "states", "locations")
#: Keys of a statistic that are not repeated as columns: the selection has its own, `method`
#: is prose (in the JSON), `state` and `category` identify every record.
_NOT_REPEATED = frozenset({*SELECTION, "method", "state", "category"})
#: The nine of SPEC §3: `{location: number}` but for the three named in `records`.
_COURSE = frozenset(
    {
        "states_mean",
        "state_mean",
        "best5",
        "worst5",
        "global_mean",
        "diff_from_mean",
        "state_diff_from_mean",
        "mean_by_category",
        "state_mean_by_category",
    }
)


def years_text(years: Any) -> str | None:
    """`[2015, 2022]` as `2015-2022`, `[2020, 2020]` as `2020`; None when not given."""
    if not years:
        return None
    first, last = years
    return f"{int(first)}" if first == last else f"{int(first)}-{int(last)}"


def group_text(group: Any) -> str | None:
    """A stratification (`{"category", "stratum"}` or a pair) as `Category:Stratum`."""
    if not group:
        return None
    if isinstance(group, Mapping):
        return f"{group['category']}:{group['stratum']}"
    return f"{group[0]}:{group[1]}"


def _parts(key: str) -> list[str]:
    """The strings of a by-category key, which is Python's str() of a tuple of strings."""
    value = ast.literal_eval(key)
    if not isinstance(value, tuple) or not all(isinstance(part, str) for part in value):
        raise ValueError(f"not a tuple of strings: {key!r}")
    return list(value)


def _flat(prefix: str, value: Any, into: dict[str, Any]) -> None:
    """`value` under the column `prefix`: a mapping one column per field (`prefix_field`), a
    list of plain values one cell, anything else as it is."""
    if isinstance(value, Mapping):
        for name, field in value.items():
            if not (isinstance(field, list) and field and isinstance(field[0], Mapping)):
                _flat(f"{prefix}_{name}", field, into)
    elif isinstance(value, list):  # an empty list is an empty cell, as pandas reads it back
        into[prefix] = "; ".join(str(item) for item in value) if value else None
    else:
        into[prefix] = value


def _segment(spans: list[Mapping[str, Any]], year: Any) -> Mapping[str, Any] | None:
    """The span of `spans` (each with `from` and `to`) that holds `year`: the one it begins
    or lies inside, else the last one if it ends there."""
    for span in spans:
        if span["from"] <= year < span["to"]:
            return span
    last = spans[-1] if spans else None
    return last if last is not None and year == last["to"] else None


def _statistic(data: Mapping[str, Any], selection: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of a statistic's answer: each record's own columns (its location, and the
    category it belongs to, first), the selection, then the answer's scalars."""
    key = next((name for name in _RECORDS if name in data), None)
    raw = data[key] if key else []
    items = [{"location": k, **v} for k, v in raw.items()] if isinstance(raw, Mapping) else raw
    identity = {"location": data["state"]} if "state" in data else {}
    if "category" in data:
        identity["category"] = data["category"]
    scalars: dict[str, Any] = {}
    for name, value in data.items():
        if name != key and name not in _NOT_REPEATED:
            _flat(name, value, scalars)
    apc = data.get("apc")
    spans = apc.get("segments") if isinstance(apc, Mapping) else None
    rows = []
    for item in items or [{}]:  # no record: one row all the same, so that its reasons show
        row = dict(identity)
        for name, value in item.items():
            _flat(name, value, row)
        if spans and "year" in item:
            span = _segment(spans, item["year"])
            for field in ("from", "to", "apc", "low", "high"):
                row[f"apc_segment_{field}"] = None if span is None else span.get(field)
        rows.append({**row, **selection, **scalars})
    return rows


_CATEGORY = ("location", "category", "stratum", "value")


def records(endpoint: str, request: Mapping[str, Any], data: Any) -> list[dict[str, Any]]:
    """The rows of `endpoint`'s answer `data` to `request` (its JSON body), as mappings in
    column order."""
    statistic = isinstance(data, Mapping) and "method" in data
    source = data if statistic else request
    selection = {
        "question": source.get("question", request.get("question")),
        "years": years_text(source.get("years", request.get("years"))),
        "stratification": group_text(source.get("stratification", request.get("stratification"))),
    }
    if statistic:
        return _statistic(data, selection)
    endpoint = endpoint if endpoint in _COURSE else _shape(data)
    if endpoint == "global_mean":
        rows = [{"value": data["global_mean"]}]
    elif endpoint == "mean_by_category":
        rows = [dict(zip(_CATEGORY, [*_parts(k), v], strict=True)) for k, v in data.items()]
    elif endpoint == "state_mean_by_category":
        rows = [
            dict(zip(_CATEGORY, [location, *_parts(k), v], strict=True))
            for location, means in data.items()
            for k, v in means.items()
        ]
    else:
        rows = [{"location": location, "value": value} for location, value in data.items()]
    return [{**row, **selection} for row in rows]


def _shape(data: Mapping[str, Any]) -> str:
    """Which of the nine's shapes an answer of no known endpoint has (a job recorded before
    endpoints were: the journal's rows of an upgraded results folder)."""
    if list(data) == ["global_mean"]:
        return "global_mean"
    if data and all(isinstance(value, Mapping) for value in data.values()):
        return "state_mean_by_category"
    if data and all(key.startswith("(") for key in data):
        return "mean_by_category"
    return "states_mean"


def _empty_header(endpoint: str) -> list[str]:
    """The columns of an answer with no record (a by-category mean of a state without groups)."""
    if endpoint in ("mean_by_category", "state_mean_by_category"):
        return [*_CATEGORY, *SELECTION]
    if endpoint == "global_mean":
        return ["value", *SELECTION]
    return ["location", "value", *SELECTION]


def table(endpoint: str, request: Mapping[str, Any], data: Any) -> Table:
    """The header and rows of `records`: every column any row has, in order of appearance."""
    found = records(endpoint, request, data)
    if not found:
        return _empty_header(endpoint), []
    # A record's own columns come before `question` and may differ between records (a
    # `reason` where there is no value); from `question` on, every row has the same ones.
    own: dict[str, None] = {}
    for row in found:
        keys = list(row)
        own.update(dict.fromkeys(keys[: keys.index("question")]))
    first = list(found[0])
    columns = [*own, *first[first.index("question") :]]
    return columns, [[row.get(column) for column in columns] for row in found]
