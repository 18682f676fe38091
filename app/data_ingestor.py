"""Loading the BRFSS extract with pandas, and the per-question indexes every task reads."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from app.config import StartupError
from app.questions import QUESTIONS

LOCATION = "LocationDesc"
QUESTION = "Question"
VALUE = "Data_Value"
CATEGORY = "StratificationCategory1"
STRATUM = "Stratification1"
SOURCE = "Datasource"

#: Columns without which no statistic can be computed.
REQUIRED_COLUMNS = (LOCATION, QUESTION, VALUE, CATEGORY, STRATUM)
_TEXT_COLUMNS = (LOCATION, QUESTION, CATEGORY, STRATUM)


class DatasetError(StartupError):
    """The data file cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class QuestionIndex:
    """Everything the tasks need about one question, aggregated once at load."""

    global_mean: float
    #: location -> mean, ascending by mean, ties by name.
    state_means: dict[str, float]
    #: ("('Location', 'Category', 'Stratum')", mean) in sorted tuple order.
    category_means: tuple[tuple[str, float], ...]
    #: location -> (("('Category', 'Stratum')", mean), ...) in sorted tuple order.
    state_category_means: dict[str, tuple[tuple[str, float], ...]]


@dataclass(frozen=True)
class Dataset:
    """The loaded extract: where it came from, how much of it counted, and its indexes."""

    path: str
    rows_read: int
    rows_used: int
    rows_skipped: int
    synthetic: bool
    questions: dict[str, QuestionIndex] = field(repr=False)

    @property
    def locations(self) -> list[str]:
        """Every location with data for at least one question, sorted by name."""
        return sorted({loc for index in self.questions.values() for loc in index.state_means})

    def describe(self) -> dict[str, object]:
        """A JSON-ready summary for the health endpoint and the start-up log."""
        return {
            "path": self.path,
            "kind": "synthetic sample" if self.synthetic else "CDC extract",
            "synthetic": self.synthetic,
            "rows_read": self.rows_read,
            "rows_used": self.rows_used,
            "rows_skipped": self.rows_skipped,
            "questions": len(self.questions),
            "locations": len(self.locations),
        }


def _read(path: Path) -> pd.DataFrame:
    """Read only the needed columns, failing with a message that names the file and the problem."""
    try:
        header = pd.read_csv(path, nrows=0).columns
        missing = [column for column in REQUIRED_COLUMNS if column not in header]
        if missing:
            raise DatasetError(f"{path}: missing required column(s): {', '.join(missing)}")
        wanted = [*REQUIRED_COLUMNS, *([SOURCE] if SOURCE in header else [])]
        return pd.read_csv(
            path,
            usecols=wanted,
            dtype={column: "category" for column in (*_TEXT_COLUMNS, SOURCE)},
            keep_default_na=False,
            na_values={VALUE: ["", "NA", "NaN", "nan", "N/A"]},
            low_memory=False,
        )
    except DatasetError:
        raise
    except FileNotFoundError:
        raise DatasetError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise DatasetError(f"{path}: is a directory, not a CSV file") from None
    except PermissionError:
        raise DatasetError(f"{path}: permission denied") from None
    except pd.errors.EmptyDataError:
        raise DatasetError(f"{path}: the file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as error:
        raise DatasetError(f"{path}: not a readable CSV file ({error})") from None


def _key(*parts: str) -> str:
    """The by-category key format: Python's str() of the tuple."""
    return str(tuple(parts))


def _index_question(rows: pd.DataFrame) -> QuestionIndex:
    """Aggregate one question's rows into the means every task composes from."""
    values = rows[VALUE]
    by_location = values.groupby(rows[LOCATION], observed=True).mean()
    state_means = dict(sorted(by_location.items(), key=lambda item: (item[1], item[0])))

    stratified = rows[(rows[CATEGORY] != "") & (rows[STRATUM] != "")]
    by_stratum = stratified.groupby([LOCATION, CATEGORY, STRATUM], observed=True)[VALUE].mean()
    ordered = sorted(by_stratum.items())
    category_means = tuple((_key(*names), mean) for names, mean in ordered)
    per_state: dict[str, list[tuple[str, float]]] = {}
    for (location, category, stratum), mean in ordered:
        per_state.setdefault(location, []).append((_key(category, stratum), mean))

    return QuestionIndex(
        global_mean=float(values.mean()),
        state_means={str(k): float(v) for k, v in state_means.items()},
        category_means=category_means,
        state_category_means={loc: tuple(means) for loc, means in per_state.items()},
    )


def load_dataset(path: str | Path) -> Dataset:
    """Load the extract at `path`, count what is skipped, and build every question's index."""
    path = Path(path)
    frame = _read(path)
    rows_read = len(frame)
    if not pd.api.types.is_float_dtype(frame[VALUE]):
        frame[VALUE] = pd.to_numeric(frame[VALUE], errors="coerce")
    known = frame[QUESTION].isin(QUESTIONS) & (frame[LOCATION] != "")
    finite = np.isfinite(frame[VALUE].to_numpy(dtype=float, na_value=math.nan))
    rows_skipped = int((known & ~finite).sum())
    used = frame[known & finite]
    if used.empty:
        raise DatasetError(
            f"{path}: no usable rows ({rows_read} read; none has one of the nine questions, "
            "a location and a numeric Data_Value)"
        )

    questions = {
        str(question): _index_question(rows)
        for question, rows in used.groupby(QUESTION, observed=True)
    }
    synthetic = SOURCE in frame and any(
        "synthetic" in str(source).lower() for source in frame[SOURCE].cat.categories
    )
    return Dataset(
        path=str(path),
        rows_read=rows_read,
        rows_used=len(used),
        rows_skipped=rows_skipped,
        synthetic=synthetic,
        questions=questions,
    )
