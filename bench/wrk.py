"""wrk, a load generator written in C, running the closed loop of bench/cycle.lua.

The Python load generator checks answers but costs about as much CPU per request as the servers
it measures; wrk costs a fraction of that, so the servers, not the client, set the pace.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import orjson

from bench.lineup import Measured
from bench.server import ROOT, Server
from bench.workload import Plan

SCRIPT = ROOT / "bench" / "cycle.lua"
#: Uncounted seconds before each slice, while wrk opens its connections.
LEAD_IN_S = 1


def installed() -> bool:
    """Whether the wrk executable is on PATH (apt-get install wrk)."""
    return shutil.which("wrk") is not None


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
    """What one wrk run printed, and the server's CPU seconds meanwhile."""

    jobs: int
    seconds: float
    polls: int
    bad: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    cpu_s: float = 0.0


def run_wrk(url: str, connections: int, seconds: float, plan: Path) -> Slice:
    """One closed-loop run of `connections` clients, one per wrk thread, for `seconds`."""
    executable = shutil.which("wrk")
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


def client(connections: int, plan: Path) -> Callable[[Server, float], Slice]:
    """A lineup's client: an uncounted lead-in, then `seconds` of wrk with the server's CPU."""

    def run(server: Server, seconds: float) -> Slice:
        run_wrk(server.url, connections, LEAD_IN_S, plan)
        before = server.cpu_s()
        result = run_wrk(server.url, connections, seconds, plan)
        result.cpu_s = server.cpu_s() - before
        return result

    return run


@dataclass(frozen=True)
class WrkPoint:
    """One contender's wrk slices at one connection count, summed up."""

    measured: Measured[Slice]

    @property
    def slices(self) -> list[Slice]:
        return self.measured.slices

    @property
    def jobs(self) -> int:
        return sum(s.jobs for s in self.slices)

    @property
    def jobs_per_s(self) -> float:
        seconds = sum(s.seconds for s in self.slices)
        return self.jobs / seconds if seconds else 0.0

    @property
    def us_per_job(self) -> float:
        """Microseconds per job of the closed loop (1 / jobs per second)."""
        return 1e6 / self.jobs_per_s if self.jobs_per_s else float("nan")

    @property
    def p50_ms(self) -> float:
        return statistics.median(s.p50_ms for s in self.slices)

    @property
    def p99_ms(self) -> float:
        """The median of the slices' p99s (their range is `p99_range`)."""
        return statistics.median(s.p99_ms for s in self.slices)

    @property
    def p99_range(self) -> tuple[float, float]:
        return min(s.p99_ms for s in self.slices), max(s.p99_ms for s in self.slices)

    @property
    def bad(self) -> int:
        """Error statuses, the warm-up's included."""
        return self.measured.warm_up.bad + sum(s.bad for s in self.slices)

    @property
    def cpu_us_per_job(self) -> float:
        return 1e6 * sum(s.cpu_s for s in self.slices) / self.jobs if self.jobs else float("nan")
