"""``pools``: the Celery engine with one worker at 16 clients, the worker started with each pool,
then the fastest pool with each prefetch multiplier, side by side (every answer checked)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from contextlib import ExitStack
from typing import Any

from app import config
from bench import load
from bench.celery_engine import CLIENTS
from bench.celery_stack import stack_up
from bench.lineup import Contender
from bench.markdown import columns, ratio
from bench.point import Point
from bench.server import service_argv
from bench.session import Session

#: A variant of the worker: its name and its extra `celery worker` arguments.
Variant = tuple[str, tuple[str, ...]]
DEFAULT: Variant = ("threads (the default)", ())
#: The pools, the default first. Not `--pool prefork`: Celery 5 takes it for its own default and
#: runs the pool the settings name (threads) instead; `processes` is Celery's alias of prefork.
POOLS: tuple[Variant, ...] = (
    DEFAULT,
    ("solo", ("--pool", "solo")),
    ("prefork, 1 process", ("--pool", "processes", "--concurrency", "1")),
)
#: The prefetch multipliers tried on the fastest pool (the settings' is 1).
PREFETCH = (1, 4)


def add(commands: Any) -> argparse.ArgumentParser:
    """The `pools` command's options."""
    parser = commands.add_parser(
        "pools", help="the Celery worker's pools and prefetch, side by side"
    )
    parser.add_argument("--clients", type=int, default=CLIENTS, help=f"clients ({CLIENTS})")
    parser.set_defaults(run=run)
    return parser


def measure(session: Session, variants: Sequence[Variant], clients: int) -> list[Point]:
    """Each variant's worker on its own database of one redis-server, the service on each as
    `make run` starts it, measured side by side by the load generator."""
    with ExitStack() as stack:
        stacks = stack_up(stack, session.workdir, (1,) * len(variants), [a for _, a in variants])
        lineup = [
            Contender(name, service_argv(), env={"LSS_BROKER_URL": celery.url})
            for (name, _), celery in zip(variants, stacks, strict=True)
        ]
        points = session.side_by_side(lineup, load.client(lambda _: session.plan, clients))
    return [points[name] for name, _ in variants]


def prefetch_variants(best: Variant) -> list[Variant]:
    """The default, then `best` with each prefetch multiplier."""
    name, argv = best
    tried = ((f"{name}, prefetch {n}", (*argv, "--prefetch-multiplier", str(n))) for n in PREFETCH)
    return [DEFAULT, *tried]


def run(args: argparse.Namespace, session: Session) -> list[str]:
    """The pools side by side, then the fastest with each prefetch multiplier."""
    pools = measure(session, POOLS, args.clients)
    best = max(zip(POOLS, pools, strict=True), key=lambda pair: pair[1].jobs_per_s)[0]
    return report([pools, measure(session, prefetch_variants(best), args.clients)], args.clients)


def report(lineups: list[list[Point]], clients: int) -> list[str]:
    """A row per variant and lineup, its jobs/s beside the default's of the same lineup."""
    rows = [(n, p, lineup[0]) for n, lineup in enumerate(lineups, start=1) for p in lineup]
    threads = config.load()["THREADS"]
    pools, prefetch = lineups[0], lineups[1] if len(lineups) > 1 else []
    best = max(pools, key=lambda p: p.jobs_per_s)
    lines = [
        f"# The Celery worker's pool and prefetch (1 worker, {clients} clients)",
        "",
        "The service on the Celery engine with one worker as `make worker` starts it, plus the "
        "arguments each variant names; each variant has its own worker on its own database of "
        "one redis-server, and the variants are measured side by side in interleaved slices by "
        "the load generator, every answer checked: first the pools, then the fastest pool with "
        f"each prefetch multiplier ({', '.join(map(str, PREFETCH))}; the settings' is 1), each "
        "lineup with the default beside it. The threads pool has TP_NUM_OF_THREADS threads "
        f"({threads} here); a solo worker runs one job at a time but reserves the concurrency "
        f"times the multiplier ({threads} x N) jobs. Late acknowledgement and reject-on-worker-"
        "lost (`task_acks_late`, `task_reject_on_worker_lost`) stay as the settings set them in "
        "every variant. Peak PSS and start-up are the service's, not the worker's.",
        "",
        *columns(
            rows,
            [
                ("worker", lambda r: r[1].name),
                ("lineup", lambda r: str(r[0])),
                *load.columns(
                    lambda r: r[1],
                    ("vs default", lambda r: f"{ratio(r[1].jobs_per_s, r[2].jobs_per_s):.2f}x"),
                ),
            ],
        ),
        "",
        f"**The fastest pool: {best.name}**, {ratio(best.jobs_per_s, pools[0].jobs_per_s):.2f}x "
        "the default's jobs/s; lineup 2 tries it with each prefetch multiplier.",
    ]
    if len(prefetch) > 2:
        one, more = prefetch[1], prefetch[-1]
        lines += [
            "",
            f"**{more.name} did {ratio(more.jobs_per_s, one.jobs_per_s):.2f}x the jobs/s of "
            f"{one.name}**; p99 {more.p99_ms:.1f} against {one.p99_ms:.1f} ms.",
        ]
    return lines
