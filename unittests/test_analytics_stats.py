"""The formulas of app.analytics.stats on small cases worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.analytics import stats
from app.analytics.stats import Estimate

Z = 1.959964


def test_se_from_ci_leaves_out_intervals_that_give_no_finite_weight():
    low = np.array([28.040036, 30.0, 31.0, np.nan, 30.0])
    high = np.array([31.959964, 30.0, 29.0, 31.0, np.nan])
    se = stats.se_from_ci(low, high)
    assert se[0] == pytest.approx(1.0)  # a width of 2 * 1.959964
    assert np.isnan(se[1:]).all()  # zero width, inverted, a limit missing (twice)


def test_pool_weights_by_inverse_variance_in_each_group():
    values, ses = np.array([10.0, 20.0, 5.0, 7.0]), np.array([1.0, 2.0, 1.0, 1.0])
    sizes, groups = np.array([100.0, np.nan, np.nan, np.nan]), np.array([0, 0, 2, 2])
    first, empty, last = stats.pool(values, ses, sizes, groups, 3)
    # group 0: w = 1, 0.25: v = (10 * 1 + 20 * 0.25) / 1.25 = 12, se = 1 / √1.25
    assert first is not None
    assert first.value == pytest.approx(12)
    assert first.se == pytest.approx(1 / math.sqrt(1.25))
    assert first.sample_size == 100  # the known sizes only
    assert (first.low, first.high) == pytest.approx((12 - Z * first.se, 12 + Z * first.se))
    assert empty is None  # no rows
    # group 2: w = 1, 1: v = 6, se = 1 / √2; no row has a size
    assert last is not None
    assert (last.value, last.se, last.sample_size) == (
        pytest.approx(6),
        pytest.approx(0.5**0.5),
        None,
    )


@pytest.mark.parametrize(
    ("estimate", "reasons"),
    [
        (Estimate(30, 1, 50), []),  # the limits themselves are reliable
        (Estimate(30, 10 / Z, 1000), []),  # half-width exactly 10
        (Estimate(10, 3, 1000), []),  # se / v exactly 0.30
        (Estimate(30, 1, 49), ["sample_size < 50"]),
        (Estimate(30, 1, None), ["sample_size unknown"]),
        (Estimate(50, 5.2, 1000), ["half_width > 10"]),  # 1.959964 * 5.2 = 10.19
        (Estimate(10, 3.1, 1000), ["relative_se > 0.30"]),
        (Estimate(0, 0.5, 1000), ["relative_se > 0.30"]),  # se / 0: no relative error to trust
        (Estimate(10, 6, 40), ["sample_size < 50", "half_width > 10", "relative_se > 0.30"]),
    ],
)
def test_unreliable_names_every_rule_broken(estimate, reasons):
    assert stats.unreliable(estimate) == reasons


def test_wls_slope_of_points_on_a_line_is_the_line():
    years = np.array([2011, 2013, 2014, 2020])
    slope = stats.wls_slope(years, 2.0 * years - 4000, np.array([1.0, 2.0, 0.5, 1.0]))
    assert slope is not None
    assert slope.per_year == pytest.approx(2.0)
    assert slope.trend == "rising"


def test_wls_slope_needs_three_years():
    assert stats.wls_slope(np.array([2011, 2012]), np.array([1.0, 2.0]), np.ones(2)) is None


def test_wls_slope_se_and_trend_by_hand():
    # Equal weights w = 1 at t = -1, 0, 1 (as 2011, 2012, 2013): Sxx = 2, se = √(1/2);
    # values 10, 10.5, 11: Sxy = (-1)(-0.5) + 0 + 1 * 0.5 = 1, slope 0.5.
    slope = stats.wls_slope(np.array([2011, 2012, 2013]), np.array([10, 10.5, 11]), np.ones(3))
    assert slope is not None
    assert (slope.per_year, slope.se) == pytest.approx((0.5, math.sqrt(0.5)))
    assert slope.low == pytest.approx(0.5 - Z * math.sqrt(0.5))  # -0.886: the interval has 0
    assert slope.trend == "stable"
    falling = stats.Slope(-1.0, 0.1, dispersion=0.5, df=3, quantile=Z)
    assert falling.trend == "falling"
    assert (slope.dispersion, slope.df, slope.quantile) == (pytest.approx(0, abs=1e-20), 1, Z)


def test_wls_slope_counts_the_scatter_about_the_line():
    # w = 1 at t = 0, 1, 2, values 30, 33, 33: b = 1.5, residuals -0.5, 1, -0.5, X² = 1.5, df 1.
    slope = stats.wls_slope(np.array([2011, 2012, 2013]), np.array([30, 33, 33.0]), np.ones(3))
    assert slope is not None
    assert (slope.dispersion, slope.df) == (pytest.approx(1.5), 1)
    assert slope.se == pytest.approx(math.sqrt(1.5 / 2))  # √(max(1, φ) / Sxx), Sxx = 2
    assert slope.quantile == pytest.approx(math.tan(0.475 * math.pi))  # t(0.975, 1)
    assert slope.low == pytest.approx(1.5 - 12.7062047 * math.sqrt(0.75), abs=1e-6)
    assert slope.trend == "stable"
    # Four times the weights: X² = 6, φ = 6, se = √(6 / 8) -- the same interval, as it should be
    # when the scatter, not the stated se, sets the scale.
    heavier = stats.wls_slope(
        np.array([2011, 2012, 2013]), np.array([30, 33, 33.0]), np.full(3, 0.5)
    )
    assert heavier is not None
    assert (heavier.dispersion, heavier.se) == (pytest.approx(6), pytest.approx(slope.se))


def test_z_and_two_sided_p():
    z = stats.z_score(Estimate(33, 0.3), Estimate(30, 0.4))
    assert z == pytest.approx(3 / 0.5)  # √(0.09 + 0.16) = 0.5
    assert stats.two_sided_p(1.959964) == pytest.approx(0.05, abs=1e-7)
    assert stats.two_sided_p(-1.959964) == stats.two_sided_p(1.959964)
    assert stats.two_sided_p(0.0) == 1.0


def test_holm_steps_down_stays_monotone_and_caps_at_one():
    # ascending: 0.005 * 4 = 0.02, 0.01 * 3 = 0.03, 0.03 * 2 = 0.06, 0.04 * 1 = 0.04 -> 0.06
    assert stats.holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert stats.holm([0.5, 0.6]) == [1.0, 1.0]  # 2 * 0.5 = 1.0, then max(1.0, 0.6)
    assert stats.holm([0.02, 0.02]) == pytest.approx([0.04, 0.04])  # ties share a value
    assert stats.holm([]) == []


@pytest.mark.parametrize(
    ("z", "p_adjusted", "expected"),
    [(2.5, 0.049, "higher"), (-2.5, 0.049, "lower"), (2.5, 0.05, "similar"), (-9, 0.9, "similar")],
)
def test_versus(z, p_adjusted, expected):
    assert stats.versus(z, p_adjusted) == expected


def test_difference_and_ratio():
    gap = stats.difference(Estimate(39, math.sqrt(2)), Estimate(25, 1))
    assert gap.value == 14
    assert gap.se == pytest.approx(math.sqrt(3))
    assert stats.ratio(Estimate(39, 1), Estimate(25, 1)) == pytest.approx(1.56)
    assert stats.ratio(Estimate(39, 1), Estimate(0, 1)) is None
