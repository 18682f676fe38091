"""Names as people type them (lss_client.names), checked against the bundled data's own names
and the server's categories; the optional fields of a Question as a bulk file or a call gives
them."""

from __future__ import annotations

import csv
from typing import Any

import pytest

from lss_client import NoMatch, Question, names
from lss_client.names import (
    POSTAL_CODES,
    match_category,
    match_group,
    match_question,
    match_state,
)
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


#: The categories and strata as GET /api/questions lists them for obesity on the bundled data
#: (SPEC §2's order), and as it lists them on data in the CDC's current spelling (`Sex`).
CATEGORIES = {
    "Total": ("Total",),
    "Age (years)": ("18 - 24", "25 - 34", "35 - 44", "45 - 54", "55 - 64", "65 or older"),
    "Education": (
        "Less than high school",
        "High school graduate",
        "Some college or technical school",
        "College graduate",
    ),
    "Gender": ("Male", "Female"),
    "Income": (
        "Less than $15,000",
        "$15,000 - $24,999",
        "$25,000 - $34,999",
        "$35,000 - $49,999",
        "$50,000 - $74,999",
        "$75,000 or greater",
        "Data not reported",
    ),
    "Race/Ethnicity": (
        "Non-Hispanic White",
        "Non-Hispanic Black",
        "Hispanic",
        "Asian",
        "Hawaiian/Pacific Islander",
        "American Indian/Alaska Native",
        "2 or more races",
        "Other",
    ),
}
SEX_CATEGORIES = {("Sex" if c == "Gender" else c): strata for c, strata in CATEGORIES.items()}


def test_the_client_keeps_no_copy_of_the_categories() -> None:
    """They come from the server (GET /api/questions, Client.catalog), as its data names them."""
    assert not hasattr(names, "CATEGORIES")
    assert not hasattr(names, "STRATA")


def test_the_categories_above_are_what_the_server_lists_for_the_bundled_data() -> None:
    from app.analytics.catalog import question_catalog  # the server's, for this test only
    from app.data_ingestor import load_dataset

    listed = question_catalog(load_dataset(BUNDLED_CSV).rows)
    obesity = next(q for q in listed if q["question"] == OBESITY)
    assert {c["category"]: tuple(c["strata"]) for c in obesity["categories"]} == CATEGORIES
    assert list(CATEGORIES) == [c["category"] for c in obesity["categories"]]


@pytest.mark.parametrize(
    "typed, category",
    [
        ("income", "Income"),
        ("INCOME", "Income"),
        ("age", "Age (years)"),
        ("race", "Race/Ethnicity"),
        ("ethnicity", "Race/Ethnicity"),
        ("educ", "Education"),
        ("gender", "Gender"),
        ("Age (years)", "Age (years)"),
    ],
)
def test_a_category_by_any_unique_part_in_any_case(typed: str, category: str) -> None:
    assert match_category(typed, CATEGORIES) == category


def test_a_category_is_named_as_the_servers_data_names_it() -> None:
    assert match_category("sex", SEX_CATEGORIES) == "Sex"
    assert match_group("SEX=female", SEX_CATEGORIES) == ("Sex", "Female")
    with pytest.raises(NoMatch, match="unknown category 'gender'"):
        match_category("gender", SEX_CATEGORIES)


@pytest.mark.parametrize(
    "typed, candidates",
    [
        ("e", ["Age (years)", "Education", "Gender", "Income", "Race/Ethnicity"]),
        ("sex", list(CATEGORIES)),
        ("", list(CATEGORIES)),
    ],
)
def test_an_ambiguous_or_unknown_category_lists_the_candidates(
    typed: str, candidates: list[str]
) -> None:
    with pytest.raises(NoMatch) as raised:
        match_category(typed, CATEGORIES)
    assert raised.value.candidates == candidates
    assert all(repr(name) in raised.value.reason for name in candidates)


@pytest.mark.parametrize(
    "typed, group",
    [
        ("income=$75,000 or greater", ("Income", "$75,000 or greater")),
        ("gender=female", ("Gender", "Female")),
        ("age=18 - 24", ("Age (years)", "18 - 24")),
        ("race=non-hispanic BLACK", ("Race/Ethnicity", "Non-Hispanic Black")),
        ("Total=Total", ("Total", "Total")),
    ],
)
def test_a_group_is_a_category_typed_loosely_and_a_stratum_in_any_case(
    typed: str, group: tuple[str, str]
) -> None:
    assert match_group(typed, CATEGORIES) == group


def test_an_unknown_stratum_lists_its_categorys_strata() -> None:
    with pytest.raises(NoMatch) as raised:
        match_group("gender=other", CATEGORIES)
    assert raised.value.candidates == ["Male", "Female"]
    with pytest.raises(ValueError, match="CATEGORY=STRATUM"):
        match_group("female", CATEGORIES)


@pytest.mark.parametrize(
    "fields, body",
    [
        ({"endpoint": "best5", "question": "q"}, {"question": "q"}),
        (
            {"endpoint": "state_trend", "question": "q", "state": "Ohio", "years": [2015, 2022]},
            {"question": "q", "state": "Ohio", "years": [2015, 2022]},
        ),
        ({"endpoint": "best5", "question": "q", "years": 2020},
         {"question": "q", "years": [2020, 2020]}),
        (
            {"endpoint": "disparities", "question": "q", "state": "Ohio", "category": "Income"},
            {"question": "q", "state": "Ohio", "category": "Income"},
        ),
        (
            {"endpoint": "best5", "question": "q", "years": None,
             "stratification": {"category": "Gender", "stratum": "Male"}},
            {"question": "q", "stratification": {"category": "Gender", "stratum": "Male"}},
        ),
    ],
)  # fmt: skip
def test_a_question_sends_the_optional_fields_only_when_given(
    fields: dict[str, Any], body: dict[str, Any]
) -> None:
    assert Question.from_mapping(fields).body() == body


@pytest.mark.parametrize(
    "extra, field",
    [
        ({"years": [2015]}, "years"),
        ({"years": ["2015", "2016"]}, "years"),
        ({"years": [True, 2016]}, "years"),
        ({"years": "2015-2022"}, "years"),
        ({"stratification": {"category": "Gender"}}, "stratification"),
        ({"stratification": {"category": "Gender", "stratum": 1}}, "stratification"),
        ({"stratification": "Gender=Male"}, "stratification"),
        ({"category": 3}, "category"),
        ({"state": ["Ohio"]}, "state"),
    ],
)
def test_a_field_of_the_wrong_shape_is_a_value_error_naming_it(
    extra: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValueError, match=f"field '{field}'"):
        Question.from_mapping({"endpoint": "best5", "question": "q", **extra})


def test_the_python_calls_take_pairs_and_keep_them_hashable() -> None:
    asked = Question(
        "state_trend", "q", "Ohio", years=[2015, 2022], stratification=["Gender", "Male"]
    )
    assert asked.years == (2015, 2022) and asked.stratification == ("Gender", "Male")
    assert hash(asked) == hash(Question("state_trend", "q", "Ohio", years=(2015, 2022),
                                        stratification=("Gender", "Male")))  # fmt: skip
