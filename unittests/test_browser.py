"""The pages in a real headless Chromium (Debian's), against a real server process.

Every request the pages make is routed through the test: one to any host but 127.0.0.1 is
aborted and fails the test, and so does any script error or console error (a Content-Security-
Policy violation is one). Screenshots of each page go to a git-ignored folder printed at the end;
with LSS_DOCS_SCREENSHOTS=1 the README's screenshots are written into docs/ as well.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
import requests

from unittests.conftest import MUSCLE, OBESITY, ROOT, SCREENSHOTS_KEY, SMALL_CSV, require_tool
from unittests.support.servers import Server, server_starter

CHROMIUM = os.environ.get("LSS_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
HAS_CHROMIUM = Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)
SCREENSHOTS = Path(os.environ.get("LSS_SCREENSHOTS", ROOT / "test-screenshots"))
#: Whether to write the README's screenshots (docs/*.png) too.
DOCS_SCREENSHOTS = os.environ.get("LSS_DOCS_SCREENSHOTS") == "1"
#: The group the pages ask for unless another is chosen, sent with every request they make.
TOTAL = {"stratification": {"category": "Total", "stratum": "Total"}}
#: A group whose values the bundled sample often calls unreliable (few respondents).
PACIFIC = {"category": "Race/Ethnicity", "stratum": "Hawaiian/Pacific Islander"}
#: The map's projection (albersUsa) draws the 50 states and DC; these are listed, not drawn.
NOT_ON_THE_MAP = {"National", "Guam", "Puerto Rico", "Virgin Islands"}
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--no-first-run",
    "--no-default-browser-check",
]

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module", autouse=True)
def _chromium() -> None:
    require_tool(
        HAS_CHROMIUM,
        f"no Chromium at {CHROMIUM}: the page tests need Debian's chromium package "
        "(apt-get install chromium; .ci/run installs it), Playwright cannot download one here",
    )


def _one_server(folder: Path, **overrides: str) -> Iterator[Server]:
    """One server for a module's tests, stopped afterwards (as start_server does per test)."""
    starter = server_starter(folder)
    yield next(starter)(**overrides)
    next(starter, None)  # on past the starter's yield, where it stops its servers


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the module, started as `make run` starts it, on the bundled data."""
    yield from _one_server(tmp_path_factory.mktemp("browser"))


@pytest.fixture(scope="module")
def browser(request: pytest.FixtureRequest) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        # launch() gives each browser a fresh temporary profile (user-data dir).
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS
        )
        yield chromium
        chromium.close()
    request.config.stash[SCREENSHOTS_KEY] = SCREENSHOTS


class Visit:
    """A browser tab on the server that fails the test on foreign requests or page errors."""

    def __init__(self, browser: Any, server: Server, width: int = 1280, height: int = 900) -> None:
        self.server = server
        self.foreign: list[str] = []
        self.errors: list[str] = []
        self.context = browser.new_context(
            viewport={"width": width, "height": height}, accept_downloads=True
        )
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.set_default_timeout(20_000)
        self.page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        self.page.on(
            "console",
            lambda message: (
                self.errors.append(f"console {message.type}: {message.text}")
                if message.type == "error"
                else None
            ),
        )

    def _route(self, route: Any) -> None:
        host = urlsplit(route.request.url).hostname
        if host == "127.0.0.1":
            route.continue_()
        else:
            self.foreign.append(route.request.url)
            route.abort()

    def goto(self, path: str) -> Any:
        return self.page.goto(self.server.url + path)

    def api(self, path: str) -> Any:
        return requests.get(self.server.url + path, timeout=10).json()

    def ask(
        self,
        endpoint: str,
        question: str,
        state: str | None = None,
        fields: dict[str, Any] | None = None,
    ) -> Any:
        """An answer straight from the job API, to compare the page with (`fields`: optional)."""
        body = {"question": question} if state is None else {"question": question, "state": state}
        body.update(fields or {})
        job_id = requests.post(f"{self.server.url}/api/{endpoint}", json=body, timeout=10).json()
        for _ in range(200):
            answer = self.api(f"/api/get_results/{job_id['job_id']}")
            if answer["status"] != "running":
                return answer["data"]
        raise AssertionError(f"{job_id} still running")

    def shoot(self, name: str, selector: str | None = None, docs: bool = False) -> None:
        """A screenshot of the page (or of one element); `docs`: one of the README's too."""
        paths = [SCREENSHOTS / f"{name}.png"] + (
            [ROOT / "docs" / f"{name}.png"] if docs and DOCS_SCREENSHOTS else []
        )
        for path in paths:
            if selector is None:
                self.page.screenshot(path=path, full_page=True)
            else:
                self.page.locator(selector).screenshot(path=path)

    def download(self, button: Any) -> str:
        with self.page.expect_download() as info:
            button.click()
        return Path(info.value.path()).read_text()

    def close(self) -> None:
        self.context.close()
        assert self.foreign == [], "requests to other hosts"
        assert self.errors == []


@pytest.fixture
def visit(browser: Any, server: Server) -> Iterator[Visit]:
    tab = Visit(browser, server)
    yield tab
    tab.close()


def _two(value: float) -> str:
    """A number with two decimals as the pages show it: JavaScript's toFixed(2) rounds the exact
    binary value half up (34.625 is 34.63), where Python's format rounds half to even."""
    return str(Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _wait_for_map(visit: Visit, question: str) -> None:
    visit.page.wait_for_selector(f'#map[data-question="{question}"] path[aria-label]')


def _fills(visit: Visit) -> dict[str, str]:
    """State name -> fill colour of its shape, for every shape drawn with a non-empty outline."""
    return visit.page.eval_on_selector_all(
        "#map g.role-mark:not(.unreliable_marks) path[aria-roledescription='geoshape']",
        "paths => Object.fromEntries(paths.filter(p => (p.getAttribute('d') || '').length > 1)"
        ".map(p => [p.getAttribute('aria-label'), p.getAttribute('fill')]))",
    )


def _ranking(visit: Visit) -> list[list[str]]:
    return visit.page.eval_on_selector_all(
        "#ranking tbody tr",
        "rows => rows.map(r => [r.cells[0].innerText, r.cells[1].querySelector('a').innerText,"
        " r.cells[2].innerText, r.cells[3].innerText.trim()])",
    )


def test_map_draws_a_shape_per_state_and_ranks_every_location(visit: Visit) -> None:
    locations = visit.api("/api/states")["states"]
    visit.goto("/")
    first = visit.api("/api/questions")["questions"][0]["question"]
    _wait_for_map(visit, first)
    fills = _fills(visit)
    assert set(fills) == set(locations) - NOT_ON_THE_MAP
    assert len(set(fills.values())) > 10, "the map is coloured by value"
    means = visit.ask("states_mean", first, fields=TOTAL)
    best5 = visit.ask("best5", first, fields=TOTAL)
    ranking = _ranking(visit)
    worst5 = visit.ask("worst5", first, fields=TOTAL)
    assert [row[1] for row in ranking] == list(means)  # ascending: best is lowest for this one
    assert [row[1] for row in ranking if row[3] == "best 5"] == list(best5)
    assert [row[1] for row in ranking if row[3] == "worst 5"] == list(worst5)[::-1]
    for row in ranking:
        assert row[2] == _two(means[row[1]])
    assert visit.page.inner_text("#national-mean") == _two(means["National"])
    overall = visit.ask("global_mean", first, fields=TOTAL)["global_mean"]
    assert visit.page.inner_text("#global-mean") == _two(overall)
    visit.page.hover("#map path[aria-label='Texas']")
    tooltip = visit.page.wait_for_selector("#vg-tooltip-element.visible")
    assert "Texas" in tooltip.inner_text()
    assert _two(means["Texas"]) in tooltip.inner_text()
    visit.shoot("dashboard", "main", docs=True)


def test_changing_the_question_changes_map_and_ranking(visit: Visit) -> None:
    visit.goto(f"/?question={quote(OBESITY)}")
    _wait_for_map(visit, OBESITY)
    before, ranking_before = _fills(visit), _ranking(visit)
    visit.page.select_option("#question", MUSCLE)
    _wait_for_map(visit, MUSCLE)
    after, ranking_after = _fills(visit), _ranking(visit)
    assert set(after) == set(before)
    assert after != before
    assert ranking_after != ranking_before
    best = list(visit.ask("best5", MUSCLE, fields=TOTAL))
    assert [row[1] for row in ranking_after[:5]] == best
    assert MUSCLE in visit.page.url.replace("+", " ") or quote(MUSCLE) in visit.page.url


def test_keyboard_reaches_and_changes_the_question(visit: Visit) -> None:
    visit.goto("/")
    first = visit.api("/api/questions")["questions"][0]["question"]
    _wait_for_map(visit, first)
    for _ in range(10):
        visit.page.keyboard.press("Tab")
        if visit.page.evaluate("document.activeElement.id") == "question":
            break
    else:
        pytest.fail("Tab never reached the question")
    visit.page.keyboard.press("ArrowDown")
    second = visit.api("/api/questions")["questions"][1]["question"]
    _wait_for_map(visit, second)
    link = visit.page.locator("#ranking a", has_text="Ohio")
    link.focus()
    visit.page.keyboard.press("Enter")
    visit.page.wait_for_url("**/states/Ohio?**")


def _comparison(page: Any, questions: int) -> list[list[str]]:
    """The state page's comparison table, a row per question, once it is drawn: it waits for
    all of its jobs, which may finish after the breakdown's."""
    page.wait_for_function(
        "count => document.querySelectorAll('#compare tbody tr').length === count", arg=questions
    )
    return page.eval_on_selector_all(
        "#compare tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.innerText.trim()))"
    )


def test_clicking_a_state_opens_its_page(visit: Visit) -> None:
    visit.goto("/")
    first = visit.api("/api/questions")["questions"][0]["question"]
    _wait_for_map(visit, first)
    visit.page.click("#map path[aria-label='Ohio']")
    visit.page.wait_for_url("**/states/Ohio?**")
    assert visit.page.inner_text("h1") == "Ohio"
    visit.page.wait_for_selector(f'#breakdown[data-question="{first}"]')
    questions = visit.api("/api/questions")["questions"]
    rows = _comparison(visit.page, len(questions))
    for row, item in zip(rows, questions, strict=True):
        mine = visit.ask("state_mean", item["question"], "Ohio", TOTAL)["Ohio"]
        national = visit.ask("state_mean", item["question"], "National", TOTAL)["National"]
        assert row[1:4] == [_two(mine), _two(national), _two(mine - national)]
    sections = visit.page.locator("#breakdown section")
    assert sections.count() == 5
    assert visit.page.locator("#breakdown svg").count() >= 5
    visit.shoot("state-ohio")


def test_downloads_have_the_api_numbers(visit: Visit) -> None:
    visit.goto(f"/?question={quote(OBESITY)}")
    _wait_for_map(visit, OBESITY)
    means = visit.ask("states_mean", OBESITY, fields=TOTAL)
    text = visit.download(visit.page.get_by_role("button", name="Download the ranking as CSV"))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {row["location"]: float(row["mean"]) for row in rows} == means
    assert [row["rank"] for row in rows] == [str(n) for n in range(1, len(means) + 1)]
    text = visit.download(visit.page.get_by_role("button", name="Download the ranking as JSON"))
    assert {row["location"]: row["mean"] for row in json.loads(text)} == means

    visit.goto(f"/states/New%20York?question={quote(OBESITY)}")
    visit.page.wait_for_selector(f'#breakdown[data-question="{OBESITY}"]')
    breakdown = visit.ask("state_mean_by_category", OBESITY, "New York")["New York"]
    button = visit.page.get_by_role("button", name="Download Income: Obesity as CSV")
    rows = list(csv.DictReader(io.StringIO(visit.download(button))))
    expected = {key: value for key, value in breakdown.items() if "'Income'" in key}
    assert {str(("Income", row["stratum"])): float(row["state_mean"]) for row in rows} == expected
    button = visit.page.get_by_role("button", name="Download the comparison as JSON")
    compared = json.loads(visit.download(button))
    assert compared[1]["question"] == OBESITY
    assert (
        compared[1]["state_mean"] == visit.ask("state_mean", OBESITY, "New York", TOTAL)["New York"]
    )


def test_job_monitor_updates_after_new_jobs(visit: Visit) -> None:
    visit.goto("/jobs")
    visit.page.wait_for_selector("#jobs tbody tr")
    visit.page.evaluate("window.stillTheSamePage = true")
    done_before = int(visit.page.inner_text("#count-done"))
    job_ids = [
        requests.post(
            f"{visit.server.url}/api/state_mean",
            json={"question": MUSCLE, "state": state},
            timeout=10,
        ).json()["job_id"]
        for state in ("Utah", "Vermont", "Wyoming")
    ]
    newest = job_ids[-1]
    visit.page.wait_for_selector(f"#jobs tbody tr:first-child >> text={newest}", timeout=15_000)
    visit.page.wait_for_function(
        f"Number(document.getElementById('count-done').textContent) >= {done_before + 3}"
    )
    first = visit.page.eval_on_selector(
        "#jobs tbody tr:first-child", "r => [...r.cells].map(c => c.innerText.trim())"
    )
    assert visit.page.evaluate("window.stillTheSamePage") is True  # updated in place, no reload
    assert first[:2] == [newest, "state_mean"]
    assert first[3] == "Wyoming"
    recent = visit.api("/api/jobs/recent?limit=1")["jobs"][0]
    assert recent["job_id"] == newest
    assert first[5] == recent["accepted"].replace("T", " ").replace("Z", "")
    visit.shoot("jobs")


def test_docs_page_shows_every_operation(visit: Visit) -> None:
    document = visit.api("/api/openapi.json")
    operations = sum(len(item) for item in document["paths"].values())
    visit.goto("/api/docs")
    visit.page.wait_for_selector(".opblock")
    assert visit.page.locator(".opblock").count() == operations
    visit.shoot("api-docs")


def test_pages_fit_a_narrow_screen(browser: Any, server: Server) -> None:
    tab = Visit(browser, server, width=375, height=800)
    try:
        for path, name in (("/", "dashboard-narrow"), ("/states/Ohio", "state-narrow")):
            tab.goto(path)
            tab.page.wait_for_selector(".chart svg")
            overflow = tab.page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at 375px"
            tab.shoot(name)
    finally:
        tab.close()


def test_a_request_to_another_host_is_caught(visit: Visit) -> None:
    """The guard every test relies on: a request leaving 127.0.0.1 is stopped and recorded."""
    visit.goto("/api/health")  # a JSON answer: no page policy stands in the way
    with visit.page.expect_event("requestfailed"):
        visit.page.evaluate("fetch('http://192.0.2.1/x').catch(() => null)")
    assert visit.foreign == ["http://192.0.2.1/x"]
    visit.foreign.clear()
    visit.errors.clear()


def test_pages_forbid_other_hosts_themselves(visit: Visit) -> None:
    """The pages' Content-Security-Policy makes the browser refuse other hosts before asking."""
    visit.goto("/api/docs")
    visit.page.wait_for_selector(".opblock")
    with visit.page.expect_console_message(
        lambda message: "Content Security Policy" in message.text
    ):
        visit.page.evaluate("fetch('http://192.0.2.1/x').catch(() => null)")
    assert visit.foreign == []
    visit.errors.clear()


def test_unknown_state_page_is_a_404(visit: Visit) -> None:
    response = visit.goto("/states/Atlantis")
    assert response.status == 404
    assert "No such location" in visit.page.inner_text("h1")
    # Chromium logs the page's own 404 status as a console error; that one is expected.
    visit.errors[:] = [error for error in visit.errors if "status of 404" not in error]


@pytest.fixture(scope="module")
def small_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server on the hand-checked fixture, where Texas has no value for MUSCLE."""
    yield from _one_server(tmp_path_factory.mktemp("browser-small"), LSS_DATA_FILE=str(SMALL_CSV))


def test_a_location_without_a_mean_is_shown_as_no_data(browser: Any, small_server: Server) -> None:
    tab = Visit(browser, small_server)
    try:
        tab.goto(f"/?question={quote(MUSCLE)}")
        tab.page.wait_for_selector(f'#map[data-question="{MUSCLE}"] path[aria-label]')
        means = tab.ask("states_mean", MUSCLE, fields=TOTAL)
        assert "Texas" not in means
        ranking = _ranking(tab)
        assert [row[1] for row in ranking] == [*sorted(means, key=means.get, reverse=True), "Texas"]
        assert ranking[-1][1:3] == ["Texas", "no data"]
        fills = _fills(tab)
        assert fills["Texas"] == "#cccccc"
        assert all(fills[name] != "#cccccc" for name in ("Alabama", "Ohio", "Wyoming"))
        tab.shoot("dashboard-missing-value")
        tab.goto(f"/states/Texas?question={quote(OBESITY)}")
        tab.page.wait_for_selector(f'#breakdown[data-question="{OBESITY}"]')
        rows = _comparison(tab.page, len(tab.api("/api/questions")["questions"]))
        muscle = next(row for row in rows if row[0] == "Muscle-strengthening")
        assert muscle[1] == "no data"
        # The questions without data answer 400, which Chromium logs as a failed resource.
        tab.errors[:] = [error for error in tab.errors if "status of 400" not in error]
    finally:
        tab.close()


# -- SPEC §13 on the pages: trends, the comparison with the nation, disparities, a selection --


def _posted(visit: Visit, endpoint: str) -> list[dict[str, Any]]:
    """Start recording the bodies the page POSTs to `endpoint`; the list fills as it does."""
    bodies: list[dict[str, Any]] = []

    def record(request: Any) -> None:
        if request.method == "POST" and urlsplit(request.url).path == f"/api/{endpoint}":
            bodies.append(json.loads(request.post_data))

    visit.page.on("request", record)
    return bodies


def _trend_section(visit: Visit, question: str) -> Any:
    return visit.page.locator(f'#trends section[data-question="{question}"][data-done]')


def _wait_for_trends(visit: Visit, years: str | None = None) -> None:
    selector = "#trends[data-years]" if years is None else f'#trends[data-years="{years}"]'
    visit.page.wait_for_selector(selector)


def _table(locator: Any) -> list[list[str]]:
    return locator.locator("tbody tr").evaluate_all(
        "rows => rows.map(r => [...r.cells].map(c => c.innerText.trim()))"
    )


def _interval(low: float, high: float) -> str:
    return f"{_two(low)} to {_two(high)}"


def test_state_page_draws_each_trend_with_its_band_and_says_its_direction(visit: Visit) -> None:
    visit.goto(f"/states/Ohio?question={quote(OBESITY)}")
    _wait_for_trends(visit)
    questions = visit.api("/api/questions")["questions"]
    assert visit.page.locator("#trends section").count() == len(questions)
    for item in questions:
        answer = visit.ask("state_trend", item["question"], "Ohio", TOTAL)
        section = _trend_section(visit, item["question"])
        slope = answer["slope"]
        sentence = section.locator(".trend-sentence").inner_text()
        assert sentence.startswith(f"{slope['trend']}: "), sentence
        sign = "+" if slope["per_year"] >= 0 else "-"
        assert f"{sign}{_two(abs(slope['per_year']))} points a year" in sentence
        assert f"(95% interval {_two(slope['low'])} to {_two(slope['high'])})" in sentence
        # One band (the interval), one line, a point per year of the series.
        assert section.locator("g.band_marks path").count() == 1
        assert section.locator("g.line_marks path").count() == 1
        assert section.locator("g.points_marks path").count() == len(answer["series"])
        rows = _table(section)
        assert [row[:4] for row in rows] == [
            [
                str(point["year"]),
                _two(point["value"]),
                _interval(point["low"], point["high"]),
                str(point["sample_size"]),
            ]
            for point in answer["series"]
        ]
    words = {
        visit.page.locator(".trend-sentence").nth(i).get_attribute("data-trend") for i in range(9)
    }
    assert len(words) > 1, "the sample has rising, falling and stable trends"
    visit.shoot("state-trend", f'#trends section[data-question="{OBESITY}"]', docs=True)


def test_unreliable_years_are_hollow_and_a_missing_slope_says_why(visit: Visit) -> None:
    group = f"category={quote(PACIFIC['category'], safe='')}&stratum={quote(PACIFIC['stratum'])}"
    visit.goto(f"/states/Hawaii?{group}")
    _wait_for_trends(visit)
    answer = visit.ask("state_trend", OBESITY, "Hawaii", {"stratification": PACIFIC})
    unreliable = [point for point in answer["series"] if not point["reliable"]]
    assert unreliable, "the sample has an unreliable year here"
    section = _trend_section(visit, OBESITY)
    fills = section.locator("g.points_marks path").evaluate_all(
        "paths => paths.map(p => [p.getAttribute('aria-label'), p.getAttribute('fill')])"
    )
    assert len(fills) == len(answer["series"])
    for (label, fill), point in zip(fills, answer["series"], strict=True):
        assert label.startswith(f"{point['year']}:")
        assert (fill == "#ffffff") == (not point["reliable"]), (label, fill)
    assert answer["slope"] is None
    sentence = section.locator(".trend-sentence").inner_text()
    assert sentence == f"No trend: {answer['slope_reason']}."
    marked = [row[0] for row in _table(section) if row[4] == "unreliable"]
    assert marked == [str(point["year"]) for point in unreliable]
    assert "hollow points unreliable" in section.locator("figcaption").inner_text()


def test_a_year_range_changes_the_requests_and_the_numbers(visit: Visit) -> None:
    visit.goto(f"/states/Ohio?question={quote(OBESITY)}")
    _wait_for_trends(visit, "2011-2022")
    visit.page.wait_for_selector('#compare[data-years="2011-2022"]')
    visit.page.select_option("#year-from", "2015")
    _wait_for_trends(visit, "2015-2022")
    visit.page.wait_for_selector('#compare[data-years="2015-2022"]')
    trends, means = _posted(visit, "state_trend"), _posted(visit, "state_mean")
    visit.page.select_option("#year-to", "2019")
    _wait_for_trends(visit, "2015-2019")
    visit.page.wait_for_selector('#compare[data-years="2015-2019"]')
    fields = {"years": [2015, 2019], **TOTAL}
    assert trends and all(body["years"] == [2015, 2019] for body in trends)
    assert all(body["stratification"] == TOTAL["stratification"] for body in trends + means)
    assert {body["question"] for body in means if body["years"] == [2015, 2019]} == {
        item["question"] for item in visit.api("/api/questions")["questions"]
    }
    answer = visit.ask("state_trend", OBESITY, "Ohio", fields)
    assert [row[0] for row in _table(_trend_section(visit, OBESITY))] == [
        str(point["year"]) for point in answer["series"]
    ]
    assert [point["year"] for point in answer["series"]] == [2015, 2016, 2017, 2018, 2019]
    rows = _comparison(visit.page, 9)
    obesity = visit.ask("state_mean", OBESITY, "Ohio", fields)["Ohio"]
    assert rows[1][1] == _two(obesity)
    assert obesity != visit.ask("state_mean", OBESITY, "Ohio", TOTAL)["Ohio"]
    assert "from=2015" in visit.page.url and "to=2019" in visit.page.url
    # The address keeps the choice: a new visit to it shows the same range.
    visit.goto(urlsplit(visit.page.url).path + "?" + urlsplit(visit.page.url).query)
    _wait_for_trends(visit, "2015-2019")
    assert visit.page.input_value("#year-from") == "2015"


def _legend(visit: Visit) -> dict[str, str]:
    """The map legend's labels -> the colour of their symbol, as drawn (in the same order)."""
    fills = visit.page.eval_on_selector_all(
        "#map .role-legend-symbol path", "paths => paths.map(p => p.getAttribute('fill'))"
    )
    labels = visit.page.eval_on_selector_all(
        "#map .role-legend-label text", "texts => texts.map(t => t.textContent)"
    )
    return dict(zip(labels, fills, strict=True))


def test_the_map_coloured_by_the_comparison_with_the_nation(visit: Visit) -> None:
    visit.goto(f"/?question={quote(OBESITY)}")
    _wait_for_map(visit, OBESITY)
    compared = _posted(visit, "compare_to_national")
    visit.page.select_option("#colour", "national")
    visit.page.wait_for_selector('#map[data-mode="national"]')
    assert compared and compared[-1]["stratification"] == TOTAL["stratification"]
    assert "colour=national" in visit.page.url
    answer = visit.ask("compare_to_national", OBESITY, fields=TOTAL)
    legend = _legend(visit)
    # Obesity: lowest is best, so higher than the nation is worse.
    assert set(legend) == {
        "higher: worse than the nation",
        "similar to the nation",
        "lower: better than the nation",
    }
    assert len(set(legend.values())) == 3
    colour = {label.split(":")[0].split(" ")[0]: fill for label, fill in legend.items()}
    fills = _fills(visit)
    versus = {name: item["versus"] for name, item in answer["states"].items() if name in fills}
    assert set(versus.values()) == {"higher", "similar", "lower"}
    assert fills == {name: colour[word] for name, word in versus.items()}
    rows = _table(visit.page.locator("#versus"))
    assert [row[0].split(" not on")[0].strip() for row in rows] == list(answer["states"])
    for row in rows:
        item = answer["states"][row[0].split("\n")[0].split(" not on")[0].strip()]
        assert row[1] == _two(item["value"])
        assert row[4].startswith(item["versus"])
    nation = answer["national"]
    pooled = f"{_two(nation['value'])} ({_interval(nation['low'], nation['high'])})"
    assert visit.page.inner_text("#national-pooled") == pooled
    visit.shoot("dashboard-national", "main", docs=True)

    visit.page.select_option("#question", MUSCLE)  # highest is best: higher is better
    _wait_for_map(visit, MUSCLE)
    assert "higher: better than the nation" in _legend(visit)


def test_unreliable_values_are_outlined_on_the_map_and_marked(visit: Visit) -> None:
    group = f"category={quote(PACIFIC['category'], safe='')}&stratum={quote(PACIFIC['stratum'])}"
    visit.goto(f"/?colour=national&question={quote(OBESITY)}&{group}")
    visit.page.wait_for_selector(
        '#map[data-mode="national"][data-group="Race/Ethnicity / Hawaiian/Pacific Islander"]'
    )
    answer = visit.ask("compare_to_national", OBESITY, fields={"stratification": PACIFIC})
    fills = _fills(visit)
    unreliable = {
        name
        for name, item in answer["states"].items()
        if item["reliable"] is False and item.get("value") is not None
    }
    assert unreliable
    outlined = visit.page.eval_on_selector_all(
        "#map g.unreliable_marks path",
        "paths => paths.map(p => [p.getAttribute('aria-label'),"
        " p.getAttribute('stroke-dasharray')])",
    )
    assert {label.removesuffix(": unreliable") for label, _ in outlined} == unreliable & set(fills)
    assert all(dash for _, dash in outlined)
    rows = {
        row[0].split(" not on")[0].strip(): row for row in _table(visit.page.locator("#versus"))
    }
    marked = {name for name, row in rows.items() if row[6] == "unreliable"}
    assert marked == {name for name, item in answer["states"].items() if item["reliable"] is False}


def test_new_tables_download_the_api_numbers(visit: Visit) -> None:
    visit.goto(f"/?colour=national&question={quote(OBESITY)}&from=2013&to=2020")
    visit.page.wait_for_selector('#map[data-mode="national"][data-years="2013-2020"]')
    fields = {"years": [2013, 2020], **TOTAL}
    states = visit.ask("compare_to_national", OBESITY, fields=fields)["states"]
    name = "Download the comparison with the nation as CSV"
    rows = list(
        csv.DictReader(io.StringIO(visit.download(visit.page.get_by_role("button", name=name))))
    )
    assert [row["location"] for row in rows] == list(states)
    for row in rows:
        item = states[row["location"]]
        for key in ("value", "low", "high", "z", "p", "p_adjusted"):
            assert float(row[key]) == item[key], key
        assert (row["versus"], row["reliable"]) == (item["versus"], str(item["reliable"]).lower())
    name = "Download the comparison with the nation as JSON"
    rows = json.loads(visit.download(visit.page.get_by_role("button", name=name)))
    assert {row["location"]: row["p_adjusted"] for row in rows} == {
        location: item["p_adjusted"] for location, item in states.items()
    }

    visit.goto(f"/states/Ohio?question={quote(OBESITY)}&from=2013&to=2020&by=Income")
    _wait_for_trends(visit, "2013-2020")
    series = visit.ask("state_trend", OBESITY, "Ohio", fields)["series"]
    button = visit.page.get_by_role("button", name="Download the trend of Obesity as CSV")
    rows = list(csv.DictReader(io.StringIO(visit.download(button))))
    assert [
        (
            int(row["year"]),
            float(row["value"]),
            float(row["low"]),
            float(row["high"]),
            int(row["sample_size"]),
        )
        for row in rows
    ] == [(p["year"], p["value"], p["low"], p["high"], p["sample_size"]) for p in series]
    button = visit.page.get_by_role("button", name="Download the trend of Obesity as JSON")
    assert [
        {key: row[key] for key in ("year", "value", "low", "high", "sample_size", "reliable")}
        for row in json.loads(visit.download(button))
    ] == [
        {key: p[key] for key in ("year", "value", "low", "high", "sample_size", "reliable")}
        for p in series
    ]

    visit.page.wait_for_selector(f'#disparities[data-question="{OBESITY}"][data-category="Income"]')
    answer = visit.ask(
        "disparities", OBESITY, "Ohio", {"years": [2013, 2020], "category": "Income"}
    )
    button = visit.page.get_by_role("button", name="Download the disparities by Income as JSON")
    rows = json.loads(visit.download(button))
    strata = [item for item in answer["strata"] if item["value"] is not None]
    assert [row["stratum"] for row in rows] == [item["stratum"] for item in strata]
    for row, item in zip(rows, strata, strict=True):
        for key in ("value", "low", "high", "gap", "gap_low", "gap_high", "ratio"):
            assert row[key] == item[key], key
        assert row["reference"] == (item["stratum"] == answer["reference"])
    button = visit.page.get_by_role("button", name="Download the disparities by Income as CSV")
    rows = list(csv.DictReader(io.StringIO(visit.download(button))))
    assert [float(row["gap"]) for row in rows] == [item["gap"] for item in strata]


def test_disparities_draw_a_bar_and_a_whisker_per_stratum(visit: Visit) -> None:
    visit.goto(f"/states/Ohio?question={quote(OBESITY)}")
    visit.page.wait_for_selector("#disparities[data-category] svg")
    visit.page.select_option("#disparity-category", "Education")
    visit.page.wait_for_selector('#disparities[data-category="Education"] svg')
    answer = visit.ask(
        "disparities", OBESITY, "Ohio", {"category": "Education", "years": [2011, 2022]}
    )
    strata = [item for item in answer["strata"] if item["value"] is not None]
    section = visit.page.locator("#disparities")
    assert section.locator("g.bars_marks path").count() == len(strata)
    assert section.locator("g.whiskers_marks line, g.whiskers_marks path").count() == len(strata)
    rows = _table(section)
    assert [row[0].removesuffix(" reference").strip() for row in rows] == [
        i["stratum"] for i in strata
    ]
    reference = [row[0] for row in rows if row[0].endswith("reference")]
    assert reference == [f"{answer['reference']} reference"]
    for row, item in zip(rows, strata, strict=True):
        assert row[3] == _two(item["gap"])
        assert row[4] == _interval(item["gap_low"], item["gap_high"])
    assert "by=Education" in visit.page.url
    visit.shoot("state-disparities", "#disparities", docs=True)


def test_keyboard_chooses_the_colouring_and_the_years(visit: Visit) -> None:
    visit.goto(f"/?question={quote(OBESITY)}")
    _wait_for_map(visit, OBESITY)
    reached = set()
    for _ in range(20):
        visit.page.keyboard.press("Tab")
        reached.add(visit.page.evaluate("document.activeElement.id"))
        if visit.page.evaluate("document.activeElement.id") == "colour":
            visit.page.keyboard.press("ArrowDown")
            visit.page.wait_for_selector('#map[data-mode="national"]')
            break
    else:
        pytest.fail(f"Tab never reached the colouring (reached {reached})")
    visit.page.keyboard.press("Tab")
    assert visit.page.evaluate("document.activeElement.id") == "year-from"
    visit.page.keyboard.press("ArrowDown")
    visit.page.wait_for_selector('#map[data-mode="national"][data-years="2012-2022"]')


def test_new_views_fit_a_narrow_screen(browser: Any, server: Server) -> None:
    tab = Visit(browser, server, width=375, height=800)
    try:
        tab.goto(f"/?colour=national&question={quote(OBESITY)}")
        tab.page.wait_for_selector('#map[data-mode="national"] svg')
        paths = [f"/?colour=national&question={quote(OBESITY)}", "/states/Ohio"]
        for path in paths:
            tab.goto(path)
            tab.page.wait_for_selector(".chart svg")
            if path.startswith("/states"):
                _wait_for_trends(tab)
                tab.page.wait_for_selector("#disparities[data-category] svg")
            overflow = tab.page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at 375px"
    finally:
        tab.close()
