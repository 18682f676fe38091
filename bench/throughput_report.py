"""The throughput part of BENCHMARKS.md: wrk against the limit, the worker count, the journal's
cost, and where a job's time goes."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from bench.throughput import (
    ABLATED,
    CONNECTIONS,
    LIMIT,
    WORKER_COUNTS,
    ThroughputRun,
    service_name,
)
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


def _cpu_us(more: WrkPoint, less: WrkPoint) -> float:
    """How many µs of CPU per job `more` used beyond `less`."""
    return 1000 * (more.cpu_ms_per_job - less.cpu_ms_per_job)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |"]
    lines.append("|" + "|".join([":---", *["---:"] * (len(header) - 1)]) + "|")
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def _processes(count: int) -> str:
    return f"{count} worker process" + ("es" if count != 1 else "")


def _default(t: ThroughputRun, connections: int) -> WrkPoint | None:
    return t.get(service_name(t.default_workers), connections)


def _ablated(t: ThroughputRun, *parts: str) -> WrkPoint | None:
    """The default service with `parts` of a job's record left out, at the headline count."""
    return t.get(f"{service_name(t.default_workers)} {ABLATED[parts]}", CONNECTIONS[0])


def _pair_diffs(slower: WrkPoint, faster: WrkPoint) -> list[float]:
    """Per back-to-back slice pair: how many µs more per job `slower` took than `faster`."""
    return sorted(
        1e6 / a.jobs_per_s - 1e6 / b.jobs_per_s
        for a, b in zip(slower.slices, faster.slices, strict=False)
        if a.jobs and b.jobs
    )


@dataclass(frozen=True)
class JournalFall:
    """The fall of throughput since the baseline, against what the journal costs; µs per job
    of the closed loop, each the median over slice pairs with its lowest and highest."""

    fall: tuple[float, float, float]  # default service vs the baseline
    cost: tuple[float, float, float] | None  # default service vs itself without the journal
    rest: tuple[float, float, float] | None  # itself without the journal vs the baseline
    cpu_us: float  # the journal's CPU per job, in-process, threads writing at once

    @property
    def met(self) -> bool:
        """The fall is no more than what the journal costs in the server (medians of slice
        pairs); without that measurement, than its CPU per job measured in-process."""
        return self.fall[0] <= (self.cost[0] if self.cost else self.cpu_us)


def _spread(diffs: list[float]) -> tuple[float, float, float] | None:
    return (statistics.median(diffs), diffs[0], diffs[-1]) if diffs else None


def _journal_fall(t: ThroughputRun) -> JournalFall | None:
    head = CONNECTIONS[0]
    service, before = _default(t, head), t.get(f"baseline {t.baseline}", head)
    if not (service and before and t.journal):
        return None
    fall = _spread(_pair_diffs(service, before))
    if fall is None:
        return None
    bare = _ablated(t, "journal")
    cost = _spread(_pair_diffs(service, bare)) if bare else None
    rest = _spread(_pair_diffs(bare, before)) if bare else None
    return JournalFall(fall, cost, rest, t.journal.shared_cpu_us)


def _us(spread: tuple[float, float, float]) -> str:
    median, low, high = spread
    return f"{median:+.0f} µs per job (slice pairs {low:+.0f} to {high:+.0f})"


def targets(t: ThroughputRun) -> list[tuple[str, str, bool | None]]:
    """(target, what was measured, met) for the throughput targets."""
    head = CONNECTIONS[0]
    service, limit = _default(t, head), t.get(LIMIT, head)
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
        measured = f"fall {_us(fall.fall)}"
        if fall.cost and fall.rest:
            measured += f"; the journal's cost {_us(fall.cost)}; the rest {_us(fall.rest)}"
        else:
            measured += f"; journal {fall.cpu_us:.0f} µs CPU per job"
        found.append(
            (
                f"throughput falls by no more than the journal costs (vs {t.baseline}, the "
                "service before the journal; cost: the service vs itself without its journal)",
                measured,
                fall.met,
            )
        )
    return found


def headline(t: ThroughputRun) -> list[str]:
    """The headline paragraph: service / limit at the headline connection count."""
    head = CONNECTIONS[0]
    service, limit = _default(t, head), t.get(LIMIT, head)
    if not (service and limit):
        return []
    return [
        f"**Headline: at {head} connections (wrk, closed loop) the service with its default "
        f"settings (LSS_WORKERS={t.default_workers}) does "
        f"{_ratio(service.jobs_per_s, limit.jobs_per_s):.2f}x the raw WSGI limit's jobs/s** "
        f"({service.jobs_per_s:,.0f} vs {limit.jobs_per_s:,.0f}, the limit's faster run, "
        f"with {_processes(t.limit_workers.get(head, 1))}; p99 submit-to-done "
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
    names = list(dict.fromkeys(name for name, _ in t.points if name != LIMIT))
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
        "machine allow. It runs with one and with two worker processes, and every ratio is "
        "taken to the faster of the two at each connection count. *baseline* is the service at "
        "the commit before the job journal. All run "
        "at once and are measured in interleaved slices; CPU is user + system time of each "
        "server's processes per job; memory is the proportional set size of its processes, "
        "sampled 4 times a second while it is loaded (reading it more often slowed the servers "
        "down).",
        "",
    ]
    rows = []
    for count in CONNECTIONS:
        limit = t.get(LIMIT, count)
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
        f"wall and **{j.shared_cpu_us:.0f} µs CPU** per job. For comparison, a result file (the "
        f"record the service kept before the journal): written whole, as a failure's is, "
        f"{j.file_wall_us:.0f} µs wall and {j.file_cpu_us:.0f} µs CPU; linked to its answer's "
        f"file, as an answer's is, {j.link_wall_us:.0f} µs wall and {j.link_cpu_us:.0f} µs CPU.",
    ]
    fall = _journal_fall(t)
    if fall:
        head = CONNECTIONS[0]
        service, before = _default(t, head), t.get(f"baseline {t.baseline}", head)
        assert service and before
        lines += [
            "",
            f"Side by side at {head} connections, the service (default settings) does "
            f"{service.jobs_per_s:,.0f} jobs/s and the service before the journal "
            f"({t.baseline}) {before.jobs_per_s:,.0f}. Slice by slice (each slice against the "
            f"other's next to it) the service takes {_us(fall.fall)} more of the closed loop.",
        ]
        bare = _ablated(t, "journal")
        if bare and fall.cost and fall.rest:
            journal_cpu = _cpu_us(service, bare)
            lines += [
                "",
                f"Measured in the server: the same service with its journal writes left out "
                f"(`bench/ablated.py`: ids from a counter, no row written) does "
                f"{bare.jobs_per_s:,.0f} jobs/s. Under this load the journal costs "
                f"{_us(fall.cost)} of the closed loop, {journal_cpu:.0f} µs of CPU; "
                f"everything else since {t.baseline} costs {_us(fall.rest)}. "
                + (
                    "The fall is no more than the journal's cost."
                    if fall.met
                    else "The fall is more than the journal's cost: the service without its "
                    "journal is slower than before it."
                ),
            ]
        one = t.get(service_name(1), head)
        if one and t.default_workers != 1:
            lines += [
                "",
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
    """What the service spends per job beyond the limit, measured by leaving parts out."""
    head = CONNECTIONS[0]
    service, limit = _default(t, head), t.get(LIMIT, head)
    bare, bones = _ablated(t, "journal"), _ablated(t, "journal", "file")
    silent = _ablated(t, "journal", "file", "log")
    if not (service and limit and bare and bones and silent):
        return []
    steps = [
        ("the job journal (an insert and an update per job)", service, bare),
        ("the result file (a link to its answer's file)", bare, bones),
        ("the log lines (an entry and an exit line per request, four per job)", bones, silent),
        (
            "the rest: the gateway's Python (routing, validation), the pool's hand-over and the "
            "engine's bookkeeping",
            silent,
            limit,
        ),
    ]
    rows = [
        [
            what,
            f"{_us_per_job(a) - _us_per_job(b):+.0f}",
            f"{_cpu_us(a, b):+.0f}",
            f"{a.switches_per_job - b.switches_per_job:+.1f}",
        ]
        for what, a, b in steps
    ]
    rows.append(
        [
            "**the service vs the limit**",
            f"**{_us_per_job(service) - _us_per_job(limit):+.0f}**",
            f"**{_cpu_us(service, limit):+.0f}**",
            f"**{service.switches_per_job - limit.switches_per_job:+.1f}**",
        ]
    )
    lines = [
        "",
        "## What the gap to the limit is made of",
        "",
        f"Measured, not estimated: at {head} connections the same run measures the service "
        f"(default settings, {service.jobs_per_s:,.0f} jobs/s), the service with its journal "
        f"writes left out ({bare.jobs_per_s:,.0f}), with its result files left out too "
        f"({bones.jobs_per_s:,.0f}), with the job routes' log lines left out too "
        f"({silent.jobs_per_s:,.0f}; `bench/ablated.py`, not a mode of the product) and the "
        f"limit ({limit.jobs_per_s:,.0f}). Each step is what one part adds per job: to the "
        "closed loop's time (1 / jobs per second), to CPU (every process of the server) and to "
        "context switches.",
        "",
    ]
    lines += _table(["part", "µs per job", "CPU µs per job", "context switches"], rows)
    needed = _us_per_job(limit) / TARGET_LIMIT_RATIO
    lines += [""]
    if t.journal:
        lines += [
            f"For comparison, in-process (the journal section) the journal's writes cost "
            f"{t.journal.shared_cpu_us:.0f} µs of CPU per job with threads writing at once and a "
            f"result file's link {t.journal.link_cpu_us:.0f} µs; here they cost "
            f"{_cpu_us(service, bare):.0f} and {_cpu_us(bare, bones):.0f} "
            "µs. In the server each step is measured whole: what the part does and what it "
            "does to the other threads of its process (waits for the GIL and for one another) "
            "and to the machine's two cores.",
            "",
        ]
    lines += [
        f"In a closed loop of {head} connections each waits {head} / jobs per second on "
        f"average: to reach {TARGET_LIMIT_RATIO}x the limit the service would need "
        f"{needed:.0f} µs per job of the closed loop; it takes {_us_per_job(service):.0f}. "
        "Without journal writes and result files it would be at "
        f"{_ratio(bones.jobs_per_s, limit.jobs_per_s):.2f}x the limit, and without the log lines "
        f"too at {_ratio(silent.jobs_per_s, limit.jobs_per_s):.2f}x; all three are contracts "
        "of the service.",
    ]
    return lines
