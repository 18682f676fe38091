"""Names as people type them (lss_client.names), checked against the bundled data's own names."""

from __future__ import annotations

import csv

import pytest

from lss_client import NoMatch
from lss_client.names import POSTAL_CODES, match_question, match_state
from unittests.conftest import BUNDLED_CSV, MUSCLE, OBESITY
from unittests.support.reference import QUESTIONS


@pytest.fixture(scope="module")
def locations() -> dict[str, str]:
    """LocationDesc -> LocationAbbr, as the bundled extract pairs them."""
    with BUNDLED_CSV.open(newline="", encoding="utf-8") as file:
        return {row["LocationDesc"]: row["LocationAbbr"] for row in csv.DictReader(file)}


def test_every_location_in_the_data_has_its_own_code_in_the_table(
    locations: dict[str, str],
) -> None:
    assert len(locations) == 55
    assert {name: code for code, name in POSTAL_CODES.items()} == locations


@pytest.mark.parametrize(
    "typed, state",
    [
        ("oh", "Ohio"),
        ("OH", "Ohio"),
        ("ohio", "Ohio"),
        ("  new   york ", "New York"),
        ("virginia", "Virginia"),  # exact, though West Virginia contains it
        ("wv", "West Virginia"),
        ("dc", "District of Columbia"),
        ("us", "National"),
        ("NATIONAL", "National"),
        ("vi", "Virgin Islands"),
    ],
)
def test_a_state_by_name_in_any_case_or_by_code(
    locations: dict[str, str], typed: str, state: str
) -> None:
    assert match_state(typed, sorted(locations)) == state


@pytest.mark.parametrize(
    "typed, candidates",
    [
        ("carolina", ["North Carolina", "South Carolina"]),
        ("dakota", ["North Dakota", "South Dakota"]),
        ("Ohoi", ["Ohio"]),
        ("xx", None),  # no near miss: every location is listed
        ("", None),
    ],
)
def test_an_unknown_state_lists_the_candidates(
    locations: dict[str, str], typed: str, candidates: list[str] | None
) -> None:
    with pytest.raises(NoMatch) as raised:
        match_state(typed, sorted(locations))
    assert raised.value.candidates == (candidates or sorted(locations))
    assert all(repr(name) in raised.value.reason for name in raised.value.candidates)


def test_a_code_without_data_on_the_server_is_not_accepted() -> None:
    with pytest.raises(NoMatch):
        match_state("GU", ["Ohio", "Oregon"])


@pytest.mark.parametrize(
    "typed, question",
    [
        ("obesity", OBESITY),
        ("OBESITY", OBESITY),
        ("overweight", next(q for q in QUESTIONS if "overweight" in q)),
        ("fruit", "Percent of adults who report consuming fruit less than one time daily"),
        ("300 minutes", next(q for q in QUESTIONS if "300 minutes" in q)),
        (MUSCLE.lower(), MUSCLE),  # exact, though the 150-minutes-and-muscle question contains it
        ("no   leisure-time", "Percent of adults who engage in no leisure-time physical activity"),
    ],
)  # fmt: skip
def test_a_question_by_any_unique_part_in_any_case(typed: str, question: str) -> None:
    assert match_question(typed, QUESTIONS) == question


@pytest.mark.parametrize(
    "typed, count",
    [("muscle", 2), ("150 minutes", 3), ("percent of adults", 9), ("height", 9), (" ", 9)],
)
def test_an_ambiguous_or_unknown_question_lists_the_candidates(typed: str, count: int) -> None:
    with pytest.raises(NoMatch) as raised:
        match_question(typed, QUESTIONS)
    assert len(raised.value.candidates) == count
    assert all(repr(q) in raised.value.reason for q in raised.value.candidates)
