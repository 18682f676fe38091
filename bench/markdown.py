"""Markdown for the report: tables and the numbers in them."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

T = TypeVar("T")
#: Memory is reported in decimal megabytes, the unit the targets are stated in.
MB = 1_000_000


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """A Markdown table; the first column left-aligned, the others right-aligned."""
    rule = "|" + "|".join([":---", *["---:"] * (len(header) - 1)]) + "|"
    return ["| " + " | ".join(header) + " |", rule] + ["| " + " | ".join(r) + " |" for r in rows]


def columns(items: Iterable[T], spec: Sequence[tuple[str, Callable[[T], str]]]) -> list[str]:
    """A table with a row per item, its columns given as (header, cell of an item)."""
    return table([header for header, _ in spec], [[cell(i) for _, cell in spec] for i in items])


def ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator, NaN when undefined."""
    return numerator / denominator if denominator else math.nan


def num(value: float, digits: int = 0) -> str:
    """A number with thousands separators, or a dash when undefined."""
    return "-" if value is None or math.isnan(value) else f"{value:,.{digits}f}"


def mb(size: int) -> str:
    """Bytes as whole decimal megabytes."""
    return f"{size / MB:.0f}"
