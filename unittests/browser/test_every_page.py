"""Every page, on the bundled sample and on the real CDC slice (SPEC §19): no console error, no
"null", "NaN" or "undefined" shown, the banner naming the data loaded and nothing naming the other
kind, axe-core 4 clean (serious and critical, default rules, once the data is drawn, 1280 x 800),
and tables whose last columns show at 1280 and at 390 px wide."""

from __future__ import annotations

import re
from typing import Any

import pytest

from unittests.support.browser import DASH, Visit, axe, banner, visible_text

pytestmark = pytest.mark.e2e

PAGES = [
    "/",
    "/?colour=national",
    "/states/Ohio",
    "/states/Puerto%20Rico",
    "/states/National",
    "/jobs",
    "/api/docs",
]

#: Tables of the page (not swagger-ui's): for each shown one, how far it overflows its box and
#: how many of its rows' last cells (the verdict or reliability) fall outside the box.
_TABLES_FIT = """() => [...document.querySelectorAll('main table')]
  .filter(t => !t.closest('#swagger-ui') && t.offsetParent !== null)
  .map(t => {
    const box = (t.closest('.scroll') || t.parentElement).getBoundingClientRect();
    const scroller = t.closest('.scroll') || t.parentElement;
    const last = [...t.querySelectorAll('tbody tr')].map(r => r.cells[r.cells.length - 1]);
    const outside = last.filter(c => {
      const cell = c.getBoundingClientRect();
      return cell.right > box.right + 1 || cell.left < box.left - 1;
    });
    const name = t.id || t.caption?.textContent || 'table';
    return [name, scroller.scrollWidth - scroller.clientWidth, outside.length];
  })"""


def _open(visit: Visit, path: str) -> None:
    visit.goto(path)
    if path == "/api/docs":
        visit.page.wait_for_selector(".opblock")
    else:
        visit.wait_ready()


def _tables_fit(visit: Visit, width: int) -> None:
    tables = visit.page.evaluate(_TABLES_FIT)
    for name, overflow, outside in tables:
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {width}px"
        assert outside == 0, f"{outside} last cells of {name} are cut off at {width}px"
    page_overflow = visit.page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert page_overflow <= 0, f"the page scrolls sideways by {page_overflow}px at {width}px"


def _banner_is_right(visit: Visit, dataset: dict[str, Any]) -> None:
    text = banner(visit)
    first, last = dataset["years"]
    assert dataset["sha256"][:12] in text
    assert f"{first}{DASH}{last}" in text
    shown = visible_text(visit)
    if dataset["synthetic"]:
        assert text.startswith("Synthetic sample")
        assert "BRFSS" not in shown and "CDC" not in shown
    else:
        assert text.startswith("CDC BRFSS")
        assert "synthetic" not in shown.lower()


@pytest.mark.parametrize("path", PAGES)
def test_every_page_is_clean_labelled_accessible_and_fits(visit: Visit, path: str) -> None:
    dataset = visit.api("/api/health")["dataset"]
    _open(visit, path)
    shown = visible_text(visit)
    for word in ("null", "NaN", "undefined"):
        assert not re.search(rf"\b{word}\b", shown), f"{word!r} shown on {path}"
    _banner_is_right(visit, dataset)
    assert axe(visit) == []
    _tables_fit(visit, 1280)
    name = f"{'real' if not dataset['synthetic'] else 'sample'}{path}".replace("/", "-")
    visit.shoot(re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-"))

    visit.page.set_viewport_size({"width": 390, "height": 844})
    visit.page.evaluate("window.scrollTo(0, 0)")
    box = visit.page.locator("#dataset").bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 844, box
    _tables_fit(visit, 390)


def test_a_missing_page_is_labelled_too(visit: Visit) -> None:
    dataset = visit.api("/api/health")["dataset"]
    response = visit.goto("/states/Atlantis")
    assert response.status == 404
    assert "No such location" in visit.page.inner_text("h1")
    _banner_is_right(visit, dataset)
    assert axe(visit) == []
    # Chromium logs the page's own 404 status as a console error; that one is expected.
    visit.errors[:] = [error for error in visit.errors if "status of 404" not in error]
