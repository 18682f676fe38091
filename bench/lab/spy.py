"""py-spy recordings of the service's processes and their summary: GIL samples per job by thread
role, by service function and by leaf frame (system calls made without the GIL do not show)."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
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
    # The service is served through RSGI (app/serving): its own request threads run the app,
    # granian's event loop gathers bodies and hands requests over.
    ("RequestThreads._work", "request threads (the service's)"),
    ("BufferedWSGI.__rsgi__", "event loop (bodies, hand-over)"),
    ("granian/_futures.py", "event loop (bodies, hand-over)"),
    ("(asyncio/", "event loop (bodies, hand-over)"),
    ("LogWriter._run", "log writer"),
    ("Maintenance._run", "maintenance"),
    # A Celery worker (threads pool): the tasks run on a ThreadPoolExecutor's threads, while
    # the main thread runs kombu's event loop (reading Redis, handing tasks over, acks, timers).
    ("_worker (concurrent/futures/thread.py", "Celery pool threads (the tasks)"),
    ("asynloop (celery/worker/loops.py", "Celery main thread (kombu's event loop)"),
    ("LostJobSweeper._run", "lost-job sweeper"),
)
#: Packages a frame is counted under, by its file's first folder: ours, then the libraries a job
#: goes through. Frames of neither are the standard library's or another package's.
PACKAGES = ("app", "celery", "kombu", "redis", "granian")
STDLIB, OTHER = "standard library", "other packages"
#: Celery's worker runs under this frame: app frames above it are the worker's launcher, whose
#: inclusive time would be the whole of its main thread's.
_LAUNCHED = "Celery.worker_main"


def _role(stack: str) -> str:
    """The role of the thread a stack was sampled in."""
    for fragment, role in _ROLES:
        if fragment in stack:
            return role
    return "other or truncated stacks"


def _package(file: str) -> str:
    """The package of a frame's file as py-spy names it (a path under its sys.path entry)."""
    top = file.split("/", 1)[0]
    if top in PACKAGES:
        return f"{top}/"
    if top.startswith("<frozen") or top.removesuffix(".py") in sys.stdlib_module_names:
        return STDLIB
    return OTHER


@dataclass(frozen=True)
class ProfileSummary:
    """GIL-holding samples of one server, by thread, by service function and by leaf frame."""

    samples: int
    #: Jobs run while recording, to turn samples into milliseconds per job.
    jobs: int
    by_role: dict[str, int]
    app_inclusive: dict[str, int]
    top_self: dict[str, int]
    #: Leaf frames by their package; and charged to the innermost frame of one of PACKAGES
    #: (a socket write under redis-py is redis-py's), else to the leaf's package.
    by_package: dict[str, int]
    by_caller: dict[str, int]

    def ms_per_job(self, samples: int) -> float:
        """Milliseconds of GIL time per job that `samples` samples stand for."""
        return samples * 1000.0 / RATE / self.jobs if self.jobs else 0.0


def summarise(raw: Path, jobs: int) -> ProfileSummary:
    """Samples by thread role, inclusive time of the app's functions, leaf frames and packages."""
    by_role: Counter[str] = Counter()
    app_inclusive: Counter[str] = Counter()
    top_self: Counter[str] = Counter()
    by_package: Counter[str] = Counter()
    by_caller: Counter[str] = Counter()
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
        packages = [_package(p) for _, p in parsed]
        by_package[packages[-1]] += count
        named = (p for p in reversed(packages) if p not in (STDLIB, OTHER))
        by_caller[next(named, packages[-1])] += count
        launched = next((i for i, (f, _) in enumerate(parsed) if f == _LAUNCHED), -1)
        for name in {f"{f} ({p})" for f, p in parsed[launched + 1 :] if p.startswith("app/")}:
            app_inclusive[name] += count
    return ProfileSummary(
        samples=samples,
        jobs=jobs,
        by_role=dict(by_role.most_common()),
        app_inclusive=dict(app_inclusive.most_common()),
        top_self=dict(top_self.most_common()),
        by_package=dict(by_package.most_common()),
        by_caller=dict(by_caller.most_common()),
    )


def record(
    targets: Sequence[tuple[int, Path, bool]], load: Callable[[], int]
) -> list[ProfileSummary]:
    """Record every (pid, raw stacks file, with its child processes) at once while `load()`
    runs (it returns the jobs it ran), and summarise each."""
    recorders: list[subprocess.Popen[bytes]] = []
    try:
        for pid, raw, children in targets:
            recorders.append(start_recording(pid, raw, subprocesses=children))
        time.sleep(1.0)  # py-spy attaches
        jobs = load()
    finally:
        for recorder in recorders:
            stop_recording(recorder)
    return [summarise(raw, jobs) for _, raw, _ in targets]


def _ms_rows(p: ProfileSummary, samples: dict[str, int], limit: int = 15) -> list[list[str]]:
    """A row per name: its GIL ms per job and its share of all samples."""
    return [
        [name, f"{p.ms_per_job(n):.3f}", f"{n / max(1, p.samples):.1%}"]
        for name, n in list(samples.items())[:limit]
    ]


def tables(p: ProfileSummary) -> list[str]:
    """GIL ms per job by thread, by service function (inclusive) and by leaf frame (self)."""
    lines = table(
        ["thread", "GIL ms/job"], [[n, f"{p.ms_per_job(c):.3f}"] for n, c in p.by_role.items()]
    )
    for title, samples in (
        ("service function (inclusive)", p.app_inclusive),
        ("hottest leaf frames (self)", p.top_self),
    ):
        named = {f"`{name}`": n for name, n in samples.items()}
        lines += ["", *table([title, "GIL ms/job", "share"], _ms_rows(p, named))]
    return lines


def package_table(p: ProfileSummary) -> list[str]:
    """GIL ms per job by package: of the leaf frames, and charged to the nearest named caller."""
    names = sorted(p.by_package.keys() | p.by_caller.keys(), key=lambda n: -p.by_caller.get(n, 0))
    rows = []
    for name in names:
        leaf, caller = p.by_package.get(name, 0), p.by_caller.get(name, 0)
        rows.append(
            [
                f"`{name}`" if name.endswith("/") else name,
                f"{p.ms_per_job(leaf):.3f}",
                f"{leaf / max(1, p.samples):.1%}",
                f"{p.ms_per_job(caller):.3f}",
                f"{caller / max(1, p.samples):.1%}",
            ]
        )
    header = [
        "package",
        "own frames, GIL ms/job",
        "share",
        "and what they call, GIL ms/job",
        "share",
    ]
    return table(header, rows)
