"""The request policy (app.policy) in front of both engines: hostile browser requests refused,
the requests of curl, the client and the course checker untouched, and the settings it reads.

The tests on `client` run on each engine (make_engine_app); real server processes are in
test_policy_server.py, the bounds on jobs in test_admission.py.
"""

from __future__ import annotations

import pytest

from app import config
from app.policy import settings
from app.policy.hosts import is_loopback
from unittests.conftest import OBESITY

BODY = {"question": OBESITY}
EVIL = "https://evil.example"
CROSS_SITE = {"Origin": EVIL, "Sec-Fetch-Site": "cross-site"}
TOKEN = "s3cret-token-for-the-tests-0123456789"


@pytest.fixture
def client(make_engine_app):
    return make_engine_app().test_client()


def _issued(client) -> int:
    return client.get("/api/health").get_json()["jobs_issued"]


def _accepts_jobs(client) -> bool:
    return client.post("/api/global_mean", json=BODY).status_code == 200


# -- who may change state ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        CROSS_SITE,
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site", "Origin": "http://localhost:3000"},
        {"Origin": EVIL},
        {"Origin": "null"},
        {"Origin": "http://localhost:3000"},  # another port of the same host: another origin
        {"Origin": f"https://{'localhost'}"},  # another scheme
    ],
)
def test_a_post_from_another_site_is_refused_and_accepts_nothing(client, headers):
    response = client.post(
        "/api/states_mean", data=b'{"question": "%s"}' % OBESITY.encode(), headers=headers
    )
    assert response.status_code == 403
    assert response.get_json()["status"] == "error"
    assert "LSS_CORS_ORIGINS" in response.get_json()["reason"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert _issued(client) == 0


def test_a_text_plain_post_from_another_origin_creates_no_job(client):
    """A form or a no-cors fetch needs no preflight: its Origin alone refuses it."""
    response = client.post(
        "/api/states_mean",
        data=b'{"question": "%s"}' % OBESITY.encode(),
        headers={"Origin": EVIL, "Content-Type": "text/plain"},
    )
    assert response.status_code == 403
    assert _issued(client) == 0


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST"])
def test_graceful_shutdown_from_another_site_is_refused_and_changes_nothing(client, method):
    """The <img> of any page (GET, HEAD) and a form (POST) cannot stop the service."""
    for headers in (CROSS_SITE, {"Sec-Fetch-Site": "cross-site"}, {"Origin": EVIL}):
        response = client.open("/api/graceful_shutdown", method=method, headers=headers)
        assert response.status_code == 403
    assert _accepts_jobs(client)


def test_the_pages_own_requests_and_plain_clients_pass(client):
    same = {"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"}
    assert client.post("/api/global_mean", json=BODY, headers=same).status_code == 200
    assert client.post("/api/global_mean", json=BODY).status_code == 200  # curl, lss, checker
    typed = {"Sec-Fetch-Site": "none"}  # a URL typed in the address bar
    assert client.get("/api/graceful_shutdown", headers=typed).status_code == 200
    assert not _accepts_jobs(client)


def test_reads_from_another_site_are_not_refused(client):
    """Reading is not changing: a cross-site GET of a read gets its answer (no CORS header, so
    a script on that site still cannot read it)."""
    response = client.get("/api/num_jobs", headers=CROSS_SITE)
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST"])
def test_without_a_token_only_a_loopback_peer_may_shut_down(make_engine_app, method):
    client = make_engine_app().test_client()
    for peer in ("10.1.2.3", "192.0.2.7", "2001:db8::1"):
        response = client.open(
            "/api/graceful_shutdown", method=method, environ_base={"REMOTE_ADDR": peer}
        )
        assert response.status_code == 403
        if method != "HEAD":
            assert "LSS_ADMIN_TOKEN" in response.get_json()["reason"]
    assert _accepts_jobs(client)
    for peer in ("::1", "::ffff:127.0.0.1"):
        assert is_loopback(peer)
    response = client.open("/api/graceful_shutdown", method=method)  # 127.0.0.1
    assert response.status_code == 200
    assert not _accepts_jobs(client)


def test_with_a_token_graceful_shutdown_needs_it_from_anywhere(make_engine_app):
    client = make_engine_app(ADMIN_TOKEN=TOKEN).test_client()
    for authorization in (None, "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer"):
        headers = {"Authorization": authorization} if authorization else {}
        response = client.get("/api/graceful_shutdown", headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert "Authorization: Bearer" in response.get_json()["reason"]
    assert _accepts_jobs(client)
    response = client.post(
        "/api/graceful_shutdown",
        headers={"Authorization": f"bearer {TOKEN}"},
        environ_base={"REMOTE_ADDR": "192.0.2.7"},
    )
    assert response.status_code == 200
    assert not _accepts_jobs(client)


def test_a_token_does_not_let_another_site_in(make_engine_app):
    client = make_engine_app(ADMIN_TOKEN=TOKEN).test_client()
    headers = {**CROSS_SITE, "Authorization": f"Bearer {TOKEN}"}
    assert client.get("/api/graceful_shutdown", headers=headers).status_code == 403
    assert _accepts_jobs(client)


# -- DNS rebinding -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("localhost", 200),
        ("localhost:5000", 200),
        ("LOCALHOST:80", 200),
        ("127.0.0.1:1234", 200),
        ("[::1]:5000", 200),
        ("evil.example", 421),
        ("evil.example:5000", 421),
        ("localhost.evil.example", 421),
        ("127.0.0.2", 421),
        ("stats.example", 421),
    ],
)
def test_a_loopback_server_answers_its_own_names_only(client, host, status):
    for path in ("/api/health", "/api/get_results/job_id_1", "/"):
        response = client.get(path, headers={"Host": host})
        assert response.status_code == status or (status == 200 and response.status_code == 404)
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    response = client.post("/api/global_mean", json=BODY, headers={"Host": host})
    assert response.status_code == status
    if status == 421:
        assert "evil" in response.get_json()["reason"] or host in response.get_json()["reason"]
        assert _issued(client) == 0


def test_allowed_hosts_add_names(make_engine_app):
    client = make_engine_app(ALLOWED_HOSTS=frozenset({"stats.example"})).test_client()
    assert client.get("/api/health", headers={"Host": "stats.example:8080"}).status_code == 200
    assert client.get("/api/health", headers={"Host": "localhost"}).status_code == 200
    assert client.get("/api/health", headers={"Host": "evil.example"}).status_code == 421


def test_beyond_loopback_any_host_is_answered_unless_names_are_listed(make_engine_app):
    client = make_engine_app(HOST="0.0.0.0").test_client()
    assert client.get("/api/health", headers={"Host": "192.0.2.7:5000"}).status_code == 200
    listed = make_engine_app(HOST="0.0.0.0", ALLOWED_HOSTS=frozenset({"stats.example"}))
    listed_client = listed.test_client()
    assert listed_client.get("/api/health", headers={"Host": "stats.example"}).status_code == 200
    assert listed_client.get("/api/health", headers={"Host": "192.0.2.7"}).status_code == 421


# -- CORS for the origins a user lists ---------------------------------------------------------


def test_a_listed_origin_may_post_and_read_with_cors_answers(make_engine_app):
    dashboard = "https://dash.example:8443"
    client = make_engine_app(CORS_ORIGINS=frozenset({dashboard})).test_client()
    preflight = client.options(
        "/api/global_mean",
        headers={
            "Origin": dashboard,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, prefer",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == dashboard
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in preflight.headers["Access-Control-Allow-Headers"]
    assert "Prefer" in preflight.headers["Access-Control-Allow-Headers"]
    headers = {"Origin": dashboard, "Sec-Fetch-Site": "cross-site"}
    response = client.post("/api/global_mean", json=BODY, headers=headers)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == dashboard
    assert "Origin" in response.headers["Vary"]
    job_id = response.get_json()["job_id"]
    read = client.get(f"/api/get_results/{job_id}", headers={"Origin": dashboard})
    assert read.headers["Access-Control-Allow-Origin"] == dashboard
    assert "ETag" in read.headers["Access-Control-Expose-Headers"]
    other = client.post("/api/global_mean", json=BODY, headers={"Origin": EVIL})
    assert other.status_code == 403
    assert "Access-Control-Allow-Origin" not in other.headers
    unlisted = client.options(
        "/api/global_mean", headers={"Origin": EVIL, "Access-Control-Request-Method": "POST"}
    )
    assert "Access-Control-Allow-Origin" not in unlisted.headers


def test_without_listed_origins_no_cors_header_is_sent(client):
    response = client.get("/api/questions", headers={"Origin": EVIL})
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Vary" not in response.headers


# -- the settings ------------------------------------------------------------------------------


def test_the_settings_are_read_and_normalised():
    loaded = config.load(
        {
            "LSS_CORS_ORIGINS": " https://Dash.example:443, http://localhost:3000/ ,",
            "LSS_ALLOWED_HOSTS": "Stats.Example:8080, [::2], lan.local.",
            "LSS_ADMIN_TOKEN": f" {TOKEN} ",
            "LSS_RATE_LIMIT": "10 / Minute",
        }
    )
    assert loaded["CORS_ORIGINS"] == {"https://dash.example", "http://localhost:3000"}
    assert loaded["ALLOWED_HOSTS"] == {"stats.example", "[::2]", "lan.local"}
    assert loaded["ADMIN_TOKEN"] == TOKEN
    assert loaded["RATE_LIMIT"] == "10/minute"
    defaults = config.load({})
    assert defaults["ADMIN_TOKEN"] is None and defaults["RATE_LIMIT"] is None
    assert defaults["MAX_LIVE_JOBS"] == 1_000_000 and defaults["MIN_FREE_DISK_MB"] == 256


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("LSS_CORS_ORIGINS", "*", "LSS_CORS_ORIGINS must be origins such as"),
        ("LSS_CORS_ORIGINS", "https://a.example/path", "not 'https://a.example/path'"),
        ("LSS_CORS_ORIGINS", "ftp://a.example", "LSS_CORS_ORIGINS must be origins"),
        ("LSS_ALLOWED_HOSTS", "a.example/x", "LSS_ALLOWED_HOSTS must be host names"),
        ("LSS_ADMIN_TOKEN", "short", "LSS_ADMIN_TOKEN must be at least 16 characters"),
        ("LSS_ADMIN_TOKEN", "sixteen chars with spaces", "LSS_ADMIN_TOKEN must be"),
        ("LSS_RATE_LIMIT", "10/day", "LSS_RATE_LIMIT must be N/second, N/minute or N/hour"),
        ("LSS_RATE_LIMIT", "0/second", "LSS_RATE_LIMIT must be N/second"),
        ("LSS_MAX_LIVE_JOBS", "-1", "LSS_MAX_LIVE_JOBS must be a whole number"),
        ("LSS_MIN_FREE_DISK_MB", "lots", "LSS_MIN_FREE_DISK_MB must be a whole number"),
    ],
)
def test_bad_settings_are_refused_naming_the_variable(variable, value, message):
    with pytest.raises(config.ConfigError) as raised:
        config.load({variable: value})
    assert message in str(raised.value)


def test_loopback_addresses_and_names():
    loopback = ["127.0.0.1", "127.8.9.1", "::1", "[::1]", "localhost", "::ffff:127.0.0.1"]
    assert all(map(is_loopback, loopback))
    assert not any(map(is_loopback, ["0.0.0.0", "::", "192.0.2.7", "stats.example", ""]))
    assert settings.rate("") is None
