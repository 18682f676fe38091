"""Requests from other sites: refused when they would change state, unless their origin is listed.

A browser says where a request comes from: `Sec-Fetch-Site` (Fetch Metadata, every current
browser) and `Origin` (on every POST, and on cross-origin reads made by scripts). A request that
changes state (a POST, graceful_shutdown) is refused `403` when `Sec-Fetch-Site` says another
site (`cross-site`, or `same-site`: another port of localhost is another origin) or when `Origin`
is not `http://` + the request's own `Host`, unless that origin is in LSS_CORS_ORIGINS. Those
listed origins also get the CORS answers a browser needs to read the service and to send it JSON
(preflights included). A request without these headers (curl, the client, the course checker)
is not a browser's and passes.
"""

from __future__ import annotations

from app.errors import Forbidden

#: `Sec-Fetch-Site` values of requests that come from this origin, or from the user (typed URL).
_OWN = frozenset({"same-origin", "none"})
#: How much of a refused `Origin` is echoed in the reason.
_ECHO = 80
#: The headers of every CORS answer to a listed origin: which of ours a script may read.
_EXPOSED = ("Access-Control-Expose-Headers", "ETag, Preference-Applied, Retry-After")
#: A preflight's answer: what a listed origin may send, and for how long to remember it.
_PREFLIGHT = (
    ("Access-Control-Allow-Methods", "GET, HEAD, POST, OPTIONS"),
    ("Access-Control-Allow-Headers", "Authorization, Content-Type, If-None-Match, Prefer"),
    ("Access-Control-Max-Age", "600"),
)
VARY = ("Vary", "Origin")


class Origins:
    """The cross-site test of requests that change state, and the CORS answers of listed
    origins."""

    def __init__(self, listed: frozenset[str]) -> None:
        self.listed = listed

    def refusal(self, site: str | None, origin: str | None, host: str | None) -> Forbidden | None:
        """Why a state-changing request with these headers is refused, or None if it may go on."""
        if origin is not None and origin in self.listed:
            return None
        if site is not None and site not in _OWN:
            return Forbidden(
                f"refused: a request from another site (Sec-Fetch-Site: {site[:_ECHO]}) may not "
                "change this service's state; LSS_CORS_ORIGINS lists the origins that may"
            )
        if origin is not None and (host is None or origin.lower() != f"http://{host.lower()}"):
            return Forbidden(
                f"refused: Origin {origin[:_ECHO]!r} is not this server's, and a request from "
                "another origin may not change this service's state; LSS_CORS_ORIGINS lists "
                "the origins that may"
            )
        return None

    def answer_headers(self, origin: str) -> list[tuple[str, str]]:
        """The CORS headers an answer to a listed `origin` carries (none for any other)."""
        if origin in self.listed:
            return [("Access-Control-Allow-Origin", origin), _EXPOSED]
        return []

    def preflight(self, origin: str | None, method: str | None) -> list[tuple[str, str]] | None:
        """The headers of a preflight's answer for a listed origin; None if it is not one (the
        route answers OPTIONS as it always did, and the browser refuses the request)."""
        if origin is None or method is None or origin not in self.listed:
            return None
        return [("Access-Control-Allow-Origin", origin), *_PREFLIGHT, VARY]
