"""A state's page in Chromium, against the API's answers: the comparison is compare_to_national's
verdict with intervals and sample sizes, each trend has its band, the nation's line and its slope
in words, the breakdown by group carries intervals, respondents and gaps, withheld values are
marked with the CDC's footnote and counted, and the selection travels with every request."""

from __future__ import annotations

import csv
from typing import Any
from urllib.parse import quote, urlsplit

import pytest

from unittests.conftest import BUNDLED_CSV, OBESITY
from unittests.support.browser import (
    DASH,
    TOTAL,
    Visit,
    fixed,
    interval,
    one,
    respondents,
    signed,
    table,
    years,
)
from unittests.support.servers import Server

pytestmark = pytest.mark.e2e

STATE_BLUE, NATION_GREY = "#1f5f9e", "#9aa3ad"
FOOTNOTE = "Data not available because sample size is insufficient."
PACIFIC = {"category": "Race/Ethnicity", "stratum": "Hawaiian/Pacific Islander"}
WORDS = {
    "lowest": {"higher": "worse", "lower": "better", "similar": "similar"},
    "highest": {"higher": "better", "lower": "worse", "similar": "similar"},
}


def _questions(visit: Visit) -> list[dict[str, Any]]:
    return visit.api("/api/questions")["questions"]


def _fields(visit: Visit, group: bool = True) -> dict[str, Any]:
    first, last = visit.page.get_attribute("#compare", "data-years").split("-")
    fields: dict[str, Any] = {"years": [int(first), int(last)]}
    if group:
        fields["stratification"] = {
            "category": visit.page.input_value("#category"),
            "stratum": visit.page.input_value("#stratum"),
        }
    return fields


def _rich_state(visit: Visit) -> str:
    """The state with a Total value for the most questions (Ohio on the sample)."""
    if visit.api("/api/health")["dataset"]["synthetic"]:
        return "Ohio"
    counts: dict[str, int] = {}
    for item in _questions(visit):
        answer = visit.ask("compare_to_national", item["question"])
        for name, entry in answer["states"].items():
            counts[name] = counts.get(name, 0) + (entry["value"] is not None)
    return max(sorted(counts), key=lambda name: counts[name])


def test_the_comparison_is_compare_to_nationals_verdict_with_intervals(visit: Visit) -> None:
    state = _rich_state(visit)
    visit.ready(f"/states/{quote(state)}")
    fields = _fields(visit)
    rows = table(visit.page.locator("#compare"))
    questions = _questions(visit)
    assert len(rows) == len(questions)
    own = nation = 0
    for row, item in zip(rows, questions, strict=True):
        answer = visit.ask_or_none("compare_to_national", item["question"], fields=fields)
        if answer is None:
            assert row[1] == f"no value: no rows for this question in {_described(fields)}"
            continue
        entry, national = answer["states"].get(state), answer["national"]
        nation += national["value"] is not None
        if entry is None or entry["value"] is None:
            assert row[1].startswith(("no value", "suppressed")), row
            continue
        own += 1
        differ = entry["years_used"] != national["years_used"]
        assert row[1:6] == [
            one(entry["value"]),
            interval(entry["low"], entry["high"]),
            years(entry["years_used"])
            + (f" nation: {years(national['years_used'])}" if differ else ""),
            respondents(entry["sample_size"]),
            f"{one(national['value'])} ({interval(national['low'], national['high'])})"
            if national["value"] is not None
            else DASH,
        ]
        if entry["versus"] is not None:
            assert row[6].startswith(WORDS[item["best_is"]][entry["versus"]]), row
    fills = visit.page.eval_on_selector_all(
        "#compare-chart g.bars_marks path", "paths => paths.map(p => p.getAttribute('fill'))"
    )
    # The state's bars in its colour, the nation's in grey: never the nation's in the state's.
    assert fills.count(STATE_BLUE) == own and fills.count(NATION_GREY) == nation
    whiskers = visit.page.locator(
        "#compare-chart g.whiskers_marks line, #compare-chart g.whiskers_marks path"
    )
    assert whiskers.count() == own + nation
    visit.shoot(f"state-{'sample' if state == 'Ohio' else 'real'}-compare", "#compare-chart")


def _described(fields: dict[str, Any]) -> str:
    first, last = fields["years"]
    span = str(first) if first == last else f"{first}{DASH}{last}"
    group = fields.get("stratification")
    return f"{span}, {group['category']}: {group['stratum']}" if group else span


def test_a_state_without_values_still_shows_the_nation_in_grey(
    browser: Any, real_server: Server
) -> None:
    """Ohio has no Total row on the real slice: its rows say why, the nation's bars stay grey."""
    tab = Visit(browser, real_server)
    try:
        tab.ready("/states/Ohio")
        fields = _fields(tab)
        rows = table(tab.page.locator("#compare"))
        assert all(row[1].startswith("no value") for row in rows), rows
        fills = tab.page.eval_on_selector_all(
            "#compare-chart g.bars_marks path", "paths => paths.map(p => p.getAttribute('fill'))"
        )
        nations = sum(
            (answer := tab.ask_or_none("compare_to_national", item["question"], fields=fields))
            is not None
            and answer["national"]["value"] is not None
            for item in _questions(tab)
        )
        assert fills == [NATION_GREY] * nations and nations
    finally:
        tab.close()


def test_where_the_years_differ_from_the_nations_the_page_says_so(
    browser: Any, real_server: Server
) -> None:
    tab = Visit(browser, real_server)
    try:
        answer = tab.ask("compare_to_national", OBESITY, fields={"stratification": TOTAL})
        nation = answer["national"]["years_used"]
        state = next(
            name
            for name, entry in sorted(answer["states"].items())
            if entry["value"] is not None and entry["years_used"] != nation
        )
        tab.ready(f"/states/{quote(state)}")
        sentence = tab.page.inner_text("#compare-years")
        assert f"{state}'s value comes from other years than the nation's" in sentence
        assert "Obesity" in sentence
        row = next(r for r in table(tab.page.locator("#compare")) if r[0] == "Obesity")
        assert row[3].endswith(f"nation: {years(nation)}")
    finally:
        tab.close()


def _trend_section(visit: Visit, question: str) -> Any:
    return visit.page.locator(f'#trends section[data-question="{question}"][data-done]')


def test_each_trend_has_its_band_the_nations_line_and_its_slope_in_words(visit: Visit) -> None:
    state = _rich_state(visit)
    visit.ready(f"/states/{quote(state)}")
    fields = _fields(visit)
    drawn = 0
    for item in _questions(visit):
        section = _trend_section(visit, item["question"])
        membership = visit.ask_or_none("compare_to_national", item["question"], fields=fields)
        if membership is None or state not in membership["states"]:
            assert section.locator(".trend-sentence").inner_text().startswith("No rows for")
            continue
        answer = visit.ask("state_trend", item["question"], state, fields)
        sentence = section.locator(".trend-sentence").inner_text()
        slope = answer["slope"]
        if slope is None:
            assert sentence == f"No trend: {answer['slope_reason']}."
        else:
            assert sentence == (
                f"{slope['trend']}: {signed(slope['per_year'], 2)} points a year (95% interval "
                f"{signed(slope['low'], 2)} to {signed(slope['high'], 2)}; scatter "
                f"{fixed(slope['dispersion'], 1)} times what the intervals explain)"
            )
        said = section.locator(".apc-sentence").inner_text()
        apc = answer["apc"]
        if apc is None:
            assert said == f"No annual percent change: {answer['apc_reason']}."
        else:
            for segment in apc["segments"]:
                assert (
                    f"{segment['from']}{DASH}{segment['to']} {signed(segment['apc'])}% a year "
                    f"(95% interval {signed(segment['low'])}% to {signed(segment['high'])}%)"
                ) in said
            assert section.locator("g.segments_marks line, g.segments_marks path").count() == len(
                apc["segments"]
            )
            rules = section.locator("g.joinpoints_marks line, g.joinpoints_marks path")
            assert rules.count() == len(apc["joinpoints"])
            if apc["joinpoints"]:
                assert f"Joinpoint{'s' if len(apc['joinpoints']) > 1 else ''}: " in said
        rows = table(section)
        expected = sorted([point["year"] for point in answer["series"]] + answer["missing_years"])
        assert [int(row[0]) for row in rows] == expected
        for row in rows:
            year = int(row[0])
            point = next((p for p in answer["series"] if p["year"] == year), None)
            if point is not None:
                assert row[1:4] == [
                    one(point["value"]),
                    interval(point["low"], point["high"]),
                    respondents(point["sample_size"]),
                ]
            elif year in answer["suppressed_years"]:
                assert row[1] == f"suppressed {FOOTNOTE}"
            else:
                assert row[1] == "no value: no usable row this year"
        if not answer["series"]:
            continue
        drawn += 1
        assert section.locator("g.band_marks path").count() == 1
        assert section.locator("g.points_marks path").count() == len(answer["series"])
        national = membership["national"]["value"] is not None
        assert section.locator("g.nation_marks path").count() == (1 if national else 0)
    assert drawn, "some trend was drawn"
    if state == "Ohio":
        visit.shoot("state-trend", f'#trends section[data-question="{OBESITY}"]', docs=True)


def test_joinpoints_are_drawn_where_a_trend_bends(browser: Any, sample_server: Server) -> None:
    """The first state (by name) with a joinpoint in its obesity trend: the dashed rules at its
    joinpoints and a labelled bar per segment on the chart, and the APCs in words."""
    tab = Visit(browser, sample_server)
    try:
        for state in tab.api("/api/states")["states"]:
            answer = tab.ask("state_trend", OBESITY, state, {"stratification": TOTAL})
            if answer["apc"] and answer["apc"]["joinpoints"]:
                break
        else:
            pytest.fail("the sample was expected to bend somewhere")
        tab.ready(f"/states/{quote(state)}")
        section = _trend_section(tab, OBESITY)
        apc = answer["apc"]
        rules = section.locator("g.joinpoints_marks line, g.joinpoints_marks path")
        assert rules.count() == len(apc["joinpoints"])
        labels = section.locator("g.segment_labels_marks text").evaluate_all(
            "texts => texts.map(t => t.textContent)"
        )
        assert labels == [f"{signed(segment['apc'])}% a year" for segment in apc["segments"]]
        said = section.locator(".apc-sentence").inner_text()
        assert ", ".join(map(str, apc["joinpoints"])) in said
        assert len(apc["segments"]) == 1 or "(AAPC)" in said
    finally:
        tab.close()


def test_the_breakdown_by_group_carries_intervals_respondents_and_gaps(visit: Visit) -> None:
    state = _rich_state(visit)
    visit.ready(f"/states/{quote(state)}?question={quote(OBESITY)}")
    fields = _fields(visit, group=False)
    sections = visit.page.locator("#breakdown section[data-category]")
    categories = sections.evaluate_all("s => s.map(x => x.dataset.category)")
    assert categories and "Total" not in categories
    for category in categories:
        section = visit.page.locator(f'#breakdown section[data-category="{category}"]')
        answer = visit.ask("disparities", OBESITY, state, {**fields, "category": category})
        rows = table(section)
        assert [row[0].split(" reference")[0].split(" (apart")[0] for row in rows] == [
            item["stratum"] for item in answer["strata"]
        ]
        valued = 0
        for row, item in zip(rows, answer["strata"], strict=True):
            assert row[0].endswith("reference") == (item["stratum"] == answer["reference"])
            if item["value"] is None:
                assert row[1].startswith(("suppressed", "no value")), row
                continue
            valued += 1
            assert row[1:5] == [
                one(item["value"]),
                interval(item["low"], item["high"]),
                years(item["years_used"]) + (row[3][len(years(item["years_used"])) :]),
                respondents(item["sample_size"]),
            ]
        if valued:
            whiskers = section.locator("g.whiskers_marks line, g.whiskers_marks path")
            assert whiskers.count() == valued
            assert section.locator("g.bars_marks path").count() == valued
    if state == "Ohio":
        visit.page.select_option("#question", OBESITY)
        visit.shoot("state-disparities", '#breakdown section[data-category="Income"]', docs=True)


def _sample_withheld() -> tuple[str, str, str, str, int]:
    """A (state, question, category, stratum, year) whose only row that year is suppressed, in
    a category other than Total, from the bundled sample itself."""
    with BUNDLED_CSV.open(newline="") as file:
        rows = list(csv.DictReader(file))
    for row in rows:
        if "insufficient" in row["Data_Value_Footnote"] and row["StratificationCategory1"] not in (
            "Total",
            "",
        ):
            key = (
                row["LocationDesc"],
                row["Question"],
                row["StratificationCategory1"],
                row["Stratification1"],
                int(row["YearStart"]),
            )
            same = [
                r
                for r in rows
                if (
                    r["LocationDesc"],
                    r["Question"],
                    r["StratificationCategory1"],
                    r["Stratification1"],
                    int(r["YearStart"]),
                )
                == key
            ]
            if len(same) == 1 and key[0] != "National":
                return key
    raise AssertionError("the sample has suppressed rows")


def test_withheld_values_are_marked_with_the_cdcs_footnote_and_counted(visit: Visit) -> None:
    if visit.api("/api/health")["dataset"]["synthetic"]:
        state, question, category, stratum, year = _sample_withheld()
        path = f"/states/{quote(state)}?question={quote(question)}&from={year}&to={year}"
        fields = {"years": [year, year]}
    else:  # Puerto Rico's obesity by race: every one of its rows suppressed
        state, question, category = "Puerto Rico", OBESITY, "Race/Ethnicity"
        path = f"/states/Puerto%20Rico?question={quote(OBESITY)}"
        fields = None
    visit.ready(path)
    fields = fields or _fields(visit, group=False)
    answer = visit.ask("disparities", question, state, {**fields, "category": category})
    withheld = [
        item for item in answer["strata"] if item["value"] is None and item["rows_suppressed"]
    ]
    assert withheld
    if state != "Puerto Rico":
        assert stratum in [item["stratum"] for item in withheld]
    section = visit.page.locator(f'#breakdown section[data-category="{category}"]')
    rows = {row[0].split(" (apart")[0]: row for row in table(section)}
    for item in withheld:
        count = item["rows_suppressed"]
        assert rows[item["stratum"]][1] == (
            f"suppressed {count} row{'s' if count > 1 else ''} suppressed: {FOOTNOTE}"
        )
    total = answer["provenance"]["rows_suppressed"]
    assert (
        f"{total} row{'s' if total > 1 else ''} suppressed: {FOOTNOTE}"
        in section.locator(".trend-sentence").inner_text()
    )
    if state == "Puerto Rico":
        assert total == 8  # the 8 rows, all marked
        visit.shoot("state-real-suppressed", f'#breakdown section[data-category="{category}"]')


def test_a_year_range_changes_the_requests_and_the_numbers(
    browser: Any, sample_server: Server
) -> None:
    tab = Visit(browser, sample_server)
    try:
        posted = tab.record_posts()
        tab.ready(f"/states/Ohio?question={quote(OBESITY)}")
        tab.page.select_option("#year-from", "2015")
        tab.wait_ready()
        tab.page.select_option("#year-to", "2019")
        tab.page.wait_for_selector('#compare[data-years="2015-2019"]')
        tab.wait_ready()
        fields = {"years": [2015, 2019], "stratification": TOTAL}
        late = [body for endpoint, body in posted if body.get("years") == [2015, 2019]]
        assert {body["question"] for body in late} == {q["question"] for q in _questions(tab)}
        assert all(body.get("stratification") in (None, TOTAL) for _, body in posted), (
            "every request carries the group (or, for the breakdown, none)"
        )
        answer = tab.ask("state_trend", OBESITY, "Ohio", fields)
        rows = table(_trend_section(tab, OBESITY))
        assert [int(row[0]) for row in rows] == [2015, 2016, 2017, 2018, 2019]
        assert [row[1] for row in rows] == [one(p["value"]) for p in answer["series"]]
        assert "from=2015" in tab.page.url and "to=2019" in tab.page.url
        # The address keeps the choice: a new visit to it shows the same range.
        tab.ready(urlsplit(tab.page.url).path + "?" + urlsplit(tab.page.url).query)
        assert tab.page.input_value("#year-from") == "2015"
    finally:
        tab.close()


def test_unreliable_years_are_hollow_and_say_why(browser: Any, sample_server: Server) -> None:
    tab = Visit(browser, sample_server)
    try:
        group = (
            f"category={quote(PACIFIC['category'], safe='')}&stratum={quote(PACIFIC['stratum'])}"
        )
        tab.ready(f"/states/Hawaii?{group}")
        answer = tab.ask("state_trend", OBESITY, "Hawaii", {"stratification": PACIFIC})
        unreliable = [point for point in answer["series"] if not point["reliable"]]
        assert unreliable, "the sample has an unreliable year here"
        section = _trend_section(tab, OBESITY)
        fills = section.locator("g.points_marks path").evaluate_all(
            "paths => paths.map(p => [p.getAttribute('aria-label'), p.getAttribute('fill')])"
        )
        assert len(fills) == len(answer["series"])
        for (label, fill), point in zip(fills, answer["series"], strict=True):
            assert label.startswith(f"{point['year']}:")
            assert (fill == "#ffffff") == (not point["reliable"]), (label, fill)
        rows = {int(row[0]): row for row in table(section)}
        for point in unreliable:
            assert rows[point["year"]][4] == "unreliable " + "; ".join(point["unreliable"])
    finally:
        tab.close()
