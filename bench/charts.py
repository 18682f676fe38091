"""PNG charts of a benchmark run (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # after use(): the backend must be chosen first

MB = 1_000_000  # decimal megabytes, as the targets
_STYLE = {"service": ("tab:blue", "o"), "floor": ("tab:gray", "s")}


def _save(figure: plt.Figure, path: Path) -> Path:
    """Write `figure` to `path` and release it."""
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def _clients_axis(axes: plt.Axes, clients: Sequence[int]) -> None:
    """A log2 x axis labelled with the client counts themselves."""
    axes.set_xscale("log", base=2)
    axes.set_xticks(list(clients), [str(c) for c in clients])
    axes.set_xlabel("concurrent clients (closed loop)")
    axes.grid(True, alpha=0.3)


def _rows_axis(axes: plt.Axes, rows: Sequence[int]) -> None:
    """A log x axis labelled with the dataset row counts themselves."""
    axes.set_xscale("log")
    axes.set_xticks(list(rows), [f"{r:,}" for r in rows])
    axes.minorticks_off()
    axes.set_xlabel("dataset rows")
    axes.grid(True, alpha=0.3)


def throughput_vs_clients(
    clients: Sequence[int], series: dict[str, Sequence[float]], path: Path
) -> Path:
    """Jobs/s against clients, one line per target (service, floor)."""
    figure, axes = plt.subplots(figsize=(6.4, 4.0))
    for name, values in series.items():
        color, marker = _STYLE.get(name, ("tab:orange", "^"))
        axes.plot(clients, values, marker=marker, color=color, label=name)
    _clients_axis(axes, clients)
    axes.set_ylabel("jobs/s (submit + poll until done)")
    axes.set_ylim(bottom=0)
    axes.set_title("Throughput vs clients")
    axes.legend()
    return _save(figure, path)


def p99_vs_clients(
    clients: Sequence[int],
    p99: dict[str, Sequence[float]],
    p50: dict[str, Sequence[float]],
    target_ms: float,
    path: Path,
) -> Path:
    """p99 (solid) and p50 (dashed) submit-to-done latency against clients, with the target."""
    figure, axes = plt.subplots(figsize=(6.4, 4.0))
    for name, values in p99.items():
        color, marker = _STYLE.get(name, ("tab:orange", "^"))
        axes.plot(clients, values, marker=marker, color=color, label=f"{name} p99")
        axes.plot(clients, p50[name], linestyle="--", color=color, alpha=0.6, label=f"{name} p50")
    axes.axhline(target_ms, color="tab:red", linestyle=":", label=f"target p99 {target_ms:g} ms")
    _clients_axis(axes, clients)
    axes.set_yscale("log")
    axes.set_ylabel("submit-to-done latency (ms)")
    axes.set_title("Latency vs clients")
    axes.legend(fontsize="small")
    return _save(figure, path)


def startup_vs_rows(
    rows: Sequence[int], seconds: Sequence[float], target_s: float, path: Path
) -> Path:
    """Service start-up time (spawn to first healthy answer) against dataset rows."""
    figure, axes = plt.subplots(figsize=(6.4, 4.0))
    axes.plot(rows, seconds, marker="o", color="tab:blue", label="service start-up")
    axes.axhline(target_s, color="tab:red", linestyle=":", label=f"target {target_s:g} s at 100x")
    _rows_axis(axes, rows)
    axes.set_ylabel("spawn to first 200 from /api/health (s)")
    axes.set_ylim(0, max([*seconds, target_s]) * 1.15)
    axes.set_title("Start-up time vs dataset size")
    axes.legend()
    return _save(figure, path)


def memory_vs_rows(
    rows: Sequence[int],
    after_start: Sequence[int],
    peak: Sequence[int],
    targets: dict[int, float],
    path: Path,
) -> Path:
    """Service resident memory after start-up and peak under load, against dataset rows."""
    figure, axes = plt.subplots(figsize=(6.4, 4.0))
    axes.plot(rows, [b / MB for b in after_start], marker="o", label="after start-up")
    axes.plot(rows, [b / MB for b in peak], marker="^", label="peak under load")
    for at_rows, limit_mb in targets.items():
        axes.plot([at_rows], [limit_mb], marker="v", markersize=9, color="tab:red", linestyle="")
        axes.annotate(
            f"target {limit_mb:g} MB",
            (at_rows, limit_mb),
            textcoords="offset points",
            xytext=(0, 8),
            ha="center",
            color="tab:red",
            fontsize="small",
        )
    _rows_axis(axes, rows)
    axes.set_ylabel("resident memory (MB)")
    top = max([*(b / MB for b in [*after_start, *peak]), *targets.values()])
    axes.set_ylim(0, top * 1.2)
    axes.set_title("Service memory vs dataset size")
    axes.legend()
    return _save(figure, path)
