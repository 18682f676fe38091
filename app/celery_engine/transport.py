"""kombu's Redis transport, with one Redis client per channel for the commands it sends itself,
and a worker that goes on when Redis is full.

kombu's Redis channel makes a new `redis.Redis` object (on its one connection pool) for each
command it sends outside its event loop: in a worker, the record of every message taken (the
"unacked" hash) and every acknowledgement, two per job. redis-py builds each client's table of
reply callbacks in its constructor, so under load those objects were about a fifth of a worker's
GIL time (`python -m bench.lab profile --engine celery`). A client shares nothing between
commands but its pool and is safe to use from several threads (each command takes a connection
of the pool), so one per channel does the same work. A channel whose pool is replaced (kombu does
so after a fork) gets a new one.

A Redis past its maxmemory (noeviction) refuses every write that may need memory, and every
command queued in a MULTI. kombu's bookkeeping of the messages a worker holds is such writes, and
a worker whose event loop meets one stops for good ("Unrecoverable error"), so here (QoS):

- the sweep for messages whose visibility timeout ran out takes a lock (a write): on a full Redis
  it waits for the next round instead;
- a message taken whose record as unacknowledged is refused is run all the same: were the worker
  lost with it, the job registry's sweep for lost jobs (lost_jobs.py) would send it again;
- an acknowledgement deletes that record outside a MULTI (deletions are never refused).

The job's answer itself is recorded even on a full Redis (registry_scripts.FINISH). Everything
else is kombu's own. The settings (app.celery_engine.settings) name this transport for the
`redis://` and `rediss://` URLs the engine is given.
"""

from __future__ import annotations

import logging
from typing import Any

import redis
from kombu.transport import redis as kombu_redis
from kombu.transport import virtual

from app.celery_engine.outages import full

log = logging.getLogger("lss")


class QoS(kombu_redis.QoS):
    """kombu's record of the messages a worker holds, going on when Redis is full."""

    def restore_visible(self, *args: Any, **kwargs: Any) -> None:
        try:
            super().restore_visible(*args, **kwargs)
        except redis.ResponseError as error:
            if not full(error):
                raise

    #: Whether the last record of a message taken was refused (logged once, not per job).
    _unrecorded = False

    def append(self, message: Any, delivery_tag: str) -> None:
        try:
            super().append(message, delivery_tag)
        except redis.ResponseError as error:
            if not full(error):
                raise
            if not self._unrecorded:
                log.warning("Redis is full: jobs taken run unrecorded by kombu until it has room")
            self._unrecorded = True
            virtual.QoS.append(self, message, delivery_tag)
        else:
            if self._unrecorded:
                log.info("Redis has room again: kombu records the jobs taken")
            self._unrecorded = False

    def ack(self, delivery_tag: str) -> None:
        with self.channel.conn_or_acquire() as client:
            pipe = client.pipeline(transaction=False)
            pipe.hdel(self.unacked_key, delivery_tag).zrem(self.unacked_index_key, delivery_tag)
            pipe.execute()
        virtual.QoS.ack(self, delivery_tag)


class Channel(kombu_redis.Channel):
    """kombu's Redis channel, reusing one client for its synchronous commands."""

    QoS = QoS
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
