"""`lss trend`, `lss compare`, `lss disparities` and the options --years, --group and
--category, against a real server: the JSON printed is the server's own answer to the same
request, the one-line errors and their exit codes, a bulk file with the new fields, and the
summary a terminal gets."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from lss_client import summaries
from unittests.conftest import OBESITY, ROOT
from unittests.support.e2e import server_answer
from unittests.support.servers import Server, server_starter
from unittests.support.todays_export import write_todays_export
from unittests.test_cli import (
    FAILED,
    SOME_LINES_FAILED,
    USAGE,
    lss,
    one_line_error,
    run_on_a_terminal,
)

pytestmark = pytest.mark.e2e

FEMALE = {"category": "Gender", "stratum": "Female"}
RICH = {"category": "Income", "stratum": "$75,000 or greater"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    starter = server_starter(tmp_path_factory.mktemp("cli-analytics"))
    yield next(starter)()
    next(starter, None)


def refusal(url: str, endpoint: str, body: dict[str, Any]) -> str:
    """The server's reason for refusing `body` (asserting it is a 400)."""
    response = requests.post(f"{url}/api/{endpoint}", json=body, timeout=5)
    assert response.status_code == 400, response.text
    return response.json()["reason"]


@pytest.mark.parametrize(
    "args, endpoint, body",
    [
        (["trend", "oh", "obesity"], "state_trend", {"question": OBESITY, "state": "Ohio"}),
        (["trend", "US", "Obesity", "--years", "2015-2022", "--group", "gender=female"],
         "state_trend", {"question": OBESITY, "state": "National", "years": [2015, 2022],
                         "stratification": FEMALE}),
        (["compare", "obesity"], "compare_to_national", {"question": OBESITY}),
        (["compare", "obesity", "-y", "2020", "-g", "INCOME=$75,000 or greater"],
         "compare_to_national", {"question": OBESITY, "years": [2020, 2020],
                                 "stratification": RICH}),
        (["disparities", "new york", "obesity", "INCOME"], "disparities",
         {"question": OBESITY, "state": "New York", "category": "Income"}),
        (["disparities", "oh", "obesity", "race", "--years", "2016-2021"], "disparities",
         {"question": OBESITY, "state": "Ohio", "category": "Race/Ethnicity",
          "years": [2016, 2021]}),
        (["ask", "disparities", "obesity", "-s", "oh", "-k", "age"], "disparities",
         {"question": OBESITY, "state": "Ohio", "category": "Age (years)"}),
        (["ask", "state_mean", "obesity", "-s", "oh", "--years", "2015-2020",
          "--group", "educ=college graduate"], "state_mean",
         {"question": OBESITY, "state": "Ohio", "years": [2015, 2020],
          "stratification": {"category": "Education", "stratum": "College graduate"}}),
        (["ask", "best5", "obesity", "-y", "2020"], "best5",
         {"question": OBESITY, "years": [2020, 2020]}),
        (["rankings", "obesity"], "rankings", {"question": OBESITY}),
        (["rankings", "OBESITY", "--years", "2015-2022", "--group", "gender=female"], "rankings",
         {"question": OBESITY, "years": [2015, 2022], "stratification": FEMALE}),
    ],
    ids=["trend", "trend-selected", "compare", "compare-selected", "disparities",
         "disparities-years", "ask-disparities", "ask-selected", "ask-one-year", "rankings",
         "rankings-selected"],
)  # fmt: skip
def test_the_printed_json_is_the_servers_answer_to_the_same_request(
    server: Server, args: list[str], endpoint: str, body: dict[str, Any]
) -> None:
    result = lss(*args, url=server.url)
    assert (result.returncode, result.stderr) == (0, "")  # not a terminal: no summary
    assert json.dumps(json.loads(result.stdout)) == json.dumps(
        server_answer(server.url, endpoint, body)
    )


@pytest.mark.parametrize(
    "args, listed",
    [
        (["disparities", "oh", "obesity", "e"],
         ["'Age (years)'", "'Education'", "'Gender'", "'Income'", "'Race/Ethnicity'"]),
        (["disparities", "oh", "obesity", "sex"], ["unknown category 'sex'", "'Total'"]),
        (["trend", "oh", "obesity", "--group", "income=rich"],
         ["no stratum 'rich' in 'Income'", "'Less than $15,000'", "'Data not reported'"]),
        (["compare", "obesity", "--group", "a=Male"], ["'a' is in 4 categories"]),
        (["trend", "carolina", "obesity"], ["North Carolina", "South Carolina"]),
        (["compare", "muscle"], ["is in 2 questions"]),
    ],
    ids=["ambiguous-category", "unknown-category", "unknown-stratum", "ambiguous-group",
         "ambiguous-state", "ambiguous-question"],
)  # fmt: skip
def test_names_that_match_none_or_several_are_one_line_listing_them_and_exit_1(
    server: Server, args: list[str], listed: list[str]
) -> None:
    line = one_line_error(lss(*args, url=server.url), FAILED)
    assert line.startswith("lss: ")
    for says in listed:
        assert says in line


@pytest.mark.parametrize(
    "args, says",
    [
        (["trend", "oh", "obesity", "--years", "20x"], "expected FROM-TO or one year"),
        (["trend", "oh", "obesity", "--years", "2022-2015"], "2022 is after 2015"),
        (["compare", "obesity", "--group", "female"], "expected CATEGORY=STRATUM"),
        (["ask", "disparities", "obesity", "-s", "oh"], "disparities needs --category"),
        (["ask", "best5", "obesity", "-k", "income"], "best5 takes no --category"),
        (["ask", "state_trend", "obesity"], "state_trend needs --state"),
        (["disparities", "oh", "obesity", "income", "--group", "gender=male"], "--group"),
        (["trend", "oh"], "Missing argument 'QUESTION'"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(args: list[str], says: str) -> None:
    assert says in one_line_error(lss(*args, url="http://127.0.0.1:1"), USAGE)


@pytest.mark.parametrize(
    "args, endpoint, body",
    [
        (["trend", "oh", "obesity", "--years", "1990"], "state_trend",
         {"question": OBESITY, "state": "Ohio", "years": [1990, 1990]}),
        (["ask", "disparities", "obesity", "-s", "oh", "-k", "income", "-g", "gender=male"],
         "disparities", {"question": OBESITY, "state": "Ohio", "category": "Income",
                         "stratification": {"category": "Gender", "stratum": "Male"}}),
    ],
    ids=["no-rows-in-those-years", "disparities-takes-no-group"],
)  # fmt: skip
def test_a_request_the_server_refuses_is_its_reason_on_one_line_and_exit_1(
    server: Server, args: list[str], endpoint: str, body: dict[str, Any]
) -> None:
    assert one_line_error(lss(*args, url=server.url), FAILED) == (
        f"lss: {refusal(server.url, endpoint, body)}"
    )


def test_a_bulk_file_with_the_new_fields_is_answered_as_the_server_answers_each_line(
    server: Server, tmp_path: Path
) -> None:
    lines: list[dict[str, Any]] = [
        {"endpoint": "state_trend", "question": OBESITY, "state": "Ohio", "years": [2013, 2021]},
        {"endpoint": "compare_to_national", "question": OBESITY, "stratification": FEMALE},
        {"endpoint": "disparities", "question": OBESITY, "state": "Texas", "category": "Income"},
        {"endpoint": "disparities", "question": OBESITY, "state": "Texas"},  # no category
        {"endpoint": "states_mean", "question": OBESITY, "years": [2020, 2020],
         "stratification": RICH},
        {"endpoint": "state_trend", "question": OBESITY, "state": "Ohio", "years": [2022, 2011]},
    ]  # fmt: skip
    refused = {3, 5}
    source = tmp_path / "asks.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in lines))
    result = lss("bulk", str(source), "-c", "4", url=server.url)
    assert result.returncode == SOME_LINES_FAILED
    assert result.stderr == f"lss bulk: {len(refused)} of {len(lines)} lines failed\n"
    out = [json.loads(text) for text in result.stdout.splitlines()]
    assert len(out) == len(lines)
    for n, (line, got) in enumerate(zip(lines, out, strict=True)):
        assert {k: got[k] for k in line} == line
        body = {k: v for k, v in line.items() if k != "endpoint"}
        if n in refused:
            assert got["status"] == "error"
            assert got["reason"] == refusal(server.url, line["endpoint"], body)
        else:
            assert got["status"] == "done", got
            assert json.dumps(got["data"]) == json.dumps(
                server_answer(server.url, line["endpoint"], body)
            )


@pytest.mark.parametrize(
    "content, says",
    [
        ('{"endpoint": "state_trend", "question": "q", "years": [2015]}\n', ":1: field 'years'"),
        ('{"endpoint": "best5", "question": "q", "stratification": "Gender=Male"}\n',
         ":1: field 'stratification'"),
        ('{"endpoint": "disparities", "question": "q", "category": ["Income"]}\n',
         ":1: field 'category'"),
    ],
)  # fmt: skip
def test_a_new_field_of_the_wrong_shape_is_a_bad_file_naming_the_line(
    tmp_path: Path, content: str, says: str
) -> None:
    source = tmp_path / "asks.jsonl"
    source.write_text(content)
    result = lss("bulk", str(source), url="http://127.0.0.1:1")
    assert one_line_error(result, FAILED).startswith(f"lss: {source}{says}")


def test_a_terminal_gets_a_summary_on_stderr_and_stdout_stays_the_json(server: Server) -> None:
    code, stdout, terminal = run_on_a_terminal(["trend", "oh", "obesity"], server.url)
    assert code == 0, terminal
    data = json.loads(stdout)
    slope = data["slope"]
    assert data == server_answer(server.url, "state_trend", {"question": OBESITY, "state": "Ohio"})
    assert f"Ohio, obesity: {slope['trend']}, {slope['per_year']:+.2f} per year" in terminal
    assert f"dispersion {slope['dispersion']:.2f}" in terminal
    first = data["apc"]["segments"][0]
    assert f"APC {first['from']}-{first['to']} {first['apc']:+.2f}%" in terminal

    code, stdout, terminal = run_on_a_terminal(["compare", "obesity"], server.url)
    assert code == 0, terminal
    versus = [entry["versus"] for entry in json.loads(stdout)["states"].values()]
    assert f"{versus.count('higher')} higher, {versus.count('similar')} similar" in terminal

    code, stdout, terminal = run_on_a_terminal(["disparities", "oh", "obesity", "age"], server.url)
    assert code == 0, terminal
    assert f"best {json.loads(stdout)['reference']!r}" in terminal

    code, stdout, terminal = run_on_a_terminal(["rankings", "obesity"], server.url)
    assert code == 0, terminal
    first = json.loads(stdout)["locations"][0]
    assert "obesity: 54 ranked, best first " in terminal
    assert f"{first['location']} (ranks {first['rank_low']}-{first['rank_high']})" in terminal


def test_the_trend_summary_says_the_joinpoints_and_why_not() -> None:
    """summaries.trend on answers written out here: segments and the AAPC, a bound past a
    double, no APC and its reason, and an answer from a server before SPEC §15."""
    slope = {"per_year": 0.5, "low": 0.1, "high": 0.9, "trend": "rising"}
    change = {"value": 1.0, "low": 0.5, "high": 1.5}
    apc = {
        "segments": [
            {"from": 2011, "to": 2016, "apc": 3.1, "low": 2.0, "high": 4.2},
            {"from": 2016, "to": 2022, "apc": -0.5, "low": -1.0, "high": None},
        ],
        "joinpoints": [2016],
        "aapc": change,
    }
    data = {"slope": {**slope, "dispersion": 2.5, "df": 10}, "apc": apc}
    assert summaries.trend("Ohio", "obesity", data) == (
        "Ohio, obesity: rising, +0.50 per year (0.10 to 0.90, dispersion 2.50); "
        "APC 2011-2016 +3.10% (+2.00% to +4.20%), 2016-2022 -0.50% (-1.00% to unbounded); "
        "AAPC +1.00% (+0.50% to +1.50%)"
    )
    data = {"slope": {**slope, "dispersion": 0.2}, "apc": None, "apc_reason": "fewer than 3"}
    assert summaries.trend("Guam", "obesity", data).endswith("; no APC (fewer than 3)")
    assert summaries.trend("Ohio", "obesity", {"slope": slope}) == (
        "Ohio, obesity: rising, +0.50 per year (0.10 to 0.90)"
    )


def test_help_describes_the_new_commands() -> None:
    result = lss("--help")
    for command in ("lss trend oh obesity", "compare", "disparities", "lss rankings obesity"):
        assert command in result.stdout
    assert "--years" in result.stdout and "--group" in result.stdout
    for command in ("trend", "compare", "disparities", "rankings", "ask"):
        helped = lss(command, "--help")
        assert helped.returncode == 0 and "--years" in helped.stdout and "--url" in helped.stdout


@pytest.fixture(scope="module")
def sex_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server on data in the CDC's current spelling (`Sex`), as the real-data command writes
    it from a file in today's export's shape."""
    folder = tmp_path_factory.mktemp("sex-data")
    data = folder / "data.csv"
    source = write_todays_export(folder / "rows.csv")
    fetch = [sys.executable, str(ROOT / "scripts" / "fetch_real_data.py")]
    subprocess.run([*fetch, "--url", source.as_uri(), "--output", str(data)], check=True)
    starter = server_starter(tmp_path_factory.mktemp("cli-sex"))
    yield next(starter)(LSS_DATA_FILE=str(data))
    next(starter, None)


def test_groups_are_typed_as_the_servers_data_names_them(sex_server: Server) -> None:
    """No copy of the categories in the client: on data that says Sex, `sex=female` is the
    group and `gender` is no category; the categories listed are the server's."""
    women = {"category": "Sex", "stratum": "Female"}
    result = lss("trend", "oh", "obesity", "--group", "sex=FEMALE", url=sex_server.url)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == server_answer(
        sex_server.url,
        "state_trend",
        {"question": OBESITY, "state": "Ohio", "stratification": women},
    )
    result = lss("disparities", "oh", "obesity", "sex", url=sex_server.url)
    assert [s["stratum"] for s in json.loads(result.stdout)["strata"]] == ["Male", "Female"]
    line = one_line_error(
        lss("rankings", "obesity", "-g", "gender=male", url=sex_server.url), FAILED
    )
    assert line == "lss: unknown category 'gender'; the categories: 'Total'; 'Sex'"
