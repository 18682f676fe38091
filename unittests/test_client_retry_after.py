"""The client and `lss` honour `Retry-After` on 429 and 503 (bounded), against real servers that
refuse: a rate limit, a cap on live jobs, a full disk (a tmpfs, root)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from email.utils import formatdate
from pathlib import Path

import pytest
import requests

from lss_client import AsyncClient, Client, Policy, TooManyRequests
from lss_client._httpx import httpx
from lss_client.protocol import retry_after
from unittests.conftest import OBESITY
from unittests.support.servers import Server
from unittests.support.small_disk import MIB, fill, small_disk
from unittests.test_cli import lss

BODY = {"question": OBESITY}


def _answer(headers: dict[str, str], status: int = 429) -> httpx.Response:
    return httpx.Response(status, headers=headers, json={"status": "error", "reason": "busy"})


def test_retry_after_is_read_as_seconds_or_a_date_and_bounded():
    assert retry_after(_answer({"Retry-After": "3"}), 30) == 3
    assert retry_after(_answer({"Retry-After": "3600"}), 30) == 30
    assert retry_after(_answer({"Retry-After": "9" * 400}), 30) == 30
    later = retry_after(_answer({"Retry-After": formatdate(time.time() + 10, usegmt=True)}), 30)
    assert later is not None and 8 <= later <= 10
    assert retry_after(_answer({"Retry-After": formatdate(time.time() - 10, usegmt=True)}), 30) == 0
    for unreadable in ("", "soon", "-1", "1e3", "1.5"):
        assert retry_after(_answer({"Retry-After": unreadable}), 30) is None
    assert retry_after(_answer({}), 30) is None


def _fill_the_window(server: Server) -> None:
    """Use up this second's one job of a 1/second rate limit."""
    answer = requests.post(f"{server.url}/api/global_mean", json=BODY, timeout=10)
    assert answer.status_code == 200
    refused = requests.post(f"{server.url}/api/global_mean", json=BODY, timeout=10)
    assert (refused.status_code, refused.headers["Retry-After"]) == (429, "1")


@pytest.fixture
def limited(start_server: Callable[..., Server]) -> Server:
    return start_server(LSS_RATE_LIMIT="1/second", LSS_WORKERS="1")


def test_client_waits_what_a_429_asks_then_gets_its_answer(limited: Server):
    expected = requests.post(f"{limited.url}/api/global_mean", json=BODY, timeout=10)
    time.sleep(1.1)
    _fill_the_window(limited)
    started = time.monotonic()
    with Client(limited.url) as client:
        data = client.ask("global_mean", OBESITY)
    waited = time.monotonic() - started
    assert 0.5 <= waited < 5, waited  # about the second asked, not the 0.1 s back-off
    job_id = expected.json()["job_id"]
    assert (
        data == requests.get(f"{limited.url}/api/get_results/{job_id}", timeout=10).json()["data"]
    )


def test_async_client_waits_what_a_429_asks(limited: Server):
    _fill_the_window(limited)

    async def ask() -> float:
        started = time.monotonic()
        async with AsyncClient(limited.url) as client:
            await client.ask("global_mean", OBESITY)
        return time.monotonic() - started

    assert 0.5 <= asyncio.run(ask()) < 5


def test_lss_waits_what_a_429_asks(limited: Server):
    _fill_the_window(limited)
    started = time.monotonic()
    result = lss("ask", "global_mean", "obesity", url=limited.url)
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started >= 0.5


def test_a_long_retry_after_is_bounded_and_the_refusal_raised(start_server: Callable[..., Server]):
    """A cap on live jobs asks for up to a minute; the client waits at most its bound."""
    server = start_server(LSS_MAX_LIVE_JOBS="1")
    assert requests.post(f"{server.url}/api/global_mean", json=BODY, timeout=10).status_code == 200
    time.sleep(1.2)  # every process counted it
    refused = requests.post(f"{server.url}/api/global_mean", json=BODY, timeout=10)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 10
    started = time.monotonic()
    with (
        Client(server.url, policy=Policy(retries=2, retry_after_max=0.3)) as client,
        pytest.raises(TooManyRequests) as raised,
    ):
        client.ask("global_mean", OBESITY)
    assert 0.5 <= time.monotonic() - started < 10  # the server asked for over 10 s, twice
    assert raised.value.status_code == 429
    assert "LSS_MAX_LIVE_JOBS" in raised.value.reason


def test_client_waits_out_a_full_disk_503(tmp_path: Path, start_server: Callable[..., Server]):
    with small_disk(tmp_path / "disk", 8) as disk:
        server = start_server(
            results=disk / "results", LSS_MIN_FREE_DISK_MB="4", LSS_MAINTENANCE_INTERVAL_S="1"
        )
        filler = fill(disk, leave=1 * MIB)
        time.sleep(1.2)  # looked at by every process
        refused = requests.post(f"{server.url}/api/global_mean", json=BODY, timeout=10)
        assert (refused.status_code, refused.headers["Retry-After"]) == (503, "1")
        threading.Timer(1.5, filler.unlink).start()  # space comes back while the client waits
        started = time.monotonic()
        with Client(server.url, policy=Policy(retries=6)) as client:
            assert client.ask("global_mean", OBESITY)
        assert time.monotonic() - started >= 1.4
        server.stop()
