"""``profile --engine celery``: py-spy on the service's processes and on its Celery worker at
once, under wrk: GIL time per job in each, and how much of it is Celery's, kombu's, redis-py's
and ours."""

from __future__ import annotations

import argparse
from contextlib import ExitStack
from pathlib import Path

from bench import wrk
from bench.celery_stack import stack_up
from bench.lab.spy import ProfileSummary, package_table, record, tables
from bench.server import running, service_argv
from bench.session import Session


def run(args: argparse.Namespace, session: Session, plan: Path, env: dict[str, str]) -> list[str]:
    """A redis-server, one worker and the service on it as the benchmark starts them; record the
    service's processes and the worker while wrk loads the service (wrk's plan at `plan`)."""
    with ExitStack() as stack:
        (celery,) = stack_up(stack, session.workdir, (1,))
        env = {**env, "LSS_BROKER_URL": celery.url}
        server = stack.enter_context(
            running("profiled", service_argv(), env=env, parent=session.workdir)
        )
        wrk.run_wrk(server.url, args.connections, 1, plan)  # every answer computed once

        def load() -> int:
            return wrk.run_wrk(server.url, args.connections, args.seconds, plan).jobs

        targets = [
            (server.process.pid, args.out / "celery-service-wrk.txt", True),
            (celery.workers[0].process.pid, args.out / "celery-worker-wrk.txt", False),
        ]
        service, worker = record(targets, load)
    return report(service, worker, args.connections)


def _process(title: str, p: ProfileSummary) -> list[str]:
    """One process's part of the report: its total, its tables and its packages."""
    return [
        f"## {title}",
        "",
        f"**{p.ms_per_job(p.samples):.3f} GIL ms per job** ({p.samples:,} samples).",
        "",
        *tables(p),
        "",
        *package_table(p),
    ]


def report(service: ProfileSummary, worker: ProfileSummary, connections: int) -> list[str]:
    """Both processes' GIL ms per job, then each one's tables."""
    total = service.ms_per_job(service.samples) + worker.ms_per_job(worker.samples)
    return [
        f"# Where a job's time goes on the Celery engine (py-spy under wrk, {connections} "
        "connections, 1 worker)",
        "",
        f"**{total:.3f} GIL ms per job: {service.ms_per_job(service.samples):.3f} in the "
        f"service's processes, {worker.ms_per_job(worker.samples):.3f} in the worker** "
        f"({service.jobs:,} jobs; both recorded at once). A package's own frames are the leaf "
        "frames in it; what they call adds the leaf frames of the standard library and other "
        "packages under its innermost frame (a socket write made by redis-py is redis-py's).",
        "",
        *_process("The service's processes (granian; the engine's submits and reads)", service),
        "",
        *_process("The worker (`python -m app.celery_engine.worker`, threads pool)", worker),
    ]
