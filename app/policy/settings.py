"""How the request policy's settings are read: each parser takes the variable's text and returns
its value, or raises ValueError saying what it must be (app.config names the variable).

Only the standard library here: `app.config` imports this in every process, the main process of
`api_server.py` included, which serves nothing.
"""

from __future__ import annotations

import re
import string
from urllib.parse import urlsplit

from app.policy.hosts import host_name

#: The shortest admin token accepted: 16 characters of a random token are 96 bits or more.
MIN_TOKEN_LENGTH = 16
_TOKEN_CHARACTERS = frozenset(string.ascii_letters + string.digits + "-._~+/=")
#: LSS_RATE_LIMIT: requests per second, minute or hour.
_RATE = re.compile(r"\s*([0-9]{1,9})\s*/\s*(second|minute|hour)\s*", re.IGNORECASE)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def admin_token(raw: str) -> str | None:
    """LSS_ADMIN_TOKEN: None when empty; refused when short or not something a header carries."""
    token = raw.strip()
    if not token:
        return None
    if len(token) < MIN_TOKEN_LENGTH or not set(token) <= _TOKEN_CHARACTERS:
        raise ValueError(
            f"must be at least {MIN_TOKEN_LENGTH} characters of letters, digits and -._~+/= "
            "(for instance: python -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )
    return token


def origins(raw: str) -> frozenset[str]:
    """LSS_CORS_ORIGINS: comma-separated `scheme://host[:port]`, as a browser writes `Origin`
    (lower case, no default port, no path)."""
    found = set()
    for item in raw.split(","):
        text = item.strip()
        if not text:
            continue
        try:
            parts = urlsplit(text)
            port = parts.port
        except ValueError:
            parts, port = None, None
        if (
            parts is None
            or parts.scheme not in _DEFAULT_PORTS
            or not parts.hostname
            or parts.path not in ("", "/")
            or parts.query
            or parts.fragment
            or parts.username is not None
        ):
            raise ValueError(
                "must be origins such as https://dashboard.example:8443 separated by commas, "
                f"not {text!r}"
            )
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        shown = port is not None and port != _DEFAULT_PORTS[parts.scheme]
        found.add(f"{parts.scheme}://{host}" + (f":{port}" if shown else ""))
    return frozenset(found)


def host_names(raw: str) -> frozenset[str]:
    """LSS_ALLOWED_HOSTS: comma-separated host names (a port given is ignored), lower case."""
    names = set()
    for item in raw.split(","):
        if not item.strip():
            continue
        name = host_name(item).rstrip(".")
        if not name or not name.isascii() or any(c in name for c in "/@ \t?#*"):
            raise ValueError(f"must be host names separated by commas, not {item.strip()!r}")
        names.add(name)
    return frozenset(names)


def rate(raw: str) -> str | None:
    """LSS_RATE_LIMIT: `N/second`, `N/minute` or `N/hour` (N at least 1); None when empty."""
    if not raw.strip():
        return None
    match = _RATE.fullmatch(raw)
    if match is None or int(match[1]) < 1:
        raise ValueError("must be N/second, N/minute or N/hour with N a positive whole number")
    return f"{int(match[1])}/{match[2].lower()}"
