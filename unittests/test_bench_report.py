"""The benchmark's report of what the gap to the limit is made of: its steps must add up."""

from __future__ import annotations

import re

from bench.throughput import ABLATED, CONNECTIONS, LIMIT, ThroughputRun, service_name
from bench.throughput_report import render
from bench.wrk import Slice, WrkPoint


def _point(name: str, jobs_per_s: float, cpu_ms: float, switches: float) -> WrkPoint:
    """A contender that did `jobs_per_s` over two 1-second slices."""
    jobs = int(jobs_per_s)
    slices = [Slice(jobs, 1.0, jobs, 0, 2.0, 9.0, 20.0) for _ in range(2)]
    return WrkPoint(
        name,
        CONNECTIONS[0],
        slices,
        cpu_s=2 * jobs * cpu_ms / 1000,
        switches=int(2 * jobs * switches),
        peak_rss=100 << 20,
        startup_s=0.5,
    )


def test_the_gap_is_split_into_parts_that_add_up_to_the_service_vs_the_limit() -> None:
    head = CONNECTIONS[0]
    run = ThroughputRun(default_workers=2)
    service = service_name(2)
    # jobs/s, CPU ms per job and switches per job, from the service down to the limit
    figures = {
        service: (4000, 0.300, 10.0),
        f"{service} {ABLATED[('journal',)]}": (5000, 0.240, 9.0),
        f"{service} {ABLATED[('journal', 'file')]}": (5000 * 1.05, 0.220, 8.5),
        f"{service} {ABLATED[('journal', 'file', 'log')]}": (6000, 0.200, 8.0),
        LIMIT: (10000, 0.100, 5.0),
    }
    for name, (jobs_per_s, cpu_ms, switches) in figures.items():
        run.points[(name, head)] = _point(name, jobs_per_s, cpu_ms, switches)
    text = "\n".join(render(run))
    section = text.split("## What the gap to the limit is made of")[1]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "---" not in line]
    parts = [row.split(" | ") for row in rows[1:-1]]
    assert [part[0].lstrip("| ").split(" (")[0] for part in parts] == [
        "the job journal",
        "the result file",
        "the log lines",
        "the rest: the gateway's Python",
    ]
    steps = [float(part[1]) for part in parts]
    total = float(re.sub(r"[*|\s]", "", rows[-1].split(" | ")[1]))
    assert steps[0] == 1e6 / 4000 - 1e6 / 5000  # each step is the difference of its two runs
    assert abs(sum(steps) - total) <= len(steps)  # rounded to whole µs each
    assert total == 1e6 / 4000 - 1e6 / 10000
    assert "and without the log lines too at 0.60x" in section
