"""The client's endpoint list is the server's: same names, same order, the same ones take a state.

The client cannot import the server (it is a distribution of its own), so it keeps a copy of
`app.task.TASKS`; these tests fail as soon as the two differ, naming what is missing where.
"""

from __future__ import annotations

from app.task import TASKS
from lss_client import ENDPOINTS, STATE_ENDPOINTS


def test_the_client_lists_every_endpoint_of_the_server_in_its_order() -> None:
    assert set(TASKS) - set(ENDPOINTS) == set(), "the server's, missing from lss_client.job"
    assert set(ENDPOINTS) - set(TASKS) == set(), "the client's, unknown to app.task.TASKS"
    assert tuple(TASKS) == ENDPOINTS


def test_the_client_knows_which_endpoints_take_a_state() -> None:
    assert {name for name, task in TASKS.items() if task.needs_state} == STATE_ENDPOINTS
