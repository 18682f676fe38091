"""state_trend: one state's pooled value per year, the weighted line through them (SPEC §13,
§15.1) and their annual percent changes with joinpoints (§15.2)."""

from __future__ import annotations

from typing import Any

import numpy as np

from app.analytics import method
from app.analytics.estimates import interval, pooled_by_year, reliability, suppressed_years
from app.analytics.joinpoint import PercentChange, fit_joinpoints
from app.analytics.provenance import RowCounts, provenance
from app.analytics.rows import RowTable
from app.analytics.selection import Selection
from app.analytics.stats import MIN_TREND_YEARS, Estimate, Slope, wls_slope


def _slope(series: list[tuple[int, Estimate]]) -> tuple[Slope | None, str | None]:
    """The WLS slope of the series, or None and the reason."""
    try:
        slope = wls_slope(
            np.array([year for year, _ in series]),
            np.array([estimate.value for _, estimate in series]),
            np.array([estimate.se for _, estimate in series]),
        )
    except OverflowError as error:
        return None, str(error)
    if slope is None:
        return None, f"fewer than {MIN_TREND_YEARS} years with a usable value ({len(series)})"
    return slope, None


def _change(change: PercentChange) -> dict[str, float | None]:
    return {"value": change.value, "low": change.low, "high": change.high}


def _apc(series: list[tuple[int, Estimate]]) -> tuple[dict[str, Any] | None, str | None]:
    """The `apc` field of the answer (SPEC §15.2) over the years with a positive value (a log
    needs one), or None and the reason."""
    left_out = [year for year, estimate in series if not estimate.value > 0]
    usable = [(year, estimate) for year, estimate in series if estimate.value > 0]
    try:
        fit = fit_joinpoints(
            np.array([year for year, _ in usable]),
            np.array([estimate.value for _, estimate in usable]),
            np.array([estimate.se for _, estimate in usable]),
        )
    except OverflowError as error:
        return None, str(error)
    if fit is None:
        reason = f"fewer than {MIN_TREND_YEARS} years with a positive value ({len(usable)})"
        return None, reason + (f"; left out, not positive: {left_out}" if left_out else "")
    segments = [
        {"from": s.start, "to": s.end, "apc": s.apc.value, "low": s.apc.low, "high": s.apc.high}
        for s in fit.segments
    ]
    return {
        "segments": segments,
        "joinpoints": fit.joinpoints,
        "aapc": _change(fit.aapc),
        "selection": "bic",
        "dispersion": fit.dispersion,
        "df": fit.df,
        "years_left_out": left_out,
    }, None


def state_trend(
    table: RowTable, sha256: str, question: str, state: str, selection: Selection
) -> dict[str, Any]:
    """The `data` of a state_trend job (SPEC §13, §15.1, §15.2)."""
    rows = table.questions[question]
    category, stratum = selection.stratum()
    first, last = selection.year_range(rows)
    cell = table.find(question, state, category, stratum)
    series: list[tuple[int, Estimate]] = []
    counts = RowCounts()
    if cell is not None:
        series, counts = pooled_by_year(table, cell, (first, last))
    present = {year for year, _ in series}
    slope, slope_reason = _slope(series)
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
        data["slope_reason"] = slope_reason
    else:
        data["slope"] = {
            "per_year": slope.per_year,
            "low": slope.low,
            "high": slope.high,
            "trend": slope.trend,
            "dispersion": slope.dispersion,
            "df": slope.df,
        }
    data["apc"], apc_reason = _apc(series)
    if apc_reason is not None:
        data["apc_reason"] = apc_reason
    data["method"] = method.STATE_TREND
    data["provenance"] = provenance(sha256, counts)
    return data
