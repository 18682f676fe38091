"""A session: what the sections of one run share, its settings, scratch folder, log and notes."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from bench import lineup
from bench.lineup import Contender
from bench.point import Point, Slice
from bench.server import BUNDLED, ROOT, Server
from bench.workload import Plan, build_plan


@dataclass
class Session:
    """One run of the benchmark as its sections see it; `seconds` is cut into `rounds` slices."""

    workdir: Path
    quick: bool = False
    seconds: float = 8.0
    rounds: int = 4
    clients: tuple[int, ...] = (1, 4, 16, 64)
    notes: list[str] = field(default_factory=list)

    @cached_property
    def plan(self) -> Plan:
        """The requests and answers of the bundled dataset."""
        return build_plan(BUNDLED)

    def log(self, message: str) -> None:
        """Progress, on stderr (stdout gets the report)."""
        print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    def note(self, message: str) -> None:
        """A problem worth a line in the report: one line, no path of this machine."""
        self.log(message)
        message = message.replace(str(self.workdir), "<scratch>").replace(str(ROOT), ".")
        self.notes.append(
            re.sub(r"(?<![\w.>])/[\w.+-]+(/[\w.+-]+)+", "<path>", " ".join(message.split()))[:400]
        )

    def side_by_side(
        self, contenders: Sequence[Contender], run: Callable[[Server, float], Slice]
    ) -> dict[str, Point]:
        """The contenders measured in one lineup with this session's slices."""
        self.log(f"side by side: {', '.join(c.name for c in contenders)}")
        return lineup.measure(
            contenders, run, workdir=self.workdir, rounds=self.rounds, seconds=self.seconds
        )
