"""One line for a person about an answer of the new statistics (`lss trend` and the others
print it on stderr when that is a terminal; the JSON on stdout is the answer)."""

from __future__ import annotations

from collections import Counter
from typing import Any

#: The income stratum of those who gave none: listed in the answer, but not a group to name here.
_NOT_REPORTED = "Data not reported"


def _number(value: float, signed: bool = False) -> str:
    return f"{value:+.2f}" if signed else f"{value:.2f}"


def _percent(value: float | None) -> str:
    return "unbounded" if value is None else f"{value:+.2f}%"


def _changes(apc: dict[str, Any]) -> str:
    """`APC 2011-2016 +3.10% (+2.00% to +4.20%), 2016-2022 ...; AAPC +1.20%`."""
    parts = [
        f"{s['from']}-{s['to']} {_percent(s['apc'])} "
        f"({_percent(s['low'])} to {_percent(s['high'])})"
        for s in apc["segments"]
    ]
    line = "APC " + ", ".join(parts)
    if apc["joinpoints"]:
        aapc = apc["aapc"]
        line += (
            f"; AAPC {_percent(aapc['value'])} "
            f"({_percent(aapc['low'])} to {_percent(aapc['high'])})"
        )
    return line


def trend(state: str, label: str, data: dict[str, Any]) -> str:
    """`Ohio, obesity: rising, +0.53 per year (0.43 to 0.63, dispersion 0.51); APC 2011-2022
    +1.79% (+1.45% to +2.12%)`, or why there is no slope (or APC)."""
    slope = data.get("slope")
    if not slope:
        return f"{state}, {label}: no trend ({data.get('slope_reason', 'no slope')})"
    line = (
        f"{state}, {label}: {slope['trend']}, {_number(slope['per_year'], True)} per year "
        f"({_number(slope['low'])} to {_number(slope['high'])}"
    )
    if "dispersion" in slope:  # a server before SPEC §15 sends neither dispersion nor apc
        line += f", dispersion {_number(slope['dispersion'])}"
    line += ")"
    apc = data.get("apc")
    if apc:
        line += f"; {_changes(apc)}"
    elif "apc_reason" in data:
        line += f"; no APC ({data['apc_reason']})"
    return line


def compare(label: str, data: dict[str, Any]) -> str:
    """`obesity against National 31.20: 12 higher, 30 similar, 12 lower`."""
    counts = Counter(entry.get("versus") for entry in data["states"].values())
    nation = data["national"].get("value")
    against = "National" if nation is None else f"National {_number(nation)}"
    parts = [f"{counts[word]} {word}" for word in ("higher", "similar", "lower")]
    if counts[None]:
        parts.append(f"{counts[None]} not compared")
    return f"{label} against {against}: {', '.join(parts)}"


def disparities(state: str, label: str, data: dict[str, Any]) -> str:
    """`Ohio, obesity by Income: best '$75,000 or greater' 25.10; widest gap 'Less than
    $15,000' +9.10 (6.00 to 12.20)`."""
    head = f"{state}, {label} by {data['category']}"
    reference = data.get("reference")
    if reference is None:
        return f"{head}: no reference group ({data.get('reference_reason', '')})"
    best = next(s for s in data["strata"] if s["stratum"] == reference)
    gaps = [
        s
        for s in data["strata"]
        if s.get("gap") is not None and s["stratum"] not in (reference, _NOT_REPORTED)
    ]
    line = f"{head}: best {reference!r} {_number(best['value'])}"
    if gaps:
        widest = max(gaps, key=lambda s: abs(s["gap"]))
        line += (
            f"; widest gap {widest['stratum']!r} {_number(widest['gap'], True)} "
            f"({_number(widest['gap_low'])} to {_number(widest['gap_high'])})"
        )
    return line


def rankings(label: str, data: dict[str, Any]) -> str:
    """`obesity: 54 ranked, best first Hawaii (ranks 1-3), Rhode Island (1-4), West Virginia
    (1-4)`, and how many locations have no value."""
    ranked = [entry for entry in data["locations"] if entry.get("rank") is not None]
    unranked = len(data["locations"]) - len(ranked)
    best = [f"{e['location']} ({e['rank_low']}-{e['rank_high']})" for e in ranked[:3]]
    if best:
        best[0] = best[0].replace(" (", " (ranks ", 1)
    line = f"{label}: {len(ranked)} ranked"
    if unranked:
        line += f", {unranked} without a value"
    return line + (f", best first {', '.join(best)}" if best else "")
