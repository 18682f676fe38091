"""An independent, standard-library-only reference for the nine endpoints (SPEC §2, §3, and the
`years` and `stratification` fields of §13, which restrict the rows their means are taken over).

Deliberately shares no code with `app/`: it reads the CSV with the `csv` module, sums with
`math.fsum` (correctly rounded) and keeps its own copy of the nine questions. Tests compare the
service's answers with it through `compare()`.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from pathlib import Path

LOWEST = "lowest"
HIGHEST = "highest"

#: The nine questions and which end of each is the better one, written out again (SPEC §2).
QUESTIONS: dict[str, str] = {
    "Percent of adults aged 18 years and older who have an overweight classification": LOWEST,
    "Percent of adults aged 18 years and older who have obesity": LOWEST,
    "Percent of adults who engage in no leisure-time physical activity": LOWEST,
    "Percent of adults who report consuming fruit less than one time daily": LOWEST,
    "Percent of adults who report consuming vegetables less than one time daily": LOWEST,
    "Percent of adults who achieve at least 150 minutes a week of moderate-intensity aerobic "
    "physical activity or 75 minutes a week of vigorous-intensity aerobic activity "
    "(or an equivalent combination)": HIGHEST,
    "Percent of adults who achieve at least 150 minutes a week of moderate-intensity aerobic "
    "physical activity or 75 minutes a week of vigorous-intensity aerobic physical activity "
    "and engage in muscle-strengthening activities on 2 or more days a week": HIGHEST,
    "Percent of adults who achieve at least 300 minutes a week of moderate-intensity aerobic "
    "physical activity or 150 minutes a week of vigorous-intensity aerobic activity "
    "(or an equivalent combination)": HIGHEST,
    "Percent of adults who engage in muscle-strengthening activities on 2 or more days a week": (
        HIGHEST
    ),
}

#: The nine job endpoints, in SPEC §3 order.
ENDPOINTS: tuple[str, ...] = (
    "states_mean",
    "state_mean",
    "best5",
    "worst5",
    "global_mean",
    "diff_from_mean",
    "state_diff_from_mean",
    "mean_by_category",
    "state_mean_by_category",
)

#: The endpoints whose body also names a state.
STATE_ENDPOINTS: frozenset[str] = frozenset(
    {"state_mean", "state_diff_from_mean", "state_mean_by_category"}
)

_LOCATION = "LocationDesc"
_QUESTION = "Question"
_VALUE = "Data_Value"
_CATEGORY = "StratificationCategory1"
_STRATUM = "Stratification1"
_YEAR = "YearStart"
_COLUMNS = (_LOCATION, _QUESTION, _VALUE, _CATEGORY, _STRATUM)

#: (from, to) years, inclusive; (category, stratum).
Years = tuple[int, int]
Group = tuple[str, str]


def parse_value(text: str) -> float | None:
    """The Data_Value of a row as a finite float, or None when the row must be skipped."""
    text = text.strip()
    if not text or "_" in text:  # float() accepts "1_0"; no CSV reader treats it as a number
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def parse_year(text: str) -> int | None:
    """The YearStart of a row as a whole year, or None when it has none."""
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if number.is_integer() else None


def _mean(values: list[float]) -> float:
    """The arithmetic mean, summed without rounding drift."""
    return math.fsum(values) / len(values)


class _QuestionData:
    """The counted values of one question, grouped the ways the endpoints need."""

    def __init__(self) -> None:
        self.values: list[float] = []
        self.by_location: dict[str, list[float]] = {}
        self.by_stratum: dict[tuple[str, str, str], list[float]] = {}

    def add(self, location: str, category: str, stratum: str, value: float) -> None:
        self.values.append(value)
        self.by_location.setdefault(location, []).append(value)
        if category and stratum:
            self.by_stratum.setdefault((location, category, stratum), []).append(value)


class Reference:
    """Expected `data` of every endpoint, computed straight from the CSV rows."""

    questions: dict[str, str] = QUESTIONS

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.rows_read = 0
        self.rows_skipped = 0
        self._data: dict[str, _QuestionData] = {}
        #: Every counted row: question -> (location, category, stratum, year, value).
        self._rows: dict[str, list[tuple[str, str, str, int | None, float]]] = {}
        self._selected: dict[tuple[str, Years | None, Group | None], _QuestionData] = {}
        with self.path.open(newline="", encoding="utf-8") as file:
            reader = csv.reader(file)
            header = next(reader)
            missing = [name for name in _COLUMNS if name not in header]
            if missing:
                raise ValueError(f"{self.path}: missing column(s) {missing}")
            loc, qst, val, cat, strat = (header.index(name) for name in _COLUMNS)
            year = header.index(_YEAR) if _YEAR in header else None
            for row in reader:
                self.rows_read += 1
                question, location = row[qst], row[loc]
                if question not in QUESTIONS or not location:
                    continue  # no row without a location takes part (there are none in the data)
                value = parse_value(row[val])
                if value is None:
                    self.rows_skipped += 1
                    continue
                self._data.setdefault(question, _QuestionData()).add(
                    location, row[cat], row[strat], value
                )
                when = parse_year(row[year]) if year is not None else None
                self._rows.setdefault(question, []).append(
                    (location, row[cat], row[strat], when, value)
                )

    def locations(self, question: str) -> list[str]:
        """Every location with at least one counted row for `question`, sorted by name."""
        return sorted(self._data[question].by_location)

    def years(self, question: str) -> list[int]:
        """The years of `question`'s counted rows, ascending."""
        return sorted({row[3] for row in self._rows[question] if row[3] is not None})

    def strata(self, question: str) -> list[Group]:
        """Every named (category, stratum) of `question`'s counted rows, sorted."""
        return sorted({(row[1], row[2]) for row in self._rows[question] if row[1] and row[2]})

    def _select(self, question: str, years: Years | None, group: Group | None) -> _QuestionData:
        """The counted rows of `question` in those years (a row without a year is in none) and
        that stratification; all of them when both are None."""
        if years is None and group is None:
            return self._data[question]
        key = (question, years, group)
        if key not in self._selected:
            data = self._selected[key] = _QuestionData()
            for location, category, stratum, year, value in self._rows[question]:
                if years is not None and (year is None or not years[0] <= year <= years[1]):
                    continue
                if group is not None and (category, stratum) != group:
                    continue
                data.add(location, category, stratum, value)
        return self._selected[key]

    def states_mean(self, data: _QuestionData) -> dict[str, float]:
        """Every location's mean, ascending by mean, ties by name."""
        means = {loc: _mean(vals) for loc, vals in data.by_location.items()}
        return dict(sorted(means.items(), key=lambda item: (item[1], item[0])))

    def _ranking(self, question: str, data: _QuestionData, best: bool) -> dict[str, float]:
        """Five locations from the best (or worst) end, that end first, ties by name."""
        items = list(self.states_mean(data).items())
        lowest_first = (QUESTIONS[question] == LOWEST) is best
        if not lowest_first:
            items.sort(key=lambda item: (-item[1], item[0]))
        return dict(items[:5])

    def _category_means(self, data: _QuestionData) -> dict[tuple[str, str, str], float]:
        """(location, category, stratum) -> mean, in sorted tuple order."""
        strata = data.by_stratum
        return {key: _mean(strata[key]) for key in sorted(strata)}

    def answer(
        self,
        endpoint: str,
        question: str,
        state: str | None = None,
        years: Years | None = None,
        stratification: Group | None = None,
    ) -> object:
        """The expected `data` of a finished `endpoint` job for `question` (and `state`), over
        the rows of `years` and `stratification` if given.

        KeyError when the service must refuse the request: no counted row is selected (for the
        question, or for the state of a state endpoint).
        """
        if question not in self._data:
            raise KeyError(f"no data for question {question!r}")
        data = self._select(question, years, stratification)
        if not data.values:
            raise KeyError(f"no rows for {question!r} in {years} {stratification}")
        if endpoint in STATE_ENDPOINTS:
            if state not in self._data[question].by_location:
                raise KeyError(f"no data for state {state!r} on {question!r}")
            if state not in data.by_location:
                raise KeyError(f"no rows for state {state!r} in {years} {stratification}")
        elif state is not None:
            raise ValueError(f"{endpoint} takes no state")
        overall = _mean(data.values)
        if endpoint == "states_mean":
            return self.states_mean(data)
        if endpoint == "state_mean":
            return {state: self.states_mean(data)[state]}
        if endpoint == "best5":
            return self._ranking(question, data, best=True)
        if endpoint == "worst5":
            return self._ranking(question, data, best=False)
        if endpoint == "global_mean":
            return {"global_mean": overall}
        if endpoint == "diff_from_mean":
            return {loc: overall - mean for loc, mean in self.states_mean(data).items()}
        if endpoint == "state_diff_from_mean":
            return {state: overall - self.states_mean(data)[state]}
        if endpoint == "mean_by_category":
            return {str(key): mean for key, mean in self._category_means(data).items()}
        if endpoint == "state_mean_by_category":
            means = self._category_means(data)
            return {state: {str(key[1:]): mean for key, mean in means.items() if key[0] == state}}
        raise ValueError(f"unknown endpoint {endpoint!r}")


def _is_number(value: object) -> bool:
    """True for an int or float that is not a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def compare(
    actual: object, expected: object, rel: float = 1e-9, abs_tol: float = 1e-12, where: str = "data"
) -> None:
    """Assert `actual` equals `expected`: same types, same dict keys in order, close floats.

    Floats may differ by `rel` relative (the service may sum in another order); `abs_tol` only
    matters for values that are almost zero, such as a difference from the mean.
    """
    if isinstance(expected, float):
        assert isinstance(actual, float), f"{where}: expected a float, got {actual!r}"
        assert math.isfinite(actual), f"{where}: {actual!r} is not finite"
        assert math.isclose(actual, expected, rel_tol=rel, abs_tol=abs_tol), (
            f"{where}: {actual!r} != {expected!r} (difference {actual - expected:.3g})"
        )
        return
    assert type(actual) is type(expected), (
        f"{where}: expected {type(expected).__name__} {_short(expected)}, "
        f"got {type(actual).__name__} {_short(actual)}"
    )
    if isinstance(expected, Mapping):
        assert isinstance(actual, Mapping)
        got, want = list(actual), list(expected)
        if got != want:
            extra = [key for key in got if key not in expected]
            lost = [key for key in want if key not in actual]
            pairs = zip(got, want, strict=False)
            first = next((i for i, (a, b) in enumerate(pairs) if a != b), None)
            detail = (
                f"first difference at #{first}: got {got[first]!r}, expected {want[first]!r}"
                if first is not None
                else "same keys in the same order up to the shorter list"
            )
            raise AssertionError(
                f"{where}: keys differ ({len(got)} vs {len(want)} expected); "
                f"unexpected {extra[:5]}, missing {lost[:5]}; {detail}"
            )
        for key, value in expected.items():
            compare(actual[key], value, rel, abs_tol, f"{where}[{key!r}]")
    elif isinstance(expected, list):
        assert isinstance(actual, list)
        assert len(actual) == len(expected), (
            f"{where}: length {len(actual)}, expected {len(expected)}"
        )
        for i, (got_item, want_item) in enumerate(zip(actual, expected, strict=True)):
            compare(got_item, want_item, rel, abs_tol, f"{where}[{i}]")
    elif _is_number(expected):
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"
    else:
        assert actual == expected, f"{where}: {_short(actual)} != {_short(expected)}"


def _short(value: object, limit: int = 200) -> str:
    """repr() of `value`, shortened for an assertion message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
