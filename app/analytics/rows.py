"""The extract's rows as arrays, grouped once at load into cells of (question, location,
category, stratum), each cell's rows ascending by year, so that a statistic reads the few cells it
needs and never scans the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from app.analytics.stats import se_from_ci

#: What a row can give the statistics of SPEC §13 (its `status`).
USED = 0  # a value and a usable confidence interval
NO_CI = 1  # a value, but no usable interval (a limit missing, or a zero-width interval)
SUPPRESSED = 2  # no value, and its footnote says the value was suppressed
MISSING = 3  # no value otherwise (blank or not a number)
STATUSES = 4

#: YearStart of a row whose year is blank or not a whole number from 1 to LAST_YEAR.
NO_YEAR = 0
LAST_YEAR = 9999

#: Words of a Data_Value_Footnote saying that the value was withheld (lower case).
SUPPRESSION_MARKERS = ("suppress", "insufficient", "not available")


def says_suppressed(footnote: str) -> bool:
    """Whether a Data_Value_Footnote says the row's value was suppressed."""
    text = footnote.lower()
    return any(marker in text for marker in SUPPRESSION_MARKERS)


def whole_years(years: np.ndarray) -> np.ndarray:
    """YearStart values as int32, NO_YEAR where one is missing or not a whole year."""
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(years) & (years >= 1) & (years <= LAST_YEAR) & (np.floor(years) == years)
    return np.where(ok, years, NO_YEAR).astype(np.int32)


@dataclass(frozen=True)
class QuestionRows:
    """Where one question's rows and cells are, and what they cover."""

    rows: slice
    #: The question's cells are table cells first_cell <= c < stop_cell.
    first_cell: int
    stop_cell: int
    #: Every location with a row, sorted; cell_location indexes it. Rows with a value or not:
    #: a year or a group whose rows are all suppressed is still one the question has rows for.
    locations: tuple[str, ...]
    cell_location: np.ndarray
    #: The years of its rows, ascending.
    years: tuple[int, ...]
    #: category -> its strata, sorted (named categories and strata only).
    strata: dict[str, tuple[str, ...]]


class RowTable:
    """Every row of the nine questions that has a location, with or without a value."""

    def __init__(
        self,
        keys: Sequence[tuple[np.ndarray, Sequence[str]]],
        year: np.ndarray,
        value: np.ndarray,
        low: np.ndarray,
        high: np.ndarray,
        size: np.ndarray,
        suppressed: np.ndarray,
    ) -> None:
        """Group the rows; `keys` are (codes, names) of question, location, category, stratum."""
        # Each name's rank in sorted order, combined into one number per row, then the year:
        # sorting those numbers sorts the rows by cell (as tuples of names sort), then by year.
        combined = np.zeros(len(year), dtype=np.int64)
        ordered_names = []
        for codes, names in keys:
            order = sorted(range(len(names)), key=lambda n, names=names: str(names[n]))
            rank = np.empty(len(names), dtype=np.int64)
            rank[order] = np.arange(len(names))
            combined = combined * len(names) + rank[codes]
            ordered_names.append(np.array([str(names[n]) for n in order], dtype=object))
        year = whole_years(year)
        rows = np.argsort(combined * (LAST_YEAR + 1) + year)
        combined = combined[rows]
        starts = np.flatnonzero(np.concatenate(([True], combined[1:] != combined[:-1])))
        distinct = combined[starts]
        parts = []
        for names in reversed(ordered_names):
            distinct, rank = np.divmod(distinct, len(names))
            parts.append(names[rank].tolist())

        #: (question, location, category, stratum) of each cell, in sorted order.
        self.cells: list[tuple[str, str, str, str]] = list(zip(*reversed(parts), strict=True))
        #: Where each cell's rows begin (and, last, where the rows end).
        self.cell_start = np.append(starts, len(rows)).astype(np.int64)
        self.cell = np.repeat(np.arange(len(starts), dtype=np.int32), np.diff(self.cell_start))
        self.year = year[rows]
        self.value = value[rows]
        self.se = se_from_ci(low, high)[rows]
        self.size = size[rows]
        has_value = np.isfinite(self.value)
        self.status = np.select(
            [has_value & np.isfinite(self.se), has_value, suppressed[rows]],
            [USED, NO_CI, SUPPRESSED],
            MISSING,
        ).astype(np.int8)
        self._index = {key: n for n, key in enumerate(self.cells)}
        self._by_category: dict[tuple[str, str, str], list[int]] = {}
        for n, (question, location, category, _) in enumerate(self.cells):
            self._by_category.setdefault((question, location, category), []).append(n)
        self.questions = self._questions()

    def _questions(self) -> dict[str, QuestionRows]:
        """Each question's QuestionRows."""
        first: dict[str, int] = {}
        for n, (question, *_) in enumerate(self.cells):
            first.setdefault(question, n)
        stops = [*list(first.values())[1:], len(self.cells)]
        questions = {}
        for (question, start), stop in zip(first.items(), stops, strict=True):
            rows = slice(int(self.cell_start[start]), int(self.cell_start[stop]))
            names = [self.cells[n][1] for n in range(start, stop)]
            locations = tuple(sorted(set(names)))
            place = {name: n for n, name in enumerate(locations)}
            strata: dict[str, set[str]] = {}
            for _, _, category, stratum in self.cells[start:stop]:
                if category and stratum:
                    strata.setdefault(category, set()).add(stratum)
            years = np.unique(self.year[rows])
            questions[question] = QuestionRows(
                rows=rows,
                first_cell=start,
                stop_cell=stop,
                locations=locations,
                cell_location=np.array([place[name] for name in names], dtype=np.int32),
                years=tuple(int(year) for year in years[years != NO_YEAR]),
                strata={category: tuple(sorted(names)) for category, names in strata.items()},
            )
        return questions

    def find(self, question: str, location: str, category: str, stratum: str) -> int | None:
        """The cell of these four, if any row has them."""
        return self._index.get((question, location, category, stratum))

    def category_cells(self, question: str, location: str, category: str) -> list[int]:
        """The cells of one location's strata in `category`, by stratum name."""
        return self._by_category.get((question, location, category), [])

    def gather(
        self, cells: Sequence[int], years: tuple[int, int] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The row numbers of several cells (only those of years from..to, inclusive, if given),
        and for each row the position of its cell in `cells`."""
        cells = np.asarray(cells, dtype=np.int64)
        starts, stops = self.cell_start[cells], self.cell_start[cells + 1]
        lengths = stops - starts
        group = np.repeat(np.arange(len(cells)), lengths)
        first = np.cumsum(lengths) - lengths  # where each cell's rows begin in the result
        index = np.arange(int(lengths.sum())) + np.repeat(starts - first, lengths)
        if years is not None:
            year = self.year[index]
            keep = (year >= years[0]) & (year <= years[1])  # NO_YEAR is in no checked range
            index, group = index[keep], group[keep]
        return index, group
