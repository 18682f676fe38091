"""Who may stop the service: graceful_shutdown with LSS_ADMIN_TOKEN, else from this machine only.

`GET /api/graceful_shutdown` (the course asks for GET, so HEAD too) stops the service taking jobs
for good, on the Celery engine on every machine. With LSS_ADMIN_TOKEN set it needs
`Authorization: Bearer <token>` (`401` otherwise), compared in constant time; without a token only
a client on this machine (a loopback peer) may call it (`403` otherwise). Behind a reverse proxy
on the same machine every client is a loopback peer: set the token there.
"""

from __future__ import annotations

import hmac

from app.errors import ApiError, Forbidden, Unauthorized
from app.policy.hosts import is_loopback

#: The path this guards.
SHUTDOWN_PATH = "/api/graceful_shutdown"


class AdminGuard:
    """Decides whether a request may begin a graceful shutdown."""

    def __init__(self, token: str | None) -> None:
        self._token = None if token is None else token.encode()

    def refusal(self, authorization: str | None, peer: str | None) -> ApiError | None:
        """Why the request is refused (its `Authorization` header and the client's address),
        or None if it may stop the service."""
        if self._token is not None:
            scheme, _, given = (authorization or "").strip().partition(" ")
            # compare_digest takes as long whatever the bytes given: no timing tells the token.
            if scheme.lower() == "bearer" and hmac.compare_digest(
                given.strip().encode("latin-1", "replace"), self._token
            ):
                return None
            return Unauthorized(
                "graceful_shutdown needs the header Authorization: Bearer <LSS_ADMIN_TOKEN>"
            )
        if peer is not None and is_loopback(peer):
            return None
        return Forbidden(
            "graceful_shutdown is for clients on the server's own machine; set LSS_ADMIN_TOKEN "
            "to allow it from elsewhere with the token"
        )
