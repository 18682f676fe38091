"""A point: one contender's slices under one client, summed up, and the columns that show it."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from bench.markdown import mb, num
from bench.server import Server

T = TypeVar("T")


@dataclass
class Slice:
    """What a client saw in one slice (wrk or the load generator), and the server's CPU seconds."""

    jobs: int  # done inside the slice
    seconds: float
    bad: int  # error statuses
    p50_ms: float  # submit-to-done
    p99_ms: float
    cpu_s: float = 0.0
    checked: int = 0  # answers checked (the load generator), and the wrong ones among them
    wrong: int = 0


@dataclass(frozen=True)
class Point:
    """A contender's slices: jobs/s over all, p50 and p99 their medians, checks with the warm-up."""

    name: str
    slices: list[Slice]
    jobs_per_s: float
    p50_ms: float
    p99_ms: float
    p99_range: tuple[float, float]
    bad: int
    checked: int
    wrong: int
    cpu_us_per_job: float
    startup_s: float
    rss_after_start: int
    peak_rss: int

    @classmethod
    def of(cls, server: Server, slices: list[Slice], warm_up: Slice, peak_rss: int) -> Point:
        """Sum up the slices of `server`, whose peak memory was `peak_rss`."""
        jobs, seconds = sum(s.jobs for s in slices), sum(s.seconds for s in slices)
        p99 = [s.p99_ms for s in slices]
        every = [*slices, warm_up]
        return cls(
            server.name,
            slices,
            jobs / seconds if seconds else 0.0,
            statistics.median(s.p50_ms for s in slices),
            statistics.median(p99),
            (min(p99), max(p99)),
            sum(s.bad for s in every),
            sum(s.checked for s in every),
            sum(s.wrong for s in every),
            1e6 * sum(s.cpu_s for s in slices) / jobs if jobs else math.nan,
            server.startup_s,
            server.rss_after_start,
            peak_rss,
        )

    @property
    def jobs(self) -> int:
        """Jobs done inside the slices."""
        return sum(s.jobs for s in self.slices)


def columns(
    of: Callable[[T], Point], versus: tuple[str, Callable[[T], str]] | None = None
) -> list[tuple[str, Callable[[T], str]]]:
    """The columns every table of points shows; `versus`, a ratio, goes beside jobs/s."""
    return [
        ("jobs/s", lambda row: num(of(row).jobs_per_s)),
        *([versus] if versus else []),
        ("p50 / p99 ms", lambda row: f"{of(row).p50_ms:.2f} / {of(row).p99_ms:.1f}"),
        ("p99 by slice", lambda row: "{:.1f}-{:.1f}".format(*of(row).p99_range)),
        ("errors", lambda row: str(of(row).bad)),
        ("peak PSS MB", lambda row: mb(of(row).peak_rss)),
        ("start-up s", lambda row: f"{of(row).startup_s:.2f}"),
    ]
