"""`lss ask`, `lss url` and the listings: one question's answer or its URL, the questions, the
states and the jobs."""

from __future__ import annotations

import click

from lss_client import get_answer
from lss_client.cli import asking
from lss_client.cli.options import (
    category_option,
    format_options,
    group_option,
    json_option,
    state_option,
    url_option,
    years_option,
)
from lss_client.cli.output import print_json
from lss_client.client import Client
from lss_client.job import ENDPOINTS
from lss_client.names import CODES

_ENDPOINT = click.Choice(ENDPOINTS)


@click.command()
@click.argument("endpoint", type=_ENDPOINT, metavar="ENDPOINT")
@click.argument("question")
@state_option
@category_option
@years_option
@group_option
@format_options("json", "Print")
@url_option
def ask(
    endpoint: str,
    question: str,
    state: str | None,
    category: str | None,
    years: tuple[int, int] | None,
    group: str | None,
    fmt: str,
    url: str,
) -> None:
    """Ask ENDPOINT one QUESTION; print the answer's data as JSON, or as CSV.

    ENDPOINT is one of states_mean, state_mean, best5, worst5, global_mean, diff_from_mean,
    state_diff_from_mean, mean_by_category, state_mean_by_category, state_trend,
    compare_to_national, disparities, rankings. QUESTION is any part of a question's text
    that no other question contains (see lss questions). --csv prints the tidy table the
    server's CSV has: one row a location, a year or a stratum.
    """
    asking.check_fields(endpoint, state, category)
    asking.ask(url, endpoint, question, state, category=category, years=years, group=group, fmt=fmt)


@click.command()
@click.argument("endpoint", type=_ENDPOINT, metavar="ENDPOINT")
@click.argument("question")
@state_option
@category_option
@years_option
@group_option
@format_options("csv", "The URL of")
@url_option
def url(
    endpoint: str,
    question: str,
    state: str | None,
    category: str | None,
    years: tuple[int, int] | None,
    group: str | None,
    fmt: str,
    url: str,
) -> None:
    """Print the URL whose GET answers ENDPOINT's QUESTION, as CSV (or --json).

    The typed names are matched against the server's as `lss ask` matches them; the URL then
    works anywhere, in one line: pandas.read_csv(url) in Python, read.csv(url) in R, a
    browser, curl.
    """
    asking.check_fields(endpoint, state, category)
    with Client(url) as client:
        asked = asking.resolve(
            client, endpoint, question, state, category=category, years=years, group=group
        )
    click.echo(get_answer.url(url, asked, fmt))


@click.command()
@json_option
@url_option
def questions(as_json: bool, url: str) -> None:
    """List the questions, each with its better end (lowest or highest)."""
    with Client(url) as client:
        listed = client.questions()
    if as_json:
        print_json([{"question": q, "best_is": best} for q, best in listed.items()])
        return
    for question, best in listed.items():
        click.echo(f"{best:<7}  {question}")


@click.command()
@json_option
@url_option
def states(as_json: bool, url: str) -> None:
    """List the locations, with their postal codes."""
    with Client(url) as client:
        listed = client.states()
    if as_json:
        print_json(listed)
        return
    for name in listed:
        click.echo(f"{CODES.get(name, '--'):<3} {name}")


@click.command()
@json_option
@url_option
def jobs(as_json: bool, url: str) -> None:
    """List the live jobs and their status, in id order."""
    with Client(url) as client:
        listed = client.jobs()
    if as_json:
        print_json(listed)
        return
    for job_id, status in listed.items():
        click.echo(f"{job_id}  {status}")
