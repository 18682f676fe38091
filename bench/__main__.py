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
from bench.datasets import OUT
from bench.machine import code_fingerprint, machine_info
from bench.scaling import DataSweep
from bench.section import Section
from bench.server import ROOT
from bench.session import Session
from bench.throughput import Throughput

#: The sections of the report, in the order they run.
SECTIONS: tuple[type[Section], ...] = (Throughput, Answers, DataSweep, CeleryEngine)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark the service side by side with its limit; write BENCHMARKS.md.",
        epilog="Research instruments (a revision side by side, py-spy, ...): python -m bench.lab",
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: short slices, ~2 min")
    parser.add_argument("--seconds", type=float, help="measured s per server and point (8)")
    parser.add_argument("--rounds", type=int, help="slices each point is cut into (4)")
    parser.add_argument("--clients", default="1,4,16,64", help="load generator's client counts")
    parser.add_argument("--output", type=Path, help="report (BENCHMARKS.md; --quick: bench/out)")
    parser.add_argument("--charts", type=Path, help="PNG folder (bench/charts; --quick: bench/out)")
    for section in SECTIONS:
        parser.add_argument(
            f"--no-{section.name}", action="store_true", help=f"skip the {section.title}"
        )
    args = parser.parse_args(argv)
    args.clients = tuple(int(c) for c in args.clients.split(",") if c.strip())
    args.seconds = args.seconds or (2.0 if args.quick else 8.0)
    args.rounds = max(1, args.rounds or (2 if args.quick else 4))
    args.output = args.output or (
        OUT / "BENCHMARKS-quick.md" if args.quick else ROOT / "BENCHMARKS.md"
    )
    args.charts = args.charts or (OUT / "charts-quick" if args.quick else ROOT / "bench" / "charts")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run every section not skipped, then print the report and write it with its charts."""
    args = _parse(argv)
    command = " ".join(["python -m bench", *(sys.argv[1:] if argv is None else argv)])
    started, code = time.monotonic(), code_fingerprint()
    machine = machine_info(code)
    sections = [s() for s in SECTIONS if not getattr(args, f"no_{s.name.replace('-', '_')}")]
    # The servers' folders go with `workdir`, at the end, when nothing is measured any more.
    with tempfile.TemporaryDirectory(prefix="lss-bench-") as workdir:
        session = Session(Path(workdir), args.quick, args.seconds, args.rounds, args.clients)
        for section in sections:
            os.sync()  # the write-back of the sections before falls here, not into this one
            session.log(section.title)
            try:
                section.measure(session)
            except (RuntimeError, OSError, subprocess.CalledProcessError) as error:
                session.note(f"{section.title} failed: {error}")
    if code_fingerprint() != code:
        session.note(
            f"the service's code changed during this run (hash {code} at the start, "
            f"{code_fingerprint()} at the end): the figures mix versions; run again"
        )
    charts = [chart for section in sections for chart in section.charts(args.charts)]
    settings_now = config.load()
    settings = {
        "Slices": f"per server and point: a warm-up, then {args.seconds:g} s measured in "
        f"{args.rounds} interleaved slices",
        "WSGI": f"granian (`api_server.make_server`), {settings_now['SERVER_THREADS']} threads per "
        f"worker process, {settings_now['WORKERS']} worker processes unless a row says otherwise",
        "Job pool": "TP_NUM_OF_THREADS, else the CPU count (the service's default)",
    }
    text = report.render(
        sections,
        command=command,
        minutes=(time.monotonic() - started) / 60,
        machine=machine,
        settings=settings,
        notes=session.notes,
        charts=charts,
        output=args.output,
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(text)
    session.log(f"wrote {args.output} and {len(charts)} charts in {args.charts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
