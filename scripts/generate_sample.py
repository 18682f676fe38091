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
else:  # run as ``python scripts/generate_sample.py``
    import dataset_schema as schema

DEFAULT_ROWS = 21_000
DEFAULT_SEED = 2011
DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / schema.DATA_FILE_NAME

DATASOURCE = "Synthetic sample (not CDC data) in the BRFSS schema"

#: Estimates from fewer respondents are suppressed, as the CDC does.
SUPPRESS_BELOW = 50
#: Variance inflation of the survey's complex design over simple random sampling.
DESIGN_EFFECT = 2.0
Z95 = 1.959964
#: Rows per 10,000 without stratification, simply blank (no footnote), with a value but no limits.
UNSTRATIFIED_PER_10K = 100
MISSING_PER_10K = 25
WITHOUT_CI_PER_10K = 25
#: Suppressed years a stratum may have before its first usable one (each stratum has one).
SUPPRESSED_BEFORE_USABLE = 2


class QuestionModel(NamedTuple):
    """How one question's values are drawn (percentages, percentage points per year)."""

    mean: float  # the nation's value in the middle of the period
    spread: float  # how far a location that stands out lies from the nation
    stratum_scale: float  # the value difference per unit of a stratum's advantage
    trend: float  # the nation's change per year
    trend_spread: float  # standard deviation of the locations' change per year around it
    odd_years_only: bool  # asked in odd years only, as the BRFSS rotating modules are


_QUESTION_MODEL: dict[str, QuestionModel] = {
    "Q037": QuestionModel(35.0, 1.6, 3.0, 0.00, 0.15, False),
    "Q036": QuestionModel(30.0, 3.2, 6.8, 0.35, 0.25, False),
    "Q047": QuestionModel(25.0, 3.4, 9.0, -0.10, 0.20, False),
    "Q018": QuestionModel(38.0, 2.8, 6.8, 0.20, 0.25, True),
    "Q019": QuestionModel(20.0, 2.2, 5.2, 0.10, 0.20, True),
    "Q043": QuestionModel(50.0, 3.4, 9.0, 0.05, 0.25, True),
    "Q044": QuestionModel(22.0, 2.6, 6.8, 0.10, 0.20, True),
    "Q045": QuestionModel(32.0, 2.8, 6.8, -0.05, 0.25, True),
    "Q046": QuestionModel(32.0, 2.8, 6.8, 0.10, 0.20, True),
}

# Per stratum id: how much healthier than average (-1..1) and its national share of respondents.
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

#: How much a location's share of a stratum varies (log scale): race far more than the rest.
_SHARE_SPREAD = {"RACE": 0.75}
_OTHER_SHARE_SPREAD = 0.1

_MID_YEAR = (schema.FIRST_YEAR + schema.LAST_YEAR) / 2
_ALL_YEARS = tuple(range(schema.FIRST_YEAR, schema.LAST_YEAR + 1))
_ODD_YEARS = tuple(y for y in _ALL_YEARS if y % 2 == 1)

#: The year-to-year scatter beyond sampling error (SPEC §15.5). Each location and question has
#: a shift per year, N(0, tau²), shared by the strata of that year; tau² is a ratio times the
#: variance of the location's typical Total value, the ratio log-normal so that most series
#: scatter a few times their sampling error and some far more (the real export: a dispersion
#: of median 3.4 and 90th percentile 13). Each series' shifts (bend included) sum to zero over
#: its years; the nation's are the states' weighted mean.
SCATTER_RATIO_MEDIAN = 2.2
SCATTER_RATIO_SIGMA = 1.25
#: The no-leisure-time question (Q047) runs this many points higher in odd years than in even
#: ones in the real export (the survey's rotating core).
ODD_YEAR_EFFECT = {"Q047": 2.2}
#: The share of locations whose trend of an every-year question bends in one year between
#: BEND_YEARS: a rise steeper than BEND_FLATTENS flattens; any other trend turns upwards, to a
#: slope drawn from BEND_UPWARDS (points per year).
BEND_SHARE = 0.2
BEND_YEARS = (2015, 2018)
BEND_FLATTENS = 0.25
BEND_UPWARDS = (0.3, 0.7)

# Row kinds of the plan, and where ``_rows`` counts the Total rows.
_NORMAL, _SUPPRESSED, _MISSING, _WITHOUT_CI, _UNSTRATIFIED, _TOTAL = range(6)


def survey_years(question_id: str) -> tuple[int, ...]:
    """The years the survey asks a question (every year, or odd years only)."""
    return _ODD_YEARS if _QUESTION_MODEL[question_id].odd_years_only else _ALL_YEARS


class GenerationSummary(NamedTuple):
    """What ``generate`` wrote."""

    rows: int
    total_rows: int  # Total/Total rows (one per location, question and survey year)
    suppressed: int  # blank value footnoted as suppressed for a small sample
    missing: int  # blank value, no footnote
    without_ci: int  # a value but no confidence limits
    unstratified: int  # empty stratification category and stratum


class _Model(NamedTuple):
    """Per-location parameters drawn once from the seed."""

    base: list[list[float]]  # [location][question] -> whole-population value mid-period
    slope: list[list[float]]  # [location][question] -> change per year
    respondents: list[list[int]]  # [location][year - FIRST_YEAR] -> respondents that year
    share: list[list[float]]  # [location][stratum] -> share of the respondents
    geo: list[str]  # [location] -> GeoLocation text
    shift: list[list[list[float]]]  # [location][question][year - FIRST_YEAR] -> beyond the line


def _centre(values: list[float], weights: list[float], target: float) -> list[float]:
    """Shift ``values`` so that their weighted mean is ``target``."""
    shift = target - sum(v * w for v, w in zip(values, weights, strict=True)) / sum(weights)
    return [v + shift for v in values]


def _build_model(rng: random.Random, scatter: random.Random) -> _Model:
    """Draw the locations' values, trends, respondents, stratum shares and coordinates; and,
    from `scatter` (so that the rows drawn from `rng` are those of the sample before it had
    any), their years' departures from a straight line."""
    locations = schema.LOCATIONS
    national = next(i for i, loc in enumerate(locations) if loc.abbr == "US")
    # The nation is the 50 states and DC; the territories stand apart.
    states = [i for i, loc in enumerate(locations) if loc.location_id <= 56]

    typical: list[int] = []
    geo: list[str] = []
    for i, loc in enumerate(locations):
        if i == national:
            typical.append(0)
        elif loc.location_id > 56:
            typical.append(rng.randint(1_500, 4_000))
        else:
            typical.append(rng.randint(3_000, 14_000))
        if loc.lat is None or loc.lon is None:
            geo.append("")
        else:
            lat = loc.lat + rng.uniform(-5e-7, 5e-7)
            lon = loc.lon + rng.uniform(-5e-7, 5e-7)
            geo.append(f"({lat:.14f}, {lon:.14f})")
    respondents = [[round(t * rng.uniform(0.85, 1.15)) for _ in _ALL_YEARS] for t in typical]
    respondents[national] = [sum(respondents[i][y] for i in states) for y in range(len(_ALL_YEARS))]
    weights = [float(typical[i]) for i in states]

    # Most locations lie close to the nation; about a quarter stand out, for better or worse.
    health = [rng.gauss(0.0, 1.0) for _ in locations]
    base = [[0.0] * len(schema.QUESTIONS) for _ in locations]
    slope = [[0.0] * len(schema.QUESTIONS) for _ in locations]
    for qi, question in enumerate(schema.QUESTIONS):
        model = _QUESTION_MODEL[question.question_id]
        sign = -1.0 if question.best == "lowest" else 1.0
        offsets = []
        for i in range(len(locations)):
            offset = rng.gauss(0.0, 0.3)
            if abs(health[i]) > 1.15 and rng.random() < 0.85:
                offset += math.copysign(model.spread * rng.uniform(0.6, 1.1), health[i])
            offsets.append(sign * offset)
        trends = [model.trend + rng.gauss(0.0, model.trend_spread) for _ in locations]
        centred = _centre([offsets[i] for i in states], weights, 0.0)
        centred_trends = _centre([trends[i] for i in states], weights, model.trend)
        for at, i in enumerate(states):
            offsets[i], trends[i] = centred[at], centred_trends[at]
        offsets[national], trends[national] = 0.0, model.trend
        for i in range(len(locations)):
            base[i][qi] = model.mean + offsets[i]
            slope[i][qi] = trends[i]

    share = [_shares(rng, national=i == national) for i in range(len(locations))]
    shift = _shifts(scatter, base, slope, typical, states, national)
    return _Model(base, slope, respondents, share, geo, shift)


def _shifts(
    rng: random.Random,
    base: list[list[float]],
    slope: list[list[float]],
    typical: list[int],
    states: list[int],
    national: int,
) -> list[list[list[float]]]:
    """Each location's and question's departure from its straight line in each year: the
    scatter, the odd-year effect and a bend (see SCATTER_RATIO_MEDIAN and BEND_SHARE)."""
    shift = [[[0.0] * len(_ALL_YEARS) for _ in schema.QUESTIONS] for _ in schema.LOCATIONS]
    for qi, question in enumerate(schema.QUESTIONS):
        every_year = not _QUESTION_MODEL[question.question_id].odd_years_only
        odd = ODD_YEAR_EFFECT.get(question.question_id, 0.0)
        for i in states + [i for i in range(len(schema.LOCATIONS)) if i not in states]:
            if i == national:
                continue
            p = min(max(base[i][qi], 2.0), 95.0) / 100.0
            typical_se = math.sqrt(DESIGN_EFFECT * p * (1.0 - p) / typical[i]) * 100.0
            ratio = rng.lognormvariate(math.log(SCATTER_RATIO_MEDIAN), SCATTER_RATIO_SIGMA)
            tau = typical_se * math.sqrt(ratio)
            bend_year, bend = 0, 0.0
            if every_year and rng.random() < BEND_SHARE:
                bend_year = rng.randint(*BEND_YEARS)
                # A clear rise flattens; anything else turns (or steepens) upwards.
                after = 0.0 if slope[i][qi] > BEND_FLATTENS else rng.uniform(*BEND_UPWARDS)
                bend = after - slope[i][qi]
            for yi, year in enumerate(_ALL_YEARS):
                bent = bend * max(year - bend_year, 0) if bend_year else 0.0
                shift[i][qi][yi] = rng.gauss(0.0, tau) + bent
            # Centred over the years asked: the location's value over the whole period, and so
            # how it compares with the nation's, stays where its line puts it.
            asked = [year - schema.FIRST_YEAR for year in survey_years(question.question_id)]
            centre = sum(shift[i][qi][yi] for yi in asked) / len(asked)
            shift[i][qi] = [value - centre for value in shift[i][qi]]
        weights = [float(typical[i]) for i in states]
        for yi, year in enumerate(_ALL_YEARS):
            mean = sum(shift[i][qi][yi] * w for i, w in zip(states, weights, strict=True))
            shift[national][qi][yi] = mean / sum(weights)
            for i in range(len(schema.LOCATIONS)):
                shift[i][qi][yi] += odd / 2 if year % 2 else -odd / 2
    return shift


def _shares(rng: random.Random, national: bool) -> list[float]:
    """One location's share of the respondents in each stratum (each category sums to 1)."""
    raw = []
    for stratum in schema.STRATA:
        share = _STRATUM_MODEL[stratum.stratum_id][1]
        if not national:
            spread = _SHARE_SPREAD.get(stratum.category_id, _OTHER_SHARE_SPREAD)
            share *= rng.lognormvariate(0.0, spread)
        raw.append(share)
    sums: dict[str, float] = {}
    for stratum, share in zip(schema.STRATA, raw, strict=True):
        sums[stratum.category] = sums.get(stratum.category, 0.0) + share
    return [share / sums[s.category] for s, share in zip(schema.STRATA, raw, strict=True)]


def _advantages() -> list[float]:
    """Each stratum's advantage, centred so that its category's share-weighted mean is 0."""
    raw = [_STRATUM_MODEL[s.stratum_id] for s in schema.STRATA]
    by_category: dict[str, list[float]] = {}
    for stratum, (advantage, share) in zip(schema.STRATA, raw, strict=True):
        sums = by_category.setdefault(stratum.category, [0.0, 0.0])
        sums[0] += advantage * share
        sums[1] += share
    return [
        advantage - by_category[s.category][0] / by_category[s.category][1]
        for s, (advantage, _) in zip(schema.STRATA, raw, strict=True)
    ]


def _pack(kind: int, li: int, qi: int, si: int, yi: int, size: int) -> int:
    """One planned row as an integer (the plan of a large file stays small)."""
    return kind | li << 3 | qi << 9 | si << 13 | yi << 18 | size << 22


def _unpack(code: int) -> tuple[int, int, int, int, int, int]:
    """The fields ``_pack`` packed: kind, location, question, stratum, year index, size."""
    return code & 7, code >> 3 & 63, code >> 9 & 15, code >> 13 & 31, code >> 18 & 15, code >> 22


def _plan(rows: int, rng: random.Random, model: _Model) -> array:
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
    model = _build_model(rng, scatter)
    plan = _plan(rows, rng, model)

    loc_head = [(loc.abbr, loc.name) for loc in schema.LOCATIONS]
    loc_id = [str(loc.location_id) for loc in schema.LOCATIONS]
    q_head = [(q.class_name, q.topic, q.text) for q in schema.QUESTIONS]
    q_tail = [(q.class_id, q.topic_id, q.question_id) for q in schema.QUESTIONS]
    q_scale = [_QUESTION_MODEL[q.question_id].stratum_scale for q in schema.QUESTIONS]
    q_sign = [-1.0 if q.best == "lowest" else 1.0 for q in schema.QUESTIONS]
    columns = schema.STRATUM_COLUMNS
    s_cols = [tuple(s.name if c == s.column else "" for c in columns) for s in schema.STRATA]
    s_tail = [(s.category, s.name, s.category_id, s.stratum_id) for s in schema.STRATA]
    advantage = _advantages()
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
                + model.slope[li][qi] * (year - _MID_YEAR)
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
