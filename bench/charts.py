"""PNG charts of a benchmark run (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # after use(): the backend must be chosen first

_MARKERS = "os^vDP"


def draw(
    path: Path,
    title: str,
    x: tuple[str, Sequence[int]],
    y_label: str,
    series: dict[str, Sequence[float]],
    lines: dict[str, float] | None = None,
    log_y: bool = False,
) -> Path:
    """A PNG of one line per series (dashed if named "... p50") and the target `lines`."""
    figure, axes = plt.subplots(figsize=(6.4, 4.0))
    x_label, xs = x
    for n, (name, values) in enumerate(series.items()):
        style = "--" if name.endswith("p50") else "-"
        axes.plot(xs, values, marker=_MARKERS[n % len(_MARKERS)], linestyle=style, label=name)
    for name, value in (lines or {}).items():
        axes.axhline(value, color="tab:red", linestyle=":", label=name)
    axes.set_xscale("log")
    axes.set_xticks(list(xs), [f"{v:,}" for v in xs])
    axes.minorticks_off()
    axes.set_xlabel(x_label)
    axes.set_ylabel(y_label)
    if log_y:
        axes.set_yscale("log")
    else:
        axes.set_ylim(bottom=0)
    axes.grid(True, alpha=0.3)
    axes.set_title(title)
    axes.legend(fontsize="small")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
