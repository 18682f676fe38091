"""The client as a distribution of its own: installed alone into a fresh virtual environment from
the package index, it imports, its command runs, and it brings nothing of the server's.

Needs the package index (marked `index`): offline the tests skip, except under CI, where they fail.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from unittests.conftest import ROOT, require_tool

pytestmark = pytest.mark.index

CLIENT = ROOT / "client"
NAME = "lss-client"
#: What the client imports: httpx2, or httpx where httpx2 cannot go (Python 3.10); click; rich.
HTTPX = "httpx2" if sys.version_info >= (3, 11) else "httpx"
DECLARED = {"httpx2", "httpx", "click", "rich"}
#: The server's dependencies, and theirs, none of which the client may bring.
SERVER_ONLY = (
    "flask",
    "werkzeug",
    "pandas",
    "numpy",
    "celery",
    "kombu",
    "redis",
    "granian",
    "orjson",
)
#: Every installed distribution's name and Requires-Dist, printed as JSON by the venv's Python.
_LIST = (
    "import importlib.metadata as m, json; "
    "print(json.dumps({d.metadata['Name']: d.requires or [] for d in m.distributions()}))"
)
#: Imports every module of the installed package, then prints where it lies.
_IMPORT = (
    "import importlib, pkgutil, lss_client; "
    "[importlib.import_module(m.name) for m in pkgutil.walk_packages("
    "lss_client.__path__, 'lss_client.') if m.name != 'lss_client.__main__']; "
    "print(lss_client.__file__)"
)


@dataclass(frozen=True)
class Venv:
    """A virtual environment, whose programs run outside the repository and none of its paths."""

    folder: Path

    def run(self, program: str, *args: str | Path) -> subprocess.CompletedProcess[str]:
        """Run bin/`program` with `args`; the finished process, its output as text."""
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        return subprocess.run(
            [str(self.folder / "bin" / program), *map(str, args)],
            cwd=self.folder,
            env={**env, "PYTHONNOUSERSITE": "1"},
            capture_output=True,
            text=True,
            timeout=600,
        )

    def pip(self, *args: str | Path) -> subprocess.CompletedProcess[str]:
        return self.run("python", "-m", "pip", "--disable-pip-version-check", *args)

    def distributions(self) -> dict[str, list[str]]:
        """Installed distributions by canonical name, each with its Requires-Dist lines."""
        out = self.run("python", "-c", _LIST)
        assert out.returncode == 0, out.stderr
        listed = json.loads(out.stdout)
        return {canonicalize_name(name): requires for name, requires in listed.items()}


@dataclass(frozen=True)
class Installed:
    """The venv with the client installed, and its distributions before and after."""

    venv: Venv
    before: dict[str, list[str]]
    after: dict[str, list[str]]


def _needed(root: str, requires: dict[str, list[str]]) -> set[str]:
    """`root` and every distribution it needs here, following markers and extras."""
    needed: set[str] = set()
    todo = [(canonicalize_name(root), frozenset[str]())]
    seen = set()
    while todo:
        name, extras = todo.pop()
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        needed.add(name)
        for line in requires.get(name, []):
            requirement = Requirement(line)
            marker = requirement.marker
            if marker is None or any(marker.evaluate({"extra": e}) for e in extras or {""}):
                todo.append((canonicalize_name(requirement.name), frozenset(requirement.extras)))
    return needed


def _unreachable(venv: Venv) -> str | None:
    """Why the index pip uses cannot be reached over HTTP, or None when it can.

    Asked of the index itself rather than of pip, whose failure to install could as well be
    the client's own (a bad bound, a misspelt name), and whose success could come from a local
    folder of wheels instead.
    """
    listed = venv.pip("config", "list").stdout.splitlines()
    config = dict(line.split("=", 1) for line in listed if "=" in line)

    def setting(option: str) -> str | None:
        for key in (f":env:.{option}", f"install.{option}", f"global.{option}"):
            if key in config:
                return ast.literal_eval(config[key])
        return None

    index = setting("index-url") or "https://pypi.org/simple"
    if not index.startswith(("http://", "https://")):
        return None  # a local index: nothing to reach
    context = ssl.create_default_context(cafile=setting("cert"))
    try:
        with urllib.request.urlopen(index.rstrip("/") + "/click/", timeout=15, context=context):
            return None
    except urllib.error.URLError as error:  # HTTPError too
        return f"{type(error).__name__}: {error.reason}"
    except (OSError, ValueError) as error:
        return type(error).__name__  # not its message, which may hold the URL and a password


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """`pip install client/` in a new venv (from a copy, so nothing is built in the repository)."""
    tmp = tmp_path_factory.mktemp("client-dist")
    subprocess.run([sys.executable, "-m", "venv", tmp / "venv"], check=True, timeout=300)
    venv = Venv(tmp / "venv")
    unreachable = _unreachable(venv)
    require_tool(unreachable is None, f"the package index pip uses is unreachable: {unreachable}")
    source = shutil.copytree(
        CLIENT, tmp / "client", ignore=shutil.ignore_patterns("*.egg-info", "__pycache__", "build")
    )
    before = venv.distributions()
    result = venv.pip("install", "--quiet", source)
    assert result.returncode == 0, result.stderr
    return Installed(venv, before, venv.distributions())


def test_the_installed_client_imports_and_its_command_runs(installed: Installed) -> None:
    imported = installed.venv.run("python", "-c", _IMPORT)
    assert imported.returncode == 0, imported.stderr
    assert Path(imported.stdout.strip()).is_relative_to(installed.venv.folder)  # not the repo's
    helped = installed.venv.run("lss", "--help")
    assert helped.returncode == 0, helped.stderr
    assert "bulk" in helped.stdout


def test_the_client_declares_httpx2_click_and_rich_and_nothing_else(installed: Installed) -> None:
    declared = [Requirement(line) for line in installed.after[NAME]]
    assert {canonicalize_name(r.name) for r in declared} == DECLARED
    here = {canonicalize_name(r.name) for r in declared if r.marker is None or r.marker.evaluate()}
    assert here == {HTTPX, "click", "rich"}


def test_the_client_brings_its_dependencies_and_nothing_else(installed: Installed) -> None:
    added = installed.after.keys() - installed.before.keys()
    assert added == _needed(NAME, installed.after) - installed.before.keys()
    assert {NAME, HTTPX, "click", "rich"} <= added
    assert [name for name in SERVER_ONLY if name in installed.after] == []


def test_the_dependency_walk_follows_markers_and_extras() -> None:
    requires = {
        "a": ["b", "c; python_version < '3'", "d[x]", "e; extra == 'y'"],
        "d": ["f; extra == 'x'", "g; extra == 'z'"],
    }
    assert _needed("a", requires) == {"a", "b", "d", "f"}
