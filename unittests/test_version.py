"""One version everywhere: pyproject.toml, the package metadata, /api/health, /api/version, the
OpenAPI document, every answer's provenance and `lss-server --version` all say the same."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

from flask import Flask

from app.distribution import layout, version
from unittests.conftest import BUNDLED_CSV, OBESITY, ROOT


def test_every_place_that_shows_the_version_shows_the_one_of_pyproject(
    make_app: Callable[..., Flask],
) -> None:
    written = version.from_pyproject(ROOT / "pyproject.toml")
    assert written is not None and written[0].isdigit()
    # The installed metadata is pyproject's (a stale install would fail here: `make` again).
    assert metadata.version(version.DISTRIBUTION) == written == version.VERSION
    client = make_app(DATA_FILE=str(BUNDLED_CSV)).test_client()
    sha256 = client.get("/api/health").get_json()["dataset"]["sha256"]
    assert client.get("/api/version").get_json() == {"version": written, "dataset_sha256": sha256}
    assert client.get("/api/health").get_json()["version"] == written
    assert client.get("/api/openapi.json").get_json()["info"]["version"] == written
    body = {"question": OBESITY, "state": "Ohio"}
    answer = client.post("/api/state_trend", json=body, headers={"Prefer": "wait=5"}).get_json()
    assert answer["data"]["provenance"]["service_version"] == written
    assert answer["data"]["provenance"]["dataset_sha256"] == sha256
    for argv in (
        [sys.executable, "api_server.py", "--version"],
        [str(Path(sys.executable).parent / "lss-server"), "--version"],
    ):
        said = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert (said.returncode, said.stdout, said.stderr) == (0, f"lss-server {written}\n", "")


def test_a_checkout_without_an_install_reads_pyproject(tmp_path: Path) -> None:
    project = tmp_path / "pyproject.toml"
    project.write_text(
        '[build-system]\nrequires = ["setuptools"]\nversion = "9.9.9"\n\n'
        '[project]\nname = "x"\nversion = "2.3.4"  # the one\n\n[tool.x]\nversion = "0.0.1"\n'
    )
    assert version.from_pyproject(project) == "2.3.4"
    assert version.from_pyproject(tmp_path / "missing.toml") is None
    project.write_text('[project]\nname = "x"\n')
    assert version.from_pyproject(project) is None


def test_lss_server_refuses_unknown_arguments_in_one_line() -> None:
    said = subprocess.run(
        [sys.executable, "api_server.py", "--port", "80"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert said.returncode == 2
    assert said.stderr.count("\n") == 1
    assert said.stderr.startswith("le-stats-sportif: cannot start: unknown arguments")


def test_a_checkout_keeps_its_own_places() -> None:
    """In a checkout the defaults are the repository's (`make run` keeps them); the package's
    copy of the sample is a link to the repository's file, so both are the same bytes."""
    assert layout.CHECKOUT
    assert layout.home() == ROOT
    assert layout.sample() == BUNDLED_CSV
    packaged = Path(layout.__file__).parent / layout.SAMPLE_NAME
    assert packaged.is_symlink() and packaged.resolve() == BUNDLED_CSV.resolve()
