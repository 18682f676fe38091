"""Driving the pages in a real headless Chromium (Debian's) for the browser tests.

`Visit` is a tab on a real server that fails its test on any request to another host, any script
error and any console error (a Content-Security-Policy violation is one). The helpers read what a
person sees: tables as text, numbers as the pages round them, the banner, axe-core's findings.
Every wait is for a condition the page sets, never a sleep.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from unittests.conftest import ROOT
from unittests.support.servers import Server

CHROMIUM = os.environ.get("LSS_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
HAS_CHROMIUM = Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)
SCREENSHOTS = Path(os.environ.get("LSS_SCREENSHOTS", ROOT / "test-screenshots"))
#: Whether to write the README's screenshots (docs/*.png) too.
DOCS_SCREENSHOTS = os.environ.get("LSS_DOCS_SCREENSHOTS") == "1"
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
#: The group the pages ask for unless another is chosen, sent with every request they make.
TOTAL = {"category": "Total", "stratum": "Total"}
#: The locations the map's projection (albersUsa) does not draw: the nation and the territories.
NOT_ON_THE_MAP = {"National", "Guam", "Puerto Rico", "Virgin Islands"}
TERRITORIES = NOT_ON_THE_MAP - {"National"}
#: A page is slow on a loaded machine: every wait may take this long (ms).
TIMEOUT_MS = 60_000
#: The dash the pages put between two years or two limits (an en dash).
DASH = "\u2013"
#: The axe-core the tests add to a page (vendored; no page loads it by itself).
AXE = "/pages/static/vendor/axe-core/axe.min.js"


class Visit:
    """A browser tab on the server that fails the test on foreign requests or page errors."""

    def __init__(
        self, browser: Any, server: Server, width: int = 1280, height: int = 800, **options: Any
    ) -> None:
        self.server = server
        self.foreign: list[str] = []
        self.errors: list[str] = []
        self.context = browser.new_context(
            viewport={"width": width, "height": height}, accept_downloads=True, **options
        )
        self.context.route("**/*", self._route)
        # A script that fails to load or run (a module's syntax error) marks the page failed, so
        # that a wait for it to be drawn ends at once rather than at its timeout.
        self.context.add_init_script(
            "addEventListener('error', () => { document.documentElement.dataset.failed = 'true' })"
        )
        self.page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
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

    def ready(self, path: str) -> None:
        """Open `path` and wait until the page says everything it asked for is drawn."""
        self.goto(path)
        self.wait_ready()

    def wait_ready(self) -> None:
        """Wait until the page has drawn everything it asked for (or failed, which fails)."""
        self.page.wait_for_selector("body[data-ready], html[data-failed]", state="attached")
        if self.page.get_attribute("body", "data-ready") != "true":
            status = self.page.inner_text("#status")
            raise AssertionError(f"the page failed: {status}; {self.errors}")

    def api(self, path: str) -> Any:
        return requests.get(self.server.url + path, timeout=30).json()

    def ask(
        self,
        endpoint: str,
        question: str,
        state: str | None = None,
        fields: dict[str, Any] | None = None,
    ) -> Any:
        """An answer straight from the job API, to compare the page with (`fields`: optional)."""
        return ask(self.server, endpoint, question, state, fields)

    def ask_or_none(
        self,
        endpoint: str,
        question: str,
        state: str | None = None,
        fields: dict[str, Any] | None = None,
    ) -> Any:
        """As ask, but None where the service refuses the body (a 400: no rows selected)."""
        try:
            return self.ask(endpoint, question, state, fields)
        except Refused:
            return None

    def record_posts(self) -> list[tuple[str, dict[str, Any]]]:
        """From now on, every (endpoint, body) the page POSTs, in order."""
        posted: list[tuple[str, dict[str, Any]]] = []

        def record(request: Any) -> None:
            path = urlsplit(request.url).path
            if request.method == "POST" and path.startswith("/api/"):
                posted.append((path.removeprefix("/api/"), json.loads(request.post_data)))

        self.page.on("request", record)
        return posted

    def shoot(self, name: str, selector: str | None = None, docs: bool = False) -> None:
        """A screenshot of the page (or of one element); `docs`: one of the README's too."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        paths = [SCREENSHOTS / f"{name}.png"] + (
            [ROOT / "docs" / f"{name}.png"] if docs and DOCS_SCREENSHOTS else []
        )
        for path in paths:
            if selector is None:
                self.page.screenshot(path=path, full_page=True)
            else:
                self.page.locator(selector).first.screenshot(path=path)

    def download(self, button: Any) -> Path:
        with self.page.expect_download() as info:
            button.click()
        return Path(info.value.path())

    def close(self) -> None:
        self.context.close()
        assert self.foreign == [], "requests to other hosts"
        assert self.errors == []


class Refused(AssertionError):
    """The service refused a question with a 400 (its reason is the message)."""


def ask(
    server: Server,
    endpoint: str,
    question: str,
    state: str | None = None,
    fields: dict[str, Any] | None = None,
) -> Any:
    """The `data` of a done job, asked as the pages ask (a held POST, then polls)."""
    body: dict[str, Any] = {"question": question}
    if state is not None:
        body["state"] = state
    body.update(fields or {})
    response = requests.post(
        f"{server.url}/api/{endpoint}", json=body, headers={"Prefer": "wait=20"}, timeout=30
    )
    if response.status_code == 400:
        raise Refused(response.json()["reason"])
    answer = response.json()
    for _ in range(600):
        if answer.get("status") == "done":
            return answer["data"]
        assert answer.get("status") != "error", answer
        answer = requests.get(f"{server.url}/api/get_results/{answer['job_id']}", timeout=30).json()
    raise AssertionError(f"{body} still running")


def one(value: float) -> str:
    """A number as the pages show it: JavaScript's toFixed(1) rounds the exact binary value half
    up (0.25 is 0.3), where Python's format rounds half to even."""
    return fixed(value, 1)


def fixed(value: float, digits: int) -> str:
    """JavaScript's toFixed(digits) (half up on the exact binary value)."""
    return str(Decimal(value).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def signed(value: float, digits: int = 1) -> str:
    """A signed number as the pages write it (+1.2, a minus sign before 0.4; 0.0 unsigned)."""
    size = fixed(abs(value), digits)
    if Decimal(size) == 0:
        return size
    return ("+" if value > 0 else "\u2212") + size


def rounded(value: float) -> float:
    """A number as the pages' CSV files write it: JavaScript's Math.round(x * 10) / 10."""
    return math.floor(value * 10 + 0.5) / 10


def interval(low: float, high: float) -> str:
    return f"{one(low)}{DASH}{one(high)}"


def respondents(count: int) -> str:
    return f"{count:,}"


def years(values: list[int]) -> str:
    """Years as the pages write them: runs joined by an en dash (2011 to 2013, 2016)."""
    runs: list[list[int]] = []
    for year in values:
        if runs and runs[-1][1] == year - 1:
            runs[-1][1] = year
        else:
            runs.append([year, year])
    return ", ".join(str(a) if a == b else f"{a}{DASH}{b}" for a, b in runs) or "none"


def table(locator: Any) -> list[list[str]]:
    """A table's body as text, a list of cells per row (the text each cell has)."""
    return locator.locator("tbody tr").evaluate_all(
        "rows => rows.map(r => [...r.cells].map(c => c.textContent.replace(/\\s+/g, ' ').trim()))"
    )


def axe(visit: Visit) -> list[str]:
    """axe-core's serious and critical violations of the page as it is now (default rules),
    each as "rule: where"; axe is added as a script from the server, under the page's policy."""
    visit.page.add_script_tag(url=visit.server.url + AXE)
    return visit.page.evaluate(
        """axe.run().then(result => result.violations
            .filter(v => v.impact === 'serious' || v.impact === 'critical')
            .flatMap(v => v.nodes.map(n =>
                `${v.id}: ${n.target.join(' ')} (${n.html.slice(0, 80)})`)))"""
    )


def visible_text(visit: Visit) -> str:
    return visit.page.inner_text("body")


def banner(visit: Visit) -> str:
    return visit.page.inner_text("#dataset")
