"""The rows of several cells (or of several years) pooled into one estimate each, with the
counts of their rows, and an estimate as the JSON fields every new answer shows it with."""

from __future__ import annotations

from typing import Any

import numpy as np

from app.analytics.provenance import RowCounts
from app.analytics.rows import STATUSES, SUPPRESSED, USED, RowTable
from app.analytics.stats import Estimate, pool, unreliable

#: The `unreliable` reason of an estimate that has no value at all.
NO_VALUE = "no value"


def pooled(
    table: RowTable, index: np.ndarray, groups: np.ndarray, count: int
) -> list[tuple[Estimate | None, RowCounts]]:
    """For groups 0..count-1 of the rows `index`: the pooled estimate of the rows with a value
    and a usable interval (None when there are none), and the counts of all of its rows."""
    status = table.status[index]
    counts = np.bincount(groups * STATUSES + status, minlength=count * STATUSES)
    used = status == USED
    chosen = index[used]
    estimates = pool(table.value[chosen], table.se[chosen], table.size[chosen], groups[used], count)
    by_group = counts.reshape(count, STATUSES).tolist()
    return [(estimate, RowCounts.of(n)) for estimate, n in zip(estimates, by_group, strict=True)]


def pooled_cells(
    table: RowTable, cells: list[int | None], years: tuple[int, int]
) -> list[tuple[Estimate | None, RowCounts]]:
    """Each cell's rows of years from..to pooled (a None cell: no rows, no estimate)."""
    present = [cell for cell in cells if cell is not None]
    index, groups = table.gather(present, years)
    found = iter(pooled(table, index, groups, len(present)))
    return [(None, RowCounts()) if cell is None else next(found) for cell in cells]


def pooled_by_year(
    table: RowTable, cell: int, years: tuple[int, int]
) -> tuple[list[tuple[int, Estimate]], RowCounts]:
    """(year, estimate) for every year of the cell with a usable row, ascending, and the counts
    of the cell's rows of years from..to."""
    index, _ = table.gather([cell], years)
    distinct, groups = np.unique(table.year[index], return_inverse=True)
    found = pooled(table, index, groups.ravel(), len(distinct))
    series = [
        (int(year), estimate)
        for year, (estimate, _) in zip(distinct.tolist(), found, strict=True)
        if estimate is not None
    ]
    return series, sum((counts for _, counts in found), RowCounts())


def years_used(table: RowTable, cells: list[int | None], years: tuple[int, int]) -> list[list[int]]:
    """For each cell (None: no rows), the years from..to of the rows its estimate pools (a value
    and a usable interval), ascending: what a value stands for, shown beside it."""
    present = [cell for cell in cells if cell is not None]
    index, groups = table.gather(present, years)
    used = table.status[index] == USED
    found: list[set[int]] = [set() for _ in present]
    for group, year in zip(groups[used].tolist(), table.year[index[used]].tolist(), strict=True):
        found[group].add(year)
    each = iter(found)
    return [[] if cell is None else sorted(next(each)) for cell in cells]


def suppressed_years(table: RowTable, cell: int | None, years: tuple[int, int]) -> list[int]:
    """The years from..to in which the cell has no usable row and at least one row whose value
    was suppressed, ascending: the years a series lacks because the CDC withheld them."""
    if cell is None:
        return []
    index, _ = table.gather([cell], years)
    year, status = table.year[index], table.status[index]
    withheld = set(year[status == SUPPRESSED].tolist()) - set(year[status == USED].tolist())
    return sorted(withheld)


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
