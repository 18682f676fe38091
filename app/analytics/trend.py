"""state_trend: one state's pooled value per year, and the weighted line through them."""

from __future__ import annotations

from typing import Any

import numpy as np

from app.analytics import method
from app.analytics.estimates import interval, pooled_by_year, reliability, suppressed_years
from app.analytics.provenance import RowCounts, provenance
from app.analytics.rows import RowTable
from app.analytics.selection import Selection
from app.analytics.stats import MIN_TREND_YEARS, Estimate, Slope, wls_slope


def _slope(series: list[tuple[int, Estimate]]) -> Slope | None:
    """The WLS slope of the series (None with fewer than MIN_TREND_YEARS years)."""
    return wls_slope(
        np.array([year for year, _ in series]),
        np.array([estimate.value for _, estimate in series]),
        np.array([estimate.se for _, estimate in series]),
    )


def state_trend(
    table: RowTable, sha256: str, question: str, state: str, selection: Selection
) -> dict[str, Any]:
    """The `data` of a state_trend job (SPEC §13)."""
    rows = table.questions[question]
    category, stratum = selection.stratum()
    first, last = selection.year_range(rows)
    cell = table.find(question, state, category, stratum)
    series: list[tuple[int, Estimate]] = []
    counts = RowCounts()
    if cell is not None:
        series, counts = pooled_by_year(table, cell, (first, last))
    present = {year for year, _ in series}
    slope = _slope(series)
    data: dict[str, Any] = {
        "state": state,
        "question": question,
        "stratification": {"category": category, "stratum": stratum},
        "series": [
            {"year": year, **interval(estimate), **reliability(estimate)}
            for year, estimate in series
        ],
        "missing_years": [
            year for year in rows.years if first <= year <= last and year not in present
        ],
        # Of the missing years, those whose rows were withheld (a page marks them so).
        "suppressed_years": suppressed_years(table, cell, (first, last)),
        "slope": None,
    }
    if slope is None:
        data["slope_reason"] = (
            f"fewer than {MIN_TREND_YEARS} years with a usable value ({len(series)})"
        )
    else:
        data["slope"] = {
            "per_year": slope.per_year,
            "low": slope.low,
            "high": slope.high,
            "trend": slope.trend,
        }
    data["method"] = method.STATE_TREND
    data["provenance"] = provenance(sha256, counts)
    return data
