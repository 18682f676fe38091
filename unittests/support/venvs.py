"""Fresh virtual environments for the distribution tests: programs run outside the repository,
and whether the package index they install from can be reached."""

from __future__ import annotations

import ast
import json
import os
import ssl
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name

#: Every installed distribution's name and Requires-Dist, printed as JSON by the venv's Python.
_LIST = (
    "import importlib.metadata as m, json; "
    "print(json.dumps({d.metadata['Name']: d.requires or [] for d in m.distributions()}))"
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


def unreachable(venv: Venv) -> str | None:
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
