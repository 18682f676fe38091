"""Loading the BRFSS extract with pandas, and the per-question indexes every task reads.

Besides the means of the nine endpoints (SPEC §3), precomputed per question, it keeps every row's
year, value, confidence limits, sample size and footnote as arrays grouped by cell
(`app.analytics.rows.RowTable`) for the statistics of SPEC §13, and the file's sha256.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import math
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from app.analytics.rankings import prepare as prepare_rankings
from app.analytics.rows import RowTable, says_suppressed
from app.config import StartupError
from app.questions import QUESTIONS

LOCATION = "LocationDesc"
QUESTION = "Question"
VALUE = "Data_Value"
CATEGORY = "StratificationCategory1"
STRATUM = "Stratification1"
YEAR = "YearStart"
LOW = "Low_Confidence_Limit"
HIGH = "High_Confidence_Limit "  # with a trailing space, as the extract has it
SAMPLE_SIZE = "Sample_Size"
FOOTNOTE = "Data_Value_Footnote"
SOURCE = "Datasource"

#: Columns without which no statistic can be computed (YearStart: no trend, no year range).
REQUIRED_COLUMNS = (LOCATION, QUESTION, VALUE, CATEGORY, STRATUM, YEAR)
#: Read when the file has them. Without the limits no row has a standard error (every row with a
#: value counts as without a confidence interval); without the others, no row has that value.
OPTIONAL_COLUMNS = (LOW, HIGH, SAMPLE_SIZE, FOOTNOTE, SOURCE)
_TEXT_COLUMNS = (LOCATION, QUESTION, CATEGORY, STRATUM, FOOTNOTE, SOURCE)
_NUMBER_COLUMNS = (VALUE, YEAR, LOW, HIGH, SAMPLE_SIZE)
_NOT_A_NUMBER = ["", "NA", "NaN", "nan", "N/A"]
#: Bytes read at a time for the file's sha256.
_DIGEST_CHUNK = 1 << 20


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
    #: Every row of the nine questions with a location, grouped for the statistics of SPEC §13.
    rows: RowTable = field(repr=False)
    #: The hex sha256 of the file's bytes, which every new answer's provenance names.
    sha256: str = ""
    #: The OPTIONAL_COLUMNS the file does not have.
    missing_columns: tuple[str, ...] = ()
    #: The Data_Value_Footnote texts of the rows counted as suppressed, sorted.
    suppression_footnotes: tuple[str, ...] = ()

    @property
    def locations(self) -> list[str]:
        """Every location with data for at least one question, sorted by name."""
        return sorted({loc for index in self.questions.values() for loc in index.state_means})

    @property
    def years(self) -> list[int] | None:
        """[first, last]: the span of the years the nine questions have rows in (None: none)."""
        found = [year for rows in self.rows.questions.values() for year in rows.years]
        return [min(found), max(found)] if found else None

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
            "sha256": self.sha256,
            "years": self.years,
            "suppression_footnotes": list(self.suppression_footnotes),
            "missing_columns": list(self.missing_columns),
        }


def _columns(path: Path) -> dict[str, str]:
    """The file's name of each column it has, by the name used here.

    Names are matched without surrounding spaces, so that `High_Confidence_Limit` written without
    the extract's trailing space is the same column.
    """
    header = pd.read_csv(path, nrows=0).columns
    found = {str(name).strip(): str(name) for name in header}
    columns = (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)
    wanted = {column: found.get(column.strip()) for column in columns}
    missing = [column for column in REQUIRED_COLUMNS if wanted[column] is None]
    if missing:
        raise DatasetError(f"{path}: missing required column(s): {', '.join(missing)}")
    return {column: name for column, name in wanted.items() if name is not None}


def _read(path: Path) -> pd.DataFrame:
    """Read only the needed columns, failing with a message that names the file and the problem."""
    try:
        names = _columns(path)
        text = [names[column] for column in _TEXT_COLUMNS if column in names]
        numbers = [names[column] for column in _NUMBER_COLUMNS if column in names]
        frame = pd.read_csv(
            path,
            usecols=list(names.values()),
            dtype=dict.fromkeys(text, "category"),
            keep_default_na=False,
            na_values=dict.fromkeys(numbers, _NOT_A_NUMBER),
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
    frame = frame.rename(columns={name: column for column, name in names.items()})
    for column in _NUMBER_COLUMNS:
        if column in frame and not pd.api.types.is_float_dtype(frame[column]):
            frame[column] = pd.to_numeric(frame[column], errors="coerce")
    return frame


class _Digest:
    """The file's sha256, computed in a thread of its own while pandas parses the file (hashlib
    does not hold the GIL over large blocks)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._hexdigest = ""
        self._error: OSError | None = None
        self._thread = threading.Thread(target=self._run, name="lss-dataset-sha256", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        digest = hashlib.sha256()
        try:
            with self._path.open("rb") as file:
                while chunk := file.read(_DIGEST_CHUNK):
                    digest.update(chunk)
        except OSError as error:
            self._error = error
            return
        self._hexdigest = digest.hexdigest()

    def result(self) -> str:
        """The hex digest, once the thread is done."""
        self._thread.join()
        if self._error is not None:
            reason = self._error.strerror or str(self._error)
            raise DatasetError(f"{self._path}: cannot read it: {reason}")
        return self._hexdigest


def _numbers(frame: pd.DataFrame, column: str, rows: np.ndarray | slice) -> np.ndarray:
    """A numeric column's values of `rows` as floats (NaN for none; all NaN if the file has no
    such column)."""
    if column not in frame:
        return np.full(len(frame), math.nan)[rows]
    return frame[column].to_numpy(dtype=float, na_value=math.nan)[rows]


def _table(frame: pd.DataFrame, known: np.ndarray) -> RowTable:
    """The RowTable of the `known` rows."""
    rows = slice(None) if known.all() else known  # a view, not a copy, of every column
    keys = []
    for column in (QUESTION, LOCATION, CATEGORY, STRATUM):
        categorical = frame[column].cat
        keys.append((categorical.codes.to_numpy()[rows], list(categorical.categories)))
    if FOOTNOTE in frame:
        notes = frame[FOOTNOTE].cat
        marked = np.array([says_suppressed(str(note)) for note in notes.categories] + [False])
        suppressed = marked[notes.codes.to_numpy()[rows]]  # code -1 (none) takes the last
    else:
        suppressed = np.zeros(len(frame), dtype=bool)[rows]
    return RowTable(
        keys,
        year=_numbers(frame, YEAR, rows),
        value=_numbers(frame, VALUE, rows),
        low=_numbers(frame, LOW, rows),
        high=_numbers(frame, HIGH, rows),
        size=_numbers(frame, SAMPLE_SIZE, rows),
        suppressed=suppressed,
    )


def _suppression_footnotes(frame: pd.DataFrame, known: np.ndarray) -> tuple[str, ...]:
    """The footnotes of the known rows that say their value was suppressed."""
    if FOOTNOTE not in frame:
        return ()
    notes = frame.loc[known, FOOTNOTE].cat.remove_unused_categories().cat.categories
    return tuple(sorted(str(note) for note in notes if says_suppressed(str(note))))


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


def _give_back_freed_memory() -> None:
    """Hand the heap pages that loading used and freed back to the system.

    glibc keeps them otherwise: small objects made after the parser's buffers pin the heap, and
    a server loaded at 100x the rows would stay at about four times the memory it uses. Nothing
    happens where the C library has no malloc_trim.
    """
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def load_dataset(path: str | Path) -> Dataset:
    """Load the extract at `path`, count what is skipped, and build every question's index."""
    path = Path(path)
    digest = _Digest(path)
    frame = _read(path)
    rows_read = len(frame)
    known = (frame[QUESTION].isin(QUESTIONS) & (frame[LOCATION] != "")).to_numpy()
    finite = np.isfinite(frame[VALUE].to_numpy(dtype=float, na_value=math.nan))
    rows_skipped = int((known & ~finite).sum())
    used = frame.loc[known & finite, [LOCATION, QUESTION, VALUE, CATEGORY, STRATUM]]
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
    dataset = Dataset(
        path=str(path),
        rows_read=rows_read,
        rows_used=len(used),
        rows_skipped=rows_skipped,
        synthetic=synthetic,
        questions=questions,
        rows=_table(frame, known),
        sha256=digest.result(),
        missing_columns=tuple(column for column in OPTIONAL_COLUMNS if column not in frame),
        suppression_footnotes=_suppression_footnotes(frame, known),
    )
    del frame, used
    _give_back_freed_memory()
    prepare_rankings(dataset.rows)
    return dataset
