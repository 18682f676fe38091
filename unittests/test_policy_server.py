"""The request policy on real server processes, asked as an attacker would: cross-site requests,
an <img>'s GET and HEAD of graceful_shutdown, a text/plain POST from another origin, DNS
rebinding, another machine without the token; and the start-up warning.
"""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest
import requests

from unittests.conftest import OBESITY
from unittests.support.servers import Server

BODY = {"question": OBESITY}
EVIL = {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}
TOKEN = "another-s3cret-token-0123456789"


def _issued(server: Server) -> int:
    return requests.get(f"{server.url}/api/health", timeout=10).json()["jobs_issued"]


def _raw(port: int, request: bytes, host: str = "127.0.0.1") -> bytes:
    """One request sent as bytes (no client library adds a header), and the raw answer."""
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def _own_address() -> str | None:
    """An address of this machine that is not loopback (None if it has none)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the route
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") else address


def test_a_page_of_another_site_can_neither_stop_the_service_nor_submit(
    start_server: Callable[..., Server],
):
    server = start_server(LSS_WORKERS="2")
    for _ in range(4):  # whichever server process answers
        for method in ("GET", "HEAD", "POST"):  # an <img>, a prefetch, a form
            answer = requests.request(
                method, f"{server.url}/api/graceful_shutdown", headers=EVIL, timeout=10
            )
            assert answer.status_code == 403
            assert answer.headers["X-Content-Type-Options"] == "nosniff"
        posted = requests.post(
            f"{server.url}/api/states_mean",
            data=f'{{"question": "{OBESITY}"}}',
            headers={"Origin": "https://evil.example", "Content-Type": "text/plain"},
            timeout=10,
        )
        assert posted.status_code == 403
        assert posted.json()["status"] == "error"
    assert _issued(server) == 0
    assert requests.post(f"{server.url}/api/states_mean", json=BODY, timeout=10).status_code == 200
    log = server.log_file.read_text()
    assert "<- HEAD /api/graceful_shutdown 403" in log
    assert "<- POST /api/states_mean 403" in log


def test_dns_rebinding_gets_421_and_plain_clients_are_served(start_server: Callable[..., Server]):
    server = start_server()
    for path in ("/api/health", "/api/jobs", "/api/get_results/job_id_1", "/"):
        answer = requests.get(
            f"{server.url}{path}",
            headers={"Host": f"rebind.evil.example:{server.port}"},
            timeout=10,
        )
        assert answer.status_code == 421
        assert "rebind.evil.example" in answer.json()["reason"]
    for host in ("localhost", f"127.0.0.1:{server.port}", f"[::1]:{server.port}"):
        answer = requests.get(f"{server.url}/api/health", headers={"Host": host}, timeout=10)
        assert answer.status_code == 200
    http10 = _raw(server.port, b"GET /api/num_jobs HTTP/1.0\r\n\r\n")  # no Host at all
    assert http10.split(b"\r\n", 1)[0].endswith(b"200 OK")
    assert b'{"num_jobs":0}' in http10
    listed = start_server(LSS_ALLOWED_HOSTS="stats.example")
    answer = requests.get(f"{listed.url}/api/health", headers={"Host": "stats.example"}, timeout=10)
    assert answer.status_code == 200


def test_the_admin_token_is_needed_and_compared_whole(start_server: Callable[..., Server]):
    server = start_server(LSS_ADMIN_TOKEN=TOKEN)
    for given in ("", "Bearer ", f"Bearer {TOKEN[:-1]}", f"Bearer {TOKEN}0", f"Token {TOKEN}"):
        answer = requests.get(
            f"{server.url}/api/graceful_shutdown", headers={"Authorization": given}, timeout=10
        )
        assert answer.status_code == 401, given
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert requests.post(f"{server.url}/api/states_mean", json=BODY, timeout=10).status_code == 200
    answer = requests.post(
        f"{server.url}/api/graceful_shutdown",
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=10,
    )
    assert answer.status_code == 200
    assert requests.post(f"{server.url}/api/states_mean", json=BODY, timeout=10).status_code == 503


def _warnings(server: Server) -> list[str]:
    return [line for line in server.stderr.splitlines() if line.startswith("warning:")]


def test_bound_beyond_loopback_another_machine_needs_the_token_and_a_warning_says_so(
    start_server: Callable[..., Server],
):
    exposed = start_server(LSS_HOST="0.0.0.0", LSS_WORKERS="2")
    warnings = _warnings(exposed)
    assert len(warnings) == 1, exposed.stderr  # the main process only, once
    assert "LSS_ADMIN_TOKEN" in warnings[0]
    assert not _warnings(start_server())  # loopback: nothing to say
    assert not _warnings(start_server(LSS_HOST="0.0.0.0", LSS_ADMIN_TOKEN=TOKEN))
    address = _own_address()
    if address is None:
        pytest.skip("this machine has no address but loopback to come from")
    for method in (b"GET", b"HEAD", b"POST"):
        answer = _raw(
            exposed.port,
            method + b" /api/graceful_shutdown HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            b"Content-Length: 0\r\n\r\n",
            host=address,
        )
        assert answer.split(b"\r\n", 1)[0].endswith(b"403 Forbidden"), answer
    assert requests.post(f"{exposed.url}/api/states_mean", json=BODY, timeout=10).status_code == 200
    answer = requests.get(f"{exposed.url}/api/graceful_shutdown", timeout=10)  # from loopback
    assert answer.status_code == 200


def test_a_listed_origin_gets_cors_answers_from_a_real_server(start_server: Callable[..., Server]):
    dashboard = "https://dash.example"
    server = start_server(LSS_CORS_ORIGINS=dashboard)
    preflight = requests.options(
        f"{server.url}/api/state_mean",
        headers={
            "Origin": dashboard,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
        timeout=10,
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == dashboard
    headers = {"Origin": dashboard, "Sec-Fetch-Site": "cross-site"}
    posted = requests.post(
        f"{server.url}/api/state_mean", json={**BODY, "state": "Ohio"}, headers=headers, timeout=10
    )
    assert posted.status_code == 200
    assert posted.headers["Access-Control-Allow-Origin"] == dashboard
    refused = requests.post(f"{server.url}/api/state_mean", json=BODY, headers=EVIL, timeout=10)
    assert refused.status_code == 403
