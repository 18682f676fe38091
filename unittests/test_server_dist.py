"""The server as a distribution: `pip install <checkout>` into a fresh virtual environment gives
`lss-server`, which serves from an empty folder outside any checkout, the sample bundled and its
results and log in that folder, with the same one-line start-up errors.

Needs the package index (marked `index`): offline it skips, except under CI, where it fails. One
test, since the install takes minutes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from app.distribution.version import from_pyproject
from unittests.conftest import BUNDLED_CSV, OBESITY, ROOT, require_tool
from unittests.support import venvs
from unittests.support.reference import Reference, compare
from unittests.support.servers import end_process, free_port
from unittests.support.venvs import Venv

pytestmark = pytest.mark.index

#: What of a checkout is not the distribution's source (or is made by running it).
_NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "*.egg-info", "__pycache__", "build", "results", "redis-data", "bench",
    "test-screenshots", "webserver.log*", ".ruff_cache", ".pytest_cache", "client", "unittests",
)  # fmt: skip


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _lss_server(venv: Venv, cwd: Path, port: int, *args: str) -> subprocess.Popen[str]:
    """The installed command, in `cwd`, with no LSS_* setting but the port and a small pool."""
    ours = ("LSS_", "TP_", "PROMETHEUS_", "PYTHONPATH", "VIRTUAL_ENV")
    env = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    env.update(LSS_PORT=str(port), LSS_WORKERS="1", TP_NUM_OF_THREADS="2", PYTHONNOUSERSITE="1")
    return subprocess.Popen(
        [str(venv.folder / "bin" / "lss-server"), *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_pip_install_gives_lss_server_which_serves_from_an_empty_folder(
    tmp_path: Path,
) -> None:
    subprocess.run([sys.executable, "-m", "venv", tmp_path / "venv"], check=True, timeout=300)
    venv = Venv(tmp_path / "venv")
    unreachable = venvs.unreachable(venv)
    require_tool(unreachable is None, f"the package index pip uses is unreachable: {unreachable}")
    source = shutil.copytree(ROOT, tmp_path / "checkout", symlinks=True, ignore=_NOT_SOURCE)
    installed = venv.pip("install", "--quiet", source)
    assert installed.returncode == 0, installed.stderr
    version = from_pyproject(ROOT / "pyproject.toml")

    # What the wheel holds: the sample as a file of its own (not a link), the licence.
    where = venv.run("python", "-c", "import app, sys; print(app.__file__)")
    package = Path(where.stdout.strip()).parent
    assert package.is_relative_to(venv.folder), where.stderr
    sample = package / "distribution" / BUNDLED_CSV.name
    assert not sample.is_symlink() and _sha256(sample) == _sha256(BUNDLED_CSV)
    licences = list(package.parent.glob("le_stats_sportif-*.dist-info/licenses/LICENSE"))
    assert [p.read_text() for p in licences] == [(ROOT / "LICENSE").read_text()]
    said = venv.run("lss-server", "--version")
    assert (said.returncode, said.stdout) == (0, f"lss-server {version}\n")

    empty = tmp_path / "empty"
    empty.mkdir()
    refused = _lss_server(venv, empty, 0)  # a bad setting: one line, exit code 2
    _, stderr = refused.communicate(timeout=120)
    assert refused.returncode == 2
    assert stderr == "le-stats-sportif: cannot start: LSS_PORT must be a positive integer " \
        "(between 1 and 65535), got '0'\n"  # fmt: skip
    assert list(empty.iterdir()) == []

    port = free_port()
    server = _lss_server(venv, empty, port)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.communicate()[1]
            try:
                if requests.get(f"{url}/api/readyz", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "lss-server not ready within 60 s"
            time.sleep(0.2)
        answer = requests.post(
            f"{url}/api/global_mean",
            json={"question": OBESITY},
            headers={"Prefer": "wait=5"},
            timeout=10,
        ).json()
        assert answer["status"] == "done", answer
        compare(answer["data"], Reference(BUNDLED_CSV).answer("global_mean", OBESITY))
        about = requests.get(f"{url}/api/version", timeout=5).json()
        assert about == {"version": version, "dataset_sha256": _sha256(BUNDLED_CSV)}
        assert "lss_build_info" in requests.get(f"{url}/metrics", timeout=5).text
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
    finally:
        end_process(server)
    made = {p.name for p in empty.iterdir()}
    assert made == {"results", "webserver.log"}
    assert (empty / "results" / "job_id_1.json").is_file()
    assert "-> POST /api/global_mean" in (empty / "webserver.log").read_text()
