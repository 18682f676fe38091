"""The analytics are plain functions over the loaded data: importing them loads neither Flask nor
a job engine (checked in a fresh interpreter, since this one has loaded both)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULES = sorted(
    f"app.analytics.{path.stem}"
    for path in (ROOT / "app" / "analytics").glob("*.py")
    if path.stem != "__init__"
)


def test_the_analytics_import_neither_flask_nor_an_engine():
    script = (
        "import importlib, sys\n"
        f"for name in {MODULES!r}: importlib.import_module(name)\n"
        "loaded = [m for m in sys.modules if m == 'flask' or m.startswith(('flask.', 'celery',"
        " 'app.engine', 'app.embedded_engine', 'app.celery_engine', 'app.task'))]\n"
        "print(loaded)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert len(MODULES) >= 10
    assert result.stdout.strip() == "[]"
