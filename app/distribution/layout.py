"""Where a run finds its files by default: in a checkout, or in an installed distribution.

A checkout (the folder above `app/` holds the project's pyproject.toml; an editable install too)
keeps the repository's own places, as `make run` always had them: the sample at the root,
`results/`, `webserver.log` and `redis-data/` beside it. An installed copy (`pip install`, the
`lss-server` command) has no repository: the bundled sample is package data next to this module,
and results, log and Redis data go to the folder the command was started in.
"""

from __future__ import annotations

import os
from pathlib import Path

#: The folder that holds the `app` package: the repository's root in a checkout, else
#: site-packages.
ROOT = Path(__file__).resolve().parent.parent.parent
#: The bundled dataset's file name (the course's).
SAMPLE_NAME = "nutrition_activity_obesity_usa_subset.csv"
#: True when running from a checkout of the repository rather than an installed copy.
CHECKOUT = (ROOT / "pyproject.toml").is_file() and (ROOT / "app" / "__init__.py").is_file()


def sample() -> Path:
    """The bundled sample: the repository's file in a checkout, else the package's copy (in a
    checkout this module's neighbour is a link to the same file, which a build copies in)."""
    return ROOT / SAMPLE_NAME if CHECKOUT else Path(__file__).resolve().parent / SAMPLE_NAME


def home() -> Path:
    """Where results, the log and Redis data go by default: the repository's root in a
    checkout, else the current folder (where `lss-server` was started)."""
    return ROOT if CHECKOUT else Path(os.getcwd())
