"""The README's example answers are the service's: every shown number, to the last digit."""

from __future__ import annotations

import re

import orjson
import pytest

from unittests.conftest import OBESITY, ROOT, ask
from unittests.support.reference import ENDPOINTS

#: A README example: the curl line of a POST, then the comment line with its finished answer.
_EXAMPLE = re.compile(
    r'curl -s -X POST localhost:5000/api/(?P<endpoint>\w+) -d "(?P<body>[^\n]*)"\n'
    r"# (?:[^\n]*? )?-> +\{\"status\":\"done\",\"data\":(?P<data>[^\n]*)\}\n"
)


def _examples() -> list[tuple[str, dict[str, str], str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = []
    for match in _EXAMPLE.finditer(text):
        body = orjson.loads(match["body"].replace('\\"', '"').replace("$Q", OBESITY))
        found.append((match["endpoint"], body, match["data"]))
    return found


EXAMPLES = _examples()


def test_the_readme_shows_an_answer_for_every_endpoint() -> None:
    """All but states_mean, whose example is the first one, answering a job id."""
    assert {endpoint for endpoint, _, _ in EXAMPLES} == set(ENDPOINTS) - {"states_mean"}


@pytest.mark.parametrize(("endpoint", "body", "shown"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_an_example_answer_is_what_the_service_answers(
    bundled_client, endpoint: str, body: dict[str, str], shown: str
) -> None:
    """A shown answer cut short ("...") must be the start of the real one; else all of it."""
    data = ask(bundled_client, endpoint, body["question"], body.get("state"))
    actual = orjson.dumps(data).decode()
    if "..." in shown:
        start = shown[: shown.index("...")]
        assert actual.startswith(start), f"README shows {shown}, the service answers {actual}"
    else:
        assert actual == shown


_LINK = re.compile(r"\]\((?!https?://|#)(?P<target>[^)#\s]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize(
    "page", ["README.md", *sorted(p.name for p in (ROOT / "docs").glob("*.md"))]
)
def test_every_relative_link_of_the_docs_points_to_a_file_that_exists(page: str) -> None:
    path = ROOT / page if page == "README.md" else ROOT / "docs" / page
    targets = [m["target"] for m in _LINK.finditer(path.read_text(encoding="utf-8"))]
    if page == "README.md":
        assert targets, "the README links to nothing: the pattern is broken"
    missing = [t for t in targets if not (path.parent / t).exists()]
    assert missing == [], f"{page} links to missing files"


#: An analyst's example: the curl line of a POST, then comment lines of `data.PATH: VALUE` pairs.
_ANALYST_EXAMPLE = re.compile(
    r'curl -s -X POST localhost:5000/api/(?P<endpoint>\w+) -d "(?P<body>[^\n]*)"\n'
    r"(?P<shown>(?:#   [^\n]*\n)+)"
)
_SHOWN = re.compile(
    r'data(?P<path>(?:\.\w+|\[\d+\])+): (?P<value>"[^"]*"|-?\d+(?:\.\d+)?|true|false)'
)


def _analyst_examples() -> list[tuple[str, dict, list[tuple[str, str]]]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = []
    for match in _ANALYST_EXAMPLE.finditer(text):
        body = orjson.loads(match["body"].replace('\\"', '"').replace("$Q", OBESITY))
        pairs = [(m["path"], m["value"]) for m in _SHOWN.finditer(match["shown"])]
        found.append((match["endpoint"], body, pairs))
    return found


ANALYST_EXAMPLES = _analyst_examples()


def _at(data, path: str):
    for name, index in re.findall(r"\.(\w+)|\[(\d+)\]", path):
        data = data[int(index)] if index else data[name]
    return data


def test_the_readme_works_an_example_of_every_new_statistic() -> None:
    assert {endpoint for endpoint, _, _ in ANALYST_EXAMPLES} == {
        "state_trend",
        "compare_to_national",
        "disparities",
        "rankings",
    }
    assert all(len(pairs) >= 3 for _, _, pairs in ANALYST_EXAMPLES)


@pytest.mark.parametrize(
    ("endpoint", "body", "pairs"), ANALYST_EXAMPLES, ids=[e[0] for e in ANALYST_EXAMPLES]
)
def test_an_analysts_example_shows_what_the_service_answers(bundled_client, endpoint, body, pairs):
    """Each `data.PATH: VALUE` is the answer's, a number to the digits shown."""
    response = bundled_client.post(f"/api/{endpoint}", json=body)
    job_id = response.get_json()["job_id"]
    data = bundled_client.get(f"/api/get_results/{job_id}").get_json()["data"]
    for path, shown in pairs:
        actual = _at(data, path)
        if shown.startswith('"') or shown in ("true", "false"):
            assert actual == orjson.loads(shown), path
        else:
            digits = len(shown.partition(".")[2])
            assert f"{actual:.{digits}f}" == shown, f"{path}: README {shown}, service {actual}"


# -- the Jupyter and R examples (SPEC §18) --------------------------------------------------------

_README_URL = "http://127.0.0.1:5000"
_PYTHON_BLOCK = re.compile(r"```python\n(?P<code>(?:[^`\n][^\n]*\n)*?)```", re.MULTILINE)
_ASSIGNED_URL = re.compile(r'^url = "(?P<url>[^"]+)"$', re.MULTILINE)


def _jupyter_example() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = [m["code"] for m in _PYTHON_BLOCK.finditer(text) if "read_csv" in m["code"]]
    assert len(blocks) == 1, "the README's Jupyter example is not where the test looks"
    return blocks[0]


def test_the_jupyter_example_runs_against_a_real_server(start_server, monkeypatch) -> None:
    """Every line, for real: pandas reads the URL shown; Client().answer(...).to_pandas() gives
    the same table (Client() finds the server through LSS_URL, as a notebook's would)."""
    import pandas as pd

    from lss_client import Client

    server = start_server()
    monkeypatch.setenv("LSS_URL", server.url)
    scope = {"pd": pd, "Client": Client, "Q": OBESITY}
    frames = []
    for line in _jupyter_example().splitlines():
        exec(line.replace(_README_URL, server.url), scope)
        if line.startswith("df = "):
            frames.append(scope["df"])
    read, answered = frames
    assert list(read.columns) == list(answered.columns)
    assert list(read["year"]) == list(answered["year"]) and len(read) >= 10
    assert read["value"].tolist() == answered["value"].tolist()  # unrounded on both sides
    assert set(read["location"]) == {"Ohio"}


def test_the_r_example_reads_a_csv_that_pandas_reads(start_server) -> None:
    """R need not be installed: the README's R line reads the example's `url`, which is the
    client's spelling of the question and answers a CSV with a header and a row a year."""
    import pandas as pd

    from lss_client import Client

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "`df <- read.csv(url)`" in text
    url = _ASSIGNED_URL.search(_jupyter_example())["url"]
    with Client(_README_URL) as client:
        assert url == client.answer_url("state_trend", OBESITY, "Ohio")
    server = start_server()
    frame = pd.read_csv(url.replace(_README_URL, server.url))
    assert len(frame) >= 10 and frame["year"].is_monotonic_increasing
    assert {"location", "year", "value", "low", "high", "question"} <= set(frame.columns)


def test_the_readme_stays_a_newcomers_length() -> None:
    """Detail goes to docs/: the README is what a newcomer reads in one sitting."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 300, f"the README has {len(lines)} lines: move detail to docs/"
