"""The arithmetic means of the nine endpoints of SPEC §3 over the rows of a selection, computed on
the fly from the row arrays (without a selection the tasks read the precomputed index)."""

from __future__ import annotations

import math

import numpy as np

from app.analytics.rows import RowTable
from app.analytics.selection import Selection, cells
from app.data_ingestor import QuestionIndex

#: Means this close (relative) may be equal but for the order of the additions.
_NEAR = 1e-9


def _location_means(locations: np.ndarray, values: np.ndarray) -> list[tuple[int, float]]:
    """(location, mean) of rows sorted by location.

    Means that come out nearly equal are taken again from correctly rounded sums (math.fsum),
    so that equal means are equal floats and ties go by name as they should.
    """
    starts = np.flatnonzero(np.concatenate(([True], locations[1:] != locations[:-1])))
    stops = np.append(starts[1:], len(values))
    means = np.add.reduceat(values, starts) / (stops - starts)
    ranked = np.argsort(means, kind="stable")
    close = np.isclose(means[ranked[1:]], means[ranked[:-1]], rtol=_NEAR, atol=0.0)
    for n in {*ranked[1:][close].tolist(), *ranked[:-1][close].tolist()}:
        means[n] = math.fsum(values[starts[n] : stops[n]].tolist()) / (stops[n] - starts[n])
    return list(zip(locations[starts].tolist(), means.tolist(), strict=True))


def selected_index(table: RowTable, question: str, selection: Selection) -> QuestionIndex:
    """The QuestionIndex of `question` over the selected rows with a value (at least one)."""
    rows = table.questions[question]
    chosen, _ = table.gather(cells(table, question, selection), selection.years)
    chosen = chosen[np.isfinite(table.value[chosen])]  # by cell, so by location
    values = table.value[chosen]
    local = table.cell[chosen] - rows.first_cell
    by_location = [
        (rows.locations[place], mean)
        for place, mean in _location_means(rows.cell_location[local], values)
    ]
    state_means = dict(sorted(by_location, key=lambda item: (item[1], item[0])))

    count = rows.stop_cell - rows.first_cell
    sizes = np.bincount(local, minlength=count)
    sums = np.bincount(local, weights=values, minlength=count)
    category_means = []
    per_state: dict[str, list[tuple[str, float]]] = {}
    for n in np.flatnonzero(sizes).tolist():  # cells are in sorted tuple order
        _, place, category, stratum = table.cells[rows.first_cell + n]
        if category and stratum:
            mean = float(sums[n] / sizes[n])
            category_means.append((str((place, category, stratum)), mean))
            per_state.setdefault(place, []).append((str((category, stratum)), mean))

    return QuestionIndex(
        global_mean=float(values.sum() / len(values)),
        state_means=state_means,
        category_means=tuple(category_means),
        state_category_means={place: tuple(pairs) for place, pairs in per_state.items()},
    )
