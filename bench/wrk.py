"""Throughput measured with wrk, a load generator written in C: the closed loop of bench/cycle.lua.

The Python load generator checks answers but costs about as much CPU per request as the servers
it measures; wrk costs a fraction of that, so the servers, not the client, set the pace. Every
contender is started once and measured in interleaved slices (A B C, then C B A, ...), so the
machine's noise falls on all of them alike.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from bench.load import Plan
from bench.server import ROOT, MemorySampler, Server, running

SCRIPT = ROOT / "bench" / "cycle.lua"
#: Uncounted seconds before each measured slice (wrk opens new connections).
SLICE_WARMUP = 0.5


def wrk() -> str | None:
    """The wrk executable, or None if it is not installed (apt-get install wrk)."""
    return shutil.which("wrk")


def write_plan(plan: Plan, path: Path, seed_states: int = 7) -> Path:
    """The request mix as cycle.lua reads it: every endpoint x question, states rotating."""
    lines = []
    for n, (endpoint, question) in enumerate(plan.combos):
        body: dict[str, str] = {"question": question}
        if plan.needs_state[endpoint]:
            states = plan.states[question]
            body["state"] = states[(n * seed_states) % len(states)]
        lines.append(f"{endpoint}\t{orjson.dumps(body).decode()}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@dataclass
class Slice:
    """What one wrk run printed."""

    jobs: int
    seconds: float
    polls: int
    bad: int
    p50_ms: float
    p99_ms: float
    max_ms: float

    @property
    def jobs_per_s(self) -> float:
        return self.jobs / self.seconds if self.seconds else 0.0


def run_wrk(url: str, connections: int, seconds: float, plan: Path) -> Slice:
    """One closed-loop run of `connections` clients for `seconds`."""
    executable = wrk()
    if executable is None:
        raise RuntimeError("wrk is not installed (apt-get install wrk)")
    argv = [executable, f"-t{connections}", f"-c{connections}", f"-d{max(1, round(seconds))}s"]
    done = subprocess.run(
        [*argv, "-s", str(SCRIPT), url],
        env={**os.environ, "LSS_BENCH_PLAN": str(plan)},
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    )
    last = done.stdout.strip().splitlines()[-1:] or [""]
    try:
        return Slice(**json.loads(last[0]))
    except (json.JSONDecodeError, TypeError):
        output = f"{done.stdout[-500:]} {done.stderr[-500:]}"
        raise RuntimeError(f"wrk printed no result: {output}") from None


@dataclass
class WrkContender:
    """A server to measure with wrk: its name, command line, environment and working folder."""

    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path = ROOT


@dataclass
class WrkPoint:
    """One contender at one connection count: its slices and what its processes used."""

    name: str
    connections: int
    slices: list[Slice]
    cpu_s: float
    switches: int
    peak_rss: int
    startup_s: float

    @property
    def jobs(self) -> int:
        return sum(s.jobs for s in self.slices)

    @property
    def jobs_per_s(self) -> float:
        seconds = sum(s.seconds for s in self.slices)
        return self.jobs / seconds if seconds else 0.0

    @property
    def p50_ms(self) -> float:
        return statistics.median(s.p50_ms for s in self.slices)

    @property
    def p99_ms(self) -> float:
        """The median of the slices' p99s (the range is in `p99_range`)."""
        return statistics.median(s.p99_ms for s in self.slices)

    @property
    def p99_range(self) -> tuple[float, float]:
        return min(s.p99_ms for s in self.slices), max(s.p99_ms for s in self.slices)

    @property
    def bad(self) -> int:
        return sum(s.bad for s in self.slices)

    @property
    def cpu_ms_per_job(self) -> float:
        return 1000 * self.cpu_s / self.jobs if self.jobs else float("nan")

    @property
    def switches_per_job(self) -> float:
        return self.switches / self.jobs if self.jobs else float("nan")


def compare(
    contenders: list[WrkContender],
    connections: int,
    plan: Path,
    data_file: Path,
    workdir: Path,
    rounds: int,
    seconds: float,
    log: Callable[[str], None] = lambda _: None,
) -> dict[str, WrkPoint]:
    """Start every contender, then measure them in interleaved slices of `seconds / rounds`."""
    slice_s = max(1.0, seconds / rounds)
    slices: dict[str, list[Slice]] = {c.name: [] for c in contenders}
    cpu: dict[str, float] = dict.fromkeys(slices, 0.0)
    switches: dict[str, int] = dict.fromkeys(slices, 0)
    with contextlib.ExitStack() as stack:
        servers: dict[str, Server] = {}
        for c in contenders:
            servers[c.name] = stack.enter_context(
                running(c.name, c.argv, data_file, env=c.env, parent=workdir, cwd=c.cwd)
            )
        samplers = {n: stack.enter_context(MemorySampler(s)) for n, s in servers.items()}
        for c in contenders:  # warm up: every answer computed and cached once
            with samplers[c.name].measuring():
                run_wrk(_url(servers[c.name]), connections, 1.0, plan)
        for number in range(rounds):
            for c in contenders if number % 2 == 0 else contenders[::-1]:
                server = servers[c.name]
                with samplers[c.name].measuring():
                    run_wrk(_url(server), connections, SLICE_WARMUP, plan)
                    before, switched = sum(server.cpu_times()), server.context_switches()
                    slices[c.name].append(run_wrk(_url(server), connections, slice_s, plan))
                    cpu[c.name] += sum(server.cpu_times()) - before
                    switches[c.name] += server.context_switches() - switched
    points = {}
    for c in contenders:
        point = WrkPoint(
            c.name,
            connections,
            slices[c.name],
            cpu[c.name],
            switches[c.name],
            samplers[c.name].peak,
            servers[c.name].startup_s,
        )
        points[c.name] = point
        log(
            f"wrk {c.name:>14} c={connections:>2}: {point.jobs_per_s:7.0f} jobs/s "
            f"p50 {point.p50_ms:5.2f} p99 {point.p99_ms:6.2f} ms bad {point.bad} "
            f"cpu {point.cpu_ms_per_job:.3f} ms/job"
        )
    return points


def _url(server: Server) -> str:
    return f"http://{server.host}:{server.port}"


def limit_argv() -> list[str]:
    """The raw WSGI limit app (bench/limit.py) on the placeholder port."""
    return [sys.executable, "-m", "bench.limit", "--port", "{port}"]


@contextlib.contextmanager
def baseline_tree(revision: str, workdir: Path) -> Iterator[Path]:
    """A checkout of the project at `revision` (a git worktree), removed afterwards."""
    path = workdir / f"baseline-{revision.replace('/', '_')}"
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", "--force", str(path), revision],
        check=True,
        capture_output=True,
    )
    try:
        yield path
    finally:
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(path)],
            capture_output=True,
        )
