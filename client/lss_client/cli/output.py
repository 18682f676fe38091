"""What `lss` writes: answers as JSON or CSV, a summary line for people, and one line and an
exit code for a failure."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any, NoReturn

import click
from rich.console import Console

#: Exit codes besides 0 (success) and 2 (usage error, click's own).
FAILED = 1
SOME_LINES_FAILED = 3
INTERRUPTED = 130


def print_json(data: Any) -> None:
    """JSON on stdout: highlighted on a terminal, plain (and parseable) otherwise."""
    console = Console()
    if console.is_terminal:
        console.print_json(data=data)
    else:
        click.echo(json.dumps(data, indent=2))


def print_csv(text: str) -> None:
    """The server's CSV on stdout, as it sent it (line ends included)."""
    sys.stdout.write(text)
    sys.stdout.flush()


def summary(line: Callable[[], str | None]) -> None:
    """One line for a person on stderr, only when it is a terminal (stdout stays the answer)."""
    console = Console(stderr=True)
    if console.is_terminal:
        text = line()
        if text:
            console.print(text, highlight=False, markup=False)


def fail(message: str, code: int) -> NoReturn:
    """`message` as one line on stderr, then exit with `code`."""
    click.echo(" ".join(message.split()), err=True)
    sys.exit(code)
