"""Section: the service on 1x, 10x and 100x the bundled rows: start-up, memory, answers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench import charts, load
from bench.datasets import ensure_dataset
from bench.lineup import Contender, Measured
from bench.load import LoadResult
from bench.markdown import MB, columns, mb, num, ratio
from bench.section import Section, Target
from bench.server import Server, service_argv
from bench.session import Session
from bench.workload import Plan, build_plan

FACTORS = (1, 10, 100)
QUICK_FACTORS = (1, 10)
CLIENTS = 16
TARGET_STARTUP_100X_S = 15.0
TARGET_RSS_100X_MB = 600.0
TARGET_SCALE_100X = 0.9


@dataclass(frozen=True)
class Size:
    """One dataset size and the service measured on it."""

    factor: int
    rows: int
    file_mb: float
    measured: Measured[LoadResult]
    result: LoadResult


class DataSweep(Section):
    """Each size's service started alone, then all measured side by side at 16 clients."""

    name = "data-sweep"
    title = "Dataset size (1x, 10x, 100x the bundled rows)"

    def __init__(self) -> None:
        self.sizes: list[Size] = []

    def measure(self, session: Session) -> None:
        factors = QUICK_FACTORS if session.quick else FACTORS
        files, plans, lineup = {}, {}, []
        for factor in factors:
            path, generated = ensure_dataset(session.plan.rows * factor)
            if generated is not None:
                session.log(f"generated {path.name} in {generated:.0f} s")
            name = f"service {factor}x"
            files[factor], plans[name] = path, build_plan(path)
            lineup.append(Contender(name, service_argv(), data_file=path))

        def plan_of(server: Server) -> Plan:
            return plans[server.name]

        measured = session.side_by_side(lineup, load.client(plan_of, CLIENTS))
        for factor, contender in zip(factors, lineup, strict=True):
            m = measured[contender.name]
            size_mb = files[factor].stat().st_size / MB
            self.sizes.append(Size(factor, plans[m.name].rows, size_mb, m, load.merge(m)))

    def _size(self, factor: int) -> Size | None:
        return next((s for s in self.sizes if s.factor == factor), None)

    def targets(self) -> list[Target]:
        one, big = self._size(1), self._size(100)
        if not (one and big):
            return [Target("start-up, memory and jobs/s at 100x rows", "not measured", None)]
        peak = max(big.measured.peak_rss, big.measured.rss_after_start) / MB
        scale = ratio(big.result.jobs_per_s, one.result.jobs_per_s)
        return [
            Target(
                f"start-up <= {TARGET_STARTUP_100X_S:g} s at 100x rows",
                f"{big.measured.startup_s:.1f} s ({big.rows:,} rows)",
                big.measured.startup_s <= TARGET_STARTUP_100X_S,
            ),
            Target(
                f"server memory <= {TARGET_RSS_100X_MB:g} MB at 100x rows",
                f"{peak:.0f} MB peak PSS ({mb(big.measured.rss_after_start)} MB after start-up)",
                peak <= TARGET_RSS_100X_MB,
            ),
            Target(
                f"jobs/s at 100x >= {TARGET_SCALE_100X:g}x the 1x figure ({CLIENTS} clients)",
                f"{scale:.2f}x ({big.result.jobs_per_s:,.0f} vs {one.result.jobs_per_s:,.0f})",
                scale >= TARGET_SCALE_100X,
            ),
        ]

    def markdown(self) -> list[str]:
        if not self.sizes:
            return []
        base = self.sizes[0].result.jobs_per_s
        return [
            f"## {self.title}",
            "",
            "Datasets made by `scripts/generate_sample.py` (cached in `bench/out/`). One service "
            "per size, each started alone (start-up is process spawn to the first 200 from "
            "`/api/health`), then all measured side by side with the checking load generator "
            f"at {CLIENTS} clients; 'vs 1x' is jobs/s over the 1x service's. Memory is the PSS "
            "of all the server's processes, after start-up and at its peak under load.",
            "",
            *columns(
                self.sizes,
                [
                    ("size", lambda s: f"{s.factor}x"),
                    ("rows", lambda s: f"{s.rows:,}"),
                    ("CSV MB", lambda s: f"{s.file_mb:,.0f}"),
                    ("start-up s", lambda s: f"{s.measured.startup_s:.2f}"),
                    ("PSS after start MB", lambda s: mb(s.measured.rss_after_start)),
                    ("peak PSS MB", lambda s: mb(s.measured.peak_rss)),
                    ("jobs/s", lambda s: num(s.result.jobs_per_s)),
                    ("vs 1x", lambda s: f"{ratio(s.result.jobs_per_s, base):.2f}x"),
                    ("p99 ms", lambda s: f"{s.result.p99:.1f}"),
                    ("wrong / errors", lambda s: f"{s.result.wrong} / {s.result.error_count}"),
                ],
            ),
            "",
        ]

    def charts(self, folder: Path) -> list[Path]:
        if not self.sizes:
            return []
        rows = ("dataset rows", [s.rows for s in self.sizes])
        return [
            charts.draw(
                folder / "startup_vs_rows.png",
                "Start-up time vs dataset size",
                rows,
                "spawn to first 200 from /api/health (s)",
                {"service start-up": [s.measured.startup_s for s in self.sizes]},
                lines={f"target {TARGET_STARTUP_100X_S:g} s at 100x": TARGET_STARTUP_100X_S},
            ),
            charts.draw(
                folder / "memory_vs_rows.png",
                "Service memory vs dataset size",
                rows,
                "PSS of all processes (MB)",
                {
                    "after start-up": [s.measured.rss_after_start / MB for s in self.sizes],
                    "peak under load": [s.measured.peak_rss / MB for s in self.sizes],
                },
                lines={f"target {TARGET_RSS_100X_MB:g} MB at 100x": TARGET_RSS_100X_MB},
            ),
        ]
