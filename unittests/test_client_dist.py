"""The client as a distribution of its own: installed alone into a fresh virtual environment from
the package index, it imports, its command runs, and it brings nothing of the server's.

Needs the package index (marked `index`): offline the tests skip, except under CI, where they fail.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from unittests.conftest import ROOT, require_tool
from unittests.support import venvs
from unittests.support.venvs import Venv

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
#: Imports every module of the installed package, then prints where it lies.
_IMPORT = (
    "import importlib, pkgutil, lss_client; "
    "[importlib.import_module(m.name) for m in pkgutil.walk_packages("
    "lss_client.__path__, 'lss_client.') if m.name != 'lss_client.__main__']; "
    "print(lss_client.__file__)"
)


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


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """`pip install client/` in a new venv (from a copy, so nothing is built in the repository)."""
    tmp = tmp_path_factory.mktemp("client-dist")
    subprocess.run([sys.executable, "-m", "venv", tmp / "venv"], check=True, timeout=300)
    venv = Venv(tmp / "venv")
    unreachable = venvs.unreachable(venv)
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
    # PEP 561: the hints come with the package, for its users' type checkers.
    assert (Path(imported.stdout.strip()).parent / "py.typed").is_file()
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
