"""`lss bulk`: a file of questions asked with N jobs in flight, the answers written in order."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from lss_client.async_client import DEFAULT_CONCURRENCY, NOT_SENT, AsyncClient
from lss_client.bulkfile import BadLine, OrderedWriter, read_lines
from lss_client.cli.options import url_option
from lss_client.cli.output import FAILED, SOME_LINES_FAILED
from lss_client.errors import FATAL, LssError
from lss_client.job import Answer


@click.command()
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
