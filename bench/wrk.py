"""wrk, a load generator written in C, running the closed loop of bench/cycle.lua."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import orjson

from bench.point import Slice
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


def run_wrk(url: str, connections: int, seconds: float, plan: Path, script: Path = SCRIPT) -> Slice:
    """One closed-loop run of `connections` clients, one per wrk thread, for `seconds`, of the
    loop `script` (cycle.lua: POST and poll; answer.lua and revalidate.lua: GET answers)."""
    executable = shutil.which("wrk")
    if executable is None:
        raise RuntimeError("wrk is not installed (apt-get install wrk)")
    argv = [executable, f"-t{connections}", f"-c{connections}", f"-d{max(1, round(seconds))}s"]
    done = subprocess.run(
        [*argv, "-s", str(script), url],
        env={**os.environ, "LSS_BENCH_PLAN": str(plan), "LSS_BENCH_LUA": str(script.parent)},
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


def client(connections: int, plan: Path, script: Path = SCRIPT) -> Callable[[Server, float], Slice]:
    """A lineup's client: an uncounted lead-in, then `seconds` of wrk with the server's CPU."""

    def run(server: Server, seconds: float) -> Slice:
        run_wrk(server.url, connections, LEAD_IN_S, plan, script)
        before = server.cpu_s()
        result = run_wrk(server.url, connections, seconds, plan, script)
        result.cpu_s = server.cpu_s() - before
        return result

    return run
