"""Fetch the pages' third-party files from the npm registry into app/pages/static/vendor/.

Each package is fetched with `npm pack NAME@VERSION` into a scratch folder outside the
repository; only the files the pages use, and the package's licence texts, are copied. The
folder's README.md (name, version, licence, source file of each) is written from the same table,
so it always says what is there. Usage::

    python scripts/vendor_assets.py
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VENDOR = Path(__file__).resolve().parent.parent / "app" / "pages" / "static" / "vendor"

#: package -> (version, files the pages load, licence files kept beside them); paths in the tarball.
PACKAGES: dict[str, tuple[str, list[str], list[str]]] = {
    "vega": ("6.4.0", ["build/vega.min.js"], ["LICENSE"]),
    "vega-lite": ("6.5.0", ["build/vega-lite.min.js"], ["LICENSE"]),
    "vega-embed": ("7.3.0", ["build/vega-embed.min.js"], ["LICENSE"]),
    "us-atlas": ("3.0.1", ["states-10m.json"], ["LICENSE"]),
    "swagger-ui-dist": (
        "5.35.0",
        ["swagger-ui-bundle.js", "swagger-ui.css"],
        ["LICENSE", "NOTICE", "swagger-ui-bundle.js.LICENSE.txt"],
    ),
    # Loaded by no page: the browser tests inject it to check every page's accessibility.
    "axe-core": ("4.14.1", ["axe.min.js"], ["LICENSE", "LICENSE-3RD-PARTY.txt"]),
}

_HEADER = """\
# Vendored third-party files

Everything the pages load is served from this folder: no page loads anything from another host.
Each package was fetched from the npm registry with `npm pack NAME@VERSION`; only the files below
were copied, with the package's licence texts. `python scripts/vendor_assets.py` fetches them
again and rewrites this file.

axe-core is the one file no page loads: the browser tests add it to each page they check, as a
script from this server (so that it runs under the page's own Content-Security-Policy), and ask
it for the page's accessibility violations. It is served like the others since a static file
that no page names costs nothing, and keeping it here keeps the tests offline.

| package | version | licence | files (path in the package) |
|---|---|---|---|
"""


def fetch(name: str, version: str, scratch: Path) -> Path:
    """Unpack NAME@VERSION from the npm registry into `scratch`; return its package folder."""
    packed = subprocess.run(
        ["npm", "pack", f"{name}@{version}", "--silent"],
        cwd=scratch,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()[-1]
    target = scratch / name
    with tarfile.open(scratch / packed) as archive:
        archive.extractall(target, filter="data")
    return target / "package"


def main() -> int:
    """Re-vendor every package of PACKAGES and write the folder's README."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, (version, files, licences) in PACKAGES.items():
            try:
                package = fetch(name, version, Path(tmp))
            except (OSError, subprocess.CalledProcessError) as error:
                print(f"vendor_assets: cannot fetch {name}@{version}: {error}", file=sys.stderr)
                return 1
            meta = json.loads((package / "package.json").read_text())
            destination = VENDOR / name
            shutil.rmtree(destination, ignore_errors=True)
            destination.mkdir(parents=True)
            for relative in files + licences:
                shutil.copyfile(package / relative, destination / Path(relative).name)
            listed = ", ".join(f"`{f}`" for f in files)
            rows.append(f"| {name} | {meta['version']} | {meta['license']} | {listed} |\n")
    (VENDOR / "README.md").write_text(_HEADER + "".join(rows))
    print(f"vendored {len(rows)} packages into {VENDOR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
