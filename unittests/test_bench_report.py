"""BENCHMARKS.md as `make bench` writes it: its method, its sections, its targets, nothing local."""

from __future__ import annotations

import re
from pathlib import Path

from app.task import ANALYTICS_TASKS
from bench import report, throughput
from bench.__main__ import SECTIONS, _parse
from bench.answers import Answers
from bench.first_answers import FirstAnswers, time_first_answers
from bench.point import Point, Slice
from bench.section import Section, Target
from bench.server import Server
from bench.session import Session
from bench.throughput import Throughput


def _point(name: str, jobs_per_s: float, p99: float, wrong: int = 0, bad: int = 0) -> Point:
    slices = [Slice(int(jobs_per_s), 1.0, bad, 2.0, p99, 0.5, int(jobs_per_s), wrong)] * 2
    server = Server(name, "127.0.0.1", 1, None, Path("."), 0.5, 90_000_000)  # type: ignore[arg-type]
    return Point.of(server, slices, Slice(0, 1.0, 0, 1.0, 2.0), 120_000_000)


def _throughput() -> Throughput:
    section = Throughput()
    for count in throughput.CONNECTIONS:
        for name, jobs_per_s, p99 in [
            ("limit w=1", 10_000, 4.0),
            ("limit w=2", 12_000, 5.0),
            ("service w=1", 4_000, 9.0),
            ("service w=2", 6_000, 8.0),
        ]:
            section.points[name, count] = _point(name, jobs_per_s, p99)
    return section


class _Extra(Section):
    """What a later issue adds: a module with a Section, and a line in SECTIONS."""

    name = "extra"
    title = "An extra section"

    def targets(self) -> list[Target]:
        return [Target("an extra goal", "1 thing", True)]

    def markdown(self) -> list[str]:
        return ["## An extra section", "", "Its figures.", ""]


def _render(sections: list[Section], notes: tuple[str, ...] = ()) -> str:
    root = Path(__file__).resolve().parent.parent
    chart = root / "bench" / "charts" / "a_chart.png"
    machine = {"CPU": "a test machine"}
    return report.render(
        sections, "python -m bench", 1.0, machine, notes, [chart], root / "BENCHMARKS.md"
    )


def test_the_headline_is_the_default_service_over_the_faster_limit() -> None:
    text = _render([_throughput()])
    assert "does 0.50x the raw WSGI limit's jobs/s** (6,000 vs 12,000; p99" in text
    assert "| service >= 0.5x the raw WSGI limit's jobs/s at 16 connections" in text
    assert "| 0.50x (6,000 vs 12,000 jobs/s) | **MET** |" in text
    assert (
        "| service w=1 @ 64 | 4,000 | **0.33x** | 2.00 / 9.0 | 9.0-9.0 | 0 | 120 | 0.50 | 125 |"
        in text
    )
    assert "two did 1.50x the jobs/s of one at 16 connections and 1.50x the jobs/s" in text


def test_a_wrong_answer_is_not_met() -> None:
    section = Answers()
    section.points = {
        16: {
            "service": _point("service", 9, 5.0, wrong=1, bad=2),
            "limit": _point("limit", 9, 5.0),
        },
        4: {"service": _point("service", 3, 5.0), "limit": _point("limit", 3, 5.0)},
    }
    text = _render([section])
    assert "| 2 wrong, 4 errors of 24 jobs | **NOT MET** |" in text
    assert "| service @ 16 | 9 | 1.00x | 2.00 / 5.0 | 5.0-5.0 | 4 | 120 | 0.50 | 18 | 2 |" in text


def test_the_report_says_how_to_read_it_and_names_no_machine_path_nor_date() -> None:
    text = _render([_throughput(), Answers(), _Extra()], notes=("one problem",))
    for heading in ("## How to read this", "## Targets", "## Findings of the research"):
        assert heading in text
    assert "interleaved slices" in text and "`bench/limit.py`" in text
    assert "- one problem" in text
    assert "| an extra goal | 1 thing | **MET** |" in text and "## An extra section" in text
    assert "![a chart](bench/charts/a_chart.png)" in text
    assert not re.search(r"(/work/|/tmp/|/home/|/root/)", text)
    assert not re.search(r"\b20\d\d-\d\d-\d\d\b", text)


def test_every_section_can_be_skipped_by_name() -> None:
    names = [section.name for section in SECTIONS]
    assert len(set(names)) == len(names) and all(names)
    args = _parse(["--no-celery", "--no-data-sweep", "--quick"])
    assert args.no_celery and args.no_data_sweep and not args.no_wrk


def test_a_problem_is_noted_on_one_line_without_the_machine_s_paths(tmp_path: Path) -> None:
    session = Session(tmp_path)
    session.note(f"a worker died:\n  File /usr/lib/x.py, line 3\n  see {tmp_path}/w/server.out")
    assert session.notes == ["a worker died: File <path>, line 3 see <scratch>/w/server.out"]


def test_first_answers_times_every_new_statistic_and_judges_the_goals():
    timed = time_first_answers(1, 21_000)  # the bundled sample's rows: the file itself
    assert set(timed.by_endpoint) == set(ANALYTICS_TASKS)  # rankings included
    assert all(ms > 0 for timings in timed.by_endpoint.values() for ms in timings)
    section = FirstAnswers()
    section.runs = [timed]
    one, hundred = section.targets()
    assert one.met == (timed.slowest_ms <= 5.0) and hundred.met is None
    assert any("| disparities |" in line for line in section.markdown())
