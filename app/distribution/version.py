"""The service's one version, from the package metadata: health, OpenAPI, provenance, the CLI.

pyproject.toml is where the version is written; an install copies it into the distribution's
metadata, which is read here once. A checkout run without an install (no metadata for the
distribution) reads pyproject.toml itself, so the two cannot disagree.
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

from app.distribution.layout import ROOT

#: The distribution's name, as pyproject.toml and pip know it.
DISTRIBUTION = "le-stats-sportif"
#: What the version is when neither the metadata nor pyproject.toml can tell.
UNKNOWN = "0+unknown"
#: `version = "..."` of the [project] table (tomllib is Python 3.11+; 3.10 is supported).
_VERSION_LINE = re.compile(r'^version\s*=\s*"([^"]+)"\s*(?:#.*)?$')


def from_pyproject(path: Path) -> str | None:
    """The [project] table's version in the pyproject.toml at `path`, or None."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    table = None
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("["):
            table = stripped
        elif table == "[project]" and (match := _VERSION_LINE.match(stripped)):
            return match.group(1)
    return None


def _version() -> str:
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:  # a checkout run without an install
        return from_pyproject(ROOT / "pyproject.toml") or UNKNOWN


#: The version of this service, e.g. "1.0.0".
VERSION = _version()
