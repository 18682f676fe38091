"""``python -m bench.lab <command>``: the benchmark's research instruments, one report each."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from bench.lab import baseline, cold, gap, pools, profile
from bench.session import Session

#: The commands, each a module with `add(subparsers)` that sets `run(args, session)` as default.
COMMANDS = (baseline, gap, profile, pools, cold)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    """The command line: a command and its options, with the slicing every lineup uses."""
    parser = argparse.ArgumentParser(prog="python -m bench.lab", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        command = module.add(commands)
        command.add_argument("--seconds", type=float, default=8.0, help="measured s per server (8)")
        command.add_argument("--rounds", type=int, default=4, help="interleaved slices (4)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run one command in a scratch folder and print its report."""
    args = _parse(argv)
    with tempfile.TemporaryDirectory(prefix="lss-lab-") as workdir:
        session = Session(Path(workdir), seconds=args.seconds, rounds=args.rounds)
        lines = args.run(args, session)
    print("\n".join([*lines, *(f"- problem: {note}" for note in session.notes)]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
