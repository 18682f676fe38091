"""A lineup: servers started together and measured side by side, in interleaved slices.

The machine is shared and noisy (the same figure varies by half between runs), so every figure
that is compared with another is measured in the same lineup: all contenders run at once, each
is warmed up, then the measured time is cut into slices taken in turn (A B C, then C B A, ...),
so that whatever the machine does meanwhile falls on all of them alike.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from bench.server import BUNDLED, ROOT, MemorySampler, Server, running

S = TypeVar("S")


@dataclass(frozen=True)
class Contender:
    """A server to measure: its name, command line, data file, environment and folder."""

    name: str
    argv: list[str]
    data_file: Path = BUNDLED
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path = ROOT


@dataclass
class Measured(Generic[S]):
    """One contender's slices (whatever its client returns), its warm-up, and its memory."""

    name: str
    slices: list[S]
    warm_up: S
    startup_s: float
    rss_after_start: int
    peak_rss: int


def measure(
    contenders: Sequence[Contender],
    run: Callable[[Server, float], S],
    *,
    workdir: Path,
    rounds: int,
    seconds: float,
    warm_up_s: float = 1.0,
) -> dict[str, Measured[S]]:
    """Start every contender, warm each up, then `run(server, seconds / rounds)` on each in turn,
    `rounds` times, the order reversed every other round; memory is sampled while each runs."""
    slice_s = seconds / max(1, rounds)
    slices: dict[str, list[S]] = {c.name: [] for c in contenders}
    with ExitStack() as stack:
        servers = {
            c.name: stack.enter_context(
                running(c.name, c.argv, c.data_file, c.env, parent=workdir, cwd=c.cwd)
            )
            for c in contenders
        }
        samplers = {name: stack.enter_context(MemorySampler(s)) for name, s in servers.items()}

        def one(name: str, seconds: float) -> S:
            with samplers[name].measuring():
                return run(servers[name], seconds)

        warm = {c.name: one(c.name, warm_up_s) for c in contenders}
        for number in range(max(1, rounds)):
            for c in contenders if number % 2 == 0 else contenders[::-1]:
                slices[c.name].append(one(c.name, slice_s))
    return {
        name: Measured(
            name, slices[name], warm[name], s.startup_s, s.rss_after_start, samplers[name].peak
        )
        for name, s in servers.items()
    }
