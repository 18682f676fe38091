"""Which rows a request asks for: a year range and a stratification, both optional."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.analytics.rows import QuestionRows, RowTable
from app.questions import DEFAULT_STRATIFICATION


@dataclass(frozen=True)
class Selection:
    """Rows of years from..to (inclusive) and of one (category, stratum); None: all of them."""

    years: tuple[int, int] | None = None
    stratification: tuple[str, str] | None = None

    @property
    def everything(self) -> bool:
        """True when nothing is left out (the nine then answer from their precomputed means)."""
        return self.years is None and self.stratification is None

    def year_range(self, question: QuestionRows) -> tuple[int, int]:
        """The years asked for, or by default every year of the question."""
        if self.years is not None:
            return self.years
        return (question.years[0], question.years[-1]) if question.years else (0, -1)

    def stratum(self) -> tuple[str, str]:
        """The stratification asked for, or the default (Total / Total)."""
        return self.stratification or DEFAULT_STRATIFICATION


#: The selection of every row: what a body without years and stratification asks for.
EVERYTHING = Selection()


def cells(
    table: RowTable, question: str, selection: Selection, location: str | None = None
) -> list[int]:
    """The cells of `question` (of one location, if given) in the selection's stratification."""
    rows = table.questions[question]
    if selection.stratification is not None:
        places = rows.locations if location is None else (location,)
        found = (table.find(question, place, *selection.stratification) for place in places)
        return [cell for cell in found if cell is not None]
    if location is None:
        return list(range(rows.first_cell, rows.stop_cell))
    place = rows.locations.index(location) if location in rows.locations else -1
    return (rows.first_cell + np.flatnonzero(rows.cell_location == place)).tolist()


def has_values(
    table: RowTable, question: str, selection: Selection, location: str | None = None
) -> bool:
    """Whether any row with a value is selected (of `location`, if given)."""
    index, _ = table.gather(cells(table, question, selection, location), selection.years)
    return bool(np.isfinite(table.value[index]).any())
