"""compare_to_national: every location's pooled value tested against the nation's."""

from __future__ import annotations

from typing import Any

from app.analytics import method
from app.analytics.estimates import interval, pooled_cells, reliability, years_used
from app.analytics.provenance import RowCounts, provenance
from app.analytics.rows import RowTable
from app.analytics.selection import Selection
from app.analytics.stats import holm, two_sided_p, versus, z_score
from app.questions import NATIONAL


def _behind(years: list[int], counts: RowCounts) -> dict[str, Any]:
    """What a pooled value stands for: the years of its rows, and its rows left out as
    suppressed (so that a page can show both beside the value)."""
    return {"years_used": years, "rows_suppressed": counts.suppressed}


def compare_to_national(
    table: RowTable, sha256: str, question: str, selection: Selection
) -> dict[str, Any]:
    """The `data` of a compare_to_national job (SPEC §13)."""
    rows = table.questions[question]
    years = selection.year_range(rows)
    cells = [table.find(question, place, *selection.stratum()) for place in rows.locations]
    found = dict(zip(rows.locations, pooled_cells(table, cells, years), strict=True))
    used = dict(zip(rows.locations, years_used(table, cells, years), strict=True))
    nation, nation_counts = found.pop(NATIONAL, (None, RowCounts()))
    total = sum((counts for _, counts in found.values()), nation_counts)

    compared = [place for place, (estimate, _) in found.items() if estimate and nation]
    z = {place: z_score(found[place][0], nation) for place in compared}  # type: ignore[arg-type]
    p = {place: two_sided_p(z[place]) for place in compared}
    adjusted = dict(zip(compared, holm([p[place] for place in compared]), strict=True))

    def order(place: str) -> tuple[bool, float, str]:
        estimate = found[place][0]
        return (estimate is None, estimate.value if estimate else 0.0, place)

    states = {}
    for place in sorted(found, key=order):
        estimate, counts = found[place]
        entry = {
            **interval(estimate),
            **_behind(used[place], counts),
            "z": z.get(place),
            "p": p.get(place),
            "p_adjusted": adjusted.get(place),
            "versus": versus(z[place], adjusted[place]) if place in adjusted else None,
            **reliability(estimate),
        }
        if estimate is None:
            entry["reason"] = counts.why_no_value()
        elif nation is None:
            entry["reason"] = "no national value to compare with"
        states[place] = entry

    national = {**interval(nation), **_behind(used.get(NATIONAL, []), nation_counts)}
    if nation is None:
        national["reason"] = (
            nation_counts.why_no_value()
            if NATIONAL in rows.locations
            else "the dataset has no National rows for this question"
        )
    category, stratum = selection.stratum()
    return {
        "question": question,
        "stratification": {"category": category, "stratum": stratum},
        "years": list(years) if rows.years else None,  # None: no row of the question has one
        "national": national,
        "states": states,
        "adjustment": "holm",
        "method": method.COMPARE_TO_NATIONAL,
        "provenance": provenance(sha256, total),
    }
