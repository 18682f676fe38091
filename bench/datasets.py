"""Datasets for the data sweep: made by the project's generator, cached in bench/out/."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
GENERATOR = ROOT / "scripts" / "generate_sample.py"
#: Files whose content decides what the generator writes: a change regenerates the cache.
_GENERATOR_SOURCES = (GENERATOR, ROOT / "scripts" / "dataset_schema.py")


def _fingerprint(rows: int) -> str:
    """Identifies one generated file: the row count and the generator's source."""
    digest = hashlib.sha256(str(rows).encode())
    for source in _GENERATOR_SOURCES:
        if source.exists():
            digest.update(source.read_bytes())
    return digest.hexdigest()


def ensure_dataset(rows: int, out: Path = OUT) -> tuple[Path, float | None]:
    """The cached dataset of `rows` rows, generated first if missing or stale; (path, seconds).

    The seconds are None when the cached file was reused.
    """
    path = out / f"sample_{rows}.csv"
    meta = path.with_suffix(".json")
    fingerprint = _fingerprint(rows)
    try:
        if path.exists() and json.loads(meta.read_text())["fingerprint"] == fingerprint:
            return path, None
    except (OSError, ValueError, KeyError):
        pass
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, str(GENERATOR), "--rows", str(rows), "--output", str(path)],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    seconds = time.perf_counter() - started
    meta.write_text(json.dumps({"rows": rows, "fingerprint": fingerprint, "seconds": seconds}))
    return path, seconds
