"""``baseline REV``: the service at the working tree and at git revision REV, side by side (wrk)."""

from __future__ import annotations

import argparse
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench import wrk
from bench.lab.settle import settle
from bench.lineup import Contender
from bench.markdown import columns, ratio
from bench.point import Point
from bench.server import ROOT, service_argv
from bench.session import Session

_QUIET: dict[str, Any] = {"capture_output": True, "text": True}


def add(commands: Any) -> argparse.ArgumentParser:
    """The `baseline` command's options."""
    parser = commands.add_parser("baseline", help="the working tree beside git revision REV (wrk)")
    parser.add_argument("revision", metavar="REV", help="a git revision: commit, tag, branch")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (16)")
    parser.add_argument("--workers", type=int, help="LSS_WORKERS of both (default: the service's)")
    parser.add_argument(
        "--no-settle", action="store_true", help="do not wait for the file system to settle first"
    )
    parser.set_defaults(run=run)
    return parser


@contextmanager
def worktree(revision: str, folder: Path) -> Iterator[Path]:
    """A checkout of the project at `revision` (a detached git worktree), removed afterwards."""
    path = folder / f"baseline-{revision.replace('/', '_')}"
    git = ["git", "-C", str(ROOT), "worktree"]
    made = subprocess.run([*git, "add", "--detach", "--force", str(path), revision], **_QUIET)
    if made.returncode:
        raise RuntimeError(f"git worktree add {revision} failed: {made.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run([*git, "remove", "--force", str(path)], **_QUIET)


def run(args: argparse.Namespace, session: Session) -> list[str]:
    """Measure the working tree beside `args.revision` and report both and their ratio."""
    if not wrk.installed():
        return ["wrk is not installed (apt-get install wrk)"]
    env = {"LSS_WORKERS": str(args.workers)} if args.workers else {}
    plan = wrk.write_plan(session.plan, session.workdir / "plan.tsv")
    if not args.no_settle:  # an older revision may write a file per job: wait out a deletion
        settle(session.workdir, session.notes, session.log)
    with worktree(args.revision, session.workdir) as tree:
        lineup = [
            Contender("working tree", service_argv(), env=env),
            Contender(args.revision, service_argv(tree), env=env, cwd=tree),
        ]
        measured = session.side_by_side(lineup, wrk.client(args.connections, plan))
    now, then = (measured[c.name] for c in lineup)
    return report(now, then, args.revision, args.connections)


def report(now: Point, then: Point, revision: str, connections: int) -> list[str]:
    """A table of both, then the ratio with its range over back-to-back slice pairs."""
    pairs = [a.jobs / b.jobs for a, b in zip(now.slices, then.slices, strict=True) if b.jobs]
    spread = f"{min(pairs):.2f} to {max(pairs):.2f}" if pairs else "-"
    lines = [f"# The working tree beside {revision} (wrk, {connections} connections)", ""]
    lines += columns(
        [("working tree", now), (revision, then)],
        [
            ("service", lambda r: r[0]),
            ("jobs/s", lambda r: f"{r[1].jobs_per_s:,.0f}"),
            ("p50 / p99 ms", lambda r: f"{r[1].p50_ms:.2f} / {r[1].p99_ms:.1f}"),
            ("p99 by slice", lambda r: "{:.1f}-{:.1f}".format(*r[1].p99_range)),
            ("CPU µs/job", lambda r: f"{r[1].cpu_us_per_job:.0f}"),
            ("bad", lambda r: str(r[1].bad)),
        ],
    )
    return [
        *lines,
        "",
        f"**The working tree does {ratio(now.jobs_per_s, then.jobs_per_s):.2f}x the jobs/s of "
        f"{revision}** (slice pairs {spread}); p99 {now.p99_ms:.1f} against {then.p99_ms:.1f} ms.",
    ]
