"""state_trend's slope with the scatter counted (SPEC §15.1) and its annual percent changes with
joinpoints (§15.2), on a hand-made fixture, against answers worked out by hand.

unittests/fixtures/trends.csv (the real 34-column schema, obesity, Total / Total) has one row a
year, its limits written as value -/+ 1.959964 * se, so that every se is the one below:

    Ohio    2011-2017: 20, 22, 24.2, 26.62 (10% a year), then 23.958, 21.5622, 19.40598 (-10% a
            year); se = 0.05 * value, so on the log scale se_y = 0.05 and w = 400 every year
    Texas   2011-2013: 30, 33, 33, se 1
    Iowa    2011-2015: 30, 33, 31, 34, 32, se 1
    Maine   2011-2017: 25 every year, se 1
    Guam    2011-2014: 0 (limits 0 to 1), 2, 2.5, 3 (se 0.5)
    Wyoming 2011-2013: 0 (limits 0 to 1), 2, 2.5 (se 0.5)
"""

from __future__ import annotations

import csv
import json
import math

import pytest

from app.data_ingestor import load_dataset
from app.task import TASKS
from unittests.conftest import FIXTURES, OBESITY

TRENDS_CSV = FIXTURES / "trends.csv"
Z = 1.959964
#: t(0.975, 1) = tan(0.475 π): the Cauchy distribution's quantile, in closed form.
T1 = math.tan(0.475 * math.pi)
#: t(0.975, 3), from a printed table to 9 decimals (a cubic has no handier form).
T3 = 3.182446305


@pytest.fixture(scope="module")
def dataset():
    return load_dataset(TRENDS_CSV)


def trend(dataset, state, **body):
    data = TASKS["state_trend"].from_payload({"question": OBESITY, "state": state, **body}, dataset)
    return data.compute(dataset)


def approx(value):
    return pytest.approx(value, rel=1e-9, abs=1e-12)


def percent(log_change):
    return 100 * (math.exp(log_change) - 1)


def wls(t, y, w):
    """The weighted line by hand: slope, intercept at t = 0, X² and Σ w (t - t̄)²."""
    total = sum(w)
    t_bar = sum(wi * ti for wi, ti in zip(w, t, strict=True)) / total
    y_bar = sum(wi * yi for wi, yi in zip(w, y, strict=True)) / total
    sxx = sum(wi * (ti - t_bar) ** 2 for wi, ti in zip(w, t, strict=True))
    sxy = sum(wi * (ti - t_bar) * (yi - y_bar) for wi, ti, yi in zip(w, t, y, strict=True))
    slope = sxy / sxx
    intercept = y_bar - slope * t_bar
    x2 = sum(wi * (yi - intercept - slope * ti) ** 2 for wi, ti, yi in zip(w, t, y, strict=True))
    return slope, intercept, x2, sxx


# -- §15.1: the slope ----------------------------------------------------------------------------


def test_a_three_year_series_with_scatter_gets_t_with_one_df(dataset):
    data = trend(dataset, "Texas")
    # t = 0, 1, 2, w = 1: t̄ = 1, v̄ = 32, Sxx = 2, Sxy = (-1)(-2) + 0 + (1)(1) = 3: b = 1.5,
    # a = 30.5; residuals -0.5, 1, -0.5: X² = 1.5, df = 1, dispersion 1.5 > 1.
    # se = √(1.5 / 2), q = t(0.975, 1) = 12.706.
    se = math.sqrt(0.75)
    assert data["slope"] == {
        "per_year": approx(1.5),
        "low": approx(1.5 - T1 * se),
        "high": approx(1.5 + T1 * se),
        "trend": "stable",
        "dispersion": approx(1.5),
        "df": 1,
    }
    assert abs(T1 - 12.7062047) < 1e-7
    # With the variances taken as known (SPEC §13) the same years said "rising":
    assert 1.5 - Z * math.sqrt(1 / 2) > 0


def test_the_dispersion_widens_the_se_and_t_takes_the_df(dataset):
    data = trend(dataset, "Iowa")
    # t = 0..4, w = 1: v̄ = 32, deviations -2, 1, -1, 2, 0; Sxx = 10, Sxy = 4 - 1 + 0 + 2 + 0 = 5:
    # b = 0.5; Syy = 10, X² = Syy - Sxy² / Sxx = 7.5, df 3, dispersion 2.5; se = √(2.5 / 10) = 0.5.
    assert data["slope"] == {
        "per_year": approx(0.5),
        "low": pytest.approx(0.5 - T3 * 0.5, abs=1e-9),
        "high": pytest.approx(0.5 + T3 * 0.5, abs=1e-9),
        "trend": "stable",
        "dispersion": approx(2.5),
        "df": 3,
    }


def test_a_dispersion_under_one_keeps_the_known_variances_and_the_normal_quantile(dataset):
    data = trend(dataset, "Maine")  # flat: X² = 0
    # w = 1 at t = 0..6: Sxx = 9 + 4 + 1 + 0 + 1 + 4 + 9 = 28, se = √(1 / 28) (scale max(1, 0)).
    assert data["slope"]["per_year"] == pytest.approx(0, abs=1e-12)
    assert data["slope"]["dispersion"] == pytest.approx(0, abs=1e-12)
    assert data["slope"]["high"] == approx(Z * math.sqrt(1 / 28))
    assert data["slope"]["df"] == 5


def test_a_bent_series_scatters_about_a_straight_line(dataset):
    """Ohio rises and falls: a straight line through it leaves a dispersion well above 1."""
    data = trend(dataset, "Ohio")
    values = [20, 22, 24.2, 26.62, 23.958, 21.5622, 19.40598]
    weights = [1 / (0.05 * v) ** 2 for v in values]
    slope, _, x2, sxx = wls(range(7), values, weights)
    dispersion = x2 / 5
    assert dispersion > 5
    se = math.sqrt(dispersion / sxx)
    q = 2.570581836  # t(0.975, 5), from a printed table
    assert data["slope"]["per_year"] == approx(slope)
    assert data["slope"]["dispersion"] == approx(dispersion)
    assert data["slope"]["low"] == pytest.approx(slope - q * se, abs=1e-8)
    assert data["slope"]["trend"] == "stable"


# -- §15.2: annual percent change and joinpoints -------------------------------------------------


def test_a_series_with_one_known_joinpoint(dataset):
    apc = trend(dataset, "Ohio")["apc"]
    # On the log scale the series is exactly ln 20 + t ln 1.1 to 2014, then down ln 0.9 a year:
    # the placement at 2014 fits perfectly (SSE 0, BIC -inf), 2013 and 2015 do not; 7 years
    # allow 1 joinpoint. df = 7 - 2 - 2 = 3, dispersion 0, so scale 1 and q = 1.959964.
    # (X' W X)⁻¹ with w = 400 and columns 1, t, (t - 3)+ for t = 0..6: X'X = [[7, 21, 6],
    # [21, 91, 32], [6, 32, 14]], det 364, adjugate: var b0 ∝ 62, var d ∝ 196, cov ∝ -98; so
    # var(b0) = 62 / 364 / 400, var(b0 + d) = (62 + 196 - 2 * 98) / 364 / 400 = the same, and
    # the AAPC's b0 + d (6 - 3) / 6: (62 + 196 / 4 - 98) / 364 / 400 = 13 / 364 / 400.
    rise, fall = math.log(1.1), math.log(0.9)
    se_segment, se_aapc = math.sqrt(62 / 364 / 400), math.sqrt(13 / 364 / 400)
    assert apc["joinpoints"] == [2014]
    assert apc["segments"] == [
        {
            "from": 2011,
            "to": 2014,
            "apc": approx(10.0),
            "low": approx(percent(rise - Z * se_segment)),
            "high": approx(percent(rise + Z * se_segment)),
        },
        {
            "from": 2014,
            "to": 2017,
            "apc": approx(-10.0),
            "low": approx(percent(fall - Z * se_segment)),
            "high": approx(percent(fall + Z * se_segment)),
        },
    ]
    aapc = (3 * rise + 3 * fall) / 6  # = ln(0.99) / 2
    assert apc["aapc"] == {
        "value": approx(percent(aapc)),
        "low": approx(percent(aapc - Z * se_aapc)),
        "high": approx(percent(aapc + Z * se_aapc)),
    }
    assert (apc["selection"], apc["dispersion"], apc["df"]) == ("bic", 0.0, 3)
    assert apc["years_left_out"] == []


def test_three_years_fit_a_line_on_the_log_scale_with_one_df(dataset):
    apc = trend(dataset, "Texas")["apc"]
    values = [30, 33, 33]
    logs = [math.log(v) for v in values]
    weights = [v**2 for v in values]  # se 1: w = 1 / (1 / v)²
    slope, _, x2, sxx = wls(range(3), logs, weights)
    dispersion = x2 / 1  # df = 3 - 0 - 2
    assert dispersion > 1  # so se = √(dispersion / Sxx) and q = t(0.975, 1)
    se = math.sqrt(dispersion / sxx)
    change = {
        "value": approx(percent(slope)),
        "low": approx(percent(slope - T1 * se)),
        "high": approx(percent(slope + T1 * se)),
    }
    assert apc["joinpoints"] == []
    low, high = change["low"], change["high"]
    assert apc["segments"] == [
        {"from": 2011, "to": 2013, "apc": change["value"], "low": low, "high": high}
    ]
    assert apc["aapc"] == change
    assert (apc["dispersion"], apc["df"]) == (approx(dispersion), 1)


def test_a_flat_series_has_no_change_and_a_perfect_fit(dataset):
    apc = trend(dataset, "Maine")["apc"]
    # 7 years, every placement fits perfectly: BIC -inf for k = 0 and 1, a tie, so k = 0.
    # w = 25² = 625 at t = 0..6: Sxx = 28 * 625, se = √(1 / 17500), q = 1.959964.
    se = math.sqrt(1 / (28 * 625))
    assert apc["joinpoints"] == []
    assert apc["aapc"] == {
        "value": 0.0,
        "low": approx(percent(-Z * se)),
        "high": approx(percent(Z * se)),
    }
    assert (apc["dispersion"], apc["df"]) == (0.0, 5)


def test_years_without_a_positive_value_are_left_out_and_counted(dataset):
    data = trend(dataset, "Guam")
    assert [point["year"] for point in data["series"]] == [2011, 2012, 2013, 2014]
    assert data["slope"]["df"] == 2  # the slope keeps the year with 0
    apc = data["apc"]
    assert apc["years_left_out"] == [2011]
    assert apc["segments"][0]["from"] == 2012 and apc["df"] == 1
    logs = [math.log(v) for v in (2, 2.5, 3)]
    slope, _, _, _ = wls(range(3), logs, [(v / 0.5) ** 2 for v in (2, 2.5, 3)])
    assert apc["aapc"]["value"] == approx(percent(slope))


def test_fewer_than_three_positive_years_give_no_apc_and_say_why(dataset):
    data = trend(dataset, "Wyoming")
    assert data["slope"] is not None  # three years with a value
    assert data["apc"] is None
    assert data["apc_reason"] == (
        "fewer than 3 years with a positive value (2); left out, not positive: [2011]"
    )
    assert list(data)[list(data).index("apc") + 1] == "apc_reason"
    short = trend(dataset, "Ohio", years=[2011, 2012])
    assert short["apc"] is None
    assert short["apc_reason"] == "fewer than 3 years with a positive value (2)"


def test_the_answer_keeps_its_order_and_says_its_method(dataset):
    data = trend(dataset, "Ohio")
    assert list(data) == [
        "state",
        "question",
        "stratification",
        "series",
        "missing_years",
        "suppressed_years",
        "slope",
        "apc",
        "method",
        "provenance",
    ]
    assert list(data["apc"]) == [
        "segments",
        "joinpoints",
        "aapc",
        "selection",
        "dispersion",
        "df",
        "years_left_out",
    ]
    method = data["method"]
    for words in (
        "X^2 = sum(w (v - a - b t)^2)",
        "se(b) = sqrt(max(1, dispersion) / sum(w (t - t_w)^2))",
        "t(0.975, 1) = 12.7",
        "y = ln v, se_y = se / v",
        "BIC(k) = ln(SSE_k / n) + 2 (k + 1) ln(n) / n",
        "max(1, dispersion) (X' W X)^-1",
        "AAPC = 100 (e^(sum(l_i b_i) / L) - 1)",
    ):
        assert words in method


@pytest.mark.parametrize("state", ["Ohio", "Texas", "Iowa", "Maine", "Guam", "Wyoming"])
def test_every_answer_is_strict_json(dataset, state):
    """No NaN or Infinity: the answer survives a parser that refuses them."""

    def refuse(token):
        raise ValueError(token)

    text = json.dumps(trend(dataset, state), allow_nan=True)
    assert json.loads(text, parse_constant=refuse)


def test_values_at_the_limits_of_a_double_answer_with_reasons(tmp_path):
    """A file whose values alternate 1e-290 and 1e150 with intervals tight enough to be used:
    the weights 1 / se² near 1e308 overflow their sum, so the slope is null with the reason;
    on the log scale the weights are finite and apc is answered; nothing is NaN or infinite."""
    with TRENDS_CSV.open(newline="", encoding="utf-8") as file:
        header, first = list(csv.reader(file))[:2]
    small, big = (
        ("1e-290", "0", "3.919928e-154"),
        ("1e150", "9.99999999999e149", "1.00000000001e150"),
    )
    rows = []
    for i, (value, low, high) in enumerate([small, big, small, big, small, big, small]):
        row = dict(zip(header, first, strict=True))
        row.update({"": str(i), "YearStart": str(2011 + i), "YearEnd": str(2011 + i)})
        row.update({"Data_Value": value, "Low_Confidence_Limit": low})
        row.update({"High_Confidence_Limit ": high})
        rows.append([row[name] for name in header])
    path = tmp_path / "limits.csv"
    with path.open("w", newline="", encoding="utf-8") as file:
        csv.writer(file).writerows([header, *rows])
    data = trend(load_dataset(path), "Ohio")
    assert len(data["series"]) == 7
    assert data["slope"] is None
    assert (
        data["slope_reason"] == "the values and their se are beyond what double precision can fit"
    )
    assert data["apc"] is not None

    def refuse(token):
        raise ValueError(token)

    assert json.loads(json.dumps(data, allow_nan=True), parse_constant=refuse)
