"""``python -m bench``: service vs floor throughput, latency, memory and start-up; see --help."""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from app.config import SETTINGS
from app.data_ingestor import load_dataset
from bench import charts, throughput
from bench.celery_engine import CeleryRun
from bench.datasets import OUT, ensure_dataset
from bench.floor_server import server_threads
from bench.lab.cold import measure_cold
from bench.lab.settle import settle
from bench.load import LoadConfig, LoadResult, LoadRunner, Plan, merge
from bench.report import (
    HEADLINE_CLIENTS,
    TARGET_P99_MS,
    TARGET_RSS_100X_MB,
    TARGET_RSS_BUNDLED_MB,
    TARGET_STARTUP_100X_S,
    DataPoint,
    Point,
    Run,
    ServerPoint,
    code_fingerprint,
    machine_info,
    render,
)
from bench.server import (
    ROOT,
    MemorySampler,
    Server,
    floor_argv,
    gunicorn_argv,
    running,
    service_argv,
    waitress_argv,
)
from bench.workload import build_plan

BUNDLED = ROOT / "nutrition_activity_obesity_usa_subset.csv"
DATA_FACTORS = (1, 10, 100)
QUICK_DATA_FACTORS = (1, 10)
#: Uncounted seconds at the start of each slice (new connections); the server is already warm.
SLICE_WARMUP = 0.2


def _log(message: str) -> None:
    """Progress goes to stderr; stdout gets the report."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark the service against a bare Flask floor, side by side.",
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: short points, < 1 min")
    parser.add_argument(
        "--duration", type=float, help="measured seconds per server and point (default 8)"
    )
    parser.add_argument("--warmup", type=float, help="uncounted seconds per point (default 1)")
    parser.add_argument(
        "--clients", default="1,4,16,64", help="client counts to sweep (default 1,4,16,64)"
    )
    parser.add_argument(
        "--rounds", type=int, help="slices each point's duration is cut into (default 4)"
    )
    parser.add_argument("--mix", choices=("round-robin", "random"), default="round-robin")
    parser.add_argument("--seed", type=int, default=2011, help="seed of the request mix")
    parser.add_argument(
        "--no-data-sweep", action="store_true", help="skip the 1x/10x/100x dataset sweep"
    )
    parser.add_argument("--no-servers", action="store_true", help="skip the WSGI server comparison")
    parser.add_argument(
        "--no-celery", action="store_true", help="skip the Celery engine (1 and 2 workers)"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        default=OUT / "profile",
        help="where py-spy's raw stacks of the service under wrk go (default bench/out/profile)",
    )
    parser.add_argument("--no-profile", action="store_true", help="skip the py-spy profile")
    parser.add_argument(
        "--baseline",
        default=throughput.BASELINE,
        metavar="REV",
        help="git revision of the service measured beside the current one with wrk "
        f"(default {throughput.BASELINE}, the last commit before the job journal; 'none': skip)",
    )
    parser.add_argument("--no-wrk", action="store_true", help="skip the wrk measurements")
    parser.add_argument(
        "--wrk-seconds", type=float, help="measured seconds per server and point with wrk (8)"
    )
    parser.add_argument(
        "--output",
        type=Path,
        help="Markdown report (default BENCHMARKS.md; with --quick bench/out/BENCHMARKS-quick.md)",
    )
    parser.add_argument(
        "--charts",
        type=Path,
        help="PNG folder (default bench/charts; --quick: bench/out/charts-quick)",
    )
    args = parser.parse_args(argv)
    args.clients = [int(c) for c in args.clients.split(",") if c.strip()]
    if args.quick:
        args.duration = args.duration or 1.0
        args.warmup = args.warmup if args.warmup is not None else 0.3
        args.rounds = args.rounds or 2
        args.output = args.output or OUT / "BENCHMARKS-quick.md"
        args.charts = args.charts or OUT / "charts-quick"
    args.duration = args.duration or 8.0
    args.wrk_seconds = args.wrk_seconds or (2.0 if args.quick else 8.0)
    args.baseline = "" if args.baseline.lower() == "none" else args.baseline
    args.rounds = max(1, args.rounds or 4)
    args.warmup = 1.0 if args.warmup is None else args.warmup
    args.output = args.output or ROOT / "BENCHMARKS.md"
    args.charts = args.charts or ROOT / "bench" / "charts"
    return args


@dataclass(frozen=True)
class Contender:
    """A server to measure: how to start it, on which data, and the answers it must give."""

    name: str
    argv: list[str]
    data_file: Path
    rows: int
    plan: Plan


class Bench:
    """Runs the measurements of one session and collects them into a Run."""

    def __init__(
        self, args: argparse.Namespace, run: Run, runner: LoadRunner, workdir: Path
    ) -> None:
        self.args = args
        self.run = run
        self.runner = runner
        self.workdir = workdir

    def _load(self, server: Server, plan: Plan, config: LoadConfig) -> LoadResult:
        """One load run against `server`, with its CPU time over the measured window."""
        marks: dict[str, tuple[float, float]] = {}
        result = self.runner.run(
            plan,
            config,
            on_window=lambda: marks.__setitem__("start", server.cpu_times()),
            on_end=lambda: marks.__setitem__("end", server.cpu_times()),
        )
        (user0, sys0), (user1, sys1) = marks.get("start", (0, 0)), marks.get("end", (0, 0))
        result.server_cpu_s = (user1 - user0) + (sys1 - sys0)
        result.server_sys_s = sys1 - sys0
        return result

    def _config(self, server: Server, clients: int, warmup: float, duration: float) -> LoadConfig:
        """A LoadConfig with this session's mix and seed."""
        return LoadConfig(
            host=server.host,
            port=server.port,
            clients=clients,
            duration=duration,
            warmup=warmup,
            mix=self.args.mix,
            seed=self.args.seed,
        )

    def compare(
        self,
        contenders: list[Contender],
        clients: int,
    ) -> dict[str, Point]:
        """Start every contender (one after the other), warm each up, then measure them in
        interleaved slices (A B, B A, A B, ...) so that the machine's noise falls on all alike."""
        rounds = self.args.rounds
        slice_s = self.args.duration / rounds
        slices: dict[str, list[LoadResult]] = {c.name: [] for c in contenders}
        warm: dict[str, LoadResult] = {}
        with contextlib.ExitStack() as stack:
            servers = {
                c.name: stack.enter_context(
                    running(c.name.split("/")[0], c.argv, c.data_file, parent=self.workdir)
                )
                for c in contenders
            }
            samplers = {
                name: stack.enter_context(MemorySampler(server)) for name, server in servers.items()
            }
            for c in contenders:
                config = self._config(servers[c.name], clients, self.args.warmup, 0.0)
                with samplers[c.name].measuring():
                    warm[c.name] = self._load(servers[c.name], c.plan, config)
            for number in range(rounds):
                for c in contenders if number % 2 == 0 else contenders[::-1]:
                    config = self._config(servers[c.name], clients, SLICE_WARMUP, slice_s)
                    with samplers[c.name].measuring():
                        slices[c.name].append(self._load(servers[c.name], c.plan, config))
        points: dict[str, Point] = {}
        for c in contenders:
            server = servers[c.name]
            result = merge(slices[c.name], [warm[c.name]])
            result.server_peak_rss = samplers[c.name].peak
            points[c.name] = point = Point(
                c.name, clients, c.rows, server.startup_s, server.rss_after_start, result
            )
            r = result
            _log(
                f"{c.name:>15} rows={c.rows:>9,} c={clients:>2}: {r.jobs_per_s:7.0f} jobs/s "
                f"p50 {r.p50:6.2f} p99 {r.p99:7.2f} ms polls/job {r.polls_per_job:4.2f} "
                f"err {r.error_count} wrong {r.wrong} "
                f"cpu srv {r.server_cpu:.2f} cli {r.client_cpu:.2f} "
                f"start {point.startup_s:.2f}s rss {r.server_peak_rss / 1e6:.0f}MB"
            )
        return points

    def client_sweep(self, plan: Plan, rows: int) -> None:
        """Service and floor at every client count, on the bundled data."""
        service = Contender("service", service_argv(), BUNDLED, rows, plan)
        floor = Contender("floor", floor_argv(), BUNDLED, rows, plan)
        for n, clients in enumerate(self.args.clients):
            pair = [service, floor] if n % 2 == 0 else [floor, service]
            for name, point in self.compare(pair, clients).items():
                self.run.sweep[(name, clients)] = point

    def data_sweep(self, bundled_plan: Plan, bundled_rows: int) -> None:
        """The service on 1x, 10x and 100x the bundled rows, side by side with a floor control.

        All the servers run at once (each started alone, so start-up times are clean) and are
        measured in interleaved slices: the 100x / 1x ratio is taken under the same noise.
        """
        factors = QUICK_DATA_FACTORS if self.args.quick else DATA_FACTORS
        contenders, files = [], {}
        for factor in factors:
            rows = bundled_rows * factor
            path, generated = ensure_dataset(rows)
            if generated is not None:
                _log(f"generated {rows:,} rows into {path} in {generated:.1f} s")
            files[factor] = (path, generated)
            plan = build_plan(load_dataset(path))
            contenders.append(Contender(f"service/{factor}x", service_argv(), path, rows, plan))
        contenders.append(Contender("floor", floor_argv(), BUNDLED, bundled_rows, bundled_plan))
        points = self.compare(contenders, HEADLINE_CLIENTS)
        for factor, contender in zip(factors, contenders, strict=False):
            path, generated = files[factor]
            self.run.data.append(
                DataPoint(
                    factor=factor,
                    rows=contender.rows,
                    file_mb=path.stat().st_size / 1e6,
                    generated_s=generated,
                    service=points[contender.name],
                    floor=points["floor"],
                )
            )

    def server_comparison(self, plan: Plan, rows: int) -> None:
        """The floor app under granian, waitress, cheroot and gunicorn, and the service under
        granian (as `make run` serves it) and waitress, at 16 clients."""
        threads = server_threads()
        one = f"1 process, {threads} threads"
        granian_model = f"main + 1 worker process, {threads} threads"
        workers = SETTINGS["WORKERS"][1]
        service_model = f"main + {workers} worker processes (LSS_WORKERS), {threads} threads each"
        candidates = [
            ("floor", "granian", granian_model, floor_argv("granian")),
            ("floor", "waitress", one, floor_argv("waitress")),
            ("floor", "cheroot", one, floor_argv("cheroot")),
            (
                "floor",
                "gunicorn",
                f"master + 1 forked gthread worker, {threads} threads",
                gunicorn_argv(threads),
            ),
            ("service", "granian", service_model, service_argv()),
            ("service", "waitress", one, waitress_argv("app:create_app", threads)),
        ]
        contenders = []
        for app, server, model, argv in candidates:
            if importlib.util.find_spec(server) is None:
                note = f"not installed (pip install {server})"
                self.run.servers.append(ServerPoint(server, model, None, note, app))
                _log(f"{server}: {note}")
            else:
                contenders.append(Contender(f"{app}/{server}", argv, BUNDLED, rows, plan))
                self.run.servers.append(ServerPoint(server, model, None, app=app))
        if not contenders:
            return
        points = self.compare(contenders, HEADLINE_CLIENTS)
        for entry in self.run.servers:
            entry.point = points.get(f"{entry.app}/{entry.server}")


def draw(run: Run, out: Path) -> None:
    """The four PNG charts, into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    clients = [c for c in run.clients if ("service", c) in run.sweep and ("floor", c) in run.sweep]
    if clients:
        names = ("service", "floor")
        run.charts.append(
            charts.throughput_vs_clients(
                clients,
                {t: [run.sweep[(t, c)].result.jobs_per_s for c in clients] for t in names},
                out / "throughput_vs_clients.png",
            )
        )
        run.charts.append(
            charts.p99_vs_clients(
                clients,
                {t: [run.sweep[(t, c)].result.p99 for c in clients] for t in names},
                {t: [run.sweep[(t, c)].result.p50 for c in clients] for t in names},
                TARGET_P99_MS,
                out / "p99_vs_clients.png",
            )
        )
    if run.data:
        rows = [d.rows for d in run.data]
        run.charts.append(
            charts.startup_vs_rows(
                rows,
                [d.service.startup_s for d in run.data],
                TARGET_STARTUP_100X_S,
                out / "startup_vs_rows.png",
            )
        )
        limits = {rows[0]: TARGET_RSS_BUNDLED_MB}
        if len(run.data) > 2 and run.data[-1].factor == 100:
            limits[rows[-1]] = TARGET_RSS_100X_MB
        run.charts.append(
            charts.memory_vs_rows(
                rows,
                [d.service.rss_after_start for d in run.data],
                [d.service.result.server_peak_rss for d in run.data],
                limits,
                out / "memory_vs_rows.png",
            )
        )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the report and write it with its charts."""
    args = _parse(argv)
    command = " ".join(["python -m bench", *(sys.argv[1:] if argv is None else argv)])
    settings = {
        "Points": (
            f"per server: {args.warmup:g} s warm-up, then {args.duration:g} s measured in "
            f"{args.rounds} interleaved slices ({SLICE_WARMUP:g} s uncounted each)"
        ),
        "Request mix": f"{args.mix} over 9 endpoints x 9 questions (seed {args.seed})",
        "WSGI": (
            f"granian, {server_threads()} blocking threads per worker process (built by "
            f"`api_server.make_server`); the floor 1 worker process, the service "
            f"{SETTINGS['WORKERS'][1]} (its default LSS_WORKERS) unless a table says otherwise"
        ),
        "Job pool": "TP_NUM_OF_THREADS, else the CPU count (service default)",
    }
    code_hash = code_fingerprint()
    run = Run(
        command=command, started=time.time(), settings=settings, machine=machine_info(code_hash)
    )
    _log("cold tasks (in-process)")
    run.cold = measure_cold(BUNDLED)
    # Servers' folders are removed only at the end: see bench.server.running.
    celery = CeleryRun()
    bench_throughput = throughput.ThroughputRun()
    with LoadRunner() as runner, tempfile.TemporaryDirectory(prefix="lss-bench-") as workdir:
        bench = Bench(args, run, runner, Path(workdir))
        bench_throughput = _measure_throughput(bench)
        _measure(bench, celery)
    draw(run, args.charts)
    run.finished = time.time()
    if code_fingerprint() != code_hash:
        run.notes.append(
            f"the service's code (app/, api_server.py) changed during this run (hash "
            f"{code_hash} at the start, {code_fingerprint()} at the end): the figures mix "
            "versions; run again on a quiet tree"
        )
        _log(run.notes[-1])

    report = render(run, args.output, bench_throughput) + celery.markdown()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(report)
    print(report)
    _log(f"wrote {args.output} and {len(run.charts)} charts in {args.charts}")
    return 0


def _measure_throughput(bench: Bench) -> throughput.ThroughputRun:
    """The wrk sections: the service against its limit and its baseline, the journal's cost,
    and (unless --no-profile) where a job's time goes."""
    args = bench.args
    if args.no_wrk:
        return throughput.ThroughputRun()
    plan = build_plan(load_dataset(BUNDLED))
    measured = throughput.measure(
        plan,
        BUNDLED,
        bench.workdir,
        default_workers=SETTINGS["WORKERS"][1],
        baseline=args.baseline,
        connections=throughput.CONNECTIONS,
        rounds=args.rounds,
        seconds=args.wrk_seconds,
        log=_log,
    )
    if not args.no_profile:
        _log("py-spy profile of the service under wrk")
        throughput.profile(
            measured, plan, BUNDLED, bench.workdir, args.profile, args.wrk_seconds, _log
        )
    bench.run.notes += measured.notes
    return measured


def _measure(bench: Bench, celery: CeleryRun) -> None:
    """Every measurement of the session, in order."""
    args, run = bench.args, bench.run

    dataset = load_dataset(BUNDLED)
    run.bundled_rows = dataset.rows_read
    plan = build_plan(dataset)
    run.clients = args.clients
    settle(bench.workdir, run.notes, _log)
    _log(f"client sweep {args.clients} on {run.bundled_rows:,} bundled rows")
    bench.client_sweep(plan, run.bundled_rows)
    sections = []
    if not args.no_data_sweep:
        sections.append(("data sweep", bench.data_sweep))
    if not args.no_servers:
        sections.append(("WSGI server comparison (floor app)", bench.server_comparison))
    if not args.no_celery:
        sections.append(
            (
                "Celery engine, 1 and 2 workers",
                partial(celery.measure, bench, data=BUNDLED, contender=Contender),
            )
        )
    for title, section in sections:
        settle(bench.workdir, run.notes, _log)
        _log(title)
        try:
            section(plan, run.bundled_rows)
        except (RuntimeError, OSError, subprocess.CalledProcessError) as error:
            _log(f"{title} failed: {error}")
            run.notes.append(f"{title} failed: {error}")


if __name__ == "__main__":
    sys.exit(main())
