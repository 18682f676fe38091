"""The options several `lss` commands share: the server, the years and group of rows, and the
format an answer is printed in."""

from __future__ import annotations

from typing import Any

import click

from lss_client import protocol


def _url(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    try:
        return protocol.base_url(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


url_option = click.option(
    "--url",
    envvar="LSS_URL",
    default=protocol.DEFAULT_URL,
    show_default=True,
    show_envvar=True,
    callback=_url,
    help="The server to ask.",
)
#: For the listings (questions, states, jobs): the server's JSON instead of lines for people.
json_option = click.option("--json", "as_json", is_flag=True, help="Print the server's JSON.")


def format_options(default: str, what: str) -> Any:
    """`--json` / `--csv`: how an answer is printed (`fmt`), `default` unless one is given."""

    def decorate(command: Any) -> Any:
        command = click.option(
            "--csv",
            "fmt",
            flag_value="csv",
            default=default == "csv",
            help=f"{what} the tidy CSV: one row a record, named columns"
            + (" (the default)." if default == "csv" else "."),
        )(command)
        return click.option(
            "--json",
            "fmt",
            flag_value="json",
            default=default == "json",
            help=f"{what} the JSON" + (" (the default)." if default == "json" else "."),
        )(command)

    return decorate


def _years(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Any:
    """`--years 2015-2022` or `--years 2020` as the (from, to) pair the API takes."""
    if value is None:
        return None
    first, dash, last = value.partition("-")
    try:
        years = (int(first), int(last) if dash else int(first))
    except ValueError:
        raise click.BadParameter(
            f"expected FROM-TO or one year (2015-2022, 2020), not {value!r}"
        ) from None
    if years[0] > years[1]:
        raise click.BadParameter(f"{years[0]} is after {years[1]}")
    return years


def _group(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Any:
    """`--group CATEGORY=STRATUM`, checked for its `=` (the names are matched later)."""
    if value is not None and "=" not in value:
        raise click.BadParameter(
            f"expected CATEGORY=STRATUM (such as gender=female), not {value!r}"
        )
    return value


years_option = click.option(
    "--years",
    "-y",
    callback=_years,
    metavar="FROM-TO",
    help="Only the rows of these survey years, inclusive: 2015-2022, or one year: 2020.",
)
group_option = click.option(
    "--group",
    "-g",
    callback=_group,
    metavar="CATEGORY=STRATUM",
    help="Only the rows of one group: income='$75,000 or greater', gender=female, age='18 - 24'.",
)
state_option = click.option(
    "--state", "-s", help="The state, for the endpoints that take one: name or code."
)
category_option = click.option(
    "--category", "-k", help="The stratification category, for disparities: income, age..."
)
