"""A job's Celery task message, as kombu's Redis transport queues it, built without sending it.

A POST records the job and queues its task in one Lua script (registry.accept): one round trip to
Redis instead of two, and none of the Python of `send_task`, which was three quarters of a
submit's CPU in the web process. Celery itself builds the message
(`AMQP.as_task_v2`, protocol 2, the same headers and body `send_task` sends); this module wraps it
in the envelope kombu's Redis transport pushes onto the queue's list and reads back in a worker:
a JSON object whose body is the base64 of the serialized task.

The job's number is known only inside the script (INCR), so the message is handed over in
pieces: the places of the job id are cut out, and the script joins the pieces with the id.

What `send_task` would also do and this leaves out: the `before_task_publish` and
`after_task_publish` signals and the `task-sent` event (nothing here listens to them), routing
(the engine has one queue) and declaring the queue (every worker declares it at start; a list
pushed before that waits for it all the same).
"""

from __future__ import annotations

import base64
import uuid

import orjson
from celery import Celery
from kombu.serialization import dumps

from app.celery_engine.settings import QUEUE, TASK_NAME

#: Stands for the job id while the message is built: random per process, so no request can
#: contain it (its text reaches the headers through `argsrepr`); checked by its count anyway.
_ID = f"lss-job-id-{uuid.uuid4().hex}"
#: The places of the job id in a protocol-2 message: headers.id, headers.root_id and
#: properties.correlation_id.
ID_PLACES = 3
#: kombu's "persistent" delivery mode, which Celery's producer sets on every task.
_PERSISTENT = 2
#: The longest `argsrepr` header (the arguments as text, for logs and monitors), as Celery's.
ARGSREPR_MAX = 1024


class MessageError(ValueError):
    """A message could not be cut around its job id."""


def task_message(
    celery: Celery, endpoint: str, payload: object, request_id: str | None = None
) -> list[bytes]:
    """The queued message of job (`endpoint`, `payload`): its pieces around the job id. The id
    of the request that submitted it, if any, is its third argument: the worker's lines about the
    job carry it."""
    args: tuple[object, ...] = (endpoint, payload)
    if request_id is not None:
        args = (endpoint, payload, request_id)
    # Celery's own `saferepr` of the arguments cost 60% of building the message; a request's
    # payload is small JSON, which the plain repr writes the same (the test compares them).
    argsrepr = repr(args)[:ARGSREPR_MAX]
    task = celery.amqp.as_task_v2(_ID, TASK_NAME, args=args, ignore_result=None, argsrepr=argsrepr)
    content_type, content_encoding, body = dumps(task.body, serializer="json")
    properties = {
        **task.properties,
        "delivery_mode": _PERSISTENT,
        "delivery_info": {"exchange": "", "routing_key": QUEUE},
        "priority": 0,
        "body_encoding": "base64",
        "delivery_tag": str(uuid.uuid4()),
    }
    envelope = {
        "body": base64.b64encode(body if isinstance(body, bytes) else body.encode()).decode(),
        "content-encoding": content_encoding,
        "content-type": content_type,
        "headers": task.headers,
        "properties": properties,
    }
    pieces = orjson.dumps(envelope).split(_ID.encode())
    if len(pieces) != ID_PLACES + 1:
        raise MessageError(f"the job id has {len(pieces) - 1} places in the message, not 3")
    return pieces
