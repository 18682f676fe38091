"""The Celery configuration of the scale-out engine: every value set here, and why.

Web processes (which send jobs) and workers (which run them) build their Celery app with
`make_celery`, so both sides agree on the queue, the task name and the broker's options. The
values trade a little duplicate work for never losing a job: a job runs at least once, and a job
run twice gives the same answer (the second answer is dropped, see `app.celery_engine.registry`).
"""

from __future__ import annotations

import ssl
from typing import Any
from urllib.parse import parse_qs, urlsplit

from celery import Celery

from app.celery_engine.transport import TRANSPORT

#: The one task: a job of any endpoint, its id the job id.
TASK_NAME = "lss.run"
#: The queue (a Redis list) the jobs wait in.
QUEUE = "lss"
#: Seconds between two sweeps, in every worker, for jobs whose visibility timeout ran out.
RESTORE_INTERVAL_S = 1
#: Seconds a sweep's lock lives if the worker holding it is killed (kombu's default: 300).
RESTORE_LOCK_S = 10
#: Seconds to wait for a TCP connection to Redis, and for its answer to one command.
CONNECT_TIMEOUT_S = 2
SOCKET_TIMEOUT_S = 10


def _tls(broker_url: str) -> dict[str, Any]:
    """The broker's TLS setting for a rediss:// URL that sets no certificate check itself.

    kombu takes the scheme for its transport only when none is named: with the transport named
    (below), a rediss:// URL would lose the TLS kombu gives it. Certificates are then checked, as
    redis-py checks them for the job registry; `?ssl_cert_reqs=none` in the URL says otherwise.
    """
    parts = urlsplit(broker_url)
    if parts.scheme != "rediss" or "ssl_cert_reqs" in parse_qs(parts.query):
        return {}
    return {"broker_use_ssl": {"ssl_cert_reqs": ssl.CERT_REQUIRED}}


def celery_settings(broker_url: str, visibility_timeout: int, threads: int) -> dict[str, Any]:
    """Celery's settings for a broker, a visibility timeout (s) and a worker's pool threads."""
    return {
        "broker_url": broker_url,
        # kombu's Redis transport, one client per channel instead of one per command
        # (transport.py): the same commands, a fifth less of a worker's time.
        "broker_transport": TRANSPORT,
        **_tls(broker_url),
        # Its own queue name, so that other Celery apps sharing the Redis never take its jobs.
        "task_default_queue": QUEUE,
        # A job is acknowledged when it finished, not when a worker took it: a worker lost
        # mid-job leaves it unacknowledged in Redis, and another worker runs it.
        "task_acks_late": True,
        # A pool process that dies mid-job (killed, out of memory) hands the job back to the
        # queue at once instead of marking it failed (acks_late alone would acknowledge it).
        "task_reject_on_worker_lost": True,
        # Each pool thread reserves one job at a time: a worker that is killed holds at most
        # `threads` jobs, and a busy worker leaves the waiting jobs to the others.
        "worker_prefetch_multiplier": 1,
        # No task has a rate limit: the worker need not look one up for every job.
        "worker_disable_rate_limits": True,
        # Jobs take milliseconds, and threads share the dataset loaded once per worker process.
        "worker_pool": "threads",
        "worker_concurrency": threads,
        # The job writes its answer itself into its record in Redis (registry.py): the exact
        # body get_results serves, kept LSS_RESULT_TTL_S or LSS_ERROR_TTL_S by outcome. Celery's
        # result backend would store a second copy with one TTL for both.
        "task_ignore_result": True,
        # A POST tries the broker twice (the first attempt may meet a connection that Redis
        # dropped when it restarted), then answers 503 instead of keeping the client waiting.
        "task_publish_retry_policy": {
            "max_retries": 1,
            "interval_start": 0,
            "interval_step": 0.2,
            "interval_max": 0.2,
        },
        # A worker started before Redis waits for it, and one that loses Redis waits for it
        # to come back, for as long as it takes.
        "broker_connection_retry_on_startup": True,
        "broker_connection_max_retries": None,
        "broker_transport_options": {
            # A job taken by a worker and not acknowledged within this many seconds goes back
            # to the queue (kombu's default is an hour). Jobs take milliseconds, so only a worker
            # that is gone (or stopped for that long) gets here; a job run twice is harmless.
            "visibility_timeout": visibility_timeout,
            # What gives such jobs back is a sweep in each worker's event loop (kombu's
            # QoS.restore_visible): by default every 10 s, scanning on one call in 10, so about
            # every 100 s. Every second and on every call, so a job lost with a killed worker
            # runs again within visibility_timeout + 1 s.
            "unacked_restore_interval": RESTORE_INTERVAL_S,
            "unacked_restore_throttle": 1,
            # A worker killed during a sweep leaves its lock behind: it must not block the
            # other workers' sweeps for kombu's default 5 minutes.
            "unacked_mutex_expire": RESTORE_LOCK_S,
            # A Redis that is gone costs seconds, not a hung request or worker.
            "socket_connect_timeout": CONNECT_TIMEOUT_S,
            "socket_timeout": SOCKET_TIMEOUT_S,
        },
    }


def make_celery(broker_url: str, visibility_timeout: int, threads: int = 1) -> Celery:
    """A Celery app on `broker_url` with the settings above (no task registered yet)."""
    app = Celery("lss", set_as_current=False)
    app.conf.update(celery_settings(broker_url, visibility_timeout, threads))
    return app
