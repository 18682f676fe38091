"""The pages in a real headless Chromium (Debian's), against a real server process.

Every request the pages make is routed through the test: one to any host but 127.0.0.1 is
aborted and fails the test, and so does any script error or console error (a Content-Security-
Policy violation is one). Screenshots of each page go to a git-ignored folder printed at the end.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from collections.abc import Iterator
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

    def ask(self, endpoint: str, question: str, state: str | None = None) -> Any:
        """An answer straight from the job API, to compare the page with."""
        body = {"question": question} if state is None else {"question": question, "state": state}
        job_id = requests.post(f"{self.server.url}/api/{endpoint}", json=body, timeout=10).json()
        for _ in range(200):
            answer = self.api(f"/api/get_results/{job_id['job_id']}")
            if answer["status"] != "running":
                return answer["data"]
        raise AssertionError(f"{job_id} still running")

    def shoot(self, name: str) -> None:
        self.page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)

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


def _wait_for_map(visit: Visit, question: str) -> None:
    visit.page.wait_for_selector(f'#map[data-question="{question}"] path[aria-label]')


def _fills(visit: Visit) -> dict[str, str]:
    """State name -> fill colour of its shape, for every shape drawn with a non-empty outline."""
    return visit.page.eval_on_selector_all(
        "#map path[aria-roledescription='geoshape']",
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
    means = visit.ask("states_mean", first)
    best5 = visit.ask("best5", first)
    ranking = _ranking(visit)
    worst5 = visit.ask("worst5", first)
    assert [row[1] for row in ranking] == list(means)  # ascending: best is lowest for this one
    assert [row[1] for row in ranking if row[3] == "best 5"] == list(best5)
    assert [row[1] for row in ranking if row[3] == "worst 5"] == list(worst5)[::-1]
    for row in ranking:
        assert row[2] == f"{means[row[1]]:.2f}"
    assert visit.page.inner_text("#national-mean") == f"{means['National']:.2f}"
    overall = visit.ask("global_mean", first)["global_mean"]
    assert visit.page.inner_text("#global-mean") == f"{overall:.2f}"
    visit.page.hover("#map path[aria-label='Texas']")
    tooltip = visit.page.wait_for_selector("#vg-tooltip-element.visible")
    assert "Texas" in tooltip.inner_text()
    assert f"{means['Texas']:.2f}" in tooltip.inner_text()
    visit.shoot("dashboard")


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
    best = list(visit.ask("best5", MUSCLE))
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
        mine = visit.ask("state_mean", item["question"], "Ohio")["Ohio"]
        national = visit.ask("state_mean", item["question"], "National")["National"]
        assert row[1:4] == [f"{mine:.2f}", f"{national:.2f}", f"{mine - national:.2f}"]
    sections = visit.page.locator("#breakdown section")
    assert sections.count() == 5
    assert visit.page.locator("#breakdown svg").count() >= 5
    visit.shoot("state-ohio")


def test_downloads_have_the_api_numbers(visit: Visit) -> None:
    visit.goto(f"/?question={quote(OBESITY)}")
    _wait_for_map(visit, OBESITY)
    means = visit.ask("states_mean", OBESITY)
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
    assert compared[1]["state_mean"] == visit.ask("state_mean", OBESITY, "New York")["New York"]


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
        means = tab.ask("states_mean", MUSCLE)
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
