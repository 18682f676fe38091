"""rankings (SPEC §15.3): ranks and rank probabilities worked out by hand on small fixtures, the
rank intervals checked by brute force (the service's own draws ranked one at a time in Python),
and the probabilities against an independent simulation within Monte Carlo error.

The fixtures are written here in the extract's schema, with confidence limits value -/+
1.959964 se, so that each location's se is the one chosen (one row per location).
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np
import orjson
import pytest

from app.analytics.rank_draws import rank_counts, rank_summary
from app.data_ingestor import Dataset, load_dataset
from app.task import TASKS
from unittests.conftest import BUNDLED_CSV, FIXTURES, MUSCLE, OBESITY
from unittests.support.rankings_reference import (
    DRAWS,
    SIMULATED_DRAWS,
    RankingsReference,
    brute_force_counts,
    rank_fields,
    simulated_shares,
)
from unittests.support.reference import QUESTIONS, compare

Z = 1.959964
PHI = NormalDist().cdf
#: The four fields that come from the draws.
DRAWN = ("rank_low", "rank_high", "p_best5", "p_worst5")
SUPPRESSED_ONE = (
    "no row with both a value and a confidence interval "
    "(1 suppressed, 0 missing, 0 without a confidence interval)"
)


def _header() -> list[str]:
    with (FIXTURES / "analytics.csv").open(newline="", encoding="utf-8") as file:
        return next(csv.reader(file))


def write_fixture(path: Path, rows: list[tuple]) -> Path:
    """A CSV of `rows` (location, question, value, se, sample size[, footnote]), all 2015,
    Total / Total; a None value is blank (suppressed with a footnote), a None se no limits."""
    header = _header()
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        for n, (location, question, value, se, size, *note) in enumerate(rows):
            row = dict.fromkeys(header, "")
            row.update(
                {
                    "": str(n),
                    "YearStart": "2015",
                    "YearEnd": "2015",
                    "LocationDesc": location,
                    "Question": question,
                    "Data_Value": "" if value is None else repr(value),
                    "Data_Value_Footnote": note[0] if note else "",
                    "Sample_Size": str(size),
                    "StratificationCategory1": "Total",
                    "Stratification1": "Total",
                }
            )
            if value is not None and se is not None:
                row["Low_Confidence_Limit"] = repr(value - Z * se)
                row["High_Confidence_Limit "] = repr(value + Z * se)
            writer.writerow([row[column] for column in header])
    return path


def rankings(dataset: Dataset, question: str, **fields: Any) -> dict[str, Any]:
    """The `data` a client reads (JSON and back), without its `method` text."""
    task = TASKS["rankings"].from_payload({"question": question, **fields}, dataset)
    data = orjson.loads(orjson.dumps(task.compute(dataset)))
    assert "10000 draws" in data.pop("method")
    return data


def by_location(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["location"]: entry for entry in data["locations"]}


def mc_bound(p: float, draws: float = DRAWS) -> float:
    """Four and a half standard errors of a share p estimated from `draws` draws."""
    return 4.5 * math.sqrt(p * (1 - p) / draws)


# --- three locations whose probabilities are closed-form ---------------------------------------


@pytest.fixture(scope="module")
def three(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    """obesity: Guam 30 and Ohio 31 (se 1 each), Texas 60 (se 1, 21 standard errors from the
    others), the nation (never ranked), Wyoming suppressed, Utah without limits; muscle: Alabama
    and Alaska both 30 (se 1), Arizona 50 (se 1)."""
    return load_dataset(
        write_fixture(
            tmp_path_factory.mktemp("three") / "three.csv",
            [
                ("National", OBESITY, 30.5, 0.2, 20000),
                ("Ohio", OBESITY, 31.0, 1.0, 800),
                ("Guam", OBESITY, 30.0, 1.0, 40),
                ("Texas", OBESITY, 60.0, 1.0, 900),
                (
                    "Wyoming",
                    OBESITY,
                    None,
                    None,
                    20,
                    "Data not available: sample size insufficient",
                ),
                ("Utah", OBESITY, 35.0, None, 300),
                ("Alaska", MUSCLE, 30.0, 1.0, 500),
                ("Alabama", MUSCLE, 30.0, 1.0, 500),
                ("Arizona", MUSCLE, 50.0, 1.0, 500),
            ],
        )
    )


def test_three_locations_ranked_with_their_intervals_and_the_unranked_after_them(three):
    data = rankings(three, OBESITY)
    assert [e["location"] for e in data["locations"]] == [
        "Guam",
        "Ohio",
        "Texas",
        "Utah",
        "Wyoming",
    ]
    entries = by_location(data)
    # P(Guam first) = P(Guam < Ohio) = Phi(1 / sqrt(2)) = 0.760 (Texas is never first or second):
    # both reach rank 1 in more than 2.5% of the draws and rank 2 in all of them.
    for place, rank, low, high in (("Guam", 1, 1, 2), ("Ohio", 2, 1, 2), ("Texas", 3, 3, 3)):
        entry = entries[place]
        assert (entry["rank"], entry["rank_low"], entry["rank_high"]) == (rank, low, high), place
        assert (entry["p_best5"], entry["p_worst5"]) == (1.0, 1.0)  # three: every rank is both
    assert entries["Guam"]["territory"] is True
    assert entries["Ohio"]["territory"] is entries["Texas"]["territory"] is False
    assert entries["Guam"]["reliable"] is False and entries["Guam"]["unreliable"] == [
        "sample_size < 50"
    ]
    assert entries["Texas"]["value"] == pytest.approx(60.0, rel=1e-12)
    assert entries["Texas"]["low"] == pytest.approx(60.0 - Z, rel=1e-12)
    for place, reason in (
        ("Wyoming", SUPPRESSED_ONE),
        ("Utah", "no row with both a value and a confidence interval "
                 "(0 suppressed, 0 missing, 1 without a confidence interval)"),
    ):  # fmt: skip
        entry = entries[place]
        assert entry["reason"] == reason
        assert [entry[key] for key in ("rank", *DRAWN, "value")] == [None] * 6
        assert entry["unreliable"] == ["no value"]
    assert "National" not in entries
    assert (data["draws"], data["seed"]) == (10_000, 0)
    assert data["years"] == [2015, 2015]
    assert data["stratification"] == {"category": "Total", "stratum": "Total"}
    provenance = data["provenance"]  # the nation's row is not among them
    assert (provenance["rows_used"], provenance["rows_suppressed"]) == (3, 1)
    assert (provenance["rows_missing"], provenance["rows_without_ci"]) == (0, 1)


def test_the_chance_of_each_rank_is_the_closed_form_pairwise_probability():
    """Guam 30, Ohio 31, Texas 60 (se 1): Guam is first exactly when it is below Ohio."""
    counts = rank_counts(np.array([30.0, 31.0, 60.0]), np.ones(3), lowest_best=True)
    first = PHI(1 / math.sqrt(2))  # P(N(-1, 2) < 0)
    assert abs(counts[0, 0] / DRAWS - first) <= mc_bound(first)
    assert counts[0, 0] + counts[1, 0] == DRAWS == counts[2, 2]
    assert counts.sum(axis=0).tolist() == counts.sum(axis=1).tolist() == [DRAWS] * 3


def test_two_identical_estimates_share_their_ranks_and_tie_by_name(three):
    data = rankings(three, MUSCLE)  # highest is best: Arizona, then the two at 30
    assert [
        (e["location"], e["rank"], e["rank_low"], e["rank_high"]) for e in data["locations"]
    ] == [
        ("Arizona", 1, 1, 1),
        ("Alabama", 2, 2, 3),
        ("Alaska", 3, 2, 3),
    ]
    counts = rank_counts(np.array([30.0, 30.0, 50.0]), np.ones(3), lowest_best=False)
    assert abs(counts[0, 1] / DRAWS - 0.5) <= mc_bound(0.5)  # either is second, half the time
    assert counts[2, 0] == DRAWS


# --- seven locations: the chances of the best and worst five ----------------------------------


def seven(tmp_path: Path, question: str) -> Dataset:
    """Four locations far apart (se 0.1), then California 50 and Colorado 50 + sqrt(2) (se 1),
    then Puerto Rico far behind; by the question's direction (the values mirrored for highest)."""
    values = {
        "Alabama": 10.0,
        "Alaska": 20.0,
        "Arizona": 30.0,
        "Arkansas": 40.0,
        "California": 50.0,
        "Colorado": 50.0 + math.sqrt(2),
        "Puerto Rico": 90.0,
    }
    rows = [
        (place, question, value if question == OBESITY else 100 - value, se, 1000)
        for place, value in values.items()
        for se in [1.0 if place in ("California", "Colorado") else 0.1]
    ]
    return load_dataset(write_fixture(tmp_path / "seven.csv", rows))


@pytest.mark.parametrize("question", [OBESITY, MUSCLE], ids=["lowest", "highest"])
def test_the_chances_of_the_best_and_worst_five_by_hand(tmp_path: Path, question: str) -> None:
    """California is fifth (in the best five) exactly when it is better than Colorado:
    P = Phi(sqrt(2) / sqrt(1 + 1)) = Phi(1) = 0.841; Colorado then sixth. The last five are
    ranks 3 to 7, so both are always among them."""
    entries = by_location(rankings(seven(tmp_path, question), question))
    assert [entries[p]["rank"] for p in sorted(entries)] == [1, 2, 3, 4, 5, 6, 7]
    california, colorado = entries["California"], entries["Colorado"]
    assert abs(california["p_best5"] - PHI(1)) <= mc_bound(PHI(1))
    assert california["p_best5"] + colorado["p_best5"] == pytest.approx(1.0, abs=1e-12)
    for place in ("California", "Colorado"):
        assert (entries[place]["rank_low"], entries[place]["rank_high"]) == (5, 6)
        assert entries[place]["p_worst5"] == 1.0
    for place, rank in (("Alabama", 1), ("Alaska", 2), ("Arizona", 3), ("Arkansas", 4)):
        entry = entries[place]
        assert (entry["rank_low"], entry["rank_high"], entry["p_best5"]) == (rank, rank, 1.0)
        assert entry["p_worst5"] == (1.0 if rank >= 3 else 0.0)
    puerto_rico = entries["Puerto Rico"]
    assert (puerto_rico["rank_low"], puerto_rico["rank_high"]) == (7, 7)
    assert (puerto_rico["p_best5"], puerto_rico["p_worst5"], puerto_rico["territory"]) == (
        0.0,
        1.0,
        True,
    )


def test_equal_draws_rank_by_name_however_they_come_about():
    """Values whose se is too small to move them: every draw ties them, and the names decide
    (the rows that tie are ranked again exactly); the counts are the brute force's."""
    for values, ses in (
        ([30.0, 30.0, 50.0, -1.0, -1.0], [1e-300] * 5),
        ([30.0, 30.0, 30.0], [9e-16] * 3),  # a few distinct floats around 30: ties and not
        ([0.0, 0.0, 7.0], [1e-300] * 3),
    ):
        for lowest in (True, False):
            expected = brute_force_counts(values, ses, lowest)
            assert rank_counts(np.array(values), np.array(ses), lowest).tolist() == (
                expected.tolist()
            )
    counts = rank_counts(np.array([30.0, 30.0, 50.0]), np.full(3, 1e-300), lowest_best=True)
    assert counts.tolist() == [[DRAWS, 0, 0], [0, DRAWS, 0], [0, 0, DRAWS]]


@pytest.mark.parametrize("count", [1, 2, 5, 6, 64, 65])
def test_any_number_of_locations_is_ranked_as_the_brute_force_ranks_it(count):
    """One location alone (the real rows have selections with one), two, the five of the best
    five and one more, and around the 6 bits the sort keys keep for the location."""
    rng = np.random.default_rng(count)
    values, ses = rng.uniform(-2, 40, count), rng.uniform(0.05, 3, count)
    for lowest in (True, False):
        expected = brute_force_counts(values.tolist(), ses.tolist(), lowest)
        assert rank_counts(values, ses, lowest).tolist() == expected.tolist(), (count, lowest)


def test_the_summary_follows_the_words_of_the_spec():
    """rank_low / rank_high: the smallest r reached by at least 250 / 9,750 draws, on counts
    built to sit on those edges."""
    counts = np.array([[249, 1, 9_500, 250], [251, 9_499, 250, 0], [9_500, 500, 0, 0]])
    counts = np.vstack([counts, DRAWS - counts.sum(axis=0)])
    summary = rank_summary(counts)
    assert summary["rank_low"].tolist()[:3] == [2, 1, 1]
    assert summary["rank_high"].tolist()[:3] == [3, 2, 2]
    assert summary["p_best5"].tolist() == [1.0] * 4  # four locations: all in the first five
    alone = rank_summary(np.array([[DRAWS]]))
    assert [alone[key].tolist() for key in DRAWN] == [[1], [1], [1.0], [1.0]]


# --- the bundled data: brute force and an independent simulation --------------------------------


@pytest.fixture(scope="module")
def bundled() -> Dataset:
    return load_dataset(BUNDLED_CSV)


@pytest.fixture(scope="module")
def reference() -> RankingsReference:
    return RankingsReference(BUNDLED_CSV)


def _ranked_inputs(reference, question, **selection) -> tuple[list[str], list[float], list[float]]:
    """The ranked locations by name with the reference's pooled values and se."""
    pooled = reference.pooled(question, **selection)
    names = sorted(place for place, (found, _) in pooled.items() if found)
    return (
        names,
        [pooled[place][0]["value"] for place in names],
        [pooled[place][0]["se"] for place in names],
    )


SELECTIONS = [
    pytest.param(OBESITY, {}, id="obesity"),
    pytest.param(MUSCLE, {}, id="muscle"),
    pytest.param(OBESITY, {"years": (2020, 2022)}, id="obesity-2020-2022"),
    pytest.param(MUSCLE, {"stratification": ("Income", "Less than $15,000")}, id="muscle-poorest"),
]


@pytest.mark.parametrize(("question", "selection"), SELECTIONS)
def test_the_bundled_rankings_are_the_reference_and_the_brute_force(
    bundled, reference, question, selection
):
    body = {}
    if "years" in selection:
        body["years"] = list(selection["years"])
    if "stratification" in selection:
        category, stratum = selection["stratification"]
        body["stratification"] = {"category": category, "stratum": stratum}
    data = rankings(bundled, question, **body)
    drawn = [{key: entry.pop(key) for key in DRAWN} for entry in data["locations"]]
    compare(data, reference.rankings(question, **selection))
    names, values, ses = _ranked_inputs(reference, question, **selection)
    lowest = QUESTIONS[question] == "lowest"
    exact = dict(zip(names, rank_fields(brute_force_counts(values, ses, lowest)), strict=True))
    for entry, fields in zip(data["locations"], drawn, strict=True):
        assert fields == exact[entry["location"]], entry["location"]


@pytest.mark.parametrize("question", list(QUESTIONS), ids=[f"q{n}" for n in range(1, 10)])
def test_the_rank_probabilities_agree_with_an_independent_simulation(bundled, reference, question):
    """Another generator, another seed, twice the draws: the shares of the best and worst five
    agree within Monte Carlo error, and each rank interval's ends are where the independent
    simulation's cumulative shares cross 2.5% and 97.5%, within that error."""
    data = rankings(bundled, question)
    names, values, ses = _ranked_inputs(reference, question)
    shares = simulated_shares(values, ses, QUESTIONS[question] == "lowest")
    reached = shares.cumsum(axis=1)
    ranked = by_location(data)
    both = 1 / DRAWS + 1 / SIMULATED_DRAWS
    for i, place in enumerate(names):
        entry, count = ranked[place], len(names)
        for field, share in (
            ("p_best5", reached[i, min(5, count) - 1]),
            ("p_worst5", shares[i, max(0, count - 5) :].sum()),
        ):
            # The share both simulations estimate, from their draws together (a share near 0
            # counts as one draw in the larger simulation, so that a handful of draws is no gap).
            pooled = (entry[field] * DRAWS + share * SIMULATED_DRAWS) / (DRAWS + SIMULATED_DRAWS)
            spread = max(pooled * (1 - pooled), 1 / SIMULATED_DRAWS)
            tolerance = 4.5 * math.sqrt(spread * both)
            assert abs(entry[field] - share) <= tolerance, (place, field, entry[field], share)
        for field, edge in (("rank_low", 0.025), ("rank_high", 0.975)):
            tolerance = 4.5 * math.sqrt(edge * (1 - edge) * both)
            rank = entry[field]
            assert reached[i, rank - 1] >= edge - tolerance, (place, field, rank)
            assert rank == 1 or reached[i, rank - 2] < edge + tolerance, (place, field, rank)


def test_the_same_request_gives_the_same_bytes(bundled):
    first = TASKS["rankings"].from_payload({"question": OBESITY}, bundled).compute(bundled)
    again = TASKS["rankings"].from_payload({"question": OBESITY}, bundled).compute(bundled)
    assert orjson.dumps(first) == orjson.dumps(again)
    assert first["method"].count("numpy.random.default_rng(0)") == 1
