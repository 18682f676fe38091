"""What the pages let people take away: CSV files with the question, years, group, unit and
source on every row and values rounded to one decimal; JSON files at full precision with the same
context; PNG and SVG images of the charts with their context written on them."""

from __future__ import annotations

import csv
import io
import json
import re
import struct
from typing import Any
from urllib.parse import quote

import pytest

from unittests.conftest import OBESITY
from unittests.support.browser import DASH, TOTAL, Visit, rounded

pytestmark = pytest.mark.e2e

UNIT = "percent of adults (%)"
CONTEXT = ["question", "years", "group", "unit", "source"]


def _source(visit: Visit) -> tuple[str, str]:
    """(the source as files name it, its citation with years and sha256)."""
    dataset = visit.api("/api/health")["dataset"]
    name = "synthetic sample" if dataset["synthetic"] else "CDC BRFSS"
    first, last = dataset["years"]
    return name, f"{name}, {first}{DASH}{last}, sha256 {dataset['sha256'][:12]}"


def _span(visit: Visit) -> tuple[list[int], str]:
    first, last = (int(year) for year in visit.page.get_attribute("#map", "data-years").split("-"))
    return [first, last], f"{first}{DASH}{last}" if first != last else str(first)


def test_the_tables_csv_carries_its_context_and_rounds_for_people(visit: Visit) -> None:
    visit.ready(f"/?question={quote(OBESITY)}")
    years, span = _span(visit)
    answer = visit.ask(
        "compare_to_national", OBESITY, fields={"years": years, "stratification": TOTAL}
    )
    name, citation = _source(visit)
    button = visit.page.get_by_role("button", name="Download CSV of the table of every location")
    text = visit.download(button).read_text()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0])[:5] == CONTEXT
    assert "location" in rows[0] and "years_used" in rows[0]
    states = answer["states"]
    ranked = visit.ask("rankings", OBESITY, fields={"years": years, "stratification": TOTAL})
    order = [entry["location"] for entry in ranked["locations"]]
    assert [row["location"] for row in rows][: len(order)] == order
    for row in rows:
        assert (row["question"], row["years"], row["group"], row["unit"], row["source"]) == (
            OBESITY,
            span,
            "Total: Total",
            UNIT,
            citation,
        )
        item = states.get(row["location"])
        if item is None or item["value"] is None:
            assert row["value"] == ""
            continue
        for key in ("value", "low", "high"):
            assert re.fullmatch(r"-?\d+(\.\d)?", row[key]), row[key]  # no float noise
            assert float(row[key]) == rounded(item[key]), key
        assert row["years_used"] == " ".join(map(str, item["years_used"]))
        assert int(row["sample_size"]) == item["sample_size"]

    button = visit.page.get_by_role("button", name="Download JSON of the table of every location")
    data = json.loads(visit.download(button).read_text())
    assert {key: data[key] for key in ("question", "years", "group", "unit", "source")} == {
        "question": OBESITY,
        "years": span,
        "group": "Total: Total",
        "unit": UNIT,
        "source": name,
    }
    assert data["dataset_sha256"] == visit.api("/api/health")["dataset"]["sha256"]
    for row in data["rows"]:
        item = states.get(row["location"])
        if item is not None:
            assert [row[key] for key in ("value", "low", "high", "p_adjusted", "years_used")] == [
                item[key] for key in ("value", "low", "high", "p_adjusted", "years_used")
            ]


def _image_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", png[16:24])


def _svg_size(svg: str) -> tuple[float, float]:
    width = float(re.search(r'<svg[^>]*\swidth="([\d.]+)"', svg).group(1))
    height = float(re.search(r'<svg[^>]*\sheight="([\d.]+)"', svg).group(1))
    return width, height


def _exported(visit: Visit, what: str) -> tuple[str, tuple[int, int]]:
    svg = visit.download(visit.page.get_by_role("button", name=f"Download SVG of {what}"))
    png = visit.download(visit.page.get_by_role("button", name=f"Download PNG of {what}"))
    return svg.read_text(), _image_size(png.read_bytes())


def _says(svg: str) -> str:
    """The words of an SVG's text elements, as one string."""
    return " ".join(
        re.sub(r"<[^>]+>", "", text) for text in re.findall(r"<text[^>]*>.*?</text>", svg)
    )


def test_the_map_exports_as_png_and_svg_with_its_context(visit: Visit) -> None:
    visit.ready(f"/?question={quote(OBESITY)}")
    _, span = _span(visit)
    _, citation = _source(visit)
    svg, png = _exported(visit, "the map")
    words = _says(svg).replace("&amp;", "&")
    for expected in (OBESITY, span, "Total: Total", UNIT, f"Source: {citation}"):
        assert expected in words, expected
    width, height = _svg_size(svg)
    assert png == (round(width * 2), round(height * 2))  # the same picture, at twice the scale


def test_a_trend_and_a_breakdown_export_with_their_context(visit: Visit) -> None:
    state = "Ohio" if visit.api("/api/health")["dataset"]["synthetic"] else "Puerto Rico"
    visit.ready(f"/states/{quote(state)}?question={quote(OBESITY)}")
    _, citation = _source(visit)
    section = visit.page.locator(f'#trends section[data-question="{OBESITY}"]')
    if section.locator("svg").count():
        svg, png = _exported(visit, "the trend chart of Obesity")
        words = _says(svg)
        assert OBESITY in words and f"Source: {citation}" in words and UNIT in words
        assert png[0] > 1000
    group = visit.page.locator("#breakdown section[data-category] svg").first
    category = group.evaluate("svg => svg.closest('section').dataset.category")
    svg, _ = _exported(visit, f"the chart of {category}")
    words = _says(svg)
    assert f"{category}, every group" in words and f"Source: {citation}" in words

    button = visit.page.get_by_role("button", name=f"Download JSON of {category}: Obesity")
    data = json.loads(visit.download(button).read_text())
    fields: dict[str, Any] = {"category": category}
    first, last = (int(y) for y in visit.page.get_attribute("#compare", "data-years").split("-"))
    fields["years"] = [first, last]
    answer = visit.ask("disparities", OBESITY, state, fields)
    assert [row["stratum"] for row in data["rows"]] == [s["stratum"] for s in answer["strata"]]
    for row, item in zip(data["rows"], answer["strata"], strict=True):
        assert [row[k] for k in ("value", "low", "high", "gap", "rows_suppressed")] == [
            item[k] for k in ("value", "low", "high", "gap", "rows_suppressed")
        ]
