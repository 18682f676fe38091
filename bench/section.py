"""A section of `make bench`: one thing it measures, with its targets, report and charts.

`bench.__main__.SECTIONS` lists them in the order they run; adding one is adding a module with a
Section subclass and a line there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from bench.session import Session


@dataclass(frozen=True)
class Target:
    """A goal of an issue: what it asks, the figure measured, whether it is met."""

    name: str
    measured: str
    met: bool | None  # None: not measured in this run

    @property
    def verdict(self) -> str:
        return "NOT RUN" if self.met is None else ("MET" if self.met else "NOT MET")


class Section:
    """Measures in `measure`, then reports from what it kept; every report part is optional."""

    #: `python -m bench --no-NAME` skips the section.
    name: ClassVar[str] = ""
    title: ClassVar[str] = ""

    def measure(self, session: Session) -> None:
        """Run the measurements (servers, clients) and keep their figures."""
        raise NotImplementedError

    def headline(self) -> list[str]:
        """Lines for the top of the report."""
        return []

    def targets(self) -> list[Target]:
        """The section's goals, evaluated."""
        return []

    def markdown(self) -> list[str]:
        """The section of the report: a heading, how it is measured, its tables."""
        return []

    def charts(self, folder: Path) -> list[Path]:
        """PNG charts written into `folder`."""
        return []
