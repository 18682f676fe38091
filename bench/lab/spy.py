"""py-spy recordings of the service's processes and their summary: GIL samples per job by thread
role, by service function and by leaf frame (system calls made without the GIL do not show)."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.markdown import table

#: Samples per second.
RATE = 250
#: A py-spy frame: "function (path/file.py:line)".
_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^():]+)(?::\d+)?\)$")


def py_spy() -> str | None:
    """The py-spy executable next to this interpreter, or on PATH; None if not installed."""
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


def start_recording(
    pid: int, output: Path, limit_s: float = 600.0, subprocesses: bool = False
) -> subprocess.Popen[bytes]:
    """Record `pid` (threads holding the GIL, RATE Hz) as collapsed stacks until stop_recording;
    with `subprocesses`, its child processes too (the server's workers)."""
    executable = py_spy()
    if executable is None:
        raise RuntimeError("py-spy is not installed (pip install py-spy)")
    argv = [executable, "record", "--pid", str(pid), "--duration", str(round(limit_s))]
    if subprocesses:
        argv.append("--subprocesses")
    argv += ["--rate", str(RATE), "--gil", "--nonblocking", "--format", "raw"]
    return subprocess.Popen([*argv, "--output", str(output)], stdout=subprocess.DEVNULL)


def stop_recording(recorder: subprocess.Popen[bytes]) -> None:
    """Stop a recording (SIGINT makes py-spy write its output) and wait for the file."""
    if recorder.poll() is None:
        recorder.send_signal(signal.SIGINT)
    try:
        recorder.wait(60)
    except subprocess.TimeoutExpired:
        recorder.kill()
        recorder.wait()


#: Thread role of a stack, by the first frame fragment found in it.
_ROLES = (
    ("ThreadPool._work", "job pool workers"),
    ("granian/wsgi.py", "request threads (granian)"),
    ("LogWriter._run", "log writer"),
    ("Maintenance._run", "maintenance"),
)


def _role(stack: str) -> str:
    """The role of the thread a stack was sampled in."""
    for fragment, role in _ROLES:
        if fragment in stack:
            return role
    return "other or truncated stacks"


@dataclass(frozen=True)
class ProfileSummary:
    """GIL-holding samples of one server, by thread, by service function and by leaf frame."""

    samples: int
    #: Jobs run while recording, to turn samples into milliseconds per job.
    jobs: int
    by_role: dict[str, int]
    app_inclusive: dict[str, int]
    top_self: dict[str, int]

    def ms_per_job(self, samples: int) -> float:
        """Milliseconds of GIL time per job that `samples` samples stand for."""
        return samples * 1000.0 / RATE / self.jobs if self.jobs else 0.0


def summarise(raw: Path, jobs: int) -> ProfileSummary:
    """Samples by thread role, inclusive time of the app's functions, and leaf frames."""
    by_role: Counter[str] = Counter()
    app_inclusive: Counter[str] = Counter()
    top_self: Counter[str] = Counter()
    samples = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_FRAME.match(frame) for frame in stack.split(";")]
        parsed = [(m["func"], m["file"]) for m in frames if m]
        if not parsed:
            continue
        samples += count
        func, file = parsed[-1]
        by_role[_role(stack)] += count
        top_self[f"{func} ({file})"] += count
        for name in {f"{f} ({p})" for f, p in parsed if p.startswith("app/")}:
            app_inclusive[name] += count
    return ProfileSummary(
        samples=samples,
        jobs=jobs,
        by_role=dict(by_role.most_common()),
        app_inclusive=dict(app_inclusive.most_common()),
        top_self=dict(top_self.most_common()),
    )


def tables(p: ProfileSummary) -> list[str]:
    """GIL ms per job by thread, by service function (inclusive) and by leaf frame (self)."""
    lines = table(
        ["thread", "GIL ms/job"], [[n, f"{p.ms_per_job(c):.3f}"] for n, c in p.by_role.items()]
    )
    for title, samples in (
        ("service function (inclusive)", p.app_inclusive),
        ("hottest leaf frames (self)", p.top_self),
    ):
        rows = [
            [f"`{name}`", f"{p.ms_per_job(n):.3f}", f"{n / max(1, p.samples):.1%}"]
            for name, n in list(samples.items())[:15]
        ]
        lines += ["", *table([title, "GIL ms/job", "share"], rows)]
    return lines
