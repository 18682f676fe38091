"""Le Stats Sportif: a job API over the CDC BRFSS nutrition, activity and obesity extract.

`create_app` and `shutdown` live in `app.factory` and are imported from there on first use, so that
importing a light module such as `app.config` does not load Flask and pandas: granian's main
process reads the settings that way and never builds the app itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.factory import create_app, shutdown

__all__ = ["create_app", "shutdown"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from app import factory

        return getattr(factory, name)
    raise AttributeError(f"module 'app' has no attribute {name!r}")
