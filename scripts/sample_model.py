"""The synthetic sample's model: how each question's values, trends, year-to-year scatter and
bends, each stratum's advantage and share, and each location's respondents are drawn from a seed
(`generate_sample.py` writes the rows from it).
"""

from __future__ import annotations

import math
import random
from typing import NamedTuple

if __package__:
    from . import dataset_schema as schema
else:  # imported by ``python scripts/generate_sample.py``
    import dataset_schema as schema

#: Estimates from fewer respondents are suppressed, as the CDC does.
SUPPRESS_BELOW = 50
#: Variance inflation of the survey's complex design over simple random sampling.
DESIGN_EFFECT = 2.0


class QuestionModel(NamedTuple):
    """How one question's values are drawn (percentages, percentage points per year)."""

    mean: float  # the nation's value in the middle of the period
    spread: float  # how far a location that stands out lies from the nation
    stratum_scale: float  # the value difference per unit of a stratum's advantage
    trend: float  # the nation's change per year
    trend_spread: float  # standard deviation of the locations' change per year around it
    odd_years_only: bool  # asked in odd years only, as the BRFSS rotating modules are


QUESTION_MODEL: dict[str, QuestionModel] = {
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
STRATUM_MODEL: dict[str, tuple[float, float]] = {
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
SHARE_SPREAD = {"RACE": 0.75}
OTHER_SHARE_SPREAD = 0.1

MID_YEAR = (schema.FIRST_YEAR + schema.LAST_YEAR) / 2
ALL_YEARS = tuple(range(schema.FIRST_YEAR, schema.LAST_YEAR + 1))
ODD_YEARS = tuple(y for y in ALL_YEARS if y % 2 == 1)

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


def survey_years(question_id: str) -> tuple[int, ...]:
    """The years the survey asks a question (every year, or odd years only)."""
    return ODD_YEARS if QUESTION_MODEL[question_id].odd_years_only else ALL_YEARS


class Model(NamedTuple):
    """Per-location parameters drawn once from the seed."""

    base: list[list[float]]  # [location][question] -> whole-population value mid-period
    slope: list[list[float]]  # [location][question] -> change per year
    respondents: list[list[int]]  # [location][year - FIRST_YEAR] -> respondents that year
    share: list[list[float]]  # [location][stratum] -> share of the respondents
    geo: list[str]  # [location] -> GeoLocation text
    shift: list[list[list[float]]]  # [location][question][year - FIRST_YEAR] -> beyond the line


def centre(values: list[float], weights: list[float], target: float) -> list[float]:
    """Shift ``values`` so that their weighted mean is ``target``."""
    shift = target - sum(v * w for v, w in zip(values, weights, strict=True)) / sum(weights)
    return [v + shift for v in values]


def build_model(rng: random.Random, scatter: random.Random) -> Model:
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
    respondents = [[round(t * rng.uniform(0.85, 1.15)) for _ in ALL_YEARS] for t in typical]
    respondents[national] = [sum(respondents[i][y] for i in states) for y in range(len(ALL_YEARS))]
    weights = [float(typical[i]) for i in states]

    # Most locations lie close to the nation; about a quarter stand out, for better or worse.
    health = [rng.gauss(0.0, 1.0) for _ in locations]
    base = [[0.0] * len(schema.QUESTIONS) for _ in locations]
    slope = [[0.0] * len(schema.QUESTIONS) for _ in locations]
    for qi, question in enumerate(schema.QUESTIONS):
        model = QUESTION_MODEL[question.question_id]
        sign = -1.0 if question.best == "lowest" else 1.0
        offsets = []
        for i in range(len(locations)):
            offset = rng.gauss(0.0, 0.3)
            if abs(health[i]) > 1.15 and rng.random() < 0.85:
                offset += math.copysign(model.spread * rng.uniform(0.6, 1.1), health[i])
            offsets.append(sign * offset)
        trends = [model.trend + rng.gauss(0.0, model.trend_spread) for _ in locations]
        centred = centre([offsets[i] for i in states], weights, 0.0)
        centred_trends = centre([trends[i] for i in states], weights, model.trend)
        for at, i in enumerate(states):
            offsets[i], trends[i] = centred[at], centred_trends[at]
        offsets[national], trends[national] = 0.0, model.trend
        for i in range(len(locations)):
            base[i][qi] = model.mean + offsets[i]
            slope[i][qi] = trends[i]

    share = [shares(rng, national=i == national) for i in range(len(locations))]
    shift = shifts(scatter, base, slope, typical, states, national)
    return Model(base, slope, respondents, share, geo, shift)


def shifts(
    rng: random.Random,
    base: list[list[float]],
    slope: list[list[float]],
    typical: list[int],
    states: list[int],
    national: int,
) -> list[list[list[float]]]:
    """Each location's and question's departure from its straight line in each year: the
    scatter, the odd-year effect and a bend (see SCATTER_RATIO_MEDIAN and BEND_SHARE)."""
    shift = [[[0.0] * len(ALL_YEARS) for _ in schema.QUESTIONS] for _ in schema.LOCATIONS]
    for qi, question in enumerate(schema.QUESTIONS):
        every_year = not QUESTION_MODEL[question.question_id].odd_years_only
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
            for yi, year in enumerate(ALL_YEARS):
                bent = bend * max(year - bend_year, 0) if bend_year else 0.0
                shift[i][qi][yi] = rng.gauss(0.0, tau) + bent
            # Centred over the years asked: the location's value over the whole period, and so
            # how it compares with the nation's, stays where its line puts it.
            asked = [year - schema.FIRST_YEAR for year in survey_years(question.question_id)]
            centre = sum(shift[i][qi][yi] for yi in asked) / len(asked)
            shift[i][qi] = [value - centre for value in shift[i][qi]]
        weights = [float(typical[i]) for i in states]
        for yi, year in enumerate(ALL_YEARS):
            mean = sum(shift[i][qi][yi] * w for i, w in zip(states, weights, strict=True))
            shift[national][qi][yi] = mean / sum(weights)
            for i in range(len(schema.LOCATIONS)):
                shift[i][qi][yi] += odd / 2 if year % 2 else -odd / 2
    return shift


def shares(rng: random.Random, national: bool) -> list[float]:
    """One location's share of the respondents in each stratum (each category sums to 1)."""
    raw = []
    for stratum in schema.STRATA:
        share = STRATUM_MODEL[stratum.stratum_id][1]
        if not national:
            spread = SHARE_SPREAD.get(stratum.category_id, OTHER_SHARE_SPREAD)
            share *= rng.lognormvariate(0.0, spread)
        raw.append(share)
    sums: dict[str, float] = {}
    for stratum, share in zip(schema.STRATA, raw, strict=True):
        sums[stratum.category] = sums.get(stratum.category, 0.0) + share
    return [share / sums[s.category] for s, share in zip(schema.STRATA, raw, strict=True)]


def advantages() -> list[float]:
    """Each stratum's advantage, centred so that its category's share-weighted mean is 0."""
    raw = [STRATUM_MODEL[s.stratum_id] for s in schema.STRATA]
    by_category: dict[str, list[float]] = {}
    for stratum, (advantage, share) in zip(schema.STRATA, raw, strict=True):
        sums = by_category.setdefault(stratum.category, [0.0, 0.0])
        sums[0] += advantage * share
        sums[1] += share
    return [
        advantage - by_category[s.category][0] / by_category[s.category][1]
        for s, (advantage, _) in zip(schema.STRATA, raw, strict=True)
    ]
