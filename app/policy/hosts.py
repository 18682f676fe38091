"""The `Host` names a server answers for: on loopback, only its own (against DNS rebinding).

A page on another site cannot read this server's answers, unless its name starts resolving to
127.0.0.1 (DNS rebinding): the browser then sends that name as `Host`. A server bound to loopback
therefore answers only the loopback names (`localhost`, `127.0.0.1`, `[::1]`, any port) and the
names of LSS_ALLOWED_HOSTS; anything else gets `421`. A request without `Host` (HTTP/1.0) passes.
"""

from __future__ import annotations

import ipaddress

#: The names every loopback server answers for (lower case, without a port).
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "[::1]"})
#: Distinct `Host` values whose verdict is remembered: a client sending endless names cannot
#: grow the memory, it only makes its own requests take the slow path.
_REMEMBERED = 1024


def is_loopback(host: str) -> bool:
    """Whether a bind address (LSS_HOST) or a client address is on this machine only."""
    name = host.strip().lower().strip("[]")
    if name == "localhost":
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback


def host_name(host: str) -> str:
    """The name of a `Host` value, lower case, without its port (`[::1]` keeps its brackets)."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    name, _, port = host.rpartition(":")
    return name if name and port.isascii() and port.isdigit() else host.rstrip(":")


class AllowedHosts:
    """Decides whether a request's `Host` header names this server."""

    def __init__(self, names: frozenset[str]) -> None:
        self.names = LOOPBACK_NAMES | names
        #: Host header value -> verdict, for the values seen so far (the common case: one).
        self._seen: dict[str, bool] = {}

    def allows(self, host: str) -> bool:
        """True if a `Host` header value names this server (any port; a trailing dot too)."""
        verdict = self._seen.get(host)
        if verdict is None:
            verdict = host_name(host).rstrip(".") in self.names
            if len(self._seen) < _REMEMBERED:
                self._seen[host] = verdict
        return verdict


def host_check(bind: str, names: frozenset[str]) -> AllowedHosts | None:
    """The check a server bound to `bind` makes: on loopback always; beyond it only when
    LSS_ALLOWED_HOSTS lists names (then those and the loopback names); else None."""
    if is_loopback(bind) or names:
        return AllowedHosts(names)
    return None
