"""The `lss` console script as people run it: its output, its one-line errors and exit codes."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from unittests.conftest import MUSCLE, OBESITY
from unittests.support.e2e import api_answer
from unittests.support.reference import ENDPOINTS, QUESTIONS, STATE_ENDPOINTS, Reference, compare
from unittests.support.scripted_server import SHUTTING_DOWN, scripted_server
from unittests.support.servers import Server, free_port, server_starter

pytestmark = pytest.mark.e2e

#: The console script `make` installs next to the interpreter running the tests.
LSS = Path(sys.executable).parent / "lss"
FAILED, USAGE, SOME_LINES_FAILED = 1, 2, 3


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One real server for every test here (none of them stops it)."""
    starter = server_starter(tmp_path_factory.mktemp("cli"))
    yield next(starter)()
    next(starter, None)


def lss(*args: str, url: str | None = None, stdin: str = "", **popen: Any) -> Any:
    """Run `lss args` with LSS_URL set to `url` (unset when None); the finished process."""
    env = {k: v for k, v in os.environ.items() if k != "LSS_URL"}
    if url is not None:
        env["LSS_URL"] = url
    return subprocess.run(
        [str(LSS), *args], input=stdin, env=env, capture_output=True, text=True, timeout=60
    )


def one_line_error(result: Any, code: int) -> str:
    """Assert `result` failed with `code` and one line on stderr, nothing on stdout; the line."""
    assert result.returncode == code, (result.returncode, result.stderr)
    assert result.stdout == ""
    assert result.stderr.endswith("\n") and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr.strip()


@pytest.mark.parametrize(
    "args, endpoint, question, state",
    [
        (["best5", "OBESITY"], "best5", OBESITY, None),
        (["state_mean", "obesity", "--state", "oh"], "state_mean", OBESITY, "Ohio"),
        (["state_diff_from_mean", "Obesity", "-s", "new YORK"], "state_diff_from_mean", OBESITY,
         "New York"),
        (["state_mean_by_category", "fruit", "-s", "US"], "state_mean_by_category",
         "Percent of adults who report consuming fruit less than one time daily", "National"),
        (["worst5", MUSCLE.upper()], "worst5", MUSCLE, None),  # exact text, though in another one
    ],
    ids=["part", "postal-code", "name-any-case", "national", "exact"],
)  # fmt: skip
def test_ask_prints_the_apis_answer_as_json(
    server: Server, args: list[str], endpoint: str, question: str, state: str | None
) -> None:
    result = lss("ask", *args, url=server.url)
    assert (result.returncode, result.stderr) == (0, "")
    printed = json.loads(result.stdout)
    assert json.dumps(printed) == json.dumps(api_answer(server.url, endpoint, question, state))


def test_url_option_wins_over_lss_url(server: Server) -> None:
    result = lss("ask", "global_mean", "obesity", "--url", server.url, url="http://127.0.0.1:1")
    assert result.returncode == 0
    assert json.loads(result.stdout) == api_answer(server.url, "global_mean", OBESITY, None)


@pytest.mark.parametrize(
    "args, listed",
    [
        (["best5", "muscle"], [MUSCLE, "and engage in muscle-strengthening"]),
        (["best5", "no such thing"], list(QUESTIONS)),
        (["state_mean", "obesity", "--state", "carolina"], ["North Carolina", "South Carolina"]),
        (["state_mean", "obesity", "--state", "Ohoi"], ["Ohio"]),
        (["state_mean", "obesity", "--state", "ZZ"], ["Alabama", "National", "Wyoming"]),
    ],
    ids=["ambiguous-question", "unknown-question", "ambiguous-state", "typo", "unknown-state"],
)
def test_ambiguous_or_unknown_names_list_the_candidates(
    server: Server, args: list[str], listed: list[str]
) -> None:
    line = one_line_error(lss("ask", *args, url=server.url), FAILED)
    for candidate in listed:
        assert candidate in line


@pytest.mark.parametrize(
    "args, says",
    [
        (["ask", "best6", "obesity"], "'best6' is not one of 'states_mean'"),
        (["ask", "state_mean", "obesity"], "state_mean needs --state"),
        (["ask", "best5", "obesity", "--state", "oh"], "best5 takes no --state"),
        (["ask", "best5", "obesity", "--url", "ftp://example"], "invalid server URL"),
        (["bulk", "no-such-file.jsonl"], "no-such-file.jsonl"),
        (["bulk", "-", "--concurrency", "0"], "0 is not in the range x>=1"),
        (["frobnicate"], "No such command 'frobnicate'"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(args: list[str], says: str) -> None:
    assert says in one_line_error(lss(*args), USAGE)


def test_no_server_is_one_line_and_exit_1() -> None:
    line = one_line_error(lss("questions", url=f"http://127.0.0.1:{free_port()}"), FAILED)
    assert line.startswith("lss: cannot reach the server at http://127.0.0.1:")


@pytest.mark.parametrize(
    "answer, says",
    [
        ((400, {"status": "error", "reason": "missing field 'state'"}), "missing field 'state'"),
        (SHUTTING_DOWN, "shutting down"),
    ],
)
def test_a_refused_question_is_the_servers_reason_on_one_line(answer: Any, says: str) -> None:
    with scripted_server() as server:
        server.script.extend([None, answer])  # /api/questions answers, the POST is refused
        assert one_line_error(lss("ask", "best5", "obesity", url=server.url), FAILED) == (
            f"lss: {says}"
        )


def bulk_lines(reference: Reference) -> list[dict[str, Any]]:
    """One line per endpoint and question, and three the server refuses (at 5, 20 and 41)."""
    lines: list[dict[str, Any]] = []
    for n, (endpoint, question) in enumerate((e, q) for e in ENDPOINTS for q in QUESTIONS):
        line: dict[str, Any] = {"endpoint": endpoint, "question": question}
        if endpoint in STATE_ENDPOINTS:
            line["state"] = reference.locations(question)[n % 50]
        lines.append(line)
    lines[5] = {"endpoint": "best5", "question": "obesity"}  # not the exact text
    lines[20] = {"endpoint": "state_mean", "question": OBESITY, "state": "Atlantis"}
    lines[41] = {"endpoint": "no_such_endpoint", "question": OBESITY}
    return lines


def check_output(text: str, lines: list[dict[str, Any]], reference: Reference) -> None:
    """Every input line, in order, with its job id and status, and its data or reason."""
    out = [json.loads(line) for line in text.splitlines()]
    assert len(out) == len(lines)
    for n, (line, got) in enumerate(zip(lines, out, strict=True)):
        assert {k: got[k] for k in line} == line and list(got)[: len(line)] == list(line)
        if n in (5, 20, 41):
            assert set(got) - set(line) == {"job_id", "status", "reason"}
            assert got["status"] == "error" and got["job_id"] is None and got["reason"]
        else:
            assert set(got) - set(line) == {"job_id", "status", "data"}
            assert got["status"] == "done" and got["job_id"].startswith("job_id_")
            expected = reference.answer(line["endpoint"], line["question"], line.get("state"))
            compare(got["data"], expected, where=f"line {n + 1}")
    assert "no endpoint 'no_such_endpoint'" in out[41]["reason"]


def test_bulk_writes_every_line_in_order_and_exits_3_when_some_were_refused(
    server: Server, reference: Reference, tmp_path: Path
) -> None:
    lines = bulk_lines(reference)
    source, target = tmp_path / "asks.jsonl", tmp_path / "answers.jsonl"
    source.write_text("".join(json.dumps(line) + "\n\n" for line in lines))  # blank lines too
    result = lss("bulk", str(source), "-c", "8", "-o", str(target), url=server.url)
    assert result.returncode == SOME_LINES_FAILED and result.stdout == ""
    assert result.stderr == f"lss bulk: 3 of {len(lines)} lines failed\n"
    check_output(target.read_text(), lines, reference)


def test_bulk_reads_stdin_writes_stdout_and_exits_0_when_all_are_done(
    server: Server, reference: Reference
) -> None:
    lines = [line for n, line in enumerate(bulk_lines(reference)) if n not in (5, 20, 41)]
    result = lss("bulk", "-", url=server.url, stdin="".join(json.dumps(x) + "\n" for x in lines))
    assert (result.returncode, result.stderr) == (0, "")  # not a terminal: no progress bar
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [{k: got[k] for k in line} for line, got in zip(lines, out, strict=True)] == lines
    assert all(got["status"] == "done" for got in out)


def test_bulk_stopped_by_a_missing_server_still_writes_every_line_and_exits_1(
    tmp_path: Path,
) -> None:
    source = tmp_path / "asks.jsonl"
    source.write_text(json.dumps({"endpoint": "best5", "question": OBESITY}) + "\n")
    result = lss("bulk", str(source), url=f"http://127.0.0.1:{free_port()}")
    assert result.returncode == FAILED
    assert result.stderr.startswith("lss bulk: 1 of 1 lines failed: cannot reach the server")
    assert json.loads(result.stdout)["status"] == "error"


@pytest.mark.parametrize(
    "content, says",
    [
        ('{"endpoint": "best5", "question": "q"}\n{"endpoint": "best5", \n', ":2: not JSON"),
        ('\n["best5", "q"]\n', ":2: expected a JSON object"),
        ('{"endpoint": "best5"}\n', ":1: field 'question' must be a string"),
        ('{"endpoint": "state_mean", "question": "q", "state": 5}\n', ":1: field 'state'"),
    ],
)
def test_a_bad_input_file_is_one_line_naming_the_line_and_nothing_is_written(
    tmp_path: Path, content: str, says: str
) -> None:
    source, target = tmp_path / "asks.jsonl", tmp_path / "answers.jsonl"
    source.write_text(content)
    # No server is needed: the file is checked before anything is sent.
    result = lss("bulk", str(source), "-o", str(target), url="http://127.0.0.1:1")
    assert one_line_error(result, FAILED).startswith(f"lss: {source}{says}")
    assert not target.exists()


def run_on_a_terminal(args: list[str], url: str) -> tuple[int, str, str]:
    """Run `lss args`, stderr on a pseudo-terminal: (exit code, stdout, what the terminal got)."""
    controller, terminal = pty.openpty()
    env = {**os.environ, "LSS_URL": url, "COLUMNS": "100", "TERM": "xterm"}
    proc = subprocess.Popen(
        [str(LSS), *args], stdout=subprocess.PIPE, stderr=terminal, env=env, text=True
    )
    os.close(terminal)
    shown: list[bytes] = []

    def read_terminal() -> None:
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the terminal closed
                return
            if not chunk:
                return
            shown.append(chunk)

    reader = threading.Thread(target=read_terminal)
    reader.start()
    stdout, _ = proc.communicate(timeout=60)
    reader.join(10)
    os.close(controller)
    return proc.returncode, stdout, b"".join(shown).decode(errors="replace")


def test_bulk_shows_a_progress_bar_on_a_terminal_and_keeps_stdout_clean(
    server: Server, reference: Reference, tmp_path: Path
) -> None:
    lines = [line for n, line in enumerate(bulk_lines(reference)) if n not in (5, 20, 41)]
    source = tmp_path / "asks.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in lines))
    code, stdout, terminal = run_on_a_terminal(["bulk", str(source)], server.url)
    assert code == 0, terminal
    assert "asking" in terminal and f"{len(lines)}/{len(lines)}" in terminal
    assert len(stdout.splitlines()) == len(lines)  # every answer went to stdout, not the bar
    assert all(json.loads(line)["status"] == "done" for line in stdout.splitlines())


def test_questions_states_and_jobs_print_what_the_api_lists(server: Server) -> None:
    def get(path: str) -> Any:
        return requests.get(f"{server.url}{path}", timeout=5).json()

    questions = lss("questions", url=server.url)
    assert questions.returncode == 0
    assert questions.stdout.splitlines() == [
        f"{q['best_is']:<7}  {q['question']}" for q in get("/api/questions")["questions"]
    ]
    states = lss("states", url=server.url).stdout.splitlines()
    assert [line[4:] for line in states] == get("/api/states")["states"]
    assert "OH  Ohio" in states and "US  National" in states and "PR  Puerto Rico" in states
    assert (
        json.loads(lss("states", "--json", url=server.url).stdout) == get("/api/states")["states"]
    )

    api_answer(server.url, "best5", OBESITY, None)
    jobs = get("/api/jobs")["data"]
    printed = lss("jobs", url=server.url).stdout.splitlines()
    assert printed[: len(jobs)] == [f"{k}  {v}" for job in jobs for k, v in job.items()]
    listed = json.loads(lss("jobs", "--json", url=server.url).stdout)
    assert list(listed.items())[: len(jobs)] == [next(iter(job.items())) for job in jobs]


def test_help_describes_every_command() -> None:
    result = lss("--help")
    assert result.returncode == 0
    for command in ("ask", "bulk", "questions", "states", "jobs", "LSS_URL", "Exit codes"):
        assert command in result.stdout
    module = subprocess.run(
        [sys.executable, "-m", "lss_client", "bulk", "--help"], capture_output=True, text=True
    )
    assert module.returncode == 0 and "--concurrency" in module.stdout
