"""The dashboard in Chromium, against compare_to_national's answer for what it shows: the map
diverging at the nation's pooled value, the legend, the verdict map, the one national headline,
the table of every location but the nation, a tap on a phone, the keyboard's way to a state."""

from __future__ import annotations

import math
import re
from typing import Any
from urllib.parse import quote

import pytest

from unittests.conftest import MUSCLE, OBESITY
from unittests.support.browser import (
    DASH,
    NOT_ON_THE_MAP,
    TERRITORIES,
    TOTAL,
    Visit,
    interval,
    one,
    respondents,
    table,
    years,
)
from unittests.support.servers import Server

pytestmark = pytest.mark.e2e

#: The colour of a state without a value, on both maps.
NO_DATA = "#c8c8c8"
#: Verdict colours: better, similar and worse than the nation.
BETTER, SIMILAR, WORSE = "#2166ac", "#f1d77e", "#b2182b"


def _fields(visit: Visit) -> dict[str, Any]:
    """The selection the map shows, as the page sent it (from its data attributes)."""
    first, last = visit.page.get_attribute("#map", "data-years").split("-")
    category, stratum = visit.page.get_attribute("#map", "data-group").split(" / ")
    return {
        "years": [int(first), int(last)],
        "stratification": {"category": category, "stratum": stratum},
    }


def _shapes(visit: Visit) -> dict[str, str]:
    """State name -> fill colour of its shape on the map's states layer."""
    return visit.page.eval_on_selector_all(
        "#map g.states_marks path[aria-label]",
        "paths => Object.fromEntries(paths.map(p => [p.getAttribute('aria-label').split(':')[0],"
        " p.getAttribute('fill')]))",
    )


def _rgb(fill: str) -> tuple[int, int, int]:
    if fill.startswith("#"):
        return int(fill[1:3], 16), int(fill[3:5], 16), int(fill[5:7], 16)
    red, green, blue = (int(part) for part in re.findall(r"\d+", fill)[:3])
    return red, green, blue


def _valued(answer: dict[str, Any]) -> str:
    """A large state on the map with a value in `answer` (easy to point at)."""
    big = ("Texas", "California", "Montana", "Colorado", "Oregon", "Kansas", "Nebraska")
    names = [*big, *sorted(set(answer["states"]) - NOT_ON_THE_MAP)]
    return next(name for name in names if (answer["states"].get(name) or {}).get("value"))


def _legend(visit: Visit) -> list[str]:
    return visit.page.eval_on_selector_all(
        "#map .role-legend-label text", "texts => texts.map(t => t.textContent)"
    )


def _best_is(visit: Visit, question: str) -> str:
    return next(
        q["best_is"] for q in visit.api("/api/questions")["questions"] if q["question"] == question
    )


def test_the_map_diverges_at_the_nations_pooled_value(visit: Visit) -> None:
    visit.ready(f"/?question={quote(OBESITY)}")
    answer = visit.ask("compare_to_national", OBESITY, fields=_fields(visit))
    nation = answer["national"]["value"]
    assert float(visit.page.get_attribute("#map", "data-national")) == nation
    legend = _legend(visit)
    assert f"nation {one(nation)}" in legend
    assert {"no data", "unreliable"} <= set(legend)
    fills = _shapes(visit)
    assert len(fills) == 51  # the 50 states and DC, with or without a value
    assert set(answer["states"]) - NOT_ON_THE_MAP <= set(fills)
    sides = {"better": 0, "worse": 0}
    for name, fill in fills.items():
        value = (answer["states"].get(name) or {}).get("value")
        if value is None:
            assert fill == NO_DATA, name
            continue
        red, _, blue = _rgb(fill)
        if abs(value - nation) < 0.2:  # near the white point: too pale to tell
            continue
        # Lowest is best for obesity: below the nation is better, drawn blue; above, orange.
        better = value < nation
        sides["better" if better else "worse"] += 1
        assert (blue > red) == better, (name, value, nation, fill)
    assert sides["better"] and sides["worse"], sides
    visit.shoot("dashboard", "main", docs=visit.api("/api/health")["dataset"]["synthetic"])


def test_the_verdict_map_colours_compare_to_nationals_verdicts(visit: Visit) -> None:
    visit.ready(f"/?colour=national&question={quote(MUSCLE)}")
    answer = visit.ask("compare_to_national", MUSCLE, fields=_fields(visit))
    if answer["national"]["value"] is None:
        pytest.skip("no national value for this question here (tested where missing)")
    assert visit.page.get_attribute("#map", "data-mode") == "national"
    # Highest is best for muscle-strengthening: higher than the nation is better.
    assert {
        "higher: better than the nation",
        "similar to the nation",
        "lower: worse than the nation",
    } <= set(_legend(visit))
    colour = {"higher": BETTER, "similar": SIMILAR, "lower": WORSE, None: NO_DATA}
    fills = _shapes(visit)
    for name, fill in fills.items():
        assert fill == colour[(answer["states"].get(name) or {}).get("versus")], name
    if visit.api("/api/health")["dataset"]["synthetic"]:
        visit.shoot("dashboard-national", "main", docs=True)


def test_one_national_headline_and_every_location_but_the_nation_in_the_table(
    visit: Visit,
) -> None:
    visit.ready(f"/?question={quote(OBESITY)}")
    answer = visit.ask("compare_to_national", OBESITY, fields=_fields(visit))
    nation = answer["national"]
    headline = visit.page.inner_text("#national")
    assert headline == (
        f"{one(nation['value'])}% (95% interval {interval(nation['low'], nation['high'])}), "
        f"{years(nation['years_used'])}, {respondents(nation['sample_size'])} respondents."
    )
    assert visit.page.locator("#global-mean, #national-mean").count() == 0
    rows = table(visit.page.locator("#ranking"))
    names = [row[1].removesuffix(" territory") for row in rows]
    assert "National" not in names
    ranked = visit.ask("rankings", OBESITY, fields=_fields(visit))["locations"]
    listed = [entry["location"] for entry in ranked]
    absent = sorted(set(visit.api("/api/states")["states"]) - set(listed) - {"National"})
    assert names == listed + absent  # rankings' order, then the locations without a row
    states = answer["states"]
    for row, entry in zip(rows, ranked, strict=False):
        name, item = entry["location"], states[entry["location"]]
        assert row[1].endswith(" territory") == entry["territory"] == (name in TERRITORIES)
        if entry["value"] is None:
            assert row[0] == DASH
            assert entry["reason"] in row[2] or "suppressed" in row[2], row
            assert row[8] == DASH, row  # no value is not an unreliable value
            continue
        assert row[0] == f"{entry['rank']} {entry['rank_low']}{DASH}{entry['rank_high']}"
        assert row[2] == one(entry["value"]) == one(item["value"])  # one pooling, two answers
        assert row[3] == interval(entry["low"], entry["high"])
        differ = item["years_used"] != nation["years_used"]
        assert row[4] == years(item["years_used"]) + (" not the nation's years" if differ else "")
        assert row[5] == respondents(entry["sample_size"])
        chances = [
            f"{kind} five {_chance(entry[f'p_{kind}5'])}"
            for kind in ("best", "worst")
            if entry[f"p_{kind}5"] >= 0.05
        ]
        assert row[6] == (" ".join(chances) or DASH), row
        verdict = {"higher": "worse", "lower": "better", "similar": "similar"}[item["versus"]]
        assert row[7].startswith(verdict), row
        assert row[8] == (
            "yes" if entry["reliable"] else f"unreliable {'; '.join(entry['unreliable'])}"
        )
    for row in rows[len(ranked) :]:
        assert row[2] == "no value: no rows for this question in the loaded data"


def _chance(p: float) -> str:
    """A probability as the table says it."""
    if p >= 0.995:
        return "> 99%"
    return "< 1%" if p < 0.005 else f"{math.floor(p * 100 + 0.5)}%"


def test_tooltips_name_years_and_respondents_and_never_null(visit: Visit) -> None:
    visit.ready(f"/?question={quote(OBESITY)}")
    answer = visit.ask("compare_to_national", OBESITY, fields=_fields(visit))
    name = next(
        s
        for s in ("Ohio", "Texas", "California", "Indiana")
        if answer["states"].get(s, {}).get("value") is not None
    )
    item = answer["states"][name]
    visit.page.hover(f"#map g.states_marks path[aria-label^='{name}:']")
    tip = visit.page.wait_for_selector("#vg-tooltip-element.visible").inner_text()
    assert name in tip and one(item["value"]) in tip
    assert years(item["years_used"]) in tip and respondents(item["sample_size"]) in tip
    assert "null" not in tip and "undefined" not in tip


def test_a_missing_nation_says_why_and_the_map_still_shows_the_values(
    browser: Any, real_server: Server
) -> None:
    """On the real slice the nation has no obesity row in most years: the page says so, in the
    service's words, and shows the states' values rather than a grey map."""
    tab = Visit(browser, real_server)
    try:
        covered = tab.ask("compare_to_national", OBESITY)["years"]
        for year in range(covered[0], covered[1] + 1):
            fields = {"years": [year, year], "stratification": TOTAL}
            answer = tab.ask("compare_to_national", OBESITY, fields=fields)
            on_the_map = [
                item for name, item in answer["states"].items() if name not in NOT_ON_THE_MAP
            ]
            if answer["national"]["value"] is None and any(
                item["value"] is not None for item in on_the_map
            ):
                break
        else:
            pytest.fail("the real slice was expected to lack a national value in some year")
        tab.ready(f"/?colour=national&question={quote(OBESITY)}&from={year}&to={year}")
        reason = answer["national"]["reason"]
        assert reason in tab.page.inner_text("#status")
        assert reason in tab.page.inner_text("#national")
        assert tab.page.get_attribute("#map", "data-mode") == "value"
        fills = _shapes(tab)
        assert {fill for fill in fills.values()} - {NO_DATA}, "states with a value are coloured"
        assert not any(label.startswith("nation") for label in _legend(tab))
    finally:
        tab.close()


def _assert_a_thumb_can_use_the_map(tab: Visit) -> None:
    """The states as drawn, not the chart's frame: a legend stood upright once took the frame's
    height and left the states 70 px tall in a 290 px chart."""
    box = tab.page.locator("#map g.states_marks").bounding_box()
    assert box["width"] >= 340 and box["height"] >= 200, box


def test_on_a_phone_the_map_by_verdict_is_as_large(browser: Any, server: Server) -> None:
    tab = Visit(browser, server, width=390, height=844, has_touch=True, is_mobile=True)
    try:
        tab.ready(f"/?colour=national&question={quote(OBESITY)}")
        _assert_a_thumb_can_use_the_map(tab)
    finally:
        tab.close()


def test_on_a_phone_a_tap_shows_the_value_and_a_second_opens_the_page(
    browser: Any, server: Server
) -> None:
    tab = Visit(browser, server, width=390, height=844, has_touch=True, is_mobile=True)
    try:
        tab.ready(f"/?question={quote(OBESITY)}")
        _assert_a_thumb_can_use_the_map(tab)
        answer = tab.ask("compare_to_national", OBESITY, fields=_fields(tab))
        name = next(
            s
            for s in ("Texas", "California", "Montana")
            if answer["states"][s]["value"] is not None
        )
        shape = tab.page.locator(f"#map g.states_marks path[aria-label^='{name}:']")
        shape.tap()
        tab.page.wait_for_selector(f"#picked[data-location='{name}']")
        shown = tab.page.inner_text("#picked")
        assert one(answer["states"][name]["value"]) in shown
        assert respondents(answer["states"][name]["sample_size"]) in shown
        assert "/states/" not in tab.page.url
        shape.tap()
        tab.page.wait_for_url(f"**/states/{quote(name)}?**")
    finally:
        tab.close()


def test_a_mouse_click_on_a_state_opens_its_page(visit: Visit) -> None:
    visit.ready(f"/?question={quote(OBESITY)}")
    name = _valued(visit.ask("compare_to_national", OBESITY, fields=_fields(visit)))
    visit.page.click(f"#map g.states_marks path[aria-label^='{name}:']")
    visit.page.wait_for_url(f"**/states/{quote(name)}?**")
    assert visit.page.inner_text("h1") == name


def test_the_keyboard_reaches_every_state_through_the_table(visit: Visit) -> None:
    visit.ready(f"/?question={quote(OBESITY)}")
    assert "the table below, where the keyboard reaches its page" in visit.page.inner_text(
        ".picked"
    )
    linked = visit.page.eval_on_selector_all("#ranking a", "links => links.map(a => a.textContent)")
    assert set(_shapes(visit)) <= set(linked)
    reached = []
    for _ in range(40):
        visit.page.keyboard.press("Tab")
        reached.append(
            visit.page.evaluate("document.activeElement.id || document.activeElement.textContent")
        )
        if visit.page.evaluate("document.activeElement.closest('#ranking') !== null"):
            break
    else:
        pytest.fail(f"Tab never reached the table ({reached})")
    name = visit.page.evaluate("document.activeElement.textContent")
    visit.page.keyboard.press("Enter")
    visit.page.wait_for_url(f"**/states/{quote(name)}?**")


def test_the_keyboard_chooses_the_question_the_colouring_and_the_years(
    browser: Any, sample_server: Server
) -> None:
    tab = Visit(browser, sample_server)
    try:
        tab.ready(f"/?question={quote(OBESITY)}")
        before = _shapes(tab)
        tab.page.focus("#question")
        tab.page.keyboard.press("ArrowDown")
        tab.page.wait_for_selector(f'#map[data-question="{tab.page.input_value("#question")}"]')
        tab.wait_ready()
        assert _shapes(tab) != before
        tab.page.keyboard.press("Tab")
        assert tab.page.evaluate("document.activeElement.id") == "colour"
        tab.page.keyboard.press("ArrowDown")
        tab.page.wait_for_selector('#map[data-mode="national"]')
        tab.page.keyboard.press("Tab")
        assert tab.page.evaluate("document.activeElement.id") == "year-from"
        tab.page.keyboard.press("ArrowDown")
        tab.page.wait_for_selector('#map[data-mode="national"][data-years="2012-2022"]')
        assert "colour=national" in tab.page.url and "from=2012" in tab.page.url
    finally:
        tab.close()


def test_a_location_without_a_value_says_why(browser: Any, small_server: Server) -> None:
    """On the hand-checked fixture Texas has no row for MUSCLE: it is drawn grey and listed,
    saying so; a location whose rows give no value says the service's reason."""
    tab = Visit(browser, small_server)
    try:
        tab.ready(f"/?question={quote(MUSCLE)}")
        answer = tab.ask("compare_to_national", MUSCLE, fields=_fields(tab))
        assert "Texas" not in answer["states"]
        rows = {
            row[1].removesuffix(" territory"): row for row in table(tab.page.locator("#ranking"))
        }
        assert rows["Texas"][0] == DASH
        assert rows["Texas"][2] == "no value: no rows for this question in the loaded data"
        for name, item in answer["states"].items():
            if item["value"] is None:
                assert rows[name][0] == DASH
                assert item["reason"] in rows[name][2] or "suppressed" in rows[name][2]
        fills = _shapes(tab)
        assert fills["Texas"] == NO_DATA
        for name, fill in fills.items():
            valued = (answer["states"].get(name) or {}).get("value") is not None
            assert (fill == NO_DATA) == (not valued), name
        tab.shoot("dashboard-missing-value")
    finally:
        tab.close()
