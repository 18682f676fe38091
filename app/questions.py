"""The nine BRFSS questions the service answers, and which direction of each is better."""

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
