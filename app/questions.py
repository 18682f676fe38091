"""The nine BRFSS questions the service answers, which direction of each is better, and the
stratifications and locations the statistics name."""

from __future__ import annotations

import enum


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

#: The stratification the statistics of SPEC §13 use when a request names none.
DEFAULT_STRATIFICATION = ("Total", "Total")

#: The stratum that stands for respondents who did not give their income: never a reference.
NOT_REPORTED = "Data not reported"

#: Each stratification category's strata, in the order the BRFSS (and SPEC §2) lists them.
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
