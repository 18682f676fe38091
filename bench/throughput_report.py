"""The throughput part of BENCHMARKS.md: wrk against the limit, the worker count, the journal's
cost, and where a job's time goes."""

from __future__ import annotations

import math
import statistics

from bench.throughput import CONNECTIONS, WORKER_COUNTS, ThroughputRun, service_name
from bench.wrk import WrkPoint

#: Issue targets, at the headline connection count with default settings.
TARGET_LIMIT_RATIO = 0.5
TARGET_P99_MS = 10.0
MB = 1_000_000


def _ratio(a: float, b: float) -> float:
    return a / b if b else math.nan


def _us_per_job(point: WrkPoint) -> float:
    """Wall-clock microseconds per job of the closed loop's throughput (1 / jobs per second)."""
    return 1e6 / point.jobs_per_s if point.jobs_per_s else math.nan


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |"]
    lines.append("|" + "|".join([":---", *["---:"] * (len(header) - 1)]) + "|")
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def _default(t: ThroughputRun, connections: int) -> WrkPoint | None:
    return t.get(service_name(t.default_workers), connections)


def _journal_fall(t: ThroughputRun) -> tuple[float, float, float, float] | None:
    """How much longer per job the default service takes than the baseline: (the median over
    back-to-back slice pairs, their lowest and highest), and the journal's CPU per job."""
    head = CONNECTIONS[0]
    service, before = _default(t, head), t.get(f"baseline {t.baseline}", head)
    if not (service and before and t.journal):
        return None
    falls = sorted(
        1e6 / s.jobs_per_s - 1e6 / b.jobs_per_s
        for s, b in zip(service.slices, before.slices, strict=False)
        if s.jobs and b.jobs
    )
    if not falls:
        return None
    return statistics.median(falls), falls[0], falls[-1], t.journal.shared_cpu_us


def targets(t: ThroughputRun) -> list[tuple[str, str, bool | None]]:
    """(target, what was measured, met) for the throughput targets."""
    head = CONNECTIONS[0]
    service, limit = _default(t, head), t.get("limit", head)
    if not (service and limit):
        return [("service vs raw WSGI limit (wrk)", "not measured (see notes)", None)]
    ratio = _ratio(service.jobs_per_s, limit.jobs_per_s)
    found = [
        (
            f"service >= {TARGET_LIMIT_RATIO}x the raw WSGI limit's jobs/s at {head} connections "
            f"(wrk, default settings)",
            f"{ratio:.2f}x ({service.jobs_per_s:,.0f} vs {limit.jobs_per_s:,.0f} jobs/s)",
            ratio >= TARGET_LIMIT_RATIO,
        ),
        (
            f"p99 submit-to-done <= {TARGET_P99_MS:g} ms at {head} connections (wrk)",
            f"{service.p99_ms:.1f} ms (slices {service.p99_range[0]:.1f}-"
            f"{service.p99_range[1]:.1f}; limit {limit.p99_ms:.1f} ms)",
            service.p99_ms <= TARGET_P99_MS,
        ),
        (
            "no error status in the wrk runs",
            f"{sum(p.bad for p in t.points.values())} of "
            f"{sum(p.jobs for p in t.points.values()):,} jobs",
            all(p.bad == 0 for p in t.points.values()),
        ),
    ]
    fall = _journal_fall(t)
    if fall:
        extra, low, high, cost = fall
        found.append(
            (
                f"throughput falls by no more than the journal costs (vs {t.baseline}, the "
                "service before the journal; median of slice pairs)",
                f"{extra:+.0f} µs per job (slice pairs {low:+.0f} to {high:+.0f}); journal "
                f"{cost:.0f} µs CPU per job",
                extra <= cost,
            )
        )
    return found


def headline(t: ThroughputRun) -> list[str]:
    """The headline paragraph: service / limit at the headline connection count."""
    head = CONNECTIONS[0]
    service, limit = _default(t, head), t.get("limit", head)
    if not (service and limit):
        return []
    return [
        f"**Headline: at {head} connections (wrk, closed loop) the service with its default "
        f"settings (LSS_WORKERS={t.default_workers}) does "
        f"{_ratio(service.jobs_per_s, limit.jobs_per_s):.2f}x the raw WSGI limit's jobs/s** "
        f"({service.jobs_per_s:,.0f} vs {limit.jobs_per_s:,.0f}; p99 submit-to-done "
        f"{service.p99_ms:.1f} vs {limit.p99_ms:.1f} ms).",
        "",
    ]


def render(t: ThroughputRun) -> list[str]:
    """The throughput sections."""
    lines: list[str] = []
    if t.points:
        lines += _wrk_section(t) + _workers_section(t)
    if t.journal:
        lines += _journal_section(t)
    if t.profile:
        lines += _profile_section(t)
    lines += _gap_section(t)
    return lines


def _wrk_section(t: ThroughputRun) -> list[str]:
    names = list(dict.fromkeys(name for name, _ in t.points))
    lines = [
        "",
        "## Throughput with a C client (wrk)",
        "",
        "`wrk` (C, LuaJIT scripts) runs `bench/cycle.lua`: each connection submits a job, polls "
        "`get_results` until it is done, then submits the next; one connection per wrk thread. "
        "The mix walks all nine endpoints x nine questions (state endpoints rotate over the "
        "locations). Submit-to-done is timed per job in the script. *limit* is `bench/limit.py`, "
        "a raw WSGI app answering inline from precomputed answers (no framework, validation, "
        "pool, files, journal or log) under the same granian settings: what the server and the "
        "machine allow. *baseline* is the service at the commit before the job journal. All run "
        "at once and are measured in interleaved slices; CPU is user + system time of each "
        "server's processes per job; memory is the proportional set size of its processes.",
        "",
    ]
    rows = []
    for count in CONNECTIONS:
        limit = t.get("limit", count)
        for name in names:
            point = t.get(name, count)
            if point is None:
                continue
            low, high = point.p99_range
            rows.append(
                [
                    f"{name} @ {count}",
                    f"{point.jobs_per_s:,.0f}",
                    f"**{_ratio(point.jobs_per_s, limit.jobs_per_s):.2f}x**" if limit else "-",
                    f"{point.p50_ms:.2f} / {point.p99_ms:.1f} ({low:.1f}-{high:.1f})",
                    f"{point.cpu_ms_per_job:.3f}",
                    f"{point.switches_per_job:.1f}",
                    str(point.bad),
                    f"{point.peak_rss / MB:.0f}",
                    f"{point.startup_s:.2f}",
                ]
            )
    return lines + _table(
        [
            "server @ connections",
            "jobs/s",
            "vs limit",
            "p50 / p99 ms (p99 by slice)",
            "CPU ms/job",
            "context switches/job",
            "bad",
            "peak PSS MB",
            "start-up s",
        ],
        rows,
    )


def _workers_section(t: ThroughputRun) -> list[str]:
    one, two = (service_name(n) for n in WORKER_COUNTS)
    rows = []
    for count in CONNECTIONS:
        a, b = t.get(one, count), t.get(two, count)
        if a and b:
            rows.append(
                [
                    str(count),
                    f"{a.jobs_per_s:,.0f}",
                    f"{b.jobs_per_s:,.0f}",
                    f"{_ratio(b.jobs_per_s, a.jobs_per_s):.2f}x",
                    f"{a.p99_ms:.1f} / {b.p99_ms:.1f}",
                    f"{a.peak_rss / MB:.0f} / {b.peak_rss / MB:.0f}",
                ]
            )
    if not rows:
        return []
    return [
        "",
        "## Worker processes (LSS_WORKERS)",
        "",
        f"The same run, one and two worker processes. The default is {t.default_workers}: "
        "the count with the higher jobs/s at 16 connections in the runs behind it (see the "
        "README); this table is the evidence, regenerated each run.",
        "",
        *_table(
            [
                "connections",
                "1 worker jobs/s",
                "2 workers jobs/s",
                "2 / 1",
                "p99 ms (1 / 2)",
                "peak PSS MB (1 / 2)",
            ],
            rows,
        ),
    ]


def _journal_section(t: ThroughputRun) -> list[str]:
    j = t.journal
    assert j is not None
    lines = [
        "",
        "## What the job journal costs",
        "",
        f"Measured in-process with the service's own `Journal` (one insert when a job is "
        f"accepted, one update when it ends; {j.jobs:,} jobs): alone, "
        f"**{j.alone_wall_us:.0f} µs** wall and **{j.alone_cpu_us:.0f} µs** CPU per job; "
        f"with {j.threads} threads writing at once (group commits), {j.shared_wall_us:.0f} µs "
        f"wall and **{j.shared_cpu_us:.0f} µs CPU** per job. A result file (for comparison, "
        f"the record the service kept before the journal): {j.file_wall_us:.0f} µs wall, "
        f"{j.file_cpu_us:.0f} µs CPU.",
    ]
    fall = _journal_fall(t)
    if fall:
        extra, low, high, cost = fall
        head = CONNECTIONS[0]
        service, before = _default(t, head), t.get(f"baseline {t.baseline}", head)
        lines += [
            "",
            f"Side by side at {head} connections, the service (default settings) does "
            f"{service.jobs_per_s:,.0f} jobs/s and the service before the journal "
            f"({t.baseline}) {before.jobs_per_s:,.0f}. Slice by slice (each service slice "
            f"against the baseline's next to it) the service takes {extra:+.0f} µs more per job "
            f"of the closed loop (median; {low:+.0f} to {high:+.0f}), against the journal's "
            f"{cost:.0f} µs of CPU per job.",
        ]
        one = t.get(service_name(1), head)
        if one and t.default_workers != 1:
            lines += [
                f"With one worker process, as the baseline ran: {one.jobs_per_s:,.0f} jobs/s, "
                f"{_us_per_job(one) - _us_per_job(before):+.0f} µs per job.",
            ]
    return lines


def _profile_section(t: ThroughputRun) -> list[str]:
    p = t.profile
    assert p is not None
    lines = [
        "",
        "## Where a job's time goes (py-spy under wrk)",
        "",
        "The service with its default settings at 16 connections, recorded by "
        "`py-spy record --gil --subprocesses`: only threads holding the GIL are sampled, i.e. "
        "the Python CPU time per job (system calls made without the GIL do not show; the "
        "CPU ms/job column above has all of it). In total "
        f"**{p.ms_per_job(p.samples):.3f} GIL ms per job** ({p.samples:,} samples, "
        f"{p.jobs:,} jobs). Raw stacks: `{t.profile_path}`.",
        "",
    ]
    lines += _table(
        ["thread", "GIL ms/job"],
        [[name, f"{p.ms_per_job(n):.3f}"] for name, n in p.by_role.items()],
    )
    lines += [""]
    for title, samples in (
        ("service function (inclusive)", p.app_inclusive),
        ("hottest leaf frames (self)", p.top_self),
    ):
        lines += _table(
            [title, "GIL ms/job", "share"],
            [
                [f"`{name}`", f"{p.ms_per_job(n):.3f}", f"{n / max(1, p.samples):.1%}"]
                for name, n in list(samples.items())[:15]
            ],
        )
        lines += [""]
    return lines[:-1]


def _gap_section(t: ThroughputRun) -> list[str]:
    """What the service spends per job beyond the limit, from this run's own measurements."""
    head = CONNECTIONS[0]
    service, limit = _default(t, head), t.get("limit", head)
    j, p = t.journal, t.profile
    if not (service and limit and j and p):
        return []
    gap = 1000 * (service.cpu_ms_per_job - limit.cpu_ms_per_job)
    python = 1000 * p.ms_per_job(p.samples)
    rest = gap - j.shared_cpu_us - j.file_cpu_us - python
    lines = [
        "",
        "## What the gap to the limit is made of",
        "",
        f"At {head} connections the service uses {1000 * service.cpu_ms_per_job:.0f} µs of CPU "
        f"per job and the limit {1000 * limit.cpu_ms_per_job:.0f} µs: {gap:.0f} µs more, on "
        "two cores shared with the load generator. Each part measured in this run:",
        "",
        f"- the job journal: {j.shared_cpu_us:.0f} µs (insert and update with threads writing "
        f"at once; {j.alone_cpu_us:.0f} µs alone), mostly in SQLite and the kernel;",
        f"- the result file: {j.file_cpu_us:.0f} µs (a file created under a temporary name, "
        "written and renamed: almost all of it kernel time, and it grows when the disk is busy "
        "writing back);",
        f"- the service's own Python: {python:.0f} µs of GIL time per job (the profile above; "
        "validation, the engine's bookkeeping, four log lines, the hand-over to the pool);",
        f"- thread hand-overs: {service.switches_per_job:.1f} context switches per job against "
        f"the limit's {limit.switches_per_job:.1f}. A job crosses from the request thread to a "
        "pool thread and back to the waiting poll, and commits to the journal; each crossing "
        "costs a wake-up in the kernel and a wait for the GIL.",
    ]
    if rest > 0:
        lines += [
            "",
            f"The parts above leave {rest:.0f} µs of the gap unassigned: mostly the hand-overs "
            "(futex calls and context switches are kernel time no profile of Python shows).",
        ]
    lines += [
        "",
        "Throughput in a closed loop is connections / latency: every hand-over also adds the "
        "wait for another thread to be scheduled, so jobs/s fall further behind the limit than "
        "CPU per job does.",
    ]
    return lines
