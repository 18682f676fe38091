"""The browser tests' fixtures: one Chromium and one server per dataset for this package's tests
(starting them is most of a page test's cost), and a tab per test on the bundled sample and on
the real CDC slice in turn. Package scope, not session: Playwright's synchronous API runs an
event loop in the main thread while its browser is open, which the tests after these (asyncio's
own) must not find running."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from unittests.conftest import SCREENSHOTS_KEY, SMALL_CSV, require_tool
from unittests.support import real_slice
from unittests.support.browser import CHROMIUM, CHROMIUM_FLAGS, HAS_CHROMIUM, SCREENSHOTS, Visit
from unittests.support.servers import Server, free_port, server_starter


@pytest.fixture(autouse=True)
def _chromium() -> None:
    require_tool(
        HAS_CHROMIUM,
        f"no Chromium at {CHROMIUM}: the page tests need Debian's chromium package "
        "(apt-get install chromium; .ci/run installs it), Playwright cannot download one here",
    )


def _one_server(folder: Path, **overrides: str) -> Iterator[Server]:
    """One server for the package's tests, stopped afterwards (as start_server does per test)."""
    starter = server_starter(folder)
    yield next(starter)(**overrides)
    next(starter, None)  # on past the starter's yield, where it stops its servers


@pytest.fixture(scope="package")
def sample_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server started as `make run` starts it, on the bundled synthetic sample."""
    yield from _one_server(tmp_path_factory.mktemp("browser-sample"))


@pytest.fixture(scope="package")
def real_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server on the real CDC rows (skipped where the slice is absent, failing so under CI)."""
    data = real_slice.require()
    yield from _one_server(tmp_path_factory.mktemp("browser-real"), LSS_DATA_FILE=str(data))


@pytest.fixture(scope="package")
def small_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server on the hand-checked fixture, where Texas has no value for some questions."""
    yield from _one_server(tmp_path_factory.mktemp("browser-small"), LSS_DATA_FILE=str(SMALL_CSV))


@pytest.fixture(params=["sample", "real"])
def server(request: pytest.FixtureRequest) -> Server:
    """Each test that takes it runs on the bundled sample, then on the real CDC slice."""
    return request.getfixturevalue(f"{request.param}_server")


@pytest.fixture(scope="package")
def playwright() -> Iterator[Any]:
    """Playwright's synchronous API, started once: it runs an event loop in the main thread, so
    there can be only one at a time (a test needing a browser of its own launches it here)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as started:
        yield started


@pytest.fixture(scope="package")
def browser(playwright: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    # launch() gives each browser a fresh temporary profile (user-data dir).
    chromium = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS
    )
    yield chromium
    chromium.close()
    request.config.stash[SCREENSHOTS_KEY] = SCREENSHOTS


@pytest.fixture
def visit(browser: Any, server: Server) -> Iterator[Visit]:
    """A tab at 1280 x 800 on the test's server."""
    tab = Visit(browser, server)
    yield tab
    tab.close()


#: A name the browser resolves to 127.0.0.1, as a rebinding attacker's DNS would.
REBOUND = "rebind.test"


@pytest.fixture(scope="package")
def chromium(playwright: Any) -> Iterator[Any]:
    """Chromium resolving REBOUND to 127.0.0.1 (every other name as usual)."""
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[*CHROMIUM_FLAGS, f"--host-resolver-rules=MAP {REBOUND} 127.0.0.1"],
    )
    yield browser
    browser.close()


@pytest.fixture
def other_site(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A static site on another origin (http://localhost:PORT), serving the files of a folder."""
    folder = tmp_path / "site"
    folder.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None  # type: ignore[method-assign]
    site = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    yield f"http://localhost:{site.server_address[1]}", folder
    site.shutdown()
    site.server_close()
