"""An independent implementation of the statistics of SPEC §13 and §15.1-15.2, to judge the
service's.

It shares no code with `app/`: the CSV is read with the `csv` module, rows are pooled with
`numpy.average`, the slope and the joinpoints are those of `joinpoint_reference` (statsmodels'
weighted least squares with the scale max(1, SSR / df), a brute-force search over placements),
p values come from `scipy.stats.norm`, Holm's adjustment from statsmodels' `multipletests`. Its
answers are the `data` of the service's, without `method`.
"""

from __future__ import annotations

import csv
import hashlib
import math
from collections import defaultdict
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
from scipy.stats import norm
from statsmodels.stats.multitest import multipletests

from unittests.support import joinpoint_reference
from unittests.support.reference import LOWEST, QUESTIONS, parse_value

Z = 1.959964
NATIONAL = "National"
TOTAL = ("Total", "Total")
NOT_REPORTED = "Data not reported"
#: A footnote with one of these (in any case) says the row's value was suppressed.
SUPPRESSED_WORDS = ("suppress", "insufficient", "not available")
#: The BRFSS's order of each category's strata (SPEC §2), written out again.
ORDER = {
    "Total": ["Total"],
    "Age (years)": ["18 - 24", "25 - 34", "35 - 44", "45 - 54", "55 - 64", "65 or older"],
    "Education": [
        "Less than high school",
        "High school graduate",
        "Some college or technical school",
        "College graduate",
    ],
    "Gender": ["Male", "Female"],
    "Income": [
        "Less than $15,000",
        "$15,000 - $24,999",
        "$25,000 - $34,999",
        "$35,000 - $49,999",
        "$50,000 - $74,999",
        "$75,000 or greater",
        NOT_REPORTED,
    ],
    "Race/Ethnicity": [
        "Non-Hispanic White",
        "Non-Hispanic Black",
        "Hispanic",
        "Asian",
        "Hawaiian/Pacific Islander",
        "American Indian/Alaska Native",
        "2 or more races",
        "Other",
    ],
}


def _year(text: str) -> int | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if number.is_integer() and 1 <= number <= 9999 else None


@dataclass(frozen=True)
class _Row:
    year: int | None
    value: float | None
    se: float | None
    size: float | None
    suppressed: bool

    @property
    def kind(self) -> str:
        if self.value is None:
            return "suppressed" if self.suppressed else "missing"
        return "used" if self.se is not None else "without_ci"


def _se(low: float | None, high: float | None) -> float | None:
    if low is None or high is None:
        return None
    se = (high - low) / (2 * Z)
    return se if se > 0 and math.isfinite(1 / se**2) else None


def _pool(rows: list[_Row]) -> dict[str, Any] | None:
    """value, se and sample_size of the usable rows, or None without any."""
    usable = [row for row in rows if row.kind == "used"]
    if not usable:
        return None
    weights = np.array([1 / row.se**2 for row in usable])  # type: ignore[operator]
    value = float(np.average([row.value for row in usable], weights=weights))
    sizes = [row.size for row in usable if row.size is not None]
    return {
        "value": value,
        "se": math.sqrt(1 / weights.sum()),
        "sample_size": int(sum(sizes)) if sizes else None,
    }


def _reliability(pooled: dict[str, Any] | None) -> dict[str, Any]:
    if pooled is None:
        return {"reliable": False, "unreliable": ["no value"]}
    reasons = []
    if pooled["sample_size"] is None:
        reasons.append("sample_size unknown")
    elif pooled["sample_size"] < 50:
        reasons.append("sample_size < 50")
    if Z * pooled["se"] > 10:
        reasons.append("half_width > 10")
    if pooled["value"] <= 0 or pooled["se"] / pooled["value"] > 0.30:
        reasons.append("relative_se > 0.30")
    return {"reliable": not reasons, "unreliable": reasons}


def _numbers(pooled: dict[str, Any] | None) -> dict[str, Any]:
    if pooled is None:
        return {"value": None, "low": None, "high": None, "sample_size": None}
    se = pooled["se"]
    return {
        "value": pooled["value"],
        "low": pooled["value"] - Z * se,
        "high": pooled["value"] + Z * se,
        "sample_size": pooled["sample_size"],
    }


def _counts(rows: list[_Row]) -> dict[str, int]:
    kinds = [row.kind for row in rows]
    return {kind: kinds.count(kind) for kind in ("used", "suppressed", "missing", "without_ci")}


def _behind(rows: list[_Row]) -> dict[str, Any]:
    """The years of the usable rows, and the count of the suppressed ones."""
    return {
        "years_used": sorted({row.year for row in rows if row.kind == "used"}),  # type: ignore[type-var]
        "rows_suppressed": _counts(rows)["suppressed"],
    }


def _why_empty(rows: list[_Row]) -> str:
    counts = _counts(rows)
    if not rows:
        return "no rows in the years and stratification asked for"
    return (
        "no row with both a value and a confidence interval "
        f"({counts['suppressed']} suppressed, {counts['missing']} missing, "
        f"{counts['without_ci']} without a confidence interval)"
    )


class AnalyticsReference:
    """Expected `data` (without `method`) of state_trend, compare_to_national, disparities."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.sha256 = hashlib.sha256(self.path.read_bytes()).hexdigest()
        self.version = metadata.version("le-stats-sportif")
        self._cells: dict[tuple[str, str, str, str], list[_Row]] = defaultdict(list)
        self._years: dict[str, set[int]] = defaultdict(set)
        self._locations: dict[str, set[str]] = defaultdict(set)
        #: (question, location, category) -> its named strata, in the order first read.
        self._strata: dict[tuple[str, str, str], dict[str, None]] = defaultdict(dict)
        with self.path.open(newline="", encoding="utf-8") as file:
            for record in csv.DictReader(file):
                question, location = record["Question"], record["LocationDesc"]
                if question not in QUESTIONS or not location:
                    continue
                get = {name.strip(): text for name, text in record.items()}.get
                note = (get("Data_Value_Footnote") or "").lower()
                row = _Row(
                    year=_year(get("YearStart") or ""),
                    value=parse_value(get("Data_Value") or ""),
                    se=_se(
                        parse_value(get("Low_Confidence_Limit") or ""),
                        parse_value(get("High_Confidence_Limit") or ""),
                    ),
                    size=parse_value(get("Sample_Size") or ""),
                    suppressed=any(word in note for word in SUPPRESSED_WORDS),
                )
                category, stratum = record["StratificationCategory1"], record["Stratification1"]
                self._cells[(question, location, category, stratum)].append(row)
                if category and stratum:
                    self._strata[(question, location, category)][stratum] = None
                self._locations[question].add(location)
                if row.year is not None:
                    self._years[question].add(row.year)

    def locations(self, question: str) -> list[str]:
        """Every location with a row for the question, sorted."""
        return sorted(self._locations[question])

    def strata(self, question: str) -> list[tuple[str, str]]:
        """Every named (category, stratum) the question has rows in, sorted."""
        found = self._strata.items()
        return sorted({(c, s) for (q, _, c), strata in found if q == question for s in strata})

    def years(self, question: str) -> list[int]:
        """The years of the question's rows, ascending."""
        return sorted(self._years[question])

    def categories(self, question: str, location: str) -> list[str]:
        """The named categories the location has rows in."""
        cells = self._cells
        return sorted(
            {c for (q, loc, c, s) in cells if (q, loc) == (question, location) and c and s}
        )

    def _span(self, question: str, years: tuple[int, int] | None) -> tuple[int, int]:
        if years or not self._years[question]:
            return years or (0, -1)
        return min(self._years[question]), max(self._years[question])

    def _rows(self, key: tuple[str, str, str, str], span: tuple[int, int]) -> list[_Row]:
        return [r for r in self._cells.get(key, []) if r.year and span[0] <= r.year <= span[1]]

    def _provenance(self, rows: list[_Row]) -> dict[str, Any]:
        counts = _counts(rows)
        return {
            "dataset_sha256": self.sha256,
            "rows_used": counts["used"],
            "rows_suppressed": counts["suppressed"],
            "rows_missing": counts["missing"],
            "rows_without_ci": counts["without_ci"],
            "service_version": self.version,
        }

    def state_trend(
        self,
        question: str,
        state: str,
        years: tuple[int, int] | None = None,
        stratification: tuple[str, str] = TOTAL,
    ) -> dict[str, Any]:
        span = self._span(question, years)
        rows = self._rows((question, state, *stratification), span)
        by_year: dict[int, list[_Row]] = defaultdict(list)
        for row in rows:
            by_year[row.year].append(row)  # type: ignore[index]
        series = [(year, _pool(by_year[year])) for year in sorted(by_year)]
        series = [(year, pooled) for year, pooled in series if pooled is not None]
        data: dict[str, Any] = {
            "state": state,
            "question": question,
            "stratification": {"category": stratification[0], "stratum": stratification[1]},
            "series": [
                {"year": year, **_numbers(pooled), **_reliability(pooled)}
                for year, pooled in series
            ],
            "missing_years": sorted(
                year
                for year in self._years[question]
                if span[0] <= year <= span[1] and year not in dict(series)
            ),
            "suppressed_years": sorted(
                year
                for year, found in by_year.items()
                if _pool(found) is None and any(row.kind == "suppressed" for row in found)
            ),
            "slope": None,
        }
        if len(series) < 3:
            data["slope_reason"] = f"fewer than 3 years with a usable value ({len(series)})"
        else:
            data["slope"] = joinpoint_reference.slope(
                [year for year, _ in series],
                [pooled["value"] for _, pooled in series],
                [pooled["se"] for _, pooled in series],
            )
        positive = [(year, pooled) for year, pooled in series if pooled["value"] > 0]
        left_out = [year for year, pooled in series if pooled["value"] <= 0]
        data["apc"] = joinpoint_reference.apc(
            [year for year, _ in positive],
            [pooled["value"] for _, pooled in positive],
            [pooled["se"] for _, pooled in positive],
        )
        if data["apc"] is None:
            data["apc_reason"] = f"fewer than 3 years with a positive value ({len(positive)})" + (
                f"; left out, not positive: {left_out}" if left_out else ""
            )
        else:
            data["apc"]["years_left_out"] = left_out
        data["provenance"] = self._provenance(rows)
        return data

    def compare_to_national(
        self,
        question: str,
        years: tuple[int, int] | None = None,
        stratification: tuple[str, str] = TOTAL,
    ) -> dict[str, Any]:
        span = self._span(question, years)
        rows = {
            place: self._rows((question, place, *stratification), span)
            for place in self.locations(question)
        }
        pooled = {place: _pool(found) for place, found in rows.items()}
        nation = pooled.pop(NATIONAL, None)
        national = {**_numbers(nation), **_behind(rows.get(NATIONAL, []))}
        if nation is None:
            national["reason"] = (
                _why_empty(rows[NATIONAL])
                if NATIONAL in rows
                else "the dataset has no National rows for this question"
            )
        compared = [place for place, found in pooled.items() if found and nation]
        z = {}
        for place in compared:
            state = pooled[place]
            z[place] = (state["value"] - nation["value"]) / math.sqrt(  # type: ignore[index]
                state["se"] ** 2 + nation["se"] ** 2  # type: ignore[index]
            )
        p = {place: float(2 * norm.sf(abs(z[place]))) for place in compared}
        adjusted = {}
        if compared:
            # multipletests' Holm branch calls gc.collect(), which costs a tenth of a second
            # with this many objects alive; collecting changes nothing in its result.
            with mock.patch("gc.collect"):
                holm = multipletests([p[place] for place in compared], method="holm")[1]
            adjusted = {place: float(value) for place, value in zip(compared, holm, strict=True)}
        order = sorted(
            pooled,
            key=lambda place: (pooled[place] is None, (pooled[place] or {}).get("value", 0), place),
        )
        states = {}
        for place in order:
            entry = {
                **_numbers(pooled[place]),
                **_behind(rows[place]),
                "z": z.get(place),
                "p": p.get(place),
                "p_adjusted": adjusted.get(place),
                "versus": None,
                **_reliability(pooled[place]),
            }
            if place in adjusted:
                entry["versus"] = "similar"
                if adjusted[place] < 0.05:
                    entry["versus"] = "higher" if z[place] > 0 else "lower"
            if pooled[place] is None:
                entry["reason"] = _why_empty(rows[place])
            elif nation is None:
                entry["reason"] = "no national value to compare with"
            states[place] = entry
        return {
            "question": question,
            "stratification": {"category": stratification[0], "stratum": stratification[1]},
            "years": list(span) if self._years[question] else None,
            "national": national,
            "states": states,
            "adjustment": "holm",
            "provenance": self._provenance([row for found in rows.values() for row in found]),
        }

    def disparities(
        self, question: str, state: str, category: str, years: tuple[int, int] | None = None
    ) -> dict[str, Any]:
        span = self._span(question, years)
        strata = list(self._strata.get((question, state, category), ()))
        known = ORDER.get(category, [])
        strata.sort(key=lambda s: (0, known.index(s), "") if s in known else (1, 0, s))
        rows = {
            stratum: self._rows((question, state, category, stratum), span) for stratum in strata
        }
        pooled = {stratum: _pool(found) for stratum, found in rows.items()}
        candidates = [s for s in strata if pooled[s] is not None and s != NOT_REPORTED]
        reference = None
        if candidates:
            values = [pooled[s]["value"] for s in candidates]  # type: ignore[index]
            best = min(values) if QUESTIONS[question] == LOWEST else max(values)
            reference = candidates[values.index(best)]  # the first of equals, in BRFSS order
        base = pooled[reference] if reference else None
        entries = []
        for stratum in strata:
            found = pooled[stratum]
            entry = {"stratum": stratum, **_numbers(found), **_behind(rows[stratum])}
            if stratum == reference:
                entry |= {"gap": 0.0, "gap_low": 0.0, "gap_high": 0.0, "ratio": 1.0}
            elif found is None or base is None:
                entry |= {"gap": None, "gap_low": None, "gap_high": None, "ratio": None}
            else:
                gap = found["value"] - base["value"]
                half = Z * math.sqrt(found["se"] ** 2 + base["se"] ** 2)
                ratio = found["value"] / base["value"] if base["value"] else None
                entry |= {"gap": gap, "gap_low": gap - half, "gap_high": gap + half, "ratio": ratio}
            entry |= _reliability(found)
            if found is None:
                entry["reason"] = _why_empty(rows[stratum])
            elif base is None:
                entry["reason"] = "no reference stratum to compare with"
            elif entry["ratio"] is None:
                entry["reason"] = "the reference value is 0: no ratio"
            entries.append(entry)
        data: dict[str, Any] = {
            "state": state,
            "question": question,
            "category": category,
            "reference": reference,
        }
        if reference is None:
            data["reference_reason"] = (
                f"no stratum other than {NOT_REPORTED!r} has a usable value"
                if strata
                else f"no rows for {state} in {category!r} on this question"
            )
        data["strata"] = entries
        data["provenance"] = self._provenance([row for found in rows.values() for row in found])
        return data
