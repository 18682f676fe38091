"""The `lss` command: ask one question or a file of them, list questions, states and jobs."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn, TextIO

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from lss_client import protocol, summaries
from lss_client.async_client import DEFAULT_CONCURRENCY, NOT_SENT, AsyncClient
from lss_client.bulkfile import BadLine, OrderedWriter, read_lines
from lss_client.client import Client
from lss_client.errors import FATAL, LssError
from lss_client.job import CATEGORY_ENDPOINTS, ENDPOINTS, STATE_ENDPOINTS, Answer
from lss_client.names import CODES, match_category, match_group, match_question, match_state

#: Exit codes besides 0 (success) and 2 (usage error, click's own).
FAILED = 1
SOME_LINES_FAILED = 3
INTERRUPTED = 130


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
json_option = click.option("--json", "as_json", is_flag=True, help="Print the server's JSON.")


def _print_json(data: Any) -> None:
    """JSON on stdout: highlighted on a terminal, plain (and parseable) otherwise."""
    console = Console()
    if console.is_terminal:
        console.print_json(data=data)
    else:
        click.echo(json.dumps(data, indent=2))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="lss-client", prog_name="lss")
def cli() -> None:
    """Ask Le Stats Sportif questions: one at a time, or a file of thousands.

    \b
      lss questions                          the nine questions
      lss states                             the locations, with their postal codes
      lss ask best5 obesity                  one answer, as JSON
      lss ask state_mean obesity --state oh
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


def _ask(
    url: str,
    endpoint: str,
    question: str,
    state: str | None = None,
    *,
    category: str | None = None,
    years: tuple[int, int] | None = None,
    group: str | None = None,
) -> tuple[str, str | None, Any]:
    """Match the typed names, ask, and print the answer's data: (question, state, data)."""
    with Client(url) as client:
        catalog = client.catalog()
        question = match_question(question, catalog)
        categories = catalog[question].categories  # as the server's data names them
        stratification = match_group(group, categories) if group is not None else None
        if category is not None:
            category = match_category(category, categories)
        if state is not None:
            state = match_state(state, client.states())
        data = client.ask(
            endpoint,
            question,
            state,
            category=category,
            years=years,
            stratification=stratification,
        )
    _print_json(data)
    return question, state, data


@cli.command()
@click.argument("endpoint", type=click.Choice(ENDPOINTS), metavar="ENDPOINT")
@click.argument("question")
@click.option("--state", "-s", help="The state, for the endpoints that take one: name or code.")
@click.option(
    "--category", "-k", help="The stratification category, for disparities: income, age..."
)
@years_option
@group_option
@url_option
def ask(
    endpoint: str,
    question: str,
    state: str | None,
    category: str | None,
    years: tuple[int, int] | None,
    group: str | None,
    url: str,
) -> None:
    """Ask ENDPOINT one QUESTION; print the answer's data as JSON.

    ENDPOINT is one of states_mean, state_mean, best5, worst5, global_mean, diff_from_mean,
    state_diff_from_mean, mean_by_category, state_mean_by_category, state_trend,
    compare_to_national, disparities, rankings. QUESTION is any part of a question's text
    that no other question contains (see lss questions).
    """
    for needed, given, option in (
        (STATE_ENDPOINTS, state, "--state"),
        (CATEGORY_ENDPOINTS, category, "--category"),
    ):
        if endpoint in needed and given is None:
            raise click.UsageError(f"{endpoint} needs {option}")
        if endpoint not in needed and given is not None:
            raise click.UsageError(f"{endpoint} takes no {option}")
    _ask(url, endpoint, question, state, category=category, years=years, group=group)


@cli.command()
@click.argument("state")
@click.argument("question")
@years_option
@group_option
@url_option
def trend(
    state: str, question: str, years: tuple[int, int] | None, group: str | None, url: str
) -> None:
    """STATE's value of QUESTION year by year, and whether it is rising (state_trend).

    Prints the answer's JSON: the pooled value of each year with its 95% interval, the
    weighted slope per year (its interval counting the scatter between years), and the annual
    percent change with up to two joinpoints. STATE is a name or a postal code (US: the
    nation).
    """
    typed = question
    _, state, data = _ask(url, "state_trend", question, state, years=years, group=group)
    _summary(lambda: summaries.trend(state or "", typed, data))


@cli.command()
@click.argument("question")
@years_option
@group_option
@url_option
def compare(question: str, years: tuple[int, int] | None, group: str | None, url: str) -> None:
    """Every location's value of QUESTION against the nation's (compare_to_national).

    Prints the answer's JSON: each location higher, lower or similar, by a z test with
    Holm's adjustment over all of them.
    """
    typed = question
    _, _, data = _ask(url, "compare_to_national", question, years=years, group=group)
    _summary(lambda: summaries.compare(typed, data))


@cli.command()
@click.argument("state")
@click.argument("question")
@click.argument("category")
@years_option
@url_option
def disparities(
    state: str, question: str, category: str, years: tuple[int, int] | None, url: str
) -> None:
    """Every group of CATEGORY in STATE against the best of them, on QUESTION (disparities).

    CATEGORY is one of Age (years), Education, Gender, Income, Race/Ethnicity, typed as any
    part of it in any case (age, income, race). Prints the answer's JSON: each group's value,
    its gap to the best group with a 95% interval, and their ratio. It compares the groups of
    CATEGORY, so it takes no --group.
    """
    typed = question
    _, state, data = _ask(url, "disparities", question, state, category=category, years=years)
    _summary(lambda: summaries.disparities(state or "", typed, data))


@cli.command()
@click.argument("question")
@years_option
@group_option
@url_option
def rankings(question: str, years: tuple[int, int] | None, group: str | None, url: str) -> None:
    """Every location ranked on QUESTION, best first, with how sure each rank is (rankings).

    Prints the answer's JSON: each location's pooled value with its 95% interval, its rank, the
    95% interval of its rank from 10,000 draws of every location's value, and the chances that
    it is among the best five and among the worst five.
    """
    typed = question
    _, _, data = _ask(url, "rankings", question, years=years, group=group)
    _summary(lambda: summaries.rankings(typed, data))


def _summary(line: Callable[[], str | None]) -> None:
    """One line for a person on stderr, only when it is a terminal (stdout stays the JSON)."""
    console = Console(stderr=True)
    if console.is_terminal:
        text = line()
        if text:
            console.print(text, highlight=False, markup=False)


@cli.command()
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option(
    "--concurrency",
    "-c",
    type=click.IntRange(min=1),
    default=DEFAULT_CONCURRENCY,
    show_default=True,
    help="Jobs in flight at most.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, allow_dash=True),
    default="-",
    help="Where the answers go (default: stdout).",
)
@url_option
@click.pass_context
def bulk(ctx: click.Context, file: TextIO, concurrency: int, output: str, url: str) -> None:
    """Ask every question in FILE (JSON lines); write the answers in order.

    FILE may be - for stdin. Each line is {"endpoint": ..., "question": ..., "state": ...}
    ("state" only for the state_* endpoints) with the question's exact text; blank lines are
    skipped. Each output line is the input object plus "job_id", "status" ("done" or "error")
    and "data" (or "reason"). A failed line does not stop the others, but after a failure
    every later request would share (the server shutting down or unreachable) nothing more
    is sent and the remaining lines fail with that reason. A progress bar shows on stderr
    when it is a terminal. Exit code 3 when the server refused some lines, 1 when the run
    was stopped (every line is written all the same).
    """
    try:
        lines = read_lines(file, file.name)
    except (BadLine, UnicodeDecodeError) as exc:
        raise click.ClickException(str(exc)) from None
    stopped: list[LssError] = []  # failures that stopped the run (no server, shutting down)
    with _output(output) as write:
        writer = OrderedWriter(lines, write)
        with _progress(len(lines)) as advance:

            def on_answer(index: int, answer: Answer) -> None:
                writer.add(index, answer)
                if isinstance(answer.error, FATAL):
                    stopped.append(answer.error)
                advance()

            async def run() -> None:
                async with AsyncClient(url) as client:
                    await client.bulk([line.question for line in lines], concurrency, on_answer)

            asyncio.run(run())
    if stopped:
        first = next((e for e in stopped if not e.reason.startswith(NOT_SENT)), stopped[0])
        reason = first.reason
        click.echo(f"lss bulk: {writer.failed} of {len(lines)} lines failed: {reason}", err=True)
        ctx.exit(FAILED)
    if writer.failed:
        click.echo(f"lss bulk: {writer.failed} of {len(lines)} lines failed", err=True)
        ctx.exit(SOME_LINES_FAILED)


@contextmanager
def _output(path: str) -> Iterator[Callable[[str], object]]:
    """A write function for `path`; stdout is looked up at each write (see below)."""
    if path == "-":
        # Not a saved reference: a progress bar swaps sys.stdout to keep its place below.
        yield lambda text: sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        file = open(path, "w", encoding="utf-8")  # noqa: SIM115 (closed below)
    except OSError as exc:
        raise click.ClickException(f"cannot write {path}: {exc.strerror}") from None
    with file:
        yield file.write


@contextmanager
def _progress(total: int) -> Iterator[Callable[[], None]]:
    """A function to call once per finished line: a progress bar on stderr if it is a terminal."""
    console = Console(stderr=True)
    if not console.is_terminal:
        yield lambda: None
        return
    columns = (
        TextColumn("asking"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    # Lines written to stdout go above the bar when both share the terminal; stdout piped
    # elsewhere must stay untouched (the bar would otherwise take those lines to stderr).
    redirect = sys.stdout.isatty()
    with Progress(*columns, console=console, redirect_stdout=redirect) as progress:
        task = progress.add_task("bulk", total=total)
        yield lambda: progress.advance(task)


@cli.command()
@json_option
@url_option
def questions(as_json: bool, url: str) -> None:
    """List the questions, each with its better end (lowest or highest)."""
    with Client(url) as client:
        listed = client.questions()
    if as_json:
        _print_json([{"question": q, "best_is": best} for q, best in listed.items()])
        return
    for question, best in listed.items():
        click.echo(f"{best:<7}  {question}")


@cli.command()
@json_option
@url_option
def states(as_json: bool, url: str) -> None:
    """List the locations, with their postal codes."""
    with Client(url) as client:
        listed = client.states()
    if as_json:
        _print_json(listed)
        return
    for name in listed:
        click.echo(f"{CODES.get(name, '--'):<3} {name}")


@cli.command()
@json_option
@url_option
def jobs(as_json: bool, url: str) -> None:
    """List the live jobs and their status, in id order."""
    with Client(url) as client:
        listed = client.jobs()
    if as_json:
        _print_json(listed)
        return
    for job_id, status in listed.items():
        click.echo(f"{job_id}  {status}")


def _fail(message: str, code: int) -> NoReturn:
    """`message` as one line on stderr, then exit with `code`."""
    click.echo(" ".join(message.split()), err=True)
    sys.exit(code)


def main(argv: list[str] | None = None) -> NoReturn:
    """The console script: run a command, turning every failure into one line and an exit code."""
    try:
        code = cli.main(args=argv, prog_name="lss", standalone_mode=False)
    except click.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx else "lss"
        _fail(f"{where}: {exc.format_message()} (see {where} --help)", exc.exit_code)
    except click.ClickException as exc:
        _fail(f"lss: {exc.format_message()}", exc.exit_code)
    except LssError as exc:
        _fail(f"lss: {exc.reason}", FAILED)
    except click.Abort:
        _fail("lss: interrupted", INTERRUPTED)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
