"""The request policy as a real Chromium meets it: a page of another site that tries to stop the
service (an <img>) and to submit a job (a no-cors text/plain fetch, a form), DNS rebinding (a name
resolved to 127.0.0.1 by the browser), a listed CORS origin that may use the API, and the pages'
own CSV downloads neutralising formulas (lss.js).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from unittests.browser.conftest import REBOUND
from unittests.conftest import OBESITY
from unittests.support.servers import Server, server_starter

pytestmark = pytest.mark.e2e

ATTACK = """<!doctype html><title>attacking</title><body><script>
const target = "http://127.0.0.1:%(port)d";
const img = new Promise((done) => {
  const image = new Image();
  image.onload = image.onerror = done;
  image.src = target + "/api/graceful_shutdown";
  document.body.append(image);
});
const post = fetch(target + "/api/states_mean", {
  method: "POST", mode: "no-cors", headers: {"Content-Type": "text/plain"},
  body: JSON.stringify({question: %(question)s}),
}).catch(() => null);
Promise.all([img, post]).then(() => { document.title = "done"; });
</script></body>"""

FORM = """<!doctype html><title>form</title><body>
<form method="POST" action="http://127.0.0.1:%(port)d/api/graceful_shutdown"></form>
<script>document.forms[0].submit();</script></body>"""

USES_THE_API = """<!doctype html><title>dashboard</title><body><script>
fetch("http://127.0.0.1:%(port)d/api/global_mean", {
  method: "POST", headers: {"Content-Type": "application/json", Prefer: "wait=5"},
  body: JSON.stringify({question: %(question)s}),
}).then((r) => r.json()).then((body) => { document.title = JSON.stringify(body); },
  (error) => { document.title = "failed: " + error; });
</script></body>"""


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Any]:
    yield from server_starter(tmp_path)


def _page(folder: Path, name: str, template: str, server: Server) -> str:
    (folder / name).write_text(template % {"port": server.port, "question": json.dumps(OBESITY)})
    return name


def test_a_page_of_another_site_cannot_stop_the_service_or_submit(
    chromium: Any, servers: Any, other_site: tuple[str, Path]
) -> None:
    server: Server = servers()
    origin, folder = other_site
    page = chromium.new_page()
    page.goto(f"{origin}/{_page(folder, 'attack.html', ATTACK, server)}")
    page.wait_for_function("document.title === 'done'", timeout=20_000)
    page.goto(f"{origin}/{_page(folder, 'form.html', FORM, server)}")
    page.wait_for_load_state()
    assert "403" not in page.title()  # the JSON refusal, not a page of ours
    assert json.loads(page.locator("body").inner_text())["status"] == "error"
    page.close()
    health = requests.get(f"{server.url}/api/health", timeout=10)
    assert health.status_code == 200  # not shutting down
    assert health.json()["jobs_issued"] == 0  # no job from that page
    assert requests.post(f"{server.url}/api/states_mean", json={"question": OBESITY}).ok
    server.stop()
    log = server.log_file.read_text()
    assert "<- GET /api/graceful_shutdown 403" in log
    assert "<- POST /api/states_mean 403" in log
    assert "<- POST /api/graceful_shutdown 403" in log
    assert "<- GET /api/graceful_shutdown 200" not in log


def test_a_rebound_name_gets_421_in_the_browser(chromium: Any, servers: Any) -> None:
    server: Server = servers()
    page = chromium.new_page()
    answer = page.goto(f"http://{REBOUND}:{server.port}/api/jobs")
    assert answer.status == 421
    assert REBOUND in json.loads(page.locator("body").inner_text())["reason"]
    status = page.evaluate("fetch('/api/num_jobs').then((r) => r.status)")
    assert status == 421  # the attacker's script, same-origin with the rebound name
    page.close()


def test_a_listed_origin_uses_the_api_from_its_own_page(
    chromium: Any, servers: Any, other_site: tuple[str, Path]
) -> None:
    origin, folder = other_site
    server: Server = servers(LSS_CORS_ORIGINS=origin)
    page = chromium.new_page()
    page.goto(f"{origin}/{_page(folder, 'dashboard.html', USES_THE_API, server)}")
    page.wait_for_function("document.title !== 'dashboard'", timeout=20_000)
    answer = json.loads(page.title())
    assert answer["status"] == "done" and "global_mean" in answer["data"]  # read across origins
    page.close()


def test_the_pages_csv_downloads_neutralise_formulas(chromium: Any, servers: Any) -> None:
    server: Server = servers()
    page = chromium.new_page()
    page.goto(f"{server.url}/jobs")
    text = page.evaluate(
        """import("/pages/static/js/lss.js").then((lss) => lss.toCSV(["name", "value"], [
            {name: "=HYPERLINK(\\"http://evil.example\\")", value: -3.5},
            {name: "-3.5", value: "@SUM(1)"},
            {name: "+1-1", value: "\\tx"},
            {name: "Ohio", value: "-"},
        ]))"""
    )
    assert text.split("\r\n") == [
        "name,value",
        '"\'=HYPERLINK(""http://evil.example"")",-3.5',
        "-3.5,'@SUM(1)",
        "'+1-1,'\tx",
        "Ohio,'-",
        "",
    ]
    page.close()
