"""GET answers (SPEC §18) from a page of another site in a real Chromium: <img>, <script>,
<iframe>, <link> and fetch make no job; a link the user follows does, as a CSV download."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from unittests.conftest import OBESITY
from unittests.support.servers import Server
from unittests.test_answers_server import issued

HOSTILE_PAGE = """<!doctype html><title>attacking</title><body><script>
const target = %(target)s;
const loaded = (element) => new Promise((done) => {
  element.onload = element.onerror = done;
  document.body.append(element);
});
const image = new Image(); image.src = target + "&years=2015";
const script = document.createElement("script"); script.src = target + "&years=2016";
const frame = document.createElement("iframe"); frame.src = target + "&years=2017";
const style = document.createElement("link"); style.rel = "stylesheet";
style.href = target + "&years=2018";
Promise.all([
  loaded(image), loaded(script), loaded(frame), loaded(style),
  fetch(target + "&years=2019", {mode: "no-cors"}).catch(() => null),
  fetch(target + "&years=2020").catch(() => null),
]).then(() => { document.title = "done"; });
</script><a id="link" href="%(link)s">the answer</a></body>"""


def test_a_page_of_another_site_makes_no_job_but_a_followed_link_does(
    chromium: Any,
    start_server: Callable[..., Server],
    other_site: tuple[str, Path],
) -> None:
    server = start_server()
    origin, folder = other_site
    target = f"{server.url}/api/answers/states_mean.csv?{urlencode({'question': OBESITY})}"
    (folder / "attack.html").write_text(
        HOSTILE_PAGE % {"target": json.dumps(target), "link": f"{target}&years=2021"}
    )
    page = chromium.new_page()
    page.goto(f"{origin}/attack.html")
    page.wait_for_function("document.title === 'done'", timeout=20_000)
    assert issued(server) == 0  # six requests, all refused
    with page.expect_download() as download:  # the user clicks: a CSV download, one job
        page.click("#link")
    assert download.value.suggested_filename == (
        "states_mean-percent-of-adults-aged-18-years-and-older-who-have-obesity-2021.csv"
    )
    page.close()
    assert issued(server) == 1
    server.stop()
    log = server.log_file.read_text()
    assert log.count("<- GET /api/answers/states_mean.csv 403") == 6
