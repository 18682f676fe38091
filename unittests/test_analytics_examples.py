"""The representative requests offered to the benchmark are valid and cover every endpoint of
the statistics."""

from __future__ import annotations

from collections import Counter

from app.analytics.examples import representative_requests
from app.data_ingestor import load_dataset
from app.task import ANALYTICS_TASKS, TASKS
from unittests.conftest import BUNDLED_CSV


def test_every_representative_request_is_accepted_and_answered():
    dataset = load_dataset(BUNDLED_CSV)
    requests = representative_requests(dataset.rows)
    assert Counter(endpoint for endpoint, _ in requests).keys() == ANALYTICS_TASKS.keys()
    for endpoint, body in requests:
        data = TASKS[endpoint].from_payload(body, dataset).compute(dataset)
        assert data["provenance"]["dataset_sha256"] == dataset.sha256
    for every_location in ("compare_to_national", "rankings"):
        bodies = [body for endpoint, body in requests if endpoint == every_location]
        assert {"years", "stratification"} <= {key for body in bodies for key in body}
