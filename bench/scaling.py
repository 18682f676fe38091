"""Section: the service on 1x, 10x and 100x the bundled rows: start-up, memory, answers."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench import charts, load
from bench.lineup import Contender
from bench.markdown import MB, columns, mb, ratio
from bench.point import Point
from bench.section import Section, Target
from bench.server import OUT, ROOT, service_argv
from bench.session import Session
from bench.workload import build_plan

GENERATOR = ROOT / "scripts" / "generate_sample.py"
#: Files whose content decides what the generator writes: a change regenerates the cache.
SOURCES = (GENERATOR, ROOT / "scripts" / "dataset_schema.py")


def ensure_dataset(rows: int, out: Path = OUT) -> tuple[Path, float | None]:
    """The dataset of `rows` rows and the seconds generating it took (None: it was cached)."""
    digest = hashlib.sha256(b"".join(s.read_bytes() for s in SOURCES if s.exists()))
    path = out / f"sample_{rows}_{digest.hexdigest()[:12]}.csv"
    if path.exists():
        return path, None
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    partial = path.with_suffix(".part")
    argv = [sys.executable, str(GENERATOR), "--rows", str(rows), "--output", str(partial)]
    subprocess.run(argv, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    partial.rename(path)
    return path, time.perf_counter() - started


FACTORS, QUICK_FACTORS = (1, 10, 100), (1, 10)
CLIENTS = 16
TARGET_STARTUP_100X_S = 15.0
TARGET_RSS_100X_MB = 600.0
TARGET_SCALE_100X = 0.9


@dataclass(frozen=True)
class Size:
    """One dataset size and the service measured on it."""

    factor: int
    rows: int
    csv_mb: float
    point: Point


class DataSweep(Section):
    """A service per size, each started alone, then all measured side by side at 16 clients."""

    name = "data-sweep"
    title = "Dataset size (1x, 10x, 100x the bundled rows)"

    def __init__(self) -> None:
        self.sizes: list[Size] = []

    def measure(self, session: Session) -> None:
        factors = QUICK_FACTORS if session.quick else FACTORS
        lineup = []
        for factor in factors:
            path, generated = ensure_dataset(session.plan.rows * factor)
            if generated is not None:
                session.log(f"generated {path.name} in {generated:.0f} s")
            lineup.append(Contender(f"service {factor}x", service_argv(), data_file=path))
        plans = {c.name: build_plan(c.data_file) for c in lineup}
        points = session.side_by_side(lineup, load.client(lambda s: plans[s.name], CLIENTS))
        for factor, c in zip(factors, lineup, strict=True):
            csv_mb = c.data_file.stat().st_size / MB
            self.sizes.append(Size(factor, plans[c.name].rows, csv_mb, points[c.name]))

    def targets(self) -> list[Target]:
        one, big = (next((s for s in self.sizes if s.factor == f), None) for f in (1, 100))
        if not (one and big):
            return [Target("start-up, memory and jobs/s at 100x rows", "not measured", None)]
        m = big.point
        peak = max(m.peak_rss, m.rss_after_start) / MB
        scale = ratio(m.jobs_per_s, one.point.jobs_per_s)
        return [
            Target(
                f"start-up <= {TARGET_STARTUP_100X_S:g} s at 100x rows",
                f"{m.startup_s:.1f} s ({big.rows:,} rows)",
                m.startup_s <= TARGET_STARTUP_100X_S,
            ),
            Target(
                f"server memory <= {TARGET_RSS_100X_MB:g} MB at 100x rows",
                f"{peak:.0f} MB peak PSS ({mb(m.rss_after_start)} MB after start-up)",
                peak <= TARGET_RSS_100X_MB,
            ),
            Target(
                f"jobs/s at 100x >= {TARGET_SCALE_100X:g}x the 1x figure ({CLIENTS} clients)",
                f"{scale:.2f}x, side by side",
                scale >= TARGET_SCALE_100X,
            ),
        ]

    def markdown(self) -> list[str]:
        if not self.sizes:
            return []
        base = self.sizes[0].point.jobs_per_s

        def share(s: Size) -> str:
            return f"{ratio(s.point.jobs_per_s, base):.2f}x"

        return [
            f"## {self.title}",
            "",
            "Datasets made by `scripts/generate_sample.py` (cached in `bench/out/`). A service per "
            "size, each started alone (start-up is process spawn to the first 200 from "
            "`/api/health`), then all measured side by side with the load generator at "
            f"{CLIENTS} clients, answers checked against each dataset's own; 'vs 1x' is jobs/s "
            "over the 1x service's. Memory is the PSS of all of a server's processes.",
            "",
            *columns(
                self.sizes,
                [
                    ("size", lambda s: f"{s.factor}x"),
                    ("rows", lambda s: f"{s.rows:,}"),
                    ("CSV MB", lambda s: f"{s.csv_mb:,.0f}"),
                    ("PSS after start MB", lambda s: mb(s.point.rss_after_start)),
                    *load.columns(lambda s: s.point, ("vs 1x", share)),
                ],
            ),
            "",
        ]

    def charts(self, folder: Path) -> list[Path]:
        if not self.sizes:
            return []
        rows = ("dataset rows", [s.rows for s in self.sizes])
        measured = [s.point for s in self.sizes]
        memory = {
            "after start-up": [m.rss_after_start / MB for m in measured],
            "peak under load": [m.peak_rss / MB for m in measured],
        }
        return [
            charts.draw(
                folder / "startup_vs_rows.png",
                "Start-up time vs dataset size",
                rows,
                "spawn to first 200 from /api/health (s)",
                {"service start-up": [m.startup_s for m in measured]},
                lines={f"target {TARGET_STARTUP_100X_S:g} s at 100x": TARGET_STARTUP_100X_S},
            ),
            charts.draw(
                folder / "memory_vs_rows.png",
                "Service memory vs dataset size",
                rows,
                "PSS of all processes (MB)",
                memory,
                lines={f"target {TARGET_RSS_100X_MB:g} MB at 100x": TARGET_RSS_100X_MB},
            ),
        ]
