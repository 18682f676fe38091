"""The HTTP library: httpx2, the maintained continuation of httpx, or httpx itself on 3.10."""

try:
    import httpx2 as httpx
except ImportError:  # httpx2 needs Python 3.11; the API is the same
    import httpx  # type: ignore[no-redef]

__all__ = ["httpx"]
