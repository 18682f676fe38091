"""The `lss` command: ask one question or a file of them, print a question's URL, list
questions, states and jobs.

The commands live by concept: `course` (ask, url and the listings), `analytics` (trend,
compare, disparities, rankings), `bulk`; `asking` matches typed names and asks; `options` and
`output` are what the commands share.
"""

from __future__ import annotations

from typing import NoReturn

import click

from lss_client.cli import analytics, bulk, course
from lss_client.cli.output import FAILED, INTERRUPTED, fail
from lss_client.errors import LssError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="lss-client", prog_name="lss")
def cli() -> None:
    """Ask Le Stats Sportif questions: one at a time, or a file of thousands.

    \b
      lss questions                          the nine questions
      lss states                             the locations, with their postal codes
      lss ask best5 obesity                  one answer, as JSON (--csv: a tidy table)
      lss ask state_mean obesity --state oh
      lss url states_mean obesity            its URL, for pandas.read_csv or R's read.csv
      lss trend oh obesity                   is Ohio's obesity rising? year by year
      lss compare obesity --years 2020       each state against the nation
      lss disparities oh obesity income      Ohio's income groups against the best one
      lss rankings obesity                   every state ranked, with its rank interval
      lss bulk asks.jsonl -c 50 -o answers.jsonl
      lss jobs                               the server's live jobs

    A question may be given by any part of its text that only it contains, in any case; a
    state by its name in any case or its postal code (US: the national figures); a category
    by any part of it (income, age, race). --years FROM-TO and --group CATEGORY=STRATUM keep
    the rows of those years or that group. The server is --url, else $LSS_URL, else
    http://127.0.0.1:5000.

    Exit codes: 0 done; 1 failed (one line on stderr: no server, the server shutting down, a
    refused request, a bad file); 2 a usage error; 3 `lss bulk` wrote every line but the
    server refused some of them; 130 interrupted.
    """


for _command in (
    course.ask,
    course.url,
    analytics.trend,
    analytics.compare,
    analytics.disparities,
    analytics.rankings,
    bulk.bulk,
    course.questions,
    course.states,
    course.jobs,
):
    cli.add_command(_command)


def main(argv: list[str] | None = None) -> NoReturn:
    """The console script: run a command, turning every failure into one line and an exit code."""
    try:
        code = cli.main(args=argv, prog_name="lss", standalone_mode=False)
    except click.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx else "lss"
        fail(f"{where}: {exc.format_message()} (see {where} --help)", exc.exit_code)
    except click.ClickException as exc:
        fail(f"lss: {exc.format_message()}", exc.exit_code)
    except LssError as exc:
        fail(f"lss: {exc.reason}", FAILED)
    except click.Abort:
        fail("lss: interrupted", INTERRUPTED)
    raise SystemExit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
