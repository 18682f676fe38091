"""``python -m bench``: what `make bench` measures, written to BENCHMARKS.md; see --help."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from app import config
from bench import report
from bench.answers import Answers
from bench.celery_engine import CeleryEngine
from bench.first_answers import FirstAnswers
from bench.get_answers import GetAnswers
from bench.metrics_cost import MetricsCost
from bench.scaling import DataSweep
from bench.section import Section
from bench.server import OUT, ROOT
from bench.session import Session
from bench.throughput import Throughput

#: The sections of the report, in the order they run.
SECTIONS: tuple[type[Section], ...] = (
    Throughput,
    GetAnswers,
    MetricsCost,
    Answers,
    DataSweep,
    FirstAnswers,
    CeleryEngine,
)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    """The command line; --quick changes the defaults and writes to bench/out/."""
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark the service side by side with its limit; write BENCHMARKS.md.",
        epilog="Research instruments (a revision side by side, py-spy, ...): python -m bench.lab",
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: short slices, 2 minutes")
    parser.add_argument("--seconds", type=float, help="measured s per server and point (8)")
    parser.add_argument("--rounds", type=int, help="interleaved slices of a point (4)")
    parser.add_argument("--clients", default="1,4,16,64", help="the load generator's sweep")
    parser.add_argument("--output", type=Path, help="the report (BENCHMARKS.md)")
    parser.add_argument("--charts", type=Path, help="the PNG folder (bench/charts)")
    for section in SECTIONS:
        parser.add_argument(f"--no-{section.name}", action="store_true", help=section.title)
    names = [section.name for section in SECTIONS]
    parser.add_argument("--only", choices=names, action="append", help="run just these sections")
    args = parser.parse_args(argv)
    args.clients = tuple(int(c) for c in args.clients.split(","))
    args.seconds = args.seconds or (2.0 if args.quick else 8.0)
    args.rounds = args.rounds or (2 if args.quick else 4)
    quick = OUT / "BENCHMARKS-quick.md", OUT / "charts-quick"
    default = quick if args.quick else (ROOT / "BENCHMARKS.md", ROOT / "bench" / "charts")
    args.output, args.charts = args.output or default[0], args.charts or default[1]
    return args


def main(argv: list[str] | None = None) -> int:
    """Run every section not skipped, then print the report and write it with its charts."""
    args = _parse(argv)
    command = " ".join(["python -m bench", *(sys.argv[1:] if argv is None else argv)])
    started, settings, machine = time.monotonic(), config.load(), report.machine_info()
    sections = [
        s()
        for s in SECTIONS
        if not getattr(args, f"no_{s.name.replace('-', '_')}") and s.name in (args.only or [s.name])
    ]
    # The servers' folders go with `workdir` at the end, when nothing is measured any more.
    with tempfile.TemporaryDirectory(prefix="lss-bench-") as workdir:
        session = Session(Path(workdir), args.quick, args.seconds, args.rounds, args.clients)
        for section in sections:
            os.sync()  # the write-back of the sections before falls here, not into this one
            session.log(section.title)
            try:
                section.measure(session)
            except (RuntimeError, OSError, subprocess.CalledProcessError) as error:
                session.note(f"{section.title} failed: {error}")
    machine["Slices"] = f"a warm-up, then {args.seconds:g} s in {args.rounds} interleaved slices"
    machine["WSGI"] = (
        f"granian, {settings['SERVER_THREADS']} threads per server process, "
        f"{settings['WORKERS']} server processes unless a row says otherwise"
    )
    charts = [chart for section in sections for chart in section.charts(args.charts)]
    minutes = (time.monotonic() - started) / 60
    text = report.render(sections, command, minutes, machine, session.notes, charts, args.output)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(text)
    session.log(f"wrote {args.output} and {len(charts)} charts in {args.charts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
