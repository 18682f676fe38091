"""The statistics as commands of their own: `lss trend`, `compare`, `disparities`, `rankings`.

Each prints its answer as `lss ask` does (JSON, or --csv the tidy table), and on a terminal a
summary line on stderr for a person (lss_client.summaries).
"""

from __future__ import annotations

import click

from lss_client import summaries
from lss_client.cli import asking
from lss_client.cli.options import format_options, group_option, url_option, years_option
from lss_client.cli.output import summary


@click.command()
@click.argument("state")
@click.argument("question")
@years_option
@group_option
@format_options("json", "Print")
@url_option
def trend(
    state: str, question: str, years: tuple[int, int] | None, group: str | None, fmt: str, url: str
) -> None:
    """STATE's value of QUESTION year by year, and whether it is rising (state_trend).

    Prints the answer's JSON: the pooled value of each year with its 95% interval, the
    weighted slope per year (its interval counting the scatter between years), and the annual
    percent change with up to two joinpoints. STATE is a name or a postal code (US: the
    nation).
    """
    typed = question
    asked, data = asking.ask(url, "state_trend", question, state, years=years, group=group, fmt=fmt)
    summary(lambda: summaries.trend(asked.state or "", typed, data))


@click.command()
@click.argument("question")
@years_option
@group_option
@format_options("json", "Print")
@url_option
def compare(
    question: str, years: tuple[int, int] | None, group: str | None, fmt: str, url: str
) -> None:
    """Every location's value of QUESTION against the nation's (compare_to_national).

    Prints the answer's JSON: each location higher, lower or similar, by a z test with
    Holm's adjustment over all of them.
    """
    typed = question
    _, data = asking.ask(url, "compare_to_national", question, years=years, group=group, fmt=fmt)
    summary(lambda: summaries.compare(typed, data))


@click.command()
@click.argument("state")
@click.argument("question")
@click.argument("category")
@years_option
@format_options("json", "Print")
@url_option
def disparities(
    state: str, question: str, category: str, years: tuple[int, int] | None, fmt: str, url: str
) -> None:
    """Every group of CATEGORY in STATE against the best of them, on QUESTION (disparities).

    CATEGORY is one of Age (years), Education, Gender, Income, Race/Ethnicity, typed as any
    part of it in any case (age, income, race). Prints the answer's JSON: each group's value,
    its gap to the best group with a 95% interval, and their ratio. It compares the groups of
    CATEGORY, so it takes no --group.
    """
    typed = question
    asked, data = asking.ask(
        url, "disparities", question, state, category=category, years=years, fmt=fmt
    )
    summary(lambda: summaries.disparities(asked.state or "", typed, data))


@click.command()
@click.argument("question")
@years_option
@group_option
@format_options("json", "Print")
@url_option
def rankings(
    question: str, years: tuple[int, int] | None, group: str | None, fmt: str, url: str
) -> None:
    """Every location ranked on QUESTION, best first, with how sure each rank is (rankings).

    Prints the answer's JSON: each location's pooled value with its 95% interval, its rank, the
    95% interval of its rank from 10,000 draws of every location's value, and the chances that
    it is among the best five and among the worst five.
    """
    typed = question
    _, data = asking.ask(url, "rankings", question, years=years, group=group, fmt=fmt)
    summary(lambda: summaries.rankings(typed, data))
