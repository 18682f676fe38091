"""Where a lineup's CPU goes: user + system CPU per job of each group of processes, over the slices.

On one machine every process of a stack (web processes, Celery workers, redis-server, the load
generator) takes its cores from the others, so jobs/s alone cannot say what a second machine
would add. The CPU each group spends per job can: the groups moved to another machine give
their share back to this one. Only one contender is loaded at a time, so a shared process (the
one redis-server) is charged to the contender measured.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable
from contextlib import suppress

import psutil

from bench.point import Slice
from bench.server import Server

#: The groups, in report order.
WEB, WORKERS, REDIS, LOAD = "web processes", "workers", "redis-server", "load generator"
GROUPS = (WEB, WORKERS, REDIS, LOAD)


def _cpu_s(processes: list[psutil.Process]) -> float:
    """User + system CPU seconds used so far by `processes` (gone ones count nothing)."""
    total = 0.0
    for process in processes:
        with suppress(psutil.NoSuchProcess):
            total += sum(process.cpu_times()[:2])
    return total


class CpuShare:
    """CPU ms per job by group, for each contender of a lineup, from the slices it ran."""

    def __init__(self) -> None:
        self.cpu_s: dict[str, dict[str, float]] = defaultdict(lambda: dict.fromkeys(GROUPS, 0.0))
        self.jobs: dict[str, int] = defaultdict(int)

    def counting(
        self,
        run: Callable[[Server, float], Slice],
        groups: Callable[[Server], dict[str, list[psutil.Process]]],
    ) -> Callable[[Server, float], Slice]:
        """`run`, charging each group of `groups(server)` (and this process, the load
        generator) the CPU it used during the slice; jobs counted as the load generator ran
        them (the lead-in too, as the CPU is)."""

        def counted(server: Server, seconds: float) -> Slice:
            measured = {**groups(server), LOAD: [psutil.Process(os.getpid())]}
            before = {group: _cpu_s(processes) for group, processes in measured.items()}
            result = run(server, seconds)
            for group, processes in measured.items():
                self.cpu_s[server.name][group] += _cpu_s(processes) - before[group]
            self.jobs[server.name] += result.checked
            return result

        return counted

    def ms_per_job(self, name: str, group: str) -> float:
        """CPU ms per job that `group` spent for contender `name` (NaN without a job)."""
        jobs = self.jobs.get(name, 0)
        return 1000.0 * self.cpu_s[name][group] / jobs if jobs else float("nan")

    def total_ms(self, name: str, without: tuple[str, ...] = ()) -> float:
        """CPU ms per job of every group but `without`."""
        return sum(self.ms_per_job(name, group) for group in GROUPS if group not in without)
