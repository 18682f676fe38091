"""Write the deterministic synthetic sample of the BRFSS extract (the bundled data file).

The rows are made up (the ``Datasource`` column says so) but follow the CDC schema, the nine
questions, the 55 locations and every stratification of SPEC section 2. Usage::

    python scripts/generate_sample.py [--rows N] [--seed S] [--output PATH]
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import random
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

if __package__:
    from . import dataset_schema as schema
else:  # run as ``python scripts/generate_sample.py``
    import dataset_schema as schema

DEFAULT_ROWS = 18_650
DEFAULT_SEED = 2011
DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / schema.DATA_FILE_NAME

DATASOURCE = "Synthetic sample (not CDC data) in the BRFSS schema"

# Within each block of this many rows, one row has a blank Data_Value and one has no stratification.
BLOCK = 100

# Per question id: mean value, spread between locations, effect of the stratum, trend per year,
# and whether the question is only asked in odd years (as the BRFSS rotating modules are).
_QUESTION_MODEL: dict[str, tuple[float, float, float, float, bool]] = {
    "Q037": (35.0, 1.6, 2.0, 0.00, False),
    "Q036": (30.0, 3.2, 4.5, 0.40, False),
    "Q047": (25.0, 3.4, 6.0, 0.05, False),
    "Q018": (38.0, 2.8, 4.5, 0.20, True),
    "Q019": (20.0, 2.2, 3.5, 0.10, True),
    "Q043": (50.0, 3.4, 6.0, -0.10, True),
    "Q044": (22.0, 2.6, 4.5, 0.05, True),
    "Q045": (32.0, 2.8, 4.5, -0.05, True),
    "Q046": (32.0, 2.8, 4.5, 0.10, True),
}

# Per stratum id: how much healthier than average (-1..1) and its share of the sample.
_STRATUM_MODEL: dict[str, tuple[float, float]] = {
    "OVERALL": (0.0, 1.0),
    "AGEYR1824": (0.7, 0.09),
    "AGEYR2534": (0.4, 0.14),
    "AGEYR3544": (0.1, 0.15),
    "AGEYR4554": (-0.2, 0.17),
    "AGEYR5564": (-0.4, 0.20),
    "AGEYR65PLUS": (-0.6, 0.25),
    "EDUHS": (-0.8, 0.08),
    "EDUHSGRAD": (-0.3, 0.27),
    "EDUCOTEC": (0.1, 0.28),
    "EDUCOGRAD": (0.7, 0.37),
    "MALE": (0.1, 0.45),
    "FEMALE": (-0.1, 0.55),
    "INCLESS15": (-0.8, 0.08),
    "INC1525": (-0.5, 0.13),
    "INC2535": (-0.3, 0.09),
    "INC3550": (-0.05, 0.12),
    "INC5075": (0.2, 0.15),
    "INC75PLUS": (0.6, 0.31),
    "INCNR": (-0.2, 0.12),
    "RACEWHT": (0.2, 0.66),
    "RACEBLK": (-0.5, 0.09),
    "RACEHIS": (-0.3, 0.10),
    "RACEASN": (0.8, 0.03),
    "RACEHPI": (-0.4, 0.01),
    "RACENAA": (-0.6, 0.02),
    "RACE2PLUS": (-0.1, 0.02),
    "RACEOTH": (0.0, 0.02),
}

_MID_YEAR = (schema.FIRST_YEAR + schema.LAST_YEAR) / 2
_ALL_YEARS = tuple(range(schema.FIRST_YEAR, schema.LAST_YEAR + 1))
_ODD_YEARS = tuple(y for y in _ALL_YEARS if y % 2 == 1)


class GenerationSummary(NamedTuple):
    """What ``generate`` wrote."""

    rows: int
    blank_values: int
    empty_strata: int


class _Model(NamedTuple):
    """Per-location and per-question parameters drawn once from the seed."""

    base: list[list[float]]  # [location][question] -> expected value for the whole population
    sample: list[int]  # [location] -> typical Total sample size
    geo: list[str]  # [location] -> GeoLocation text


def _build_model(rng: random.Random) -> _Model:
    """Draw the location effects, sample sizes and coordinates."""
    base: list[list[float]] = []
    sample: list[int] = []
    geo: list[str] = []
    for loc in schema.LOCATIONS:
        national = loc.abbr == "US"
        health = 0.0 if national else rng.gauss(0.0, 1.0)
        row: list[float] = []
        for q in schema.QUESTIONS:
            mean, spread, _, _, _ = _QUESTION_MODEL[q.question_id]
            own = 0.0 if national else rng.gauss(0.0, 1.0)
            effect = spread * (0.75 * health + 0.55 * own)
            row.append(mean - effect if q.best == "lowest" else mean + effect)
        base.append(row)
        if national:
            sample.append(rng.randint(380_000, 440_000))
        elif loc.location_id > 56:
            sample.append(rng.randint(1_500, 4_000))
        else:
            sample.append(rng.randint(3_000, 14_000))
        if loc.lat is None or loc.lon is None:
            geo.append("")
        else:
            lat = loc.lat + rng.uniform(-5e-7, 5e-7)
            lon = loc.lon + rng.uniform(-5e-7, 5e-7)
            geo.append(f"({lat:.14f}, {lon:.14f})")
    return _Model(base, sample, geo)


def _fmt(value: float) -> str:
    """Format a percentage with one decimal, as the CDC export does."""
    return f"{value:.1f}"


def _rows(rows: int, rng: random.Random, counts: list[int]) -> Iterator[list[object]]:
    """Yield the data rows one by one; ``counts`` receives [blank values, empty strata]."""
    model = _build_model(rng)
    locations = schema.LOCATIONS
    questions = schema.QUESTIONS
    strata = schema.STRATA
    n_loc, n_q, n_s = len(locations), len(questions), len(strata)
    grid = n_loc * n_q * n_s

    loc_head = [(loc.abbr, loc.name) for loc in locations]
    loc_id = [str(loc.location_id) for loc in locations]
    q_head = [(q.class_name, q.topic, q.text) for q in questions]
    q_tail = [(q.class_id, q.topic_id, q.question_id) for q in questions]
    q_model = [_QUESTION_MODEL[q.question_id] for q in questions]
    q_sign = [-1.0 if q.best == "lowest" else 1.0 for q in questions]
    columns = schema.STRATUM_COLUMNS
    s_cols = [tuple(s.name if c == s.column else "" for c in columns) for s in strata]
    s_tail = [(s.category, s.name, s.category_id, s.stratum_id) for s in strata]
    s_model = [_STRATUM_MODEL[s.stratum_id] for s in strata]
    no_cols = ("",) * len(schema.STRATUM_COLUMNS)
    no_tail = ("", "", "", "")

    order: list[int] = []
    cursor = grid  # forces a fresh shuffle of the grid on the first normal row
    blank_at = empty_at = -1
    for i in range(rows):
        offset = i % BLOCK
        if offset == 0:
            blank_at, empty_at = rng.sample(range(BLOCK), 2)
        if offset == blank_at:
            kind = 1
            li, qi, si = rng.randrange(n_loc), rng.randrange(n_q), rng.randrange(n_s)
        elif offset == empty_at:
            kind = 2
            li, qi, si = rng.randrange(n_loc), rng.randrange(n_q), 0
        else:
            # Normal rows walk shuffled passes over every (location, question, stratum).
            kind = 0
            if cursor == grid:
                order = list(range(grid))
                rng.shuffle(order)
                cursor = 0
            li, rest = divmod(order[cursor], n_q * n_s)
            qi, si = divmod(rest, n_s)
            cursor += 1

        _, _, strat_scale, trend, odd_only = q_model[qi]
        year = rng.choice(_ODD_YEARS if odd_only else _ALL_YEARS)
        advantage, share = s_model[si] if kind != 2 else (0.0, 1.0)
        if kind == 1:
            counts[0] += 1
            size = rng.randint(5, 49)
            value_text = low_text = high_text = ""
            symbol, footnote = schema.BLANK_FOOTNOTE_SYMBOL, schema.BLANK_FOOTNOTE
        else:
            value = (
                model.base[li][qi]
                + q_sign[qi] * advantage * strat_scale
                + trend * (year - _MID_YEAR)
                + rng.gauss(0.0, 1.2)
            )
            value = min(max(value, 2.0), 95.0)
            size = max(int(model.sample[li] * share * rng.uniform(0.7, 1.3)), 50)
            p = value / 100.0
            half = max(1.96 * 1.6 * math.sqrt(p * (1.0 - p) / size) * 100.0, 0.2)
            value_text = _fmt(value)
            low_text = _fmt(max(value - half, 0.0))
            high_text = _fmt(min(value + half, 100.0))
            symbol = footnote = ""
        if kind == 2:
            counts[1] += 1
            cols, tail = no_cols, no_tail
        else:
            cols, tail = s_cols[si], s_tail[si]
        yield [
            i,
            year,
            year,
            *loc_head[li],
            DATASOURCE,
            *q_head[qi],
            "",
            "Value",
            value_text,
            value_text,
            symbol,
            footnote,
            low_text,
            high_text,
            size,
            *cols,
            model.geo[li],
            *q_tail[qi],
            "VALUE",
            loc_id[li],
            *tail,
        ]


def generate(
    path: str | os.PathLike[str] = DEFAULT_OUTPUT,
    rows: int = DEFAULT_ROWS,
    seed: int = DEFAULT_SEED,
) -> GenerationSummary:
    """Write ``rows`` synthetic data rows to ``path`` (atomically) and return what was written."""
    if rows < 0:
        raise ValueError("rows must be >= 0")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    counts = [0, 0]
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="", buffering=1 << 20) as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(schema.COLUMNS)
            writer.writerows(_rows(rows, rng, counts))
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return GenerationSummary(rows, counts[0], counts[1])


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="data rows to write")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="CSV file to write")
    args = parser.parse_args(argv)
    if args.rows < 0:
        parser.error("--rows must be >= 0")
    summary = generate(args.output, args.rows, args.seed)
    print(
        f"wrote {summary.rows} rows to {args.output} "
        f"({summary.blank_values} blank values, {summary.empty_strata} without stratification)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
