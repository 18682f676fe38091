"""kombu's Redis transport, with one Redis client per channel for the commands it sends itself.

kombu's Redis channel makes a new `redis.Redis` object (on its one connection pool) for each
command it sends outside its event loop: in a worker, the record of every message taken (the
"unacked" hash) and every acknowledgement, two per job. redis-py builds each client's table of
reply callbacks in its constructor, so under load those objects were about a fifth of a worker's
GIL time (`python -m bench.lab profile --engine celery`). A client shares nothing between
commands but its pool and is safe to use from several threads (each command takes a connection
of the pool), so one per channel does the same work. A channel whose pool is replaced (kombu does
so after a fork) gets a new one.

Everything else is kombu's own. The settings (app.celery_engine.settings) name this transport for
the `redis://` and `rediss://` URLs the engine is given.
"""

from __future__ import annotations

from typing import Any

from kombu.transport import redis as kombu_redis


class Channel(kombu_redis.Channel):
    """kombu's Redis channel, reusing one client for its synchronous commands."""

    #: (the pool it was made on, the client).
    _shared: tuple[Any, Any] | None = None

    def _create_client(self, asynchronous: bool = False) -> Any:
        if asynchronous:
            return super()._create_client(asynchronous=True)
        pool, shared = self.pool, self._shared
        if shared is None or shared[0] is not pool:
            shared = self._shared = (pool, super()._create_client())
        return shared[1]


class Transport(kombu_redis.Transport):
    """kombu's Redis transport with the channel above."""

    Channel = Channel


#: The transport's import path, as Celery's `broker_transport` setting takes it.
TRANSPORT = f"{__name__}:Transport"
