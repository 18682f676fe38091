"""Write the deterministic synthetic sample of the BRFSS extract (the bundled data file).

The rows are made up (the ``Datasource`` column says so) but follow the CDC schema, the nine
questions, the 55 locations and every stratification of SPEC section 2, shaped as the real
extract is: a ``Total`` row for every location, question and survey year (every other year for
the questions the survey asks in odd years), stratified rows, confidence limits and sample sizes
that agree with each other, rows suppressed for small samples, a few blank rows, a few rows
without confidence limits and a few without stratification. As real series do, the values
scatter from year to year more than their sampling error explains (a shift of each location's
year shared by its strata, larger in some locations than others, and the no-leisure-time
question higher in odd years than in even ones), and some locations' trends bend: a rise that
flattens, a fall that turns. Usage::

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
from array import array
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

if __package__:
    from . import dataset_schema as schema
    from .sample_model import (
        DESIGN_EFFECT,
        MID_YEAR,
        QUESTION_MODEL,
        SUPPRESS_BELOW,
        Model,
        advantages,
        build_model,
        survey_years,
    )
else:  # run as ``python scripts/generate_sample.py``
    import dataset_schema as schema
    from sample_model import (
        DESIGN_EFFECT,
        MID_YEAR,
        QUESTION_MODEL,
        SUPPRESS_BELOW,
        Model,
        advantages,
        build_model,
        survey_years,
    )

DEFAULT_ROWS = 21_000
DEFAULT_SEED = 2011
DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / schema.DATA_FILE_NAME

DATASOURCE = "Synthetic sample (not CDC data) in the BRFSS schema"
Z95 = 1.959964
#: Rows per 10,000 without stratification, simply blank (no footnote), with a value but no limits.
UNSTRATIFIED_PER_10K = 100
MISSING_PER_10K = 25
WITHOUT_CI_PER_10K = 25
#: Suppressed years a stratum may have before its first usable one (each stratum has one).
SUPPRESSED_BEFORE_USABLE = 2

# Row kinds of the plan, and where ``_rows`` counts the Total rows.
_NORMAL, _SUPPRESSED, _MISSING, _WITHOUT_CI, _UNSTRATIFIED, _TOTAL = range(6)


class GenerationSummary(NamedTuple):
    """What ``generate`` wrote."""

    rows: int
    total_rows: int  # Total/Total rows (one per location, question and survey year)
    suppressed: int  # blank value footnoted as suppressed for a small sample
    missing: int  # blank value, no footnote
    without_ci: int  # a value but no confidence limits
    unstratified: int  # empty stratification category and stratum


def _pack(kind: int, li: int, qi: int, si: int, yi: int, size: int) -> int:
    """One planned row as an integer (the plan of a large file stays small)."""
    return kind | li << 3 | qi << 9 | si << 13 | yi << 18 | size << 22


def _unpack(code: int) -> tuple[int, int, int, int, int, int]:
    """The fields ``_pack`` packed: kind, location, question, stratum, year index, size."""
    return code & 7, code >> 3 & 63, code >> 9 & 15, code >> 13 & 31, code >> 18 & 15, code >> 22


def _plan(rows: int, rng: random.Random, model: Model) -> array:
    """Which rows to write, shuffled: kind, location, question, stratum, year and sample size.

    In order of priority (fewer rows keep a prefix): the Total row of every location, question
    and survey year; one usable row of every location, question and stratum (after at most a
    couple of suppressed years); the rows without stratification; the blank ones; then further
    stratified rows, each in a year its stratum has no row yet while there is one.
    """
    n_loc, n_q, n_s = len(schema.LOCATIONS), len(schema.QUESTIONS), len(schema.STRATA)
    years = [[y - schema.FIRST_YEAR for y in survey_years(q.question_id)] for q in schema.QUESTIONS]
    national = next(i for i, loc in enumerate(schema.LOCATIONS) if loc.abbr == "US")
    plan = array("q")

    def size(li: int, si: int, yi: int) -> int:
        expected = model.respondents[li][yi] * model.share[li][si]
        return max(round(expected * rng.lognormvariate(0.0, 0.12)), 1)

    totals = [(li, qi, yi) for li in range(n_loc) for qi in range(n_q) for yi in years[qi]]
    rng.shuffle(totals)
    # Half of the rows without limits are Total rows (never the nation's), half stratified.
    without_ci = rows * WITHOUT_CI_PER_10K // 10_000
    total_without_ci, without_ci = without_ci // 2, without_ci - without_ci // 2
    for li, qi, yi in totals:
        kind = _NORMAL
        if total_without_ci and li != national:
            kind, total_without_ci = _WITHOUT_CI, total_without_ci - 1
        plan.append(_pack(kind, li, qi, 0, yi, model.respondents[li][yi]))

    cells = [(li, qi, si) for li in range(n_loc) for qi in range(n_q) for si in range(1, n_s)]
    rng.shuffle(cells)
    order = [rng.sample(years[qi], len(years[qi])) for _, qi, _ in cells]
    used = [0] * len(cells)  # how many of its years each cell has had

    def next_year(ci: int) -> int:
        year = order[ci][used[ci] % len(order[ci])]
        used[ci] += 1
        return year

    for ci, (li, qi, si) in enumerate(cells):
        while True:
            yi = next_year(ci)
            n = size(li, si, yi)
            if n >= SUPPRESS_BELOW:
                plan.append(_pack(_NORMAL, li, qi, si, yi, n))
                break
            if used[ci] > SUPPRESSED_BEFORE_USABLE or used[ci] == len(order[ci]):
                # A stratum too small in every year still keeps one usable row.
                plan.append(_pack(_NORMAL, li, qi, si, yi, rng.randint(SUPPRESS_BELOW, 79)))
                break
            plan.append(_pack(_SUPPRESSED, li, qi, si, yi, n))

    for _ in range(rows * UNSTRATIFIED_PER_10K // 10_000):
        li, qi = rng.randrange(n_loc), rng.randrange(n_q)
        yi = rng.choice(years[qi])
        n = round(model.respondents[li][yi] * rng.uniform(0.7, 1.0))
        plan.append(_pack(_UNSTRATIFIED, li, qi, 0, yi, n))
    for _ in range(rows * MISSING_PER_10K // 10_000):
        ci = rng.randrange(len(cells))
        li, qi, si = cells[ci]
        plan.append(_pack(_MISSING, li, qi, si, next_year(ci), 0))

    while len(plan) < rows:
        for ci in rng.sample(range(len(cells)), len(cells)):
            if len(plan) >= rows:
                break
            li, qi, si = cells[ci]
            yi = next_year(ci)
            n = size(li, si, yi)
            if n < SUPPRESS_BELOW:
                kind = _SUPPRESSED
            elif without_ci:
                kind, without_ci = _WITHOUT_CI, without_ci - 1
            else:
                kind = _NORMAL
            plan.append(_pack(kind, li, qi, si, yi, n))

    del plan[rows:]
    rng.shuffle(plan)
    return plan


def _fmt(value: float) -> str:
    """Format a percentage with one decimal, as the CDC export does."""
    return f"{value:.1f}"


def _rows(
    rows: int, rng: random.Random, scatter: random.Random, counts: list[int]
) -> Iterator[list[object]]:
    """Yield the data rows one by one; ``counts`` receives the rows of each kind and Total rows."""
    model = build_model(rng, scatter)
    plan = _plan(rows, rng, model)

    loc_head = [(loc.abbr, loc.name) for loc in schema.LOCATIONS]
    loc_id = [str(loc.location_id) for loc in schema.LOCATIONS]
    q_head = [(q.class_name, q.topic, q.text) for q in schema.QUESTIONS]
    q_tail = [(q.class_id, q.topic_id, q.question_id) for q in schema.QUESTIONS]
    q_scale = [QUESTION_MODEL[q.question_id].stratum_scale for q in schema.QUESTIONS]
    q_sign = [-1.0 if q.best == "lowest" else 1.0 for q in schema.QUESTIONS]
    columns = schema.STRATUM_COLUMNS
    s_cols = [tuple(s.name if c == s.column else "" for c in columns) for s in schema.STRATA]
    s_tail = [(s.category, s.name, s.category_id, s.stratum_id) for s in schema.STRATA]
    advantage = advantages()
    no_cols = ("",) * len(columns)
    no_tail = ("", "", "", "")

    for i, code in enumerate(plan):
        kind, li, qi, si, yi, n = _unpack(code)
        counts[kind] += 1
        counts[_TOTAL] += si == 0 and kind != _UNSTRATIFIED
        year = schema.FIRST_YEAR + yi
        value_text = low_text = high_text = symbol = footnote = ""
        size: object = n
        if kind == _SUPPRESSED:
            symbol, footnote = schema.SUPPRESSED_FOOTNOTE_SYMBOL, schema.SUPPRESSED_FOOTNOTE
        elif kind == _MISSING:
            size = ""
        else:
            expected = (
                model.base[li][qi]
                + q_sign[qi] * advantage[si] * q_scale[qi]
                + model.slope[li][qi] * (year - MID_YEAR)
                + model.shift[li][qi][yi]
            )
            p = min(max(expected, 2.0), 95.0) / 100.0
            se = math.sqrt(DESIGN_EFFECT * p * (1.0 - p) / n) * 100.0
            value = min(max(expected + rng.gauss(0.0, se), 1.0), 97.0)
            q = value / 100.0
            half = max(Z95 * math.sqrt(DESIGN_EFFECT * q * (1.0 - q) / n) * 100.0, 0.1)
            value_text = _fmt(value)
            if kind != _WITHOUT_CI:
                low_text = _fmt(max(value - half, 0.0))
                high_text = _fmt(min(value + half, 100.0))
        if kind == _UNSTRATIFIED:
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
    scatter = random.Random(f"{seed} scatter")
    counts = [0] * 6
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="", buffering=1 << 20) as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(schema.COLUMNS)
            writer.writerows(_rows(rows, rng, scatter, counts))
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return GenerationSummary(
        rows=rows,
        total_rows=counts[_TOTAL],
        suppressed=counts[_SUPPRESSED],
        missing=counts[_MISSING],
        without_ci=counts[_WITHOUT_CI],
        unstratified=counts[_UNSTRATIFIED],
    )


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
        f"wrote {summary.rows} rows to {args.output} ({summary.total_rows} Total rows, "
        f"{summary.suppressed} suppressed, {summary.missing} blank, {summary.without_ci} without "
        f"confidence limits, {summary.unstratified} without stratification)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
