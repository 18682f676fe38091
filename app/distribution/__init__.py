"""The service as a distribution: its one version, and where a run finds its files.

`version` reads the version from the installed package's metadata (pyproject.toml in a checkout
that was never installed); `layout` tells a checkout from an installed copy and gives the default
places of the data, results, log and Redis data. The bundled sample ships here as package data.
"""
