"""The engine's kombu transport (app.celery_engine.transport) on a real Redis, and the TLS the
settings keep for rediss:// URLs once a transport is named. That workers run on it is what every
Celery engine test shows."""

from __future__ import annotations

import ssl

import pytest
from redis.connection import Connection, SSLConnection

from app.celery_engine.settings import make_celery
from app.celery_engine.transport import Channel
from unittests.support.celery_stack import RedisServer


def test_a_channel_sends_its_own_commands_through_one_client(redis_server: RedisServer) -> None:
    with make_celery(redis_server.url(7), 30).connection_for_write() as connection:
        channel = connection.default_channel
        assert isinstance(channel, Channel)
        with channel.conn_or_acquire() as first, channel.conn_or_acquire() as second:
            assert first is second
            assert first.ping()
        channel.qos.ack("no-such-tag")  # what a worker does after each job: one client still
        with channel.conn_or_acquire() as third:
            assert third is first
        channel._disconnect_pools()  # as kombu does after a fork: a new pool, a new client
        with channel.conn_or_acquire() as fourth:
            assert fourth is not first and fourth.ping()


@pytest.mark.parametrize(
    ("url", "checks", "connection_class"),
    [
        ("redis://127.0.0.1:6379/0", None, Connection),
        ("rediss://redis.example:6380/0", ssl.CERT_REQUIRED, SSLConnection),
        ("rediss://redis.example:6380/0?ssl_cert_reqs=none", ssl.CERT_NONE, SSLConnection),
        ("rediss://redis.example:6380/0?ssl_cert_reqs=required", ssl.CERT_REQUIRED, SSLConnection),
    ],
)
def test_rediss_urls_keep_tls_and_check_certificates_unless_told(
    url: str, checks: ssl.VerifyMode | None, connection_class: type
) -> None:
    """Naming the transport must not turn TLS off: kombu gives it from the scheme only when it
    picks the transport itself. Nothing connects here: the parameters a channel would use."""
    connection = make_celery(url, 30).connection_for_write()
    assert (connection.ssl or {}).get("ssl_cert_reqs") == checks
    channel = Channel.__new__(Channel)
    channel.connection = connection.transport
    params = channel._connparams()
    assert params["connection_class"] is connection_class
    if checks is not None:
        assert params["ssl_cert_reqs"] == checks
