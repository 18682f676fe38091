"""A cell's rows pooled into estimates (over all its years, or one per year), and an estimate as
the JSON fields every new answer shows it with."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import numpy as np

from app.analytics.rows import USED, CellRows
from app.analytics.stats import Estimate, pool, unreliable

#: The `unreliable` reason of an estimate that has no value at all.
NO_VALUE = "no value"


def pooled(rows: CellRows) -> Estimate | None:
    """The rows with a value and a usable interval, pooled; None when there are none."""
    used = rows.status == USED
    if not used.any():
        return None
    return pool(rows.value[used], rows.se[used], rows.size[used])


def pooled_by_year(rows: CellRows) -> list[tuple[int, Estimate]]:
    """(year, estimate) for every year with a usable row, ascending (the rows are by year)."""
    used = np.flatnonzero(rows.status == USED)
    if not used.size:
        return []
    years = rows.year[used]
    starts = [0, *(np.flatnonzero(np.diff(years)) + 1).tolist(), len(used)]
    series = []
    for start, stop in pairwise(starts):
        chosen = used[start:stop]
        series.append(
            (int(years[start]), pool(rows.value[chosen], rows.se[chosen], rows.size[chosen]))
        )
    return series


def interval(estimate: Estimate | None) -> dict[str, Any]:
    """value, low, high and sample_size (all None without an estimate)."""
    if estimate is None:
        return {"value": None, "low": None, "high": None, "sample_size": None}
    return {
        "value": estimate.value,
        "low": estimate.low,
        "high": estimate.high,
        "sample_size": estimate.sample_size,
    }


def reliability(estimate: Estimate | None) -> dict[str, Any]:
    """reliable, and the unreliable reasons (empty when reliable)."""
    reasons = [NO_VALUE] if estimate is None else unreliable(estimate)
    return {"reliable": not reasons, "unreliable": reasons}
