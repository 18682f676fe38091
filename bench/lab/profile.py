"""``profile``: py-spy on every process of the service under wrk, GIL time per job by thread and
function (system calls made without the GIL do not show); the raw stacks stay for flame graphs.
With `--engine celery`, on the service and its Celery worker at once (profile_celery.py)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bench import wrk
from bench.lab import profile_celery
from bench.lab.spy import ProfileSummary, py_spy, record, tables
from bench.server import OUT, running, service_argv
from bench.session import Session


def add(commands: Any) -> argparse.ArgumentParser:
    """The `profile` command's options."""
    parser = commands.add_parser("profile", help="py-spy on the service's processes under wrk")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (16)")
    parser.add_argument("--workers", type=int, help="LSS_WORKERS (default: the service's)")
    parser.add_argument(
        "--engine",
        choices=("embedded", "celery"),
        default="embedded",
        help="the job engine: embedded (default), or celery (a redis-server and one worker)",
    )
    parser.add_argument(
        "--out", type=Path, default=OUT / "profile", help="raw stacks (bench/out/profile)"
    )
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace, session: Session) -> list[str]:
    """Profile the service under wrk and report where a job's GIL time goes."""
    if py_spy() is None or not wrk.installed():
        return ["py-spy or wrk is not installed"]
    args.out.mkdir(parents=True, exist_ok=True)
    plan = wrk.write_plan(session.plan, session.workdir / "plan.tsv")
    env = {"LSS_WORKERS": str(args.workers)} if args.workers else {}
    if args.engine == "celery":
        return profile_celery.run(args, session, plan, env)
    with running("profiled", service_argv(), env=env, parent=session.workdir) as server:
        wrk.run_wrk(server.url, args.connections, 1, plan)  # every answer computed once

        def load() -> int:
            return wrk.run_wrk(server.url, args.connections, args.seconds, plan).jobs

        (summary,) = record([(server.process.pid, args.out / "service-wrk.txt", True)], load)
    return report(summary, args.connections)


def report(p: ProfileSummary, connections: int) -> list[str]:
    """GIL ms per job by thread, by service function (inclusive) and by leaf frame (self)."""
    return [
        f"# Where a job's time goes (py-spy under wrk, {connections} connections)",
        "",
        f"**{p.ms_per_job(p.samples):.3f} GIL ms per job** ({p.samples:,} samples, {p.jobs:,} "
        "jobs).",
        "",
        *tables(p),
    ]
