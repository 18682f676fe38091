"""Validators of results: a done result has a strong ETag, is immutable, and answers 304 to a
client that holds it; everything else get_results answers is no-store. Both engines, every
endpoint, and once through a real server process."""

from __future__ import annotations

import re
import time

import pytest
import requests

from app import etag
from app.task import TASKS
from unittests.conftest import OBESITY

IMMUTABLE = "public, max-age=31536000, immutable"
STRONG = re.compile(r'^"[0-9a-f]{32}"$')
#: A body for each endpoint, on the small fixture.
BODIES = {
    endpoint: {
        "question": OBESITY,
        **({"state": "Ohio"} if task.needs_state else {}),
        **({"category": "Gender"} if task.needs_category else {}),
    }
    for endpoint, task in TASKS.items()
}


@pytest.fixture
def client(make_engine_app):
    return make_engine_app().test_client()


def _done(client, endpoint: str, query: str = ""):
    """The get_results response of a new job for `endpoint`, once it is done."""
    job_id = client.post(f"/api/{endpoint}", json=BODIES[endpoint]).get_json()["job_id"]
    deadline = time.monotonic() + 10
    while True:
        response = client.get(f"/api/get_results/{job_id}{query}")
        if response.get_json(silent=True) != {"status": "running"}:
            return job_id, response
        assert time.monotonic() < deadline, f"{job_id} still running"
        time.sleep(0.005)


@pytest.mark.parametrize("endpoint", list(TASKS))
def test_a_done_result_has_a_strong_etag_and_is_immutable(client, endpoint):
    job_id, first = _done(client, endpoint)
    assert first.status_code == 200 and first.get_json()["status"] == "done"
    tag = first.headers["ETag"]
    assert STRONG.match(tag), tag
    assert first.headers["Cache-Control"] == IMMUTABLE
    _, again = _done(client, endpoint)  # the same request, another job: the same tag
    assert again.headers["ETag"] == tag and again.get_data() == first.get_data()

    held = client.get(f"/api/get_results/{job_id}", headers={"If-None-Match": tag})
    assert held.status_code == 304
    assert held.get_data() == b""
    assert held.headers["ETag"] == tag and held.headers["Cache-Control"] == IMMUTABLE


@pytest.mark.parametrize(
    ("sent", "status"),
    [
        ("{tag}", 304),
        ("W/{tag}", 304),  # If-None-Match compares weakly
        ('"0000", {tag}', 304),
        ("*", 304),
        ('"0000"', 200),
        ("{bare}", 200),  # an unquoted tag is not the tag
    ],
)
def test_if_none_match_is_compared_as_rfc_9110_says(client, sent, status):
    job_id, first = _done(client, "states_mean")
    tag = first.headers["ETag"]
    header = sent.format(tag=tag, bare=tag.strip('"'))
    response = client.get(f"/api/get_results/{job_id}", headers={"If-None-Match": header})
    assert response.status_code == status
    assert response.get_data() == (b"" if status == 304 else first.get_data())


def test_csv_and_json_of_one_result_are_two_representations_with_two_tags(client):
    job_id, as_json = _done(client, "states_mean")
    as_csv = client.get(f"/api/get_results/{job_id}?format=csv")
    assert as_csv.mimetype == "text/csv"
    assert as_csv.headers["ETag"] != as_json.headers["ETag"]
    assert as_csv.headers["Cache-Control"] == IMMUTABLE
    held = client.get(
        f"/api/get_results/{job_id}?format=csv", headers={"If-None-Match": as_csv.headers["ETag"]}
    )
    assert held.status_code == 304
    stale = client.get(
        f"/api/get_results/{job_id}?format=csv", headers={"If-None-Match": as_json.headers["ETag"]}
    )
    assert stale.status_code == 200 and stale.get_data() == as_csv.get_data()


def test_answers_that_can_change_are_not_stored(make_app, gated):
    client = make_app(THREADS=1).test_client()
    job_id = client.post("/api/states_mean", json={"question": OBESITY}).get_json()["job_id"]
    for path in (f"/api/get_results/{job_id}", "/api/get_results/job_id_99"):
        response = client.get(path, headers={"If-None-Match": "*"})
        assert response.status_code in (200, 404)
        assert response.headers["Cache-Control"] == "no-store"
        assert "ETag" not in response.headers
    assert client.get(f"/api/get_results/{job_id}").get_json() == {"status": "running"}
    gated.set()


def test_a_failed_job_is_not_stored(make_app, monkeypatch):
    def broken(self, dataset):
        raise RuntimeError("broken on purpose")

    monkeypatch.setattr(TASKS["global_mean"], "compute", broken)
    client = make_app().test_client()
    job_id = client.post("/api/global_mean", json={"question": OBESITY}).get_json()["job_id"]
    response = client.get(f"/api/get_results/{job_id}")
    assert response.get_json()["status"] == "error"
    assert response.headers["Cache-Control"] == "no-store" and "ETag" not in response.headers


def test_a_real_server_answers_304_with_the_validators_and_no_body(start_server):
    server = start_server()
    posted = requests.post(f"{server.url}/api/best5", json={"question": OBESITY}, timeout=5)
    url = f"{server.url}/api/get_results/{posted.json()['job_id']}"
    deadline = time.monotonic() + 10
    while (first := requests.get(url, timeout=5)).json() == {"status": "running"}:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    tag = first.headers["ETag"]
    held = requests.get(url, headers={"If-None-Match": tag}, timeout=5)
    assert (held.status_code, held.content) == (304, b"")
    assert held.headers["ETag"] == tag and held.headers["Cache-Control"] == IMMUTABLE
    head = requests.head(url, timeout=5)
    assert head.headers["ETag"] == tag and head.content == b""


def test_the_tags_remembered_hold_a_bounded_number_of_bytes():
    """Bodies read back from files are new objects each poll: what is kept for them is bounded."""
    tags = etag.ETags()
    big = [bytes([n]) * (1 << 20) for n in range(40)]  # 40 MiB of distinct bodies
    seen = {body: tags.of(body) for body in big}
    assert tags._bytes <= etag._REMEMBERED_BYTES
    assert all(tags.of(body) == seen[body] for body in big)  # the same tag after a clear
