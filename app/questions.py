"""The nine BRFSS questions the service answers, which direction of each is better, and the
stratifications and locations the statistics name."""

from __future__ import annotations

import enum
from collections.abc import Iterable


class Best(enum.Enum):
    """Which end of a question's scale is the better one."""

    LOWEST = "lowest"
    HIGHEST = "highest"


QUESTIONS: dict[str, Best] = {
    "Percent of adults aged 18 years and older who have an overweight classification": Best.LOWEST,
    "Percent of adults aged 18 years and older who have obesity": Best.LOWEST,
    "Percent of adults who engage in no leisure-time physical activity": Best.LOWEST,
    "Percent of adults who report consuming fruit less than one time daily": Best.LOWEST,
    "Percent of adults who report consuming vegetables less than one time daily": Best.LOWEST,
    (
        "Percent of adults who achieve at least 150 minutes a week of moderate-intensity aerobic "
        "physical activity or 75 minutes a week of vigorous-intensity aerobic activity "
        "(or an equivalent combination)"
    ): Best.HIGHEST,
    (
        "Percent of adults who achieve at least 150 minutes a week of moderate-intensity aerobic "
        "physical activity or 75 minutes a week of vigorous-intensity aerobic physical activity "
        "and engage in muscle-strengthening activities on 2 or more days a week"
    ): Best.HIGHEST,
    (
        "Percent of adults who achieve at least 300 minutes a week of moderate-intensity aerobic "
        "physical activity or 150 minutes a week of vigorous-intensity aerobic activity "
        "(or an equivalent combination)"
    ): Best.HIGHEST,
    "Percent of adults who engage in muscle-strengthening activities on 2 or more days a week": (
        Best.HIGHEST
    ),
}

#: The extract's own location for the whole country (SPEC §13: the nation is its rows, pooled).
NATIONAL = "National"

#: The locations that are territories, not states (SPEC §15.3: rankings marks them).
TERRITORIES = frozenset({"Guam", "Puerto Rico", "Virgin Islands"})

#: The stratification the statistics of SPEC §13 use when a request names none.
DEFAULT_STRATIFICATION = ("Total", "Total")

#: The stratum that stands for respondents who did not give their income: never a reference.
NOT_REPORTED = "Data not reported"

#: Each stratification category's strata, in the order the BRFSS (and SPEC §2) lists them. The
#: CDC's current export says `Sex` where older ones say `Gender` (SPEC §15.4): a dataset has one
#: of the two, named as its rows name it, and either takes the same place.
STRATA: dict[str, tuple[str, ...]] = {
    "Total": ("Total",),
    "Age (years)": ("18 - 24", "25 - 34", "35 - 44", "45 - 54", "55 - 64", "65 or older"),
    "Education": (
        "Less than high school",
        "High school graduate",
        "Some college or technical school",
        "College graduate",
    ),
    "Gender": ("Male", "Female"),
    "Sex": ("Male", "Female"),
    "Income": (
        "Less than $15,000",
        "$15,000 - $24,999",
        "$25,000 - $34,999",
        "$35,000 - $49,999",
        "$50,000 - $74,999",
        "$75,000 or greater",
        NOT_REPORTED,
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


def _listed_first(known: tuple[str, ...], names: Iterable[str]) -> list[str]:
    """`names` with those of `known` first, in its order, then the others by name."""
    place = {name: n for n, name in enumerate(known)}
    return sorted(names, key=lambda name: (place.get(name, len(known)), name))


def in_brfss_order(category: str, strata: Iterable[str]) -> list[str]:
    """A category's strata in the order the BRFSS lists them; any other after them, by name."""
    return _listed_first(STRATA.get(category, ()), strata)


def categories_in_order(categories: Iterable[str]) -> list[str]:
    """Stratification categories in SPEC §2's order (`Sex` in `Gender`'s place); any other
    after them, by name."""
    return _listed_first(tuple(STRATA), categories)
