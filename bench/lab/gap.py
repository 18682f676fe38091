"""``gap``: the service, itself with parts left out (`ablated.py`) and the limit, side by side."""

from __future__ import annotations

import argparse
import math
import sys
from typing import Any

from bench import wrk
from bench.lineup import Contender
from bench.markdown import table
from bench.point import Point
from bench.session import Session
from bench.throughput import DEFAULT_WORKERS, WORKER_COUNTS, limit, service

#: Parts left out at each step, cumulatively, and what the step is.
STEPS = (
    (("journal",), "the job journal (an insert and an update per job)"),
    (("journal", "file"), "the result file (a link to its answer's file)"),
    (("journal", "file", "log"), "the log lines (an entry and an exit line per request)"),
)
REST = "the rest: the gateway's Python, the pool's hand-over, the engine's bookkeeping"


def add(commands: Any) -> argparse.ArgumentParser:
    """The `gap` command's options."""
    parser = commands.add_parser("gap", help="the gap to the limit, measured by leaving parts out")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (16)")
    parser.set_defaults(run=run)
    return parser


def without(parts: tuple[str, ...]) -> Contender:
    """The default service with `parts` of a job's record left out."""
    argv = [
        sys.executable,
        "-m",
        "bench.lab.ablated",
        *(a for p in parts for a in ("--without", p)),
    ]
    env = {"LSS_WORKERS": str(DEFAULT_WORKERS)}
    return Contender(f"service without {', '.join(parts)}", argv, env=env)


def run(args: argparse.Namespace, session: Session) -> list[str]:
    """Measure the lineup and report the steps."""
    if not wrk.installed():
        return ["wrk is not installed (apt-get install wrk)"]
    plan = wrk.write_plan(session.plan, session.workdir / "plan.tsv")
    lineup = [service(DEFAULT_WORKERS), *(without(parts) for parts, _ in STEPS)]
    lineup += [limit(n) for n in WORKER_COUNTS]
    points = session.side_by_side(lineup, wrk.client(args.connections, plan))
    fastest = max((points[limit(n).name] for n in WORKER_COUNTS), key=lambda p: p.jobs_per_s)
    chain = [points[lineup[0].name], *(points[without(parts).name] for parts, _ in STEPS)]
    return report(chain, fastest, args.connections)


def _us(point: Point) -> float:
    """Microseconds per job of the closed loop (1 / jobs per second)."""
    return 1e6 / point.jobs_per_s if point.jobs_per_s else math.nan


def report(chain: list[Point], limit_point: Point, connections: int) -> list[str]:
    """The steps from the service (first of `chain`) down to the limit, and their sum."""
    names = [what for _, what in STEPS] + [REST]
    steps = list(zip(names, chain, [*chain[1:], limit_point], strict=True))
    rows = [
        [what, f"{_us(a) - _us(b):+.0f}", f"{a.cpu_us_per_job - b.cpu_us_per_job:+.0f}"]
        for what, a, b in steps
    ]
    service = chain[0]
    rows.append(
        [
            "**the service vs the limit**",
            f"**{_us(service) - _us(limit_point):+.0f}**",
            f"**{service.cpu_us_per_job - limit_point.cpu_us_per_job:+.0f}**",
        ]
    )
    jobs = ", ".join(f"{p.name} {p.jobs_per_s:,.0f}" for p in [*chain, limit_point])
    return [
        f"# What the gap to the limit is made of (wrk, {connections} connections)",
        "",
        f"jobs/s: {jobs}. Each step is what one part adds per job to the closed loop's time "
        "(1 / jobs per second) and to the CPU of all the server's processes.",
        "",
        *table(["part", "µs per job", "CPU µs per job"], rows),
        "",
        *(f"- {p.name}: {p.jobs_per_s / limit_point.jobs_per_s:.2f}x the limit" for p in chain),
    ]
