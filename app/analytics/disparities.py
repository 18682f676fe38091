"""disparities: every stratum of one category in one state against the best of them."""

from __future__ import annotations

from typing import Any

from app.analytics import method
from app.analytics.estimates import interval, pooled_cells, reliability, years_used
from app.analytics.provenance import RowCounts, provenance
from app.analytics.rows import RowTable
from app.analytics.selection import Selection
from app.analytics.stats import Estimate, difference, ratio
from app.questions import NOT_REPORTED, QUESTIONS, Best, in_brfss_order


def _reference(question: str, found: dict[str, Estimate | None]) -> str | None:
    """The stratum with the best value by the question's direction, never NOT_REPORTED; the
    first in order among equals."""
    candidates = [(s, e) for s, e in found.items() if e is not None and s != NOT_REPORTED]
    if not candidates:
        return None
    sign = 1.0 if QUESTIONS[question] is Best.LOWEST else -1.0
    return min(candidates, key=lambda item: sign * item[1].value)[0]


def _gap(estimate: Estimate | None, reference: Estimate | None, same: bool) -> dict[str, Any]:
    """gap, its interval, and the ratio to the reference (None where they cannot be had)."""
    if same:  # the reference against itself: no difference, and no uncertainty in it
        return {"gap": 0.0, "gap_low": 0.0, "gap_high": 0.0, "ratio": 1.0}
    if estimate is None or reference is None:
        return {"gap": None, "gap_low": None, "gap_high": None, "ratio": None}
    gap = difference(estimate, reference)
    return {
        "gap": gap.value,
        "gap_low": gap.low,
        "gap_high": gap.high,
        "ratio": ratio(estimate, reference),
    }


def disparities(
    table: RowTable, sha256: str, question: str, state: str, category: str, selection: Selection
) -> dict[str, Any]:
    """The `data` of a disparities job (SPEC §13)."""
    years = selection.year_range(table.questions[question])
    # A row without a stratum counts in no by-category statistic.
    cells = [c for c in table.category_cells(question, state, category) if table.cells[c][3]]
    strata = [table.cells[cell][3] for cell in cells]
    pooled = dict(zip(strata, pooled_cells(table, cells, years), strict=True))
    found = {stratum: estimate for stratum, (estimate, _) in pooled.items()}
    counted = {stratum: counts for stratum, (_, counts) in pooled.items()}
    used = dict(zip(strata, years_used(table, cells, years), strict=True))
    order = in_brfss_order(category, found)
    reference = _reference(question, {stratum: found[stratum] for stratum in order})
    best = found[reference] if reference is not None else None

    strata = []
    for stratum in order:
        estimate = found[stratum]
        entry = {
            "stratum": stratum,
            **interval(estimate),
            "years_used": used[stratum],
            "rows_suppressed": counted[stratum].suppressed,
            **_gap(estimate, best, stratum == reference),
            **reliability(estimate),
        }
        if estimate is None:
            entry["reason"] = counted[stratum].why_no_value()
        elif best is None:
            entry["reason"] = "no reference stratum to compare with"
        elif entry["ratio"] is None:
            entry["reason"] = "the reference value is 0: no ratio"
        strata.append(entry)

    data: dict[str, Any] = {
        "state": state,
        "question": question,
        "category": category,
        "reference": reference,
    }
    if reference is None:
        data["reference_reason"] = (
            f"no stratum other than {NOT_REPORTED!r} has a usable value"
            if found
            else f"no rows for {state} in {category!r} on this question"
        )
    data["strata"] = strata
    data["method"] = method.DISPARITIES
    data["provenance"] = provenance(sha256, sum(counted.values(), RowCounts()))
    return data
