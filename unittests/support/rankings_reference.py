"""An independent implementation of `rankings` (SPEC §15.3), to judge the service's.

The pooled values come from AnalyticsReference (the csv module and numpy.average). The ranks by
estimate are Python's sorted() on (value, name). The rank probabilities come from a simulation of
its own: another generator (MT19937, not numpy's default PCG64), another seed, twice the draws,
and each draw ranked with numpy.lexsort on (name, value), so that its shares agree with the
service's within Monte Carlo error only. `brute_force_counts` ranks the service's own draws
(default_rng(0)) one by one in Python, for exact comparisons.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from unittests.support.analytics_reference import (
    NATIONAL,
    TOTAL,
    AnalyticsReference,
    _numbers,
    _pool,
    _reliability,
    _why_empty,
)
from unittests.support.reference import LOWEST, QUESTIONS

TERRITORIES = ("Guam", "Puerto Rico", "Virgin Islands")
#: The service's draws and seed (SPEC §15.3), and the independent simulation's.
DRAWS = 10_000
SIMULATED_DRAWS = 20_000
SIMULATION_SEED = 20_240_615


def brute_force_counts(values: list[float], ses: list[float], lowest: bool) -> np.ndarray:
    """counts[i, r]: draws of numpy.random.default_rng(0) ranking location i (of the locations
    sorted by name, as `values` and `ses` are) at rank r + 1, one draw at a time with sorted()."""
    count = len(values)
    z = np.random.default_rng(0).standard_normal((DRAWS, count)).tolist()
    counts = np.zeros((count, count), dtype=int)
    for draw in z:
        x = [v + s * e for v, s, e in zip(values, ses, draw, strict=True)]
        ranked = sorted(range(count), key=lambda i: (x[i] if lowest else -x[i], i))
        for rank, i in enumerate(ranked):
            counts[i, rank] += 1
    return counts


def rank_fields(counts: np.ndarray) -> list[dict[str, Any]]:
    """rank_low, rank_high, p_best5, p_worst5 of each location from its counts, by the SPEC's
    words: the smallest r with at least 250 (9,750) draws ranked r or better; the shares ranked
    in the first five and in the last five."""
    count = len(counts)
    fields = []
    for row in counts.tolist():
        reached = [sum(row[: r + 1]) for r in range(count)]
        fields.append(
            {
                "rank_low": next(r + 1 for r in range(count) if reached[r] >= 250),
                "rank_high": next(r + 1 for r in range(count) if reached[r] >= 9_750),
                "p_best5": sum(row[:5]) / DRAWS,
                "p_worst5": sum(row[max(0, count - 5) :]) / DRAWS,
            }
        )
    return fields


def simulated_shares(values: list[float], ses: list[float], lowest: bool) -> np.ndarray:
    """shares[i, r]: the independent simulation's share of draws ranking i at rank r + 1."""
    count = len(values)
    generator = np.random.Generator(np.random.MT19937(SIMULATION_SEED))
    x = np.asarray(values) + np.asarray(ses) * generator.normal(size=(SIMULATED_DRAWS, count))
    names = np.broadcast_to(np.arange(count), x.shape)
    order = np.lexsort((names, x if lowest else -x), axis=1)  # best first, ties by name
    shares = np.zeros((count, count))
    for rank in range(count):
        shares[:, rank] = np.bincount(order[:, rank], minlength=count) / SIMULATED_DRAWS
    return shares


class RankingsReference(AnalyticsReference):
    """Expected `data` of rankings, but for the fields of the simulation."""

    def pooled(
        self,
        question: str,
        years: tuple[int, int] | None = None,
        stratification: tuple[str, str] = TOTAL,
    ) -> dict[str, tuple[dict[str, Any] | None, list]]:
        """Every location but National: its pooled estimate (or None) and its rows."""
        span = self._span(question, years)
        found = {}
        for place in self.locations(question):
            if place != NATIONAL:
                rows = self._rows((question, place, *stratification), span)
                found[place] = (_pool(rows), rows)
        return found

    def rankings(
        self,
        question: str,
        years: tuple[int, int] | None = None,
        stratification: tuple[str, str] = TOTAL,
    ) -> dict[str, Any]:
        """The answer without `method`, its locations without the four simulated fields."""
        found = self.pooled(question, years, stratification)
        sign = 1 if QUESTIONS[question] == LOWEST else -1
        ranked = sorted(
            (place for place, (pooled, _) in found.items() if pooled),
            key=lambda place: (sign * found[place][0]["value"], place),  # type: ignore[index]
        )
        locations = []
        for rank, place in enumerate(ranked, start=1):
            pooled = found[place][0]
            locations.append(_entry(place, pooled, rank))
        for place in sorted(set(found) - set(ranked)):
            entry = _entry(place, None, None)
            entry["reason"] = _why_empty(found[place][1])
            locations.append(entry)
        span = self._span(question, years)
        return {
            "question": question,
            "stratification": {"category": stratification[0], "stratum": stratification[1]},
            "years": list(span) if self._years[question] else None,
            "locations": locations,
            "draws": DRAWS,
            "seed": 0,
            "provenance": self._provenance([row for _, rows in found.values() for row in rows]),
        }


def _entry(place: str, pooled: dict[str, Any] | None, rank: int | None) -> dict[str, Any]:
    return {
        "location": place,
        **_numbers(pooled),
        **_reliability(pooled),
        "territory": place in TERRITORIES,
        "rank": rank,
    }
