"""What the loaded data holds for each question: its years, and its stratification categories
with their strata, in SPEC §2's order (`GET /api/questions`), so that no client keeps a copy."""

from __future__ import annotations

from typing import Any

from app.analytics.rows import RowTable
from app.questions import QUESTIONS, categories_in_order, in_brfss_order


def question_catalog(table: RowTable) -> list[dict[str, Any]]:
    """For each of the nine questions in SPEC §2's order: `{"question", "best_is", "years",
    "categories": [{"category", "strata"}...]}`, categories and strata in §2's order (those it
    does not list after them, by name); a question the data lacks has no years nor categories."""
    catalog = []
    for question, best in QUESTIONS.items():
        rows = table.questions.get(question)
        strata = rows.strata if rows is not None else {}
        catalog.append(
            {
                "question": question,
                "best_is": best.value,
                "years": list(rows.years) if rows is not None else [],
                "categories": [
                    {"category": category, "strata": in_brfss_order(category, strata[category])}
                    for category in categories_in_order(strata)
                ],
            }
        )
    return catalog


def loaded_strata(table: RowTable) -> dict[str, list[str]]:
    """Every category of the loaded data with its strata, over all questions, in SPEC §2's
    order: the values a body's `stratification` and `category` may name."""
    found: dict[str, set[str]] = {}
    for rows in table.questions.values():
        for category, strata in rows.strata.items():
            found.setdefault(category, set()).update(strata)
    return {
        category: in_brfss_order(category, found[category])
        for category in categories_in_order(found)
    }
