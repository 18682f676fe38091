"""rankings: every location's pooled value ranked, with Monte Carlo rank intervals and the
chances of being among the best or worst five (SPEC §15.3)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from app.analytics import method
from app.analytics.estimates import interval, pooled_cells, reliability
from app.analytics.provenance import RowCounts, provenance
from app.analytics.rank_draws import DRAWS, SEED, rank_counts, rank_summary, standard_normals
from app.analytics.rows import RowTable
from app.analytics.selection import Selection
from app.analytics.stats import Estimate
from app.questions import NATIONAL, QUESTIONS, TERRITORIES, Best


def prepare(table: RowTable) -> None:
    """Make the draws of the usual rankings once, at load: they depend only on how many
    locations are ranked (most often every location but National), and cost more to make than
    to rank, so that no job pays for them."""
    counts = Counter(
        len(rows.locations) - (NATIONAL in rows.locations) for rows in table.questions.values()
    )
    if counts:
        standard_normals(max(1, counts.most_common(1)[0][0]))


def _ranked(
    question: str, found: dict[str, tuple[Estimate | None, RowCounts]]
) -> list[tuple[str, dict[str, Any]]]:
    """(location, its rank fields) of the locations with an estimate, best first."""
    named = sorted(place for place, (estimate, _) in found.items() if estimate is not None)
    if not named:
        return []
    estimates = [found[place][0] for place in named]
    values = np.array([e.value for e in estimates])  # type: ignore[union-attr]
    ses = np.array([e.se for e in estimates])  # type: ignore[union-attr]
    lowest_best = QUESTIONS[question] is Best.LOWEST
    summary = rank_summary(rank_counts(values, ses, lowest_best))
    best_first = np.argsort(values if lowest_best else -values, kind="stable")
    return [
        (
            named[i],
            {
                "rank": rank,
                "rank_low": int(summary["rank_low"][i]),
                "rank_high": int(summary["rank_high"][i]),
                "p_best5": float(summary["p_best5"][i]),
                "p_worst5": float(summary["p_worst5"][i]),
            },
        )
        for rank, i in enumerate(best_first.tolist(), start=1)
    ]


def rankings(table: RowTable, sha256: str, question: str, selection: Selection) -> dict[str, Any]:
    """The `data` of a rankings job (SPEC §15.3)."""
    rows = table.questions[question]
    years = selection.year_range(rows)
    places = [place for place in rows.locations if place != NATIONAL]
    cells = [table.find(question, place, *selection.stratum()) for place in places]
    found = dict(zip(places, pooled_cells(table, cells, years), strict=True))
    no_rank = dict.fromkeys(("rank", "rank_low", "rank_high", "p_best5", "p_worst5"))

    def entry(place: str, ranks: dict[str, Any]) -> dict[str, Any]:
        estimate, counts = found[place]
        fields = {
            "location": place,
            **interval(estimate),
            **reliability(estimate),
            "territory": place in TERRITORIES,
            **ranks,
        }
        if estimate is None:
            fields["reason"] = counts.why_no_value()
        return fields

    ranked = _ranked(question, found)
    listed = {place for place, _ in ranked}
    category, stratum = selection.stratum()
    return {
        "question": question,
        "stratification": {"category": category, "stratum": stratum},
        "years": list(years) if rows.years else None,  # None: no row of the question has one
        "locations": [entry(place, ranks) for place, ranks in ranked]
        + [entry(place, no_rank) for place in sorted(found) if place not in listed],
        "draws": DRAWS,
        "seed": SEED,
        "method": method.RANKINGS,
        "provenance": provenance(sha256, sum((c for _, c in found.values()), RowCounts())),
    }
