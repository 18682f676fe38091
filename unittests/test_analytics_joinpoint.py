"""The joinpoint search and the t quantile (SPEC §15.1, §15.2): rules worked by hand, then
against an independent implementation (a brute-force search over placements with statsmodels'
WLS, scipy's t) on random series with bends and scatter, and on the real CDC rows."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import t as scipy_t

from app.analytics import joinpoint, stats
from app.data_ingestor import load_dataset
from app.task import TASKS
from unittests.conftest import BUNDLED_CSV, ROOT
from unittests.support import joinpoint_reference
from unittests.support.analytics_reference import AnalyticsReference
from unittests.support.reference import compare

#: Where the real CDC rows may be (SPEC §15.6): LSS_REAL_SLICE, beside the project (main's
#: checkout), or beside the worktrees' folder.
_SLICE = "shared/data/cdc-real-slice.csv"
REAL_SLICE = next(
    (
        path
        for path in (
            Path(os.environ.get("LSS_REAL_SLICE", "/nonexistent")),
            ROOT.parent / _SLICE,
            ROOT.parent.parent / _SLICE,
        )
        if path.is_file()
    ),
    None,
)


# -- the rules, by hand ---------------------------------------------------------------------------


@pytest.mark.parametrize(("years", "most"), [(3, 0), (6, 0), (7, 1), (11, 1), (12, 2), (13, 2)])
def test_how_many_joinpoints_a_series_may_have(years, most):
    assert joinpoint.max_joinpoints(years) == most


def test_placements_leave_every_segment_three_observed_years():
    assert joinpoint.placements(7, 0).shape == (1, 0)
    assert joinpoint.placements(7, 1).tolist() == [[2], [3], [4]]  # 0-1-2 | 2..6, ..., 0..4 | 4-5-6
    assert joinpoint.placements(6, 2).tolist() == []
    pairs = joinpoint.placements(12, 2).tolist()
    # τ1 from index 2, τ2 at least 2 after it and at most 9: 6 + 5 + 4 + 3 + 2 + 1 = 21 pairs.
    assert len(pairs) == 21
    assert pairs[:3] == [[2, 4], [2, 5], [2, 6]] and pairs[-1] == [7, 9]
    assert pairs == sorted(pairs)


def test_tied_placements_go_to_the_earliest_years():
    # Symmetric about t = 3 with equal weights: a joinpoint at index 2 or 4 fits equally well
    # (SSE 3.3, by reflection), better than one at 3 (SSE 3.46); the earlier wins.
    t = np.arange(7.0)
    y = np.array([2.0, 0, 1, 1, 1, 0, 2])
    best = joinpoint.best_placement(t, y, np.ones(7), 1, zero=0.0)
    assert best.indices.tolist() == [2]
    assert best.sse == pytest.approx(3.3)
    mirrored = joinpoint.best_placement(t, y[::-1].copy(), np.ones(7), 1, zero=0.0)
    assert mirrored.indices.tolist() == [2]


def test_an_sse_below_the_threshold_counts_as_zero():
    t = np.arange(7.0)
    y = 0.1 * t - 0.2 * np.maximum(t - 3, 0)  # exactly bent at index 3
    assert joinpoint.best_placement(t, y, np.ones(7), 1, zero=1e-12).sse == 0.0
    assert joinpoint.best_placement(t, y, np.ones(7), 0, zero=1e-12).sse > 0


def test_bic_by_hand_and_a_perfect_fit_is_minus_infinity():
    # ln(2 / 10) + 2 * 2 * ln(10) / 10
    assert joinpoint.bic(2.0, 10, 1) == pytest.approx(math.log(0.2) + 0.4 * math.log(10))
    assert joinpoint.bic(0.0, 10, 2) == -math.inf


def test_two_known_joinpoints_in_twelve_years():
    years = np.arange(2011, 2023)
    t = years - 2011
    # +5% a year to 2015, -5% a year to 2019, then +2% a year; se_y = 0.02 every year.
    logs = (
        math.log(30)
        + math.log(1.05) * t
        + (math.log(0.95) - math.log(1.05)) * np.maximum(t - 4, 0)
        + (math.log(1.02) - math.log(0.95)) * np.maximum(t - 8, 0)
    )
    values = np.exp(logs)
    fit = joinpoint.fit_joinpoints(years, values, 0.02 * values)
    assert fit is not None
    assert fit.joinpoints == [2015, 2019]
    assert [(s.start, s.end) for s in fit.segments] == [(2011, 2015), (2015, 2019), (2019, 2022)]
    assert [s.apc.value for s in fit.segments] == pytest.approx([5.0, -5.0, 2.0], rel=1e-9)
    # AAPC: (4 ln 1.05 + 4 ln 0.95 + 3 ln 1.02) / 11
    expected = (4 * math.log(1.05) + 4 * math.log(0.95) + 3 * math.log(1.02)) / 11
    assert fit.aapc.value == pytest.approx(100 * math.expm1(expected), rel=1e-9)
    assert (fit.dispersion, fit.df) == (0.0, 6)


def test_a_bound_beyond_a_double_is_none_not_infinity():
    assert joinpoint.percent(705.0) == pytest.approx(100 * math.expm1(705.0))
    assert joinpoint.percent(709.0) is None  # e^709 fits a double, 100 e^709 does not
    assert joinpoint.percent(710.0) is None
    assert joinpoint.percent(math.nan) is None
    change = joinpoint.PercentChange.of(0.5, 60.0, stats.t_quantile(1))  # 0.5 ± 762
    assert change.high is None
    assert change.low == pytest.approx(-100.0)
    assert change.value == pytest.approx(100 * math.expm1(0.5))


def test_numbers_beyond_double_precision_raise_overflow_not_nan():
    """A log-scale slope past e^709 (1e-320, 1, 1e308 a year apart), and weights 1 / se² whose
    sum overflows: OverflowError, which state_trend turns into a reason."""
    years = np.array([2011, 2012, 2013])
    values = np.array([1e-320, 1.0, 1e308])
    with pytest.raises(OverflowError, match="double precision"):
        joinpoint.fit_joinpoints(years, values, values)
    with pytest.raises(OverflowError, match="double precision"):
        stats.wls_slope(years, np.array([1.0, 2.0, 3.0]), np.full(3, 1.0001e-154))


@pytest.mark.parametrize("seed", range(4))
def test_extreme_series_give_finite_numbers_or_overflow(seed):
    """Values and se from 1e-320 to 1e308: every number answered is finite (a bound may be
    None), or the fit says it cannot be represented; nothing else is raised."""
    rng = np.random.default_rng(seed)
    for _ in range(100):
        n = int(rng.integers(3, 14))
        years = np.sort(rng.choice(np.arange(2011, 2024), n, replace=False))
        values, ses = 10.0 ** rng.uniform(-320, 308, n), 10.0 ** rng.uniform(-154, 154, n)
        for fit in (joinpoint.fit_joinpoints, stats.wls_slope):
            try:
                answer = fit(years, values, ses)
            except OverflowError:
                continue
            fitted = joinpoint.fit_joinpoints
            _strict_json(_apc_fields(answer) if fit is fitted else _slope_fields(answer))


def test_the_search_runs_on_at_most_a_hundred_years():
    years = np.arange(1900, 2001)  # 101 years: 4,851 placements of two joinpoints at 100
    values = 20 + 0.1 * (years - 1900)
    with pytest.raises(OverflowError, match="more than 100 years: the search is not run"):
        joinpoint.fit_joinpoints(years, values, np.ones(101))
    fit = joinpoint.fit_joinpoints(years[:100], values[:100], np.ones(100))
    assert fit is not None and fit.df == 100 - 2 - 2 * len(fit.joinpoints)


def test_t_quantiles_in_closed_form_and_against_scipy_stats():
    p = 0.975
    assert stats.t_quantile(1) == pytest.approx(math.tan(math.pi * (p - 0.5)), rel=1e-12)
    assert stats.t_quantile(2) == pytest.approx((2 * p - 1) / math.sqrt(2 * p * (1 - p)), rel=1e-12)
    a = 4 * p * (1 - p)  # df 4: t = 2 √(cos(arccos(√a) / 3) / √a - 1)
    closed = 2 * math.sqrt(math.cos(math.acos(math.sqrt(a)) / 3) / math.sqrt(a) - 1)
    assert stats.t_quantile(4) == pytest.approx(closed, rel=1e-12)
    for df in (*range(1, 200), 500, 1000, 9997):  # 9997: years 1 to 9999, the most there are
        assert stats.t_quantile(df) == pytest.approx(scipy_t.ppf(p, df), rel=1e-12, abs=0)
    assert stats.interval_quantile(1.0, 1) == stats.Z95  # only a dispersion above 1 takes t
    assert stats.interval_quantile(1.0000001, 1) == stats.t_quantile(1)


# -- against the independent implementation --------------------------------------------------------


def _series(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A yearly series of 3-13 years between 2011 and 2023 (gaps allowed), bending or not,
    with scatter beyond its se or within it, and odd years pushed up (as BRFSS's can be)."""
    n = int(rng.integers(3, 14))
    years = np.sort(rng.choice(np.arange(2011, 2024), n, replace=False))
    t = years - 2011
    bend = rng.integers(2, 11)
    values = 25 + rng.uniform(-0.8, 0.8) * t + rng.uniform(-1.5, 1.5) * np.maximum(t - bend, 0)
    values += rng.choice([0.0, 1.0]) * (years % 2) + rng.normal(0, rng.choice([0.1, 0.8, 3.0]), n)
    return years, values, rng.uniform(0.3, 2.5, n)


def _slope_fields(slope: stats.Slope) -> dict:
    names = ("per_year", "low", "high", "trend", "dispersion", "df")
    return {name: getattr(slope, name) for name in names}


def _change(change: joinpoint.PercentChange) -> dict:
    return {"value": change.value, "low": change.low, "high": change.high}


def _apc_fields(fit: joinpoint.JoinpointFit) -> dict:
    segments = [
        {"from": s.start, "to": s.end, "apc": s.apc.value, "low": s.apc.low, "high": s.apc.high}
        for s in fit.segments
    ]
    return {
        "segments": segments,
        "joinpoints": fit.joinpoints,
        "aapc": _change(fit.aapc),
        "selection": "bic",
        "dispersion": fit.dispersion,
        "df": fit.df,
    }


@pytest.mark.parametrize("seed", range(8))
def test_random_series_against_a_brute_force_search_and_statsmodels(seed):
    rng = np.random.default_rng(seed)
    for case in range(25):
        years, values, ses = _series(rng)
        where = f"seed {seed} case {case}"
        slope = stats.wls_slope(years, values, ses)
        assert slope is not None
        compare(
            _slope_fields(slope),
            joinpoint_reference.slope(years.tolist(), values.tolist(), ses.tolist()),
            rel=1e-8,
            abs_tol=1e-9,
            where=f"{where} slope",
        )
        fit = joinpoint.fit_joinpoints(years, values, ses)
        assert fit is not None
        compare(
            _apc_fields(fit),
            joinpoint_reference.apc(years.tolist(), values.tolist(), ses.tolist()),
            rel=1e-8,
            abs_tol=1e-9,
            where=f"{where} apc",
        )


def test_the_random_series_reach_every_kind_of_answer():
    seen: set[str] = set()
    for seed in range(8):
        rng = np.random.default_rng(seed)
        for _ in range(25):
            fit = joinpoint.fit_joinpoints(*_series(rng))
            assert fit is not None
            seen.add(f"{len(fit.joinpoints)} joinpoints")
            seen.add("dispersion > 1" if fit.dispersion > 1 else "dispersion <= 1")
    kinds = {"0 joinpoints", "1 joinpoints", "2 joinpoints", "dispersion > 1", "dispersion <= 1"}
    assert seen == kinds


# -- real and bundled data ---------------------------------------------------------------------


def _every_series(path: Path, total_only: bool):
    """(question, location, stratification, the state_trend data) of every series in the file."""
    dataset = load_dataset(path)
    for question, rows in dataset.rows.questions.items():
        groups = [(c, s) for c, strata in rows.strata.items() for s in strata]
        if total_only:
            groups = [("Total", "Total")]
        for location in rows.locations:
            for category, stratum in groups:
                body = {
                    "question": question,
                    "state": location,
                    "stratification": {"category": category, "stratum": stratum},
                }
                task = TASKS["state_trend"].from_payload(body, dataset)
                yield question, location, (category, stratum), task.compute(dataset)


def _strict_json(data) -> None:
    """`data` as JSON a strict parser accepts: no NaN, no Infinity (orjson would hide them as
    null, so the standard library writes them as they are and the parser refuses them)."""

    def refuse(token):
        raise ValueError(f"not JSON: {token}")

    json.loads(json.dumps(data, allow_nan=True), parse_constant=refuse)


def _strict(data) -> None:
    """The answer as a client reads it: strict JSON, a reason for every null."""
    _strict_json(data)
    assert (data["slope"] is None) == ("slope_reason" in data)
    assert (data["apc"] is None) == ("apc_reason" in data)


def test_every_total_series_of_the_bundled_data():
    answered = 0
    for _, _, _, data in _every_series(BUNDLED_CSV, total_only=True):
        _strict(data)
        answered += data["apc"] is not None
    assert answered > 100


@pytest.mark.skipif(REAL_SLICE is None, reason="the real CDC rows are not beside the project")
def test_every_series_of_the_real_rows_answers_or_says_why():
    """Sparse real rows: most series have one or two years, and say so; those with three or
    more agree with the independent implementation."""
    assert REAL_SLICE is not None
    expected = AnalyticsReference(REAL_SLICE)
    reasons: set[str] = set()
    fitted = 0
    for question, location, group, data in _every_series(REAL_SLICE, total_only=False):
        _strict(data)
        if data["slope"] is None:
            reasons.add(data["slope_reason"])
            continue
        fitted += 1
        data.pop("method")
        compare(
            data,
            expected.state_trend(question, location, stratification=group),
            rel=1e-8,
            abs_tol=1e-9,
            where=f"{location} {group}",
        )
    assert fitted >= 10  # 23 in today's slice, all of 3 to 5 years
    assert "fewer than 3 years with a usable value (1)" in reasons
    assert "fewer than 3 years with a usable value (0)" in reasons
