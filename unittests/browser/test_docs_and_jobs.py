"""The job monitor and the interactive API docs in Chromium, and the guards every browser test
relies on: nothing leaves 127.0.0.1, and the pages' own policy forbids other hosts."""

from __future__ import annotations

import json

import pytest
import requests

from unittests.support.browser import DASH, Visit, axe

pytestmark = pytest.mark.e2e


def test_job_monitor_updates_after_new_jobs(visit: Visit) -> None:
    visit.ready("/jobs")
    visit.page.evaluate("window.stillTheSamePage = true")
    done_before = int(visit.page.inner_text("#count-done"))
    questions = [item["question"] for item in visit.api("/api/questions")["questions"]]
    job_ids = [
        requests.post(
            f"{visit.server.url}/api/compare_to_national",
            json={"question": question, "years": [2011, 2011 + n]},  # a job never asked before
            timeout=10,
        ).json()["job_id"]
        for n, question in enumerate(questions[:3], start=30)
    ]
    newest = job_ids[-1]
    visit.page.wait_for_selector(f"#jobs tbody tr:first-child >> text={newest}")
    visit.page.wait_for_function(
        f"Number(document.getElementById('count-done').textContent) >= {done_before + 3}"
    )
    first = visit.page.eval_on_selector(
        "#jobs tbody tr:first-child", "r => [...r.cells].map(c => c.innerText.trim())"
    )
    assert visit.page.evaluate("window.stillTheSamePage") is True  # updated in place, no reload
    assert first[:2] == [newest, "compare_to_national"]
    assert first[2] == "No leisure-time activity"  # the third question, in a few words
    assert first[3] == DASH  # no state
    recent = visit.api("/api/jobs/recent?limit=1")["jobs"][0]
    assert recent["job_id"] == newest
    assert first[5] == recent["accepted"].replace("T", " ").replace("Z", "")
    visit.shoot("jobs")


def test_the_docs_list_every_operation_and_their_examples_are_answered(visit: Visit) -> None:
    """ "Try it out" sends the document's example body as it is: the service answers it, on the
    sample as on the real rows; and axe finds nothing with an operation open and answered."""
    document = visit.api("/api/openapi.json")
    operations = sum(len(item) for item in document["paths"].values())
    visit.goto("/api/docs")
    visit.page.wait_for_selector(".opblock")
    assert visit.page.locator(".opblock").count() == operations
    block = visit.page.locator("#operations-jobs-submit_compare_to_national")
    block.locator(".opblock-summary-control").click()
    block.locator(".try-out__btn").click()
    sent = json.loads(block.locator("textarea.body-param__text").input_value())
    example = document["paths"]["/api/compare_to_national"]["post"]["requestBody"]["content"]
    assert sent == example["application/json"]["example"]
    block.locator(".execute").click()
    answer = block.locator(".live-responses-table tbody .response-col_status").first
    assert answer.inner_text().strip() == "200"
    body = json.loads(block.locator(".live-responses-table .microlight").first.inner_text())
    for _ in range(600):  # the job the docs started: done, not refused nor failed
        result = visit.api(f"/api/get_results/{body['job_id']}")
        if result["status"] != "running":
            break
    assert result["status"] == "done", result
    assert axe(visit) == []
    visit.shoot("api-docs")


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
