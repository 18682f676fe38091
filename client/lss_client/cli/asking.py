"""One question from the command line: the typed names matched against the server's, the
question asked, and its answer printed as JSON or as the server's tidy CSV."""

from __future__ import annotations

from typing import Any, cast

import click

from lss_client.cli.output import print_csv, print_json
from lss_client.client import Client
from lss_client.job import CATEGORY_ENDPOINTS, STATE_ENDPOINTS, Question
from lss_client.names import match_category, match_group, match_question, match_state


def check_fields(endpoint: str, state: str | None, category: str | None) -> None:
    """A usage error when `endpoint` needs --state or --category and lacks it, or the reverse."""
    for needed, given, option in (
        (STATE_ENDPOINTS, state, "--state"),
        (CATEGORY_ENDPOINTS, category, "--category"),
    ):
        if endpoint in needed and given is None:
            raise click.UsageError(f"{endpoint} needs {option}")
        if endpoint not in needed and given is not None:
            raise click.UsageError(f"{endpoint} takes no {option}")


def resolve(
    client: Client,
    endpoint: str,
    question: str,
    state: str | None = None,
    *,
    category: str | None = None,
    years: tuple[int, int] | None = None,
    group: str | None = None,
) -> Question:
    """The Question the typed names mean, as the server's data names them."""
    catalog = client.catalog()
    question = match_question(question, catalog)
    categories = catalog[question].categories
    stratification = match_group(group, categories) if group is not None else None
    if category is not None:
        category = match_category(category, categories)
    if state is not None:
        state = match_state(state, client.states())
    return Question(
        endpoint,
        question,
        state,
        category=category,
        years=years,
        stratification=stratification,
    )


def ask(
    url: str,
    endpoint: str,
    question: str,
    state: str | None = None,
    *,
    category: str | None = None,
    years: tuple[int, int] | None = None,
    group: str | None = None,
    fmt: str = "json",
) -> tuple[Question, Any]:
    """Match the typed names, ask, print the answer (its data as JSON, or the tidy CSV), and
    return the question asked and the answer's data."""
    with Client(url) as client:
        asked = resolve(
            client, endpoint, question, state, category=category, years=years, group=group
        )
        answer = client.answer(
            asked.endpoint,
            asked.question,
            asked.state,
            category=asked.category,
            years=asked.years,
            stratification=asked.stratification,
        )
        if fmt == "csv":
            print_csv(client.result_csv(cast(str, answer.job_id)))  # answer() names its job
        else:
            print_json(answer.data)
    return asked, answer.data
