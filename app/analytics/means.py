"""The arithmetic means of the nine endpoints of SPEC §3 over the rows of a selection, computed on
the fly from the row arrays (without a selection the tasks read the precomputed index)."""

from __future__ import annotations

import numpy as np

from app.analytics.rows import RowTable
from app.analytics.selection import Selection, cells
from app.data_ingestor import QuestionIndex


def _gather(table: RowTable, question: str, selection: Selection) -> np.ndarray:
    """The table's row numbers that the selection keeps, of rows with a value."""
    chosen, _ = table.gather(cells(table, question, selection), selection.years)
    return chosen[np.isfinite(table.value[chosen])]


def _means(groups: np.ndarray, values: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Each group's mean and row count (groups numbered 0..size-1; empty ones count 0)."""
    counts = np.bincount(groups, minlength=size)
    sums = np.bincount(groups, weights=values, minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts, counts


def selected_index(table: RowTable, question: str, selection: Selection) -> QuestionIndex:
    """The QuestionIndex of `question` over the selected rows only (at least one)."""
    rows = table.questions[question]
    chosen = _gather(table, question, selection)
    values = table.value[chosen]
    local = table.cell[chosen] - rows.first_cell
    location = rows.cell_location[local]

    means, counts = _means(location, values, len(rows.locations))
    by_location = [(rows.locations[n], float(means[n])) for n in np.flatnonzero(counts)]
    state_means = dict(sorted(by_location, key=lambda item: (item[1], item[0])))

    means, counts = _means(local, values, rows.stop_cell - rows.first_cell)
    category_means = []
    per_state: dict[str, list[tuple[str, float]]] = {}
    for n in np.flatnonzero(counts).tolist():  # cells are in sorted tuple order
        _, place, category, stratum = table.cells[rows.first_cell + n]
        if category and stratum:
            mean = float(means[n])
            category_means.append((str((place, category, stratum)), mean))
            per_state.setdefault(place, []).append((str((category, stratum)), mean))

    return QuestionIndex(
        global_mean=float(values.sum() / len(values)),
        state_means=state_means,
        category_means=tuple(category_means),
        state_category_means={place: tuple(pairs) for place, pairs in per_state.items()},
    )
