"""The statistics of SPEC §13 and §15.1-15.2 against an independent implementation (statsmodels,
scipy, numpy, a brute-force joinpoint search): every question, every location, every category,
on the bundled dataset whatever its rows, and on a generated one with every year of every cell
(so that slopes and joinpoints are compared whatever the sample).

The answers are computed in-process by the Task classes and read back as JSON, as a client
gets them; test_analytics_api.py sends them through both engines.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest

from app.data_ingestor import Dataset, load_dataset
from app.task import TASKS
from unittests.conftest import BUNDLED_CSV
from unittests.support.analytics_reference import AnalyticsReference
from unittests.support.dense_data import write_dense
from unittests.support.reference import QUESTIONS, compare

QUESTION_IDS = [f"q{n}" for n in range(1, len(QUESTIONS) + 1)]
#: The service's floats against statsmodels' and scipy's: another summation order, another
#: algorithm (a QR solve for the slope), so a little more than the nine's tolerance.
REL = 1e-8
ABS = 1e-9


@pytest.fixture(scope="module")
def dense_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    with BUNDLED_CSV.open(newline="", encoding="utf-8") as file:
        header = next(csv.reader(file))
    return write_dense(tmp_path_factory.mktemp("dense") / "dense.csv", header)


@pytest.fixture(scope="module", params=["bundled", "dense"])
def source(request: pytest.FixtureRequest, dense_csv: Path) -> Path:
    return BUNDLED_CSV if request.param == "bundled" else dense_csv


@pytest.fixture(scope="module")
def dataset(source: Path) -> Dataset:
    return load_dataset(source)


@pytest.fixture(scope="module")
def expected(source: Path) -> AnalyticsReference:
    return AnalyticsReference(source)


def answer(dataset: Dataset, endpoint: str, **body: Any) -> Any:
    """The `data` a client reads for this request body, without its `method` text."""
    task = TASKS[endpoint].from_payload(body, dataset)
    data = orjson.loads(orjson.dumps(task.compute(dataset)))  # orjson would write NaN as null
    assert isinstance(data.pop("method"), str) and data is not None
    return data


def _group(pair: tuple[str, str]) -> dict[str, str]:
    return {"category": pair[0], "stratum": pair[1]}


def _a_few_years(expected: AnalyticsReference, question: str) -> tuple[int, int]:
    """A range over the middle of the question's years."""
    years = expected.years(question)
    return years[len(years) // 4], years[(3 * len(years)) // 4]


@pytest.mark.parametrize("question", list(QUESTIONS), ids=QUESTION_IDS)
def test_compare_to_national_in_every_stratum(dataset, expected, question):
    span = _a_few_years(expected, question)
    compare(
        answer(dataset, "compare_to_national", question=question),
        expected.compare_to_national(question),
        rel=REL,
        abs_tol=ABS,
    )
    compare(
        answer(dataset, "compare_to_national", question=question, years=list(span)),
        expected.compare_to_national(question, years=span),
        rel=REL,
        abs_tol=ABS,
    )
    for pair in expected.strata(question):
        compare(
            answer(dataset, "compare_to_national", question=question, stratification=_group(pair)),
            expected.compare_to_national(question, stratification=pair),
            rel=REL,
            abs_tol=ABS,
            where=f"compare_to_national{pair}",
        )


@pytest.mark.parametrize("question", list(QUESTIONS), ids=QUESTION_IDS)
def test_state_trend_of_every_location(dataset, expected, question):
    span = _a_few_years(expected, question)
    pairs = expected.strata(question)
    for state in expected.locations(question):
        body = {"question": question, "state": state}
        compare(
            answer(dataset, "state_trend", **body),
            expected.state_trend(question, state),
            rel=REL,
            abs_tol=ABS,
            where=f"state_trend({state})",
        )
        compare(
            answer(dataset, "state_trend", **body, years=list(span)),
            expected.state_trend(question, state, years=span),
            rel=REL,
            abs_tol=ABS,
            where=f"state_trend({state}, {span})",
        )
        for pair in pairs[:: max(1, len(pairs) // 4)]:  # a few strata of several categories
            compare(
                answer(dataset, "state_trend", **body, stratification=_group(pair)),
                expected.state_trend(question, state, stratification=pair),
                rel=REL,
                abs_tol=ABS,
                where=f"state_trend({state}, {pair})",
            )


@pytest.mark.parametrize("question", list(QUESTIONS), ids=QUESTION_IDS)
def test_disparities_of_every_location_and_category(dataset, expected, question):
    span = _a_few_years(expected, question)
    for state in expected.locations(question):
        for category in expected.categories(question, state):
            body = {"question": question, "state": state, "category": category}
            compare(
                answer(dataset, "disparities", **body),
                expected.disparities(question, state, category),
                rel=REL,
                abs_tol=ABS,
                where=f"disparities({state}, {category})",
            )
            compare(
                answer(dataset, "disparities", **body, years=list(span)),
                expected.disparities(question, state, category, years=span),
                rel=REL,
                abs_tol=ABS,
                where=f"disparities({state}, {category}, {span})",
            )


def test_the_differential_run_reaches_every_kind_of_answer(dense_csv):
    """The comparisons are not all nulls: each trend, each verdict, unreliable values and slopes
    left out for want of years all occur (in the generated file at least)."""
    expected = AnalyticsReference(dense_csv)
    seen: Counter[str] = Counter()
    for question in QUESTIONS:
        for pair in expected.strata(question):
            data = expected.compare_to_national(question, stratification=pair)
            seen.update(state["versus"] for state in data["states"].values())
            seen.update("unreliable" for s in data["states"].values() if not s["reliable"])
            for state in expected.locations(question):
                for years in (None, (2015, 2016)):
                    trend = expected.state_trend(question, state, years, stratification=pair)
                    seen.update([trend["slope"]["trend"] if trend["slope"] else "no slope"])
                    seen.update("unreliable" for p in trend["series"] if not p["reliable"])
                    if trend["slope"]:
                        seen.update([f"slope dispersion > 1: {trend['slope']['dispersion'] > 1}"])
                    apc = trend["apc"]
                    seen.update([f"{len(apc['joinpoints'])} joinpoints" if apc else "no apc"])
                    if apc:
                        seen.update([f"apc dispersion > 1: {apc['dispersion'] > 1}"])
    for kind in ("higher", "lower", "similar", "unreliable", "rising", "falling", "stable"):
        assert seen[kind], (kind, seen)
    for kind in ("0 joinpoints", "1 joinpoints", "2 joinpoints", "no apc", "no slope"):
        assert seen[kind], (kind, seen)
    for fit in ("slope", "apc"):  # the t quantile and the known variances both compared
        assert seen[f"{fit} dispersion > 1: True"] and seen[f"{fit} dispersion > 1: False"], seen
