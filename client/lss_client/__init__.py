"""A client for Le Stats Sportif: submit a question, poll for its answer, many at once if asked.

    from lss_client import Client
    with Client("http://127.0.0.1:5000") as client:
        data = client.ask("state_mean", "Percent of adults ... obesity", state="Ohio")

Standalone: it imports neither Flask nor pandas nor the server's `app` package.
"""

from lss_client.async_client import AsyncClient
from lss_client.client import Client
from lss_client.errors import (
    BadRequest,
    JobExpired,
    JobFailed,
    JobNotFound,
    JobTimeout,
    LssError,
    NoMatch,
    ServerError,
    ServerUnavailable,
    ServerUnreachable,
    ShuttingDown,
    TooManyRequests,
)
from lss_client.job import (
    CATEGORY_ENDPOINTS,
    ENDPOINTS,
    STATE_ENDPOINTS,
    Answer,
    Question,
    QuestionInfo,
)
from lss_client.protocol import DEFAULT_URL, Policy

__all__ = [
    "CATEGORY_ENDPOINTS",
    "DEFAULT_URL",
    "ENDPOINTS",
    "STATE_ENDPOINTS",
    "Answer",
    "AsyncClient",
    "BadRequest",
    "Client",
    "JobExpired",
    "JobFailed",
    "JobNotFound",
    "JobTimeout",
    "LssError",
    "NoMatch",
    "Policy",
    "Question",
    "QuestionInfo",
    "ServerError",
    "ServerUnavailable",
    "ServerUnreachable",
    "ShuttingDown",
    "TooManyRequests",
]
