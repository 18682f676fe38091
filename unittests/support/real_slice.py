"""Where the real CDC rows of SPEC §15.6 are: `cdc-real-slice.csv`, beside the project (never
copied into it). LSS_REAL_SLICE names it; else it is looked for in `shared/data/` next to the
repository, or next to its parent (a worktree in a folder of worktrees)."""

from __future__ import annotations

import os
from pathlib import Path

from unittests.conftest import ROOT, require_tool

NAME = "cdc-real-slice.csv"
ENV = "LSS_REAL_SLICE"


def find() -> Path | None:
    """The slice's path, or None where it is absent."""
    named = os.environ.get(ENV)
    candidates = [Path(named)] if named else []
    candidates += [base / "shared" / "data" / NAME for base in (ROOT.parent, ROOT.parent.parent)]
    return next((path for path in candidates if path.is_file()), None)


def require() -> Path:
    """The slice; its tests skip where it is absent (a user's clone), and fail so under CI."""
    path = find()
    require_tool(path is not None, f"{NAME} not found (set {ENV}, or see SPEC §15.6)")
    assert path is not None
    return path
