"""BENCHMARKS.md: how to read it, the machine and code measured, the targets, each section."""

from __future__ import annotations

import os
import platform
import subprocess
from collections.abc import Sequence
from pathlib import Path

import psutil

from bench.markdown import table
from bench.section import Section
from bench.server import ROOT

#: What the research instruments found (kept with them, in bench/lab/), copied into the report.
FINDINGS = ROOT / "bench" / "lab" / "FINDINGS.md"
METHOD = [
    "## How to read this",
    "",
    "- **Side by side, as ratios.** The machine is shared and noisy: the same figure differs by "
    "half between runs. So every figure that is compared with another is measured in the same "
    "lineup (`bench/lineup.py`): the servers run at once (each started alone, so start-up times "
    "are clean), each is warmed up, then the measured time is cut into slices taken in turn (A B "
    "C, then C B A, and so on), so that whatever the machine does falls on all of them alike. "
    "Read the ratios; absolute figures say as much about the machine's other load as about the "
    "service.",
    "- **The limit** (`bench/limit.py`) is a raw WSGI app that answers the two job routes inline "
    "from precomputed answers, under the same granian settings as the service: no framework, "
    "validation, pool, result files, journal or log. It is what the HTTP server and the machine "
    "allow for one submit and its polls; the service's jobs/s over the limit's is the headline. "
    "It runs with 1 and with 2 server processes and the faster is taken as the limit.",
    "- **A job** is one closed loop: a client submits it, polls `get_results` until it is done, "
    "then submits the next. Throughput counts jobs done inside the measured slices; latency is "
    "submit-to-done. In a closed loop of N clients the mean latency is N / jobs per second "
    "(Little's law), so throughput and latency move together.",
    "- **Two clients.** Throughput is measured with wrk (`bench/cycle.lua`), written in C, so "
    "that the servers and not the client set the pace. Correctness is measured with the Python "
    "load generator (`bench/load.py`), which compares every answer with the one computed "
    "in-process; it costs about as much CPU per request as a server, so its jobs/s are lower.",
    "- **Memory** is the proportional set size (PSS) of all of a server's processes, so that "
    "pages the server processes share with the main process count once. It is sampled 4 times a "
    "second, only while the server is loaded, and once at the end of each slice.",
    "- **Between sections** the benchmark writes dirty pages out (sync), so that the disk's "
    "write-back of one section does not fall into the next.",
    "- **Targets** are the goals set by issues; NOT MET is a finding, not a failed run.",
    "",
]


def machine_info() -> dict[str, str]:
    """CPU, memory, Python, OS and the commit measured."""
    with open("/proc/cpuinfo") as cpuinfo:
        model = next((line.split(":")[1].strip() for line in cpuinfo if "model name" in line), "")
    describe = ["git", "describe", "--always", "--dirty=, with uncommitted changes"]
    commit = subprocess.run(describe, capture_output=True, text=True, cwd=ROOT).stdout.strip()
    usable = len(os.sched_getaffinity(0))
    return {
        "CPU": f"{model or 'unknown'}, {os.cpu_count()} cores ({usable} usable)",
        "Memory": f"{psutil.virtual_memory().total / 1024**3:.1f} GiB",
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "OS": platform.platform(),
        "Commit": commit or "unknown",
        "Load average at start (1, 5, 15 min)": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def render(
    sections: Sequence[Section],
    command: str,
    minutes: float,
    machine: dict[str, str],
    notes: Sequence[str],
    charts: Sequence[Path],
    output: Path,
) -> str:
    """The whole report as Markdown; chart links are relative to `output`'s folder."""
    lines = [
        "# Benchmarks",
        "",
        f"Written by `{command}` in {minutes:.1f} min. Regenerate with `make bench`; do not edit "
        "by hand. Every ratio below compares figures measured side by side in the same run.",
        "",
    ]
    for section in sections:
        lines += section.headline()
    lines += [*METHOD, "## Machine and settings", ""]
    lines += table(["", ""], [[k, v] for k, v in machine.items()])
    if notes:
        lines += ["", "## Problems in this run", "", *(f"- {note}" for note in notes)]
    lines += ["", "## Targets", ""]
    found = [target for section in sections for target in section.targets()]
    lines += table(
        ["target", "measured", "verdict"],
        [[t.name, t.measured, f"**{t.verdict}**"] for t in found],
    )
    lines += [""]
    for section in sections:
        lines += section.markdown()
    lines += [*FINDINGS.read_text(encoding="utf-8").splitlines(), ""]
    if charts:
        lines += ["## Charts", ""]
        for chart in charts:
            relative = os.path.relpath(chart.resolve(), output.resolve().parent)
            lines += [f"![{chart.stem.replace('_', ' ')}]({relative})", ""]
    return "\n".join(lines).rstrip() + "\n"
