"""The throughput sections of `make bench`: wrk against the service, its limit and a baseline,
the journal's cost per job, and where a job's time goes (py-spy under wrk)."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench import job_costs, wrk
from bench.job_costs import JournalCost
from bench.lab.profile import ProfileSummary, py_spy, start_recording, stop_recording, summarise
from bench.lab.settle import settle
from bench.load import Plan
from bench.server import running, service_argv

#: The service before the job journal (the last commit without it): the "before" of the journal's
#: cost, measured side by side. `--baseline none` leaves it out.
BASELINE = "413c077"
#: Connection counts of the wrk sweep; the first is the headline.
CONNECTIONS = (16, 64)
#: Worker process counts compared to choose LSS_WORKERS's default (the limit runs with each too).
WORKER_COUNTS = (1, 2)
#: The name the faster limit is filed under at each connection count.
LIMIT = "limit"
#: Parts of a job's record left out (bench/ablated.py) -> the suffix of that contender's name:
#: measured at the headline connection count with default settings, they split the gap to the
#: limit into what the journal, the result file, the request log lines and everything else cost.
ABLATED = {
    ("journal",): "without journal",
    ("journal", "file"): "without journal or file",
    ("journal", "file", "log"): "without journal, file or log lines",
}
ABLATED_ARGV = [sys.executable, "-m", "bench.lab.ablated"]


@dataclass
class ThroughputRun:
    """What the throughput sections measured."""

    default_workers: int = 1
    #: Connection count -> the worker count of the faster limit, the one ratios are taken to.
    limit_workers: dict[int, int] = field(default_factory=dict)
    baseline: str = ""
    points: dict[tuple[str, int], wrk.WrkPoint] = field(default_factory=dict)
    journal: JournalCost | None = None
    profile: ProfileSummary | None = None
    profile_path: str = ""
    notes: list[str] = field(default_factory=list)

    def get(self, name: str, connections: int) -> wrk.WrkPoint | None:
        return self.points.get((name, connections))


def service_name(workers: int) -> str:
    return f"service w={workers}"


def limit_name(workers: int) -> str:
    return f"limit w={workers}"


def measure(
    plan: Plan,
    data_file: Path,
    workdir: Path,
    *,
    default_workers: int,
    baseline: str,
    connections: tuple[int, ...],
    rounds: int,
    seconds: float,
    log: Callable[[str], None],
) -> ThroughputRun:
    """The service with 1 and 2 worker processes, the raw WSGI limit and the baseline, at each
    connection count, measured with wrk in interleaved slices."""
    run = ThroughputRun(default_workers=default_workers, baseline=baseline)
    settle(workdir, run.notes, log)
    log("journal cost per job (in-process)")
    run.journal = job_costs.measure()
    if wrk.wrk() is None:
        run.notes.append("wrk is not installed (apt-get install wrk): no wrk measurements")
        log(run.notes[-1])
        return run
    plan_file = wrk.write_plan(plan, workdir / "plan.tsv")
    settle(workdir, run.notes, log)
    contenders = [
        wrk.WrkContender(limit_name(n), wrk.limit_argv(), {"LSS_WORKERS": str(n)})
        for n in WORKER_COUNTS
    ]
    contenders += [
        wrk.WrkContender(service_name(n), service_argv(), {"LSS_WORKERS": str(n)})
        for n in WORKER_COUNTS
    ]
    ablated = [
        wrk.WrkContender(
            f"{service_name(default_workers)} {ABLATED[key]}",
            [*ABLATED_ARGV, *(arg for part in key for arg in ("--without", part))],
            {"LSS_WORKERS": str(default_workers)},
        )
        for key in ABLATED
    ]
    with contextlib.ExitStack() as stack:
        if baseline:
            tree = stack.enter_context(wrk.baseline_tree(baseline, workdir))
            contenders.append(
                wrk.WrkContender(f"baseline {baseline}", service_argv(tree), cwd=tree)
            )
        for count in connections:
            these = contenders + (ablated if count == connections[0] else [])
            log(f"wrk: {', '.join(c.name for c in these)} at {count} connections")
            points = wrk.compare(these, count, plan_file, data_file, workdir, rounds, seconds, log)
            for name, point in points.items():
                run.points[(name, count)] = point
            # The limit is what the machine allows: the faster of its worker counts.
            best = max(WORKER_COUNTS, key=lambda n: points[limit_name(n)].jobs_per_s)
            run.points[(LIMIT, count)] = points[limit_name(best)]
            run.limit_workers[count] = best
            settle(workdir, run.notes, log)
    return run


def profile(
    run: ThroughputRun,
    plan: Plan,
    data_file: Path,
    workdir: Path,
    folder: Path,
    seconds: float,
    log: Callable[[str], None],
) -> None:
    """py-spy (threads holding the GIL) on the service's processes under wrk, default settings."""
    if py_spy() is None or wrk.wrk() is None:
        run.notes.append("profile skipped: py-spy or wrk is not installed")
        return
    folder.mkdir(parents=True, exist_ok=True)
    raw = folder / "service-wrk.txt"
    plan_file = wrk.write_plan(plan, workdir / "plan-profile.tsv")
    env = {"LSS_WORKERS": str(run.default_workers)}
    with running("profiled", service_argv(), data_file, env=env, parent=workdir) as server:
        url = f"http://{server.host}:{server.port}"
        wrk.run_wrk(url, CONNECTIONS[0], 1.0, plan_file)
        recorder = start_recording(server.process.pid, raw, subprocesses=True)
        time.sleep(1.0)  # py-spy attaches
        try:
            result = wrk.run_wrk(url, CONNECTIONS[0], seconds, plan_file)
        finally:
            stop_recording(recorder)
    if raw.exists():
        run.profile = summarise(raw, result.jobs)
        run.profile_path = str(folder)
        log(f"profile: {run.profile.samples} GIL samples over {result.jobs} jobs in {raw}")
