"""The machine a run measured on, and a fingerprint of the service's code it measured."""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess

from bench.server import ROOT


def code_fingerprint() -> str:
    """A short hash of the service's code (app/ and api_server.py) as it is on disk now."""
    digest = hashlib.sha256()
    for path in sorted([*ROOT.glob("app/**/*.py"), ROOT / "api_server.py"]):
        if path.is_file():
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _proc_line(path: str, prefix: str) -> str:
    """The value of the first line of a /proc file that starts with `prefix`."""
    try:
        with open(path) as lines:
            return next(line.split(":", 1)[1].strip() for line in lines if line.startswith(prefix))
    except (OSError, StopIteration):
        return "unknown"


def machine_info(code_hash: str) -> dict[str, str]:
    """CPU, memory, Python, OS and the code measured."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    memory = _proc_line("/proc/meminfo", "MemTotal:").split()[0]
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    return {
        "CPU": f"{_proc_line('/proc/cpuinfo', 'model name')}, {os.cpu_count()} cores "
        f"({usable} usable)",
        "Memory": f"{int(memory) / 1024**2:.1f} GiB" if memory.isdigit() else memory,
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "OS": platform.platform(),
        "Commit": f"{commit or 'unknown'} (service code hash {code_hash})",
        "Load average at start (1, 5, 15 min)": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }
