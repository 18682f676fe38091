"""Representative request bodies of the new endpoints, for the benchmark (first-computation cost
at 1x and 100x the rows) and for anyone who wants an example that the loaded data can answer."""

from __future__ import annotations

from typing import Any

from app.analytics.rows import RowTable
from app.questions import DEFAULT_STRATIFICATION, NATIONAL

#: How many locations of each question the state endpoints are asked about (spread by name).
STATES_PER_QUESTION = 5


def _spread(names: list[str], count: int) -> list[str]:
    """`count` names spread evenly over the list (all of them if it is shorter)."""
    if len(names) <= count:
        return names
    return [names[(i * len(names)) // count] for i in range(count)]


def representative_requests(
    table: RowTable, states_per_question: int = STATES_PER_QUESTION
) -> list[tuple[str, dict[str, Any]]]:
    """(endpoint, body) of state_trend, compare_to_national, disparities and rankings for every
    question: the nation compared and the locations ranked by default, over the first half of
    the years and in one other stratum;
    the trend and every category's disparities of a few locations, and one trend in a stratum."""
    requests: list[tuple[str, dict[str, Any]]] = []
    for question, rows in table.questions.items():
        body: dict[str, Any] = {"question": question}
        groups = [
            (category, stratum)
            for category, strata in rows.strata.items()
            for stratum in strata
            if (category, stratum) != DEFAULT_STRATIFICATION
        ]
        group = {"category": groups[0][0], "stratum": groups[0][1]} if groups else None
        half = [rows.years[0], rows.years[(len(rows.years) - 1) // 2]] if rows.years else None
        for every_location in ("compare_to_national", "rankings"):
            requests.append((every_location, body))
            if half:
                requests.append((every_location, {**body, "years": half}))
            if group:
                requests.append((every_location, {**body, "stratification": group}))
        places = [place for place in rows.locations if place != NATIONAL]
        for state in _spread(places, states_per_question):
            requests.append(("state_trend", {**body, "state": state}))
            requests.extend(
                ("disparities", {**body, "state": state, "category": category})
                for category in sorted(rows.strata)
            )
        if group and places:
            requests.append(("state_trend", {**body, "state": places[0], "stratification": group}))
    return requests
