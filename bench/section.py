"""A section of `make bench`: what one part measures, its targets, its report and its charts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from bench.session import Session


@dataclass(frozen=True)
class Target:
    """A goal set by an issue: what it asks, the figure measured, whether it is met."""

    name: str
    measured: str
    met: bool | None  # None: not measured in this run

    @property
    def verdict(self) -> str:
        return "NOT RUN" if self.met is None else ("MET" if self.met else "NOT MET")


class Section:
    """A part of the report; `bench.__main__.SECTIONS` lists them, in the order they run."""

    name: ClassVar[str] = ""  # `python -m bench --no-NAME` skips it
    title: ClassVar[str] = ""

    def measure(self, session: Session) -> None:
        """Run the servers and clients, and keep the figures."""
        raise NotImplementedError

    def headline(self) -> list[str]:
        """Lines for the top of the report."""
        return []

    def targets(self) -> list[Target]:
        """The section's goals, evaluated."""
        return []

    def markdown(self) -> list[str]:
        """The section: a heading, how it is measured, its tables."""
        return []

    def charts(self, folder: Path) -> list[Path]:
        """PNG charts written into `folder`."""
        return []
