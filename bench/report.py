"""What a benchmark run measured, its targets, and the Markdown report."""

from __future__ import annotations

import hashlib
import math
import os
import platform
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench import throughput_report
from bench.lab.cold import ColdResult
from bench.load import LoadResult
from bench.throughput import ThroughputRun

#: Memory is reported in decimal megabytes, the unit the targets are stated in.
MB = 1_000_000
#: The headline client count: the targets are stated at 16 clients.
HEADLINE_CLIENTS = 16

# Targets from the issue.
TARGET_RATIO = 1.0
TARGET_P99_MS = 15.0
TARGET_RSS_BUNDLED_MB = 150.0
TARGET_STARTUP_100X_S = 15.0
TARGET_RSS_100X_MB = 600.0
TARGET_SCALE_100X = 0.9
TARGET_COLD_MS = 2.0


@dataclass
class Point:
    """One load run against one freshly started server."""

    target: str
    clients: int
    rows: int
    startup_s: float
    rss_after_start: int
    result: LoadResult


@dataclass
class DataPoint:
    """One dataset size: its service, and the floor control measured beside it."""

    factor: int
    rows: int
    file_mb: float
    generated_s: float | None
    service: Point
    floor: Point

    @property
    def ratio(self) -> float:
        """Service jobs/s over the floor's, same moment, same client count."""
        return _ratio(self.service.result.jobs_per_s, self.floor.result.jobs_per_s)


@dataclass
class ServerPoint:
    """The floor app (or the service) under one WSGI server."""

    server: str
    model: str
    point: Point | None
    note: str = ""
    app: str = "floor"


@dataclass
class Run:
    """Everything one `python -m bench` measured."""

    command: str
    started: float
    settings: dict[str, str]
    machine: dict[str, str]
    clients: list[int] = field(default_factory=list)
    sweep: dict[tuple[str, int], Point] = field(default_factory=dict)
    data: list[DataPoint] = field(default_factory=list)
    servers: list[ServerPoint] = field(default_factory=list)
    cold: ColdResult | None = None
    charts: list[Path] = field(default_factory=list)
    finished: float = 0.0
    bundled_rows: int = 0
    notes: list[str] = field(default_factory=list)

    def service_points(self) -> list[Point]:
        """Every service run of the session, wherever it happened."""
        points = [p for (target, _), p in self.sweep.items() if target == "service"]
        return points + [d.service for d in self.data]


def _ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator, NaN when undefined."""
    return numerator / denominator if denominator else math.nan


def code_fingerprint() -> str:
    """A short hash of the service's code (app/ and api_server.py) as it is on disk now."""
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for path in sorted([*root.glob("app/**/*.py"), root / "api_server.py"]):
        if path.is_file():
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def machine_info(code_hash: str) -> dict[str, str]:
    """CPU, memory, Python, OS and the code measured, from /proc and the interpreter."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except (OSError, ValueError):
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
            cwd=Path(__file__).resolve().parent.parent,
        ).stdout.strip()
    except OSError:
        commit = ""
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return {
        "CPU": f"{model}, {os.cpu_count()} cores ({usable} usable)",
        "Memory": memory,
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "OS": platform.platform(),
        "Commit": f"{commit or 'unknown'} (service code hash {code_hash})",
        "Load average at start (1, 5, 15 min)": load,
    }


@dataclass(frozen=True)
class Target:
    """One target of the issue: what, the measured figure, and whether it is met."""

    name: str
    measured: str
    met: bool | None  # None: not measured in this run

    @property
    def verdict(self) -> str:
        """MET, NOT MET or NOT RUN."""
        return "NOT RUN" if self.met is None else ("MET" if self.met else "NOT MET")


def targets(run: Run) -> list[Target]:
    """Evaluate every target of the issue against this run."""
    found: list[Target] = []
    service = run.sweep.get(("service", HEADLINE_CLIENTS))
    floor = run.sweep.get(("floor", HEADLINE_CLIENTS))
    if service and floor:
        s, f = service.result, floor.result
        ratio = _ratio(s.jobs_per_s, f.jobs_per_s)
        found.append(
            Target(
                f"service jobs/s >= {TARGET_RATIO:.1f}x floor at 16 clients",
                f"{ratio:.2f}x ({s.jobs_per_s:.0f} vs {f.jobs_per_s:.0f} jobs/s; "
                f"per slice {_spread(slice_ratios(s, f))})",
                ratio >= TARGET_RATIO,
            )
        )
        found.append(
            Target(
                f"p99 submit-to-done <= {TARGET_P99_MS:g} ms at 16 clients",
                f"{s.p99:.1f} ms (floor {f.p99:.1f} ms)",
                s.p99 <= TARGET_P99_MS,
            )
        )
        found.append(
            Target(
                "no error, no wrong answer at 16 clients",
                f"{s.error_count} errors, {s.wrong} wrong of {s.jobs_total} jobs",
                s.error_count == 0 and s.wrong == 0,
            )
        )
    else:
        found.append(Target("service vs floor at 16 clients", "16 not in --clients", None))
    bundled = [p for p in run.service_points() if p.rows == run.bundled_rows]
    if bundled:
        peak = max(max(p.result.server_peak_rss, p.rss_after_start) for p in bundled) / MB
        found.append(
            Target(
                f"resident memory <= {TARGET_RSS_BUNDLED_MB:g} MB on bundled data",
                f"{peak:.0f} MB peak over {len(bundled)} service runs",
                peak <= TARGET_RSS_BUNDLED_MB,
            )
        )
    one = next((d for d in run.data if d.factor == 1), None)
    hundred = next((d for d in run.data if d.factor == 100), None)
    if hundred:
        startup = hundred.service.startup_s
        found.append(
            Target(
                f"start-up <= {TARGET_STARTUP_100X_S:g} s at 100x rows",
                f"{startup:.1f} s ({hundred.rows:,} rows)",
                startup <= TARGET_STARTUP_100X_S,
            )
        )
        peak = max(hundred.service.result.server_peak_rss, hundred.service.rss_after_start) / MB
        found.append(
            Target(
                f"resident memory <= {TARGET_RSS_100X_MB:g} MB at 100x rows",
                f"{peak:.0f} MB peak ({hundred.service.rss_after_start / MB:.0f} MB after start)",
                peak <= TARGET_RSS_100X_MB,
            )
        )
        if one:
            big, small = hundred.service.result, one.service.result
            raw = _ratio(big.jobs_per_s, small.jobs_per_s)
            found.append(
                Target(
                    f"jobs/s at 100x >= {TARGET_SCALE_100X:g}x the 1x figure (16 clients)",
                    f"{raw:.2f}x ({big.jobs_per_s:.0f} vs {small.jobs_per_s:.0f} jobs/s, "
                    f"side by side; per slice {_spread(slice_ratios(big, small))})",
                    raw >= TARGET_SCALE_100X,
                )
            )
    else:
        found.append(Target("start-up, memory and jobs/s at 100x rows", "data sweep off", None))
    if run.cold:
        found.append(
            Target(
                f"cold task <= {TARGET_COLD_MS:g} ms on bundled data",
                f"max {run.cold.max_ms:.3f} ms ({run.cold.slowest}), "
                f"median {run.cold.median_ms:.3f} ms",
                run.cold.max_ms <= TARGET_COLD_MS,
            )
        )
    return found


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A Markdown table; the first column left-aligned, the others right-aligned."""
    lines = ["| " + " | ".join(header) + " |"]
    lines.append("|" + "|".join([":---", *["---:"] * (len(header) - 1)]) + "|")
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _f(value: float, digits: int = 1) -> str:
    """A number for a table, or a dash when undefined."""
    return "-" if value is None or math.isnan(value) else f"{value:,.{digits}f}"


def slice_ratios(service: LoadResult, floor: LoadResult) -> list[float]:
    """Service over floor jobs/s, slice by slice (slice i of each ran back to back)."""
    pairs = zip(service.extra.get("slices", []), floor.extra.get("slices", []), strict=False)
    return [_ratio(s, f) for s, f in pairs]


def _spread(ratios: list[float]) -> str:
    """The range of per-slice ratios, e.g. "0.91-0.97"."""
    return f"{min(ratios):.2f}-{max(ratios):.2f}" if ratios else "-"


def _errors(result: LoadResult) -> str:
    """Errors and wrong answers, with the kinds of error."""
    text = f"{result.error_count}/{result.wrong}"
    if result.errors:
        text += " (" + ", ".join(f"{k}: {n}" for k, n in sorted(result.errors.items())) + ")"
    return text


def _headline(run: Run) -> list[str]:
    """The headline figure, service / floor jobs/s at 16 clients, as a paragraph."""
    service = run.sweep.get(("service", HEADLINE_CLIENTS))
    floor = run.sweep.get(("floor", HEADLINE_CLIENTS))
    if not (service and floor):
        return []
    s, f = service.result, floor.result
    return [
        f"With the Python load generator (answers checked) at {HEADLINE_CLIENTS} clients the "
        f"service does **{_ratio(s.jobs_per_s, f.jobs_per_s):.2f}x a bare Flask floor's jobs/s** "
        f"({s.jobs_per_s:,.0f} vs {f.jobs_per_s:,.0f}; p99 {s.p99:.1f} vs {f.p99:.1f} ms).",
        "",
    ]


def render(run: Run, output: Path, speed: ThroughputRun | None = None) -> str:
    """The whole report as Markdown; chart links are relative to `output`'s folder."""
    speed = speed or ThroughputRun()
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(run.started))
    took = run.finished - run.started
    lines = [
        "# Benchmarks",
        "",
        f"Written by `{run.command}` on {when} in {took / 60:.1f} min. Regenerate with "
        "`make bench`; do not edit by hand. The machine is shared and noisy, so every comparison "
        "below is service and floor measured side by side in the same run, and ratios matter "
        "more than absolute figures.",
        "",
        *throughput_report.headline(speed),
        *_headline(run),
        "## Machine and settings",
        "",
    ]
    lines += _table(["", ""], [[k, v] for k, v in {**run.machine, **run.settings}.items()])

    if run.notes:
        lines += ["", "## Problems in this run", ""] + [f"- {note}" for note in run.notes]

    lines += ["", "## Targets", ""]
    found = targets(run) + [Target(*t) for t in throughput_report.targets(speed)]
    lines += _table(
        ["target", "measured", "verdict"],
        [[t.name, t.measured, f"**{t.verdict}**"] for t in found],
    )
    lines += throughput_report.render(speed)
    floor = run.sweep.get(("floor", HEADLINE_CLIENTS))
    if floor and floor.result.jobs_per_s:
        mean_ms = HEADLINE_CLIENTS / floor.result.jobs_per_s * 1000
        needed = HEADLINE_CLIENTS / TARGET_P99_MS * 1000
        lines += [
            "",
            f"By Little's law a closed loop of {HEADLINE_CLIENTS} clients has a mean latency of "
            f"{HEADLINE_CLIENTS} / jobs per second: at the floor's "
            f"{floor.result.jobs_per_s:,.0f} jobs/s that is {mean_ms:.1f} ms, so a p99 of "
            f"{TARGET_P99_MS:g} ms needs well over {needed:,.0f} jobs/s with a tight tail.",
        ]

    if run.sweep:
        lines += [
            "",
            "## Service vs floor by clients",
            "",
            "Closed loop over all nine endpoints x nine questions on the bundled data. For each "
            "client count both servers are started fresh, warmed up, then measured in "
            "interleaved slices (A B, then B A, and so on); 'per slice' is the range of "
            "service / floor over back-to-back slice pairs, a measure of the noise. Latency is "
            "submit-to-done. CPU is in cores over the measured window (the machine has 2); "
            "CPU ms/job is user + system time of the server process per counted job.",
            "",
        ]
        rows = []
        for clients in run.clients:
            s = run.sweep.get(("service", clients))
            f = run.sweep.get(("floor", clients))
            if not (s and f):
                continue
            sr, fr = s.result, f.result
            rows.append(
                [
                    str(clients),
                    _f(sr.jobs_per_s, 0),
                    _f(fr.jobs_per_s, 0),
                    f"**{_f(_ratio(sr.jobs_per_s, fr.jobs_per_s), 2)}x**",
                    _spread(slice_ratios(sr, fr)),
                    f"{_f(sr.p50, 2)} / {_f(sr.p99, 1)}",
                    f"{_f(fr.p50, 2)} / {_f(fr.p99, 1)}",
                    f"{_f(sr.polls_per_job, 2)} / {_f(fr.polls_per_job, 2)}",
                    f"{_errors(sr)} / {_errors(fr)}",
                    f"{_f(sr.server_cpu, 2)} / {_f(fr.server_cpu, 2)}",
                    f"{_f(sr.server_ms_per_job, 2)} ({_f(sr.server_sys_ms_per_job, 2)}) / "
                    f"{_f(fr.server_ms_per_job, 2)} ({_f(fr.server_sys_ms_per_job, 2)})",
                    f"{_f(sr.client_cpu, 2)} / {_f(fr.client_cpu, 2)}",
                    f"{sr.server_peak_rss / MB:.0f} / {fr.server_peak_rss / MB:.0f}",
                ]
            )
        lines += _table(
            [
                "clients",
                "service jobs/s",
                "floor jobs/s",
                "service / floor",
                "per slice",
                "service p50 / p99 ms",
                "floor p50 / p99 ms",
                "polls per job (svc / floor)",
                "errors/wrong (svc / floor)",
                "server CPU cores (svc / floor)",
                "server CPU ms/job (of it kernel) (svc / floor)",
                "client CPU (svc / floor)",
                "peak RSS MB (svc / floor)",
            ],
            rows,
        )

    if run.data:
        lines += [
            "",
            "## Dataset size (service, 16 clients)",
            "",
            "Datasets made by `scripts/generate_sample.py` (cached in `bench/out/`). The "
            "services and a floor control (bundled data) run at once, each started alone (start-up "
            "is process spawn to the first 200 from `/api/health`), then measured in interleaved "
            "slices, so their throughputs are comparable with each other. 'vs 1x' is jobs/s over "
            "the 1x service's, with its per-slice range.",
            "",
        ]
        rows = []
        base = run.data[0].service.result
        for d in run.data:
            s = d.service
            rows.append(
                [
                    f"{d.factor}x",
                    f"{d.rows:,}",
                    f"{d.file_mb:,.0f}",
                    _f(s.startup_s, 2),
                    f"{s.rss_after_start / MB:.0f}",
                    f"{s.result.server_peak_rss / MB:.0f}",
                    _f(s.result.jobs_per_s, 0),
                    f"{_f(s.result.p50, 2)} / {_f(s.result.p99, 1)}",
                    f"{_f(_ratio(s.result.jobs_per_s, base.jobs_per_s), 2)}x "
                    f"({_spread(slice_ratios(s.result, base))})",
                    _f(d.floor.result.jobs_per_s, 0),
                    f"{_f(d.ratio, 2)}x",
                    _errors(s.result),
                ]
            )
        lines += _table(
            [
                "size",
                "rows",
                "CSV MB",
                "start-up s",
                "RSS after start MB",
                "peak RSS MB",
                "jobs/s",
                "p50 / p99 ms",
                "vs 1x",
                "floor control jobs/s",
                "service / floor",
                "errors/wrong",
            ],
            rows,
        )

    if run.cold:
        cold = run.cold
        lines += [
            "",
            "## Cold tasks (in-process, bundled data)",
            "",
            f"First `Task.compute` + orjson of the done body (the cache-miss path of "
            f"`JobManager._answer`) for every endpoint x question; the state endpoints were timed "
            f"for every state ({cold.answers:,} answers in all) and show their slowest state. "
            f"Dataset load: {cold.load_s * 1000:.0f} ms. Over all 81: max "
            f"**{cold.max_ms:.3f} ms**, median **{cold.median_ms:.3f} ms**.",
            "",
        ]
        rows = [
            [endpoint, f"{max(ms):.3f}", f"{sorted(ms)[len(ms) // 2]:.3f}"]
            for endpoint, ms in cold.by_endpoint.items()
        ]
        lines += _table(["endpoint", "max ms", "median ms"], rows)

    if run.servers:
        lines += [
            "",
            "## WSGI servers (16 clients)",
            "",
            "The floor app under each server, and the service under granian (as `make run` serves "
            "it) and waitress, same thread count; all run at once and are measured in interleaved "
            "slices ('vs waitress' compares the same app). Under waitress the service runs in "
            "one process; under granian with its default worker processes over one journal.",
            "",
        ]
        base = {
            p.app: p.point.result.jobs_per_s
            for p in run.servers
            if p.server == "waitress" and p.point
        }
        rows = []
        for sp in run.servers:
            if sp.point is None:
                rows.append([sp.app, sp.server, sp.model, "-", "-", "-", "-", sp.note])
                continue
            r = sp.point.result
            rows.append(
                [
                    sp.app,
                    sp.server,
                    sp.model,
                    _f(r.jobs_per_s, 0),
                    f"{_f(_ratio(r.jobs_per_s, base.get(sp.app, math.nan)), 2)}x",
                    f"{_f(r.p50, 2)} / {_f(r.p99, 1)}",
                    f"{r.server_peak_rss / MB:.0f}",
                    sp.note or _errors(r),
                ]
            )
        lines += _table(
            [
                "app",
                "server",
                "process model",
                "jobs/s",
                "vs waitress",
                "p50 / p99 ms",
                "peak RSS MB",
                "errors/wrong or note",
            ],
            rows,
        )

    lines += [
        "",
        "## Method",
        "",
        "- **Load**: closed loop; each client POSTs a job, polls `get_results` at once, then "
        "with a back-off doubling from 0.5 ms to 8 ms, checks the answer, and starts the next job. "
        "The mix cycles round-robin over the 81 endpoint x question pairs (each client starting "
        "at its own offset; `--mix random` draws them with a seed); the three state endpoints "
        "draw a state from the dataset's locations for that question.",
        "- **Client**: one keep-alive HTTP/1.1 connection per client thread "
        "(`bench.load.Connection`, a minimal client over a socket: `http.client` cost more CPU per "
        "request than the servers it measured, on the cores they share), orjson to parse; all "
        "clients live in one separate process (multiprocessing, spawn) so the harness that "
        "samples the server (RSS every 20 ms, CPU at the window edges) does not share their "
        "GIL. The client's own CPU is in the table.",
        "- **Checks**: every answer is compared with the one computed in-process by the project's "
        "own `load_dataset` + `TASKS[endpoint](question, state).compute`: parsed JSON, key order "
        "and exact float equality. A body byte-identical to one already verified for the same "
        "request is not parsed again. Errors: non-200, connection errors, timeouts (10 s), "
        '`"status": "error"`.',
        "- **Floor** (`bench/floor.py`): a bare Flask app answering from precomputed bodies "
        "(the same bytes the service serves), storing only a job id -> request key map; no "
        "validation, pool, files or logging. Served by `bench/floor_server.py` through "
        "`api_server.make_server`, the server the service runs on (granian, one worker process, "
        "same thread count).",
        "- **Points**: each point starts fresh servers (free port, fresh results dir and log "
        "each), warms each up (not counted, except for errors), measures them in interleaved "
        "slices, then stops them (SIGTERM, kill after 15 s). Throughput counts jobs finished "
        "inside the measured windows; peak RSS is sampled 4 times a second while a server is "
        "loaded (warm-up and slices) and at the end of each slice.",
    ]
    if run.charts:
        lines += ["", "## Charts", ""]
        base_dir = output.resolve().parent
        for chart in run.charts:
            rel = os.path.relpath(chart.resolve(), base_dir)
            lines.append(f"![{chart.stem.replace('_', ' ')}]({rel})")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"
