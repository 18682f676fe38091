"""A lineup: servers started together and measured side by side, in interleaved slices."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from bench.point import Point, Slice
from bench.server import BUNDLED, ROOT, MemorySampler, Server, running


@dataclass(frozen=True)
class Contender:
    """A server to measure: its name, command line, data file, environment and folder."""

    name: str
    argv: list[str]
    data_file: Path = BUNDLED
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path = ROOT


def measure(
    contenders: Sequence[Contender],
    run: Callable[[Server, float], Slice],
    *,
    workdir: Path,
    rounds: int,
    seconds: float,
    warm_up_s: float = 1.0,
) -> dict[str, Point]:
    """Start the contenders, warm each up, then `run` slices on each in turn (A B C, C B A, ...)."""
    slices: dict[str, list[Slice]] = {c.name: [] for c in contenders}
    with ExitStack() as stack:
        servers = {
            c.name: stack.enter_context(running(c.name, c.argv, c.data_file, c.env, workdir, c.cwd))
            for c in contenders
        }
        samplers = {name: MemorySampler(s) for name, s in servers.items()}

        def one(name: str, seconds: float) -> Slice:
            with samplers[name].measuring():
                return run(servers[name], seconds)

        warm = {c.name: one(c.name, warm_up_s) for c in contenders}
        for number in range(rounds):
            for c in contenders if number % 2 == 0 else contenders[::-1]:
                slices[c.name].append(one(c.name, seconds / rounds))
    return {n: Point.of(s, slices[n], warm[n], samplers[n].peak) for n, s in servers.items()}
