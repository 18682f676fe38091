"""The statistics of SPEC §13 on a hand-made fixture, against answers worked out by hand.

unittests/fixtures/analytics.csv (the real 34-column schema) has confidence limits written as
value -/+ 1.959964 * se for se of 0.5, 1, 1.5 or 2, so that every row's se, and its weight
w = 1 / se², is a round number (se 0.5: w 4; se 1: w 1; se 1.5: w 4/9; se 2: w 0.25). Its rows:

obesity (lowest is best), Total / Total:
    National 2011: 29 (se 0.5, n 20000); 2012: 30 (se 0.5, n 20000)
    Ohio     2011: 30 (se 1, n 1000); 2012: 31 (se 1, n 500) and 34 (se 2, n 100);
             2013: 33 (se 0.5, n 800); 2014: suppressed (footnote); 2015: blank;
             2016: 35 without limits; 2017: 36 with a zero-width interval (36 to 36);
             a row without a YearStart: 99 (se 1, n 100)
    Texas    2011: 30 (se 2, n 300)
    Guam     2012: 27 (se 1, n 40)
    Wyoming  2013: suppressed
obesity, Income, Ohio: Less than $15,000 2011: 40 (se 2, n 300), 2012: 38 (se 2, n 300);
    $75,000 or greater 2012: 25 (se 1, n 700); Data not reported 2012: 20 (se 1.5, n 200);
    $50,000 - $74,999 2013: suppressed
obesity, Gender, Texas: Male 2011: 31 (se 1, n 150)
muscle strengthening (highest is best), no National rows: Ohio Total 2011: 45 (se 1, n 600);
    Texas Total 2011: 50 (se 1, n 600); Texas Male 2011: 30 (se 1, n 400), Female 35 (se 1, n 500)
"""

from __future__ import annotations

import hashlib
import math
from importlib import metadata
from pathlib import Path

import pytest

from app.data_ingestor import load_dataset
from app.errors import InvalidInput
from app.task import TASKS
from unittests.conftest import FIXTURES, MUSCLE, OBESITY

ANALYTICS_CSV = FIXTURES / "analytics.csv"
Z = 1.959964
SUPPRESSED_ONE = (
    "no row with both a value and a confidence interval "
    "(1 suppressed, 0 missing, 0 without a confidence interval)"
)


@pytest.fixture(scope="module")
def dataset():
    return load_dataset(ANALYTICS_CSV)


def run(dataset, endpoint, **body):
    return TASKS[endpoint].from_payload(body, dataset).compute(dataset)


def approx(value):
    return pytest.approx(value, rel=1e-9, abs=1e-12)


def interval(value, se, n):
    """The value, low, high and sample_size fields of an estimate with this se."""
    return {
        "value": approx(value),
        "low": approx(value - Z * se),
        "high": approx(value + Z * se),
        "sample_size": n,
    }


RELIABLE = {"reliable": True, "unreliable": []}


def p_two_sided(z):
    """P(|Z| >= |z|) for a standard normal Z, written out: 2 (1 - Φ(|z|)) = erfc(|z| / √2)."""
    return math.erfc(abs(z) / math.sqrt(2))


# -- state_trend ---------------------------------------------------------------------------------


def test_state_trend_pools_each_year_and_fits_the_weighted_line(dataset):
    data = run(dataset, "state_trend", question=OBESITY, state="Ohio")
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
    assert data["stratification"] == {"category": "Total", "stratum": "Total"}
    # 2012 has two rows: w = 1/1² + 1/2² = 1.25, v = (31 * 1 + 34 * 0.25) / 1.25 = 31.6
    assert data["series"] == [
        {"year": 2011, **interval(30, 1, 1000), **RELIABLE},
        {"year": 2012, **interval(31.6, 1 / math.sqrt(1.25), 600), **RELIABLE},
        {"year": 2013, **interval(33, 0.5, 800), **RELIABLE},
    ]
    # The question has rows in 2011-2017; Ohio has no usable one in 2014-2017.
    assert data["missing_years"] == [2014, 2015, 2016, 2017]
    assert data["suppressed_years"] == [2014]  # 2015 is blank, 2016-2017 have no usable limits
    # Weights 1, 1.25, 4 (Σ 6.25). Years as 2011 + t: t̄ = (0 + 1.25 + 8) / 6.25 = 1.48,
    # v̄ = (30 + 31.6 * 1.25 + 33 * 4) / 6.25 = 201.5 / 6.25 = 32.24.
    # Sxx = 1 * 1.48² + 1.25 * 0.48² + 4 * 0.52² = 2.1904 + 0.288 + 1.0816 = 3.56
    # Sxy = 1 * (-1.48)(-2.24) + 1.25 * (-0.48)(-0.64) + 4 * 0.52 * 0.76
    #     = 3.3152 + 0.384 + 1.5808 = 5.28
    # Syy = 1 * 2.24² + 1.25 * 0.64² + 4 * 0.76² = 5.0176 + 0.512 + 2.3104 = 7.84, so the
    # scatter about the line X² = Syy - Sxy² / Sxx = 7.84 - 5.28² / 3.56 = 0.00899 (df 1): under
    # 1, so the variances stand as known (SPEC §15.1) and the quantile is the normal one.
    slope, se = 5.28 / 3.56, math.sqrt(1 / 3.56)
    assert data["slope"] == {
        "per_year": approx(slope),
        "low": approx(slope - Z * se),
        "high": approx(slope + Z * se),
        "trend": "rising",
        "dispersion": approx(7.84 - 5.28**2 / 3.56),
        "df": 1,
    }
    assert slope - Z * se == pytest.approx(0.4444, abs=1e-4)  # > 0: rising
    assert data["apc"]["joinpoints"] == [] and data["apc"]["df"] == 1  # 3 years: a line
    # The yearless row is in no year; 2016 has no limits and 2017 a zero-width interval.
    assert data["provenance"] == {
        "dataset_sha256": hashlib.sha256(ANALYTICS_CSV.read_bytes()).hexdigest(),
        "rows_used": 4,
        "rows_suppressed": 1,
        "rows_missing": 1,
        "rows_without_ci": 2,
        "service_version": metadata.version("le-stats-sportif"),
    }
    assert "(2 * 1.959964)" in data["method"]
    assert "sqrt(max(1, dispersion) / sum(w (t - t_w)^2))" in data["method"]


def test_state_trend_under_three_years_has_no_slope_and_says_why(dataset):
    data = run(dataset, "state_trend", question=OBESITY, state="Ohio", years=[2011, 2012])
    assert [point["year"] for point in data["series"]] == [2011, 2012]
    assert data["missing_years"] == []
    assert data["slope"] is None
    assert data["slope_reason"] == "fewer than 3 years with a usable value (2)"
    assert list(data).index("slope_reason") == list(data).index("slope") + 1


def test_state_trend_of_a_state_without_usable_rows(dataset):
    data = run(dataset, "state_trend", question=OBESITY, state="Wyoming")
    assert data["series"] == []
    assert data["missing_years"] == [2011, 2012, 2013, 2014, 2015, 2016, 2017]
    assert data["suppressed_years"] == [2013]
    assert data["slope"] is None
    assert data["slope_reason"] == "fewer than 3 years with a usable value (0)"
    assert data["provenance"]["rows_suppressed"] == 1


def test_state_trend_of_a_stratum_the_state_lacks_is_empty(dataset):
    group = {"category": "Gender", "stratum": "Male"}  # only Texas has it
    data = run(dataset, "state_trend", question=OBESITY, state="Ohio", stratification=group)
    assert data["stratification"] == group
    assert data["series"] == [] and data["slope"] is None
    assert data["provenance"]["rows_used"] == 0


# -- compare_to_national -------------------------------------------------------------------------

# The nation: w 4 + 4, v = (29 * 4 + 30 * 4) / 8 = 29.5, se = 1 / √8.
NATION = (29.5, 1 / math.sqrt(8))
# Ohio over 2011-2017: w 1, 1, 0.25, 4 (Σ 6.25): v = (30 + 31 + 8.5 + 132) / 6.25 = 32.24, se 0.4.
OHIO = (32.24, 0.4)
TEXAS = (30.0, 2.0)
GUAM = (27.0, 1.0)


def _z(state):
    return (state[0] - NATION[0]) / math.sqrt(state[1] ** 2 + NATION[1] ** 2)


def test_compare_to_national_tests_every_location_with_holm(dataset):
    data = run(dataset, "compare_to_national", question=OBESITY)
    assert list(data) == [
        "question",
        "stratification",
        "years",
        "national",
        "states",
        "adjustment",
        "method",
        "provenance",
    ]
    assert data["years"] == [2011, 2017]
    assert data["national"] == {
        **interval(*NATION, 40000),
        "years_used": [2011, 2012],
        "rows_suppressed": 0,
    }
    # Ascending by value; Wyoming has no value and comes last.
    assert list(data["states"]) == ["Guam", "Texas", "Ohio", "Wyoming"]
    z = {"Ohio": _z(OHIO), "Texas": _z(TEXAS), "Guam": _z(GUAM)}
    # z: Ohio 2.74 / √0.285 = 5.13, Guam -2.5 / √1.125 = -2.36, Texas 0.5 / √4.125 = 0.25
    assert z["Ohio"] == pytest.approx(5.1325, abs=1e-4)
    assert z["Guam"] == pytest.approx(-2.3570, abs=1e-4)
    assert z["Texas"] == pytest.approx(0.2462, abs=1e-4)
    p = {place: p_two_sided(value) for place, value in z.items()}
    # Holm over m = 3, p ascending Ohio < Guam < Texas: 3 p, then 2 p, then 1 p, non-decreasing.
    holm = {"Ohio": 3 * p["Ohio"]}
    holm["Guam"] = max(holm["Ohio"], 2 * p["Guam"])  # 2 * 0.0184 = 0.0368 < 0.05
    holm["Texas"] = max(holm["Guam"], p["Texas"])
    unreliable = {"reliable": False, "unreliable": ["sample_size < 50"]}
    expected = {
        "Guam": (GUAM, 40, [2012], 0, "lower", unreliable),
        "Texas": (TEXAS, 300, [2011], 0, "similar", RELIABLE),
        # Its 2014 row was suppressed; 2015-2017 and the yearless row have no usable value.
        "Ohio": (OHIO, 2400, [2011, 2012, 2013], 1, "higher", RELIABLE),
    }
    for place, (estimate, n, used, suppressed, versus, reliability) in expected.items():
        assert data["states"][place] == {
            **interval(*estimate, n),
            "years_used": used,
            "rows_suppressed": suppressed,
            "z": approx(z[place]),
            "p": approx(p[place]),
            "p_adjusted": approx(holm[place]),
            "versus": versus,
            **reliability,
        }, place
    assert data["states"]["Wyoming"] == {
        "value": None,
        "low": None,
        "high": None,
        "sample_size": None,
        "years_used": [],
        "rows_suppressed": 1,
        "z": None,
        "p": None,
        "p_adjusted": None,
        "versus": None,
        "reliable": False,
        "unreliable": ["no value"],
        "reason": SUPPRESSED_ONE,
    }
    assert data["adjustment"] == "holm"
    counts = {key: data["provenance"][key] for key in data["provenance"] if key.startswith("rows")}
    assert counts == {
        "rows_used": 2 + 4 + 1 + 1,
        "rows_suppressed": 2,
        "rows_missing": 1,
        "rows_without_ci": 2,
    }


def test_compare_to_national_over_one_year(dataset):
    data = run(dataset, "compare_to_national", question=OBESITY, years=[2011, 2011])
    assert data["years"] == [2011, 2011]
    assert data["national"] == {
        **interval(29, 0.5, 20000),
        "years_used": [2011],
        "rows_suppressed": 0,
    }
    assert list(data["states"]) == ["Ohio", "Texas", "Guam", "Wyoming"]  # 30, 30 by name
    z = (30 - 29) / math.sqrt(1 + 0.25)
    # Two locations compared (Ohio's z is the larger, so its p the smaller): 2 p, then 1 p.
    assert data["states"]["Ohio"]["p_adjusted"] == approx(2 * p_two_sided(z))
    assert data["states"]["Guam"]["reason"] == "no rows in the years and stratification asked for"


def test_compare_to_national_without_a_nation_says_so(dataset):
    data = run(dataset, "compare_to_national", question=MUSCLE)
    assert data["national"] == {
        "value": None,
        "low": None,
        "high": None,
        "sample_size": None,
        "years_used": [],
        "rows_suppressed": 0,
        "reason": "the dataset has no National rows for this question",
    }
    ohio = data["states"]["Ohio"]
    assert ohio["value"] == approx(45) and ohio["z"] is None and ohio["versus"] is None
    assert ohio["reason"] == "no national value to compare with"


def test_compare_to_national_in_a_stratum_the_nation_lacks(dataset):
    group = {"category": "Income", "stratum": "Less than $15,000"}
    data = run(dataset, "compare_to_national", question=OBESITY, stratification=group)
    assert data["stratification"] == group
    assert data["national"]["reason"] == "no rows in the years and stratification asked for"
    # Ohio: w 0.25 + 0.25, v = (40 + 38) / 2 = 39, se = 1 / √0.5
    assert data["states"]["Ohio"] | {"reason": None} == {
        **interval(39, 1 / math.sqrt(0.5), 600),
        "years_used": [2011, 2012],
        "rows_suppressed": 0,
        "z": None,
        "p": None,
        "p_adjusted": None,
        "versus": None,
        **RELIABLE,
        "reason": None,
    }


# -- disparities ---------------------------------------------------------------------------------


def test_disparities_against_the_best_stratum_but_never_data_not_reported(dataset):
    data = run(dataset, "disparities", question=OBESITY, state="Ohio", category="Income")
    assert list(data) == [
        "state",
        "question",
        "category",
        "reference",
        "strata",
        "method",
        "provenance",
    ]
    # Data not reported (20) is lower than $75,000 or greater (25) but is never the reference.
    assert data["reference"] == "$75,000 or greater"
    low_income = 39, 1 / math.sqrt(0.5)  # w 0.25 + 0.25: (40 + 38) / 2, se √2
    reference = 25, 1.0
    not_reported = 20, 1.5

    def gap(estimate):
        difference = estimate[0] - reference[0]
        se = math.sqrt(estimate[1] ** 2 + reference[1] ** 2)
        return {
            "gap": approx(difference),
            "gap_low": approx(difference - Z * se),
            "gap_high": approx(difference + Z * se),
            "ratio": approx(estimate[0] / reference[0]),
        }

    assert data["strata"] == [  # in the BRFSS's order of the Income strata
        {
            "stratum": "Less than $15,000",
            **interval(*low_income, 600),
            "years_used": [2011, 2012],
            "rows_suppressed": 0,
            **gap(low_income),
            **RELIABLE,
        },
        {
            "stratum": "$50,000 - $74,999",
            "value": None,
            "low": None,
            "high": None,
            "sample_size": None,
            "years_used": [],
            "rows_suppressed": 1,
            "gap": None,
            "gap_low": None,
            "gap_high": None,
            "ratio": None,
            "reliable": False,
            "unreliable": ["no value"],
            "reason": SUPPRESSED_ONE,
        },
        {
            "stratum": "$75,000 or greater",
            **interval(*reference, 700),
            "years_used": [2012],
            "rows_suppressed": 0,
            "gap": 0.0,
            "gap_low": 0.0,
            "gap_high": 0.0,
            "ratio": 1.0,
            **RELIABLE,
        },
        {
            "stratum": "Data not reported",
            **interval(*not_reported, 200),
            "years_used": [2012],
            "rows_suppressed": 0,
            **gap(not_reported),
            **RELIABLE,
        },
    ]
    assert data["strata"][0]["gap"] == approx(14)  # 39 - 25, ± 1.959964 √3
    assert data["strata"][0]["ratio"] == approx(1.56)  # 39 / 25
    assert data["provenance"]["rows_used"] == 4
    assert data["provenance"]["rows_suppressed"] == 1


def test_disparities_follow_the_direction_of_the_question(dataset):
    data = run(dataset, "disparities", question=MUSCLE, state="Texas", category="Gender")
    assert data["reference"] == "Female"  # 35 > 30: highest is best
    male = data["strata"][0]
    assert male["stratum"] == "Male"
    assert male["gap"] == approx(-5)
    assert male["gap_low"] == approx(-5 - Z * math.sqrt(2))
    assert male["ratio"] == approx(30 / 35)


def test_disparities_of_a_category_with_one_stratum(dataset):
    data = run(dataset, "disparities", question=OBESITY, state="Texas", category="Total")
    assert data["reference"] == "Total"
    assert [(s["stratum"], s["gap"], s["ratio"]) for s in data["strata"]] == [("Total", 0.0, 1.0)]


def test_disparities_of_a_category_the_state_lacks(dataset):
    data = run(dataset, "disparities", question=OBESITY, state="Ohio", category="Gender")
    assert data["reference"] is None
    assert data["reference_reason"] == "no rows for Ohio in 'Gender' on this question"
    assert data["strata"] == []


def test_disparities_when_years_leave_only_data_not_reported(dataset):
    body = {"question": OBESITY, "state": "Ohio", "category": "Income", "years": [2012, 2013]}
    data = run(dataset, "disparities", **body)
    # 2012-2013: Less than $15,000 has 38 (2012), $75,000 or greater 25, Data not reported 20
    assert data["reference"] == "$75,000 or greater"
    body["years"] = [2013, 2013]  # only the suppressed row
    data = run(dataset, "disparities", **body)
    assert data["reference"] is None
    assert data["reference_reason"] == (
        "no stratum other than 'Data not reported' has a usable value"
    )
    assert [s["stratum"] for s in data["strata"]] == [
        "Less than $15,000",
        "$50,000 - $74,999",
        "$75,000 or greater",
        "Data not reported",
    ]


# -- the nine endpoints over a selection ---------------------------------------------------------


def test_the_nine_take_their_means_over_the_selected_rows_only(dataset):
    # 2011 rows with a value: National 29, Ohio 30, Texas 30, Ohio income 40, Texas male 31
    assert run(dataset, "global_mean", question=OBESITY, years=[2011, 2011]) == {
        "global_mean": approx((29 + 30 + 30 + 40 + 31) / 5)
    }
    total = {"category": "Total", "stratum": "Total"}
    data = run(dataset, "states_mean", question=OBESITY, years=[2011, 2013], stratification=total)
    assert list(data.items()) == [
        ("Guam", approx(27)),
        ("National", approx((29 + 30) / 2)),
        ("Texas", approx(30)),
        ("Ohio", approx((30 + 31 + 34 + 33) / 4)),
    ]
    data = run(
        dataset, "state_mean_by_category", question=OBESITY, state="Ohio", years=[2012, 2012]
    )
    assert data == {
        "Ohio": {
            "('Income', '$75,000 or greater')": approx(25),
            "('Income', 'Data not reported')": approx(20),
            "('Income', 'Less than $15,000')": approx(38),
            "('Total', 'Total')": approx((31 + 34) / 2),
        }
    }


def test_a_row_without_a_year_counts_only_when_no_years_are_asked_for(dataset):
    ohio = [30, 31, 34, 33, 35, 36, 40, 38, 25, 20]  # every Ohio value with a year
    assert run(dataset, "state_mean", question=OBESITY, state="Ohio") == {
        "Ohio": approx((sum(ohio) + 99) / 11)
    }
    assert run(dataset, "state_mean", question=OBESITY, state="Ohio", years=[2011, 2017]) == {
        "Ohio": approx(sum(ohio) / 10)
    }


# -- request fields ------------------------------------------------------------------------------

INCOME = {"category": "Income", "stratum": "Less than $15,000"}


@pytest.mark.parametrize(
    ("endpoint", "extra", "reason"),
    [
        ("state_trend", {"years": [2011]}, "field 'years' must be [from, to]"),
        ("state_trend", {"years": "2011"}, "field 'years' must be [from, to]"),
        ("state_trend", {"years": [2011.5, 2012]}, "field 'years' must be [from, to]"),
        ("state_trend", {"years": [True, 2012]}, "field 'years' must be [from, to]"),
        ("state_trend", {"years": [0, 2012]}, "field 'years': years run from 1 to 9999"),
        ("state_trend", {"years": [2013, 2011]}, "field 'years': from 2013 is after to 2011"),
        ("global_mean", {"years": [2020, 2022]}, "field 'years': no rows for this question in"),
        ("global_mean", {"years": [2014, 2015]}, "field 'years': no row with a value"),
        ("state_trend", {"stratification": "Total"}, "field 'stratification' must be"),
        ("state_trend", {"stratification": {"category": "Income"}}, "field 'stratification' must"),
        (
            "state_trend",
            {"stratification": {**INCOME, "extra": 1}},
            "field 'stratification' must be",
        ),
        (
            "state_trend",
            {"stratification": {"category": "Planet", "stratum": "Mars"}},
            "field 'stratification': no rows for category 'Planet'",
        ),
        (
            "compare_to_national",
            {"stratification": {"category": "Income", "stratum": "Martian"}},
            "field 'stratification': no rows for stratum 'Martian' of 'Income'",
        ),
        ("disparities", {}, "missing field 'category'"),
        ("disparities", {"category": 5}, "field 'category' must be a string"),
        ("disparities", {"category": "Planet"}, "field 'category': no rows for 'Planet'"),
        (
            "disparities",
            {"category": "Income", "stratification": INCOME},
            "field 'stratification' does not apply to disparities",
        ),
        ("state_mean", {"stratification": INCOME, "state": "Guam"}, "field 'state': no data"),
        (
            "states_mean",
            {"years": [2013, 2013], "stratification": {"category": "Gender", "stratum": "Male"}},
            "fields 'years' and 'stratification': no row with a value",
        ),
    ],
)
def test_bad_fields_are_named(dataset, endpoint, extra, reason):
    body = {"question": OBESITY, "state": "Ohio", **extra}
    with pytest.raises(InvalidInput) as raised:
        TASKS[endpoint].from_payload(body, dataset)
    assert reason in raised.value.reason


def test_fields_sent_as_null_are_not_sent(dataset):
    body = {"question": OBESITY, "state": "Ohio", "years": None, "stratification": None}
    task = TASKS["state_trend"].from_payload(body, dataset)
    assert task.payload() == {"question": OBESITY, "state": "Ohio"}


def test_payload_and_key_carry_the_fields_only_when_given(dataset):
    plain = TASKS["state_mean"].from_payload({"question": OBESITY, "state": "Ohio"}, dataset)
    assert plain.payload() == {"question": OBESITY, "state": "Ohio"}
    body = {"question": OBESITY, "state": "Ohio", "years": [2011, 2012], "stratification": INCOME}
    task = TASKS["state_mean"].from_payload(body, dataset)
    assert task.payload() == body
    assert task.key != plain.key
    again = TASKS["state_mean"].from_payload(task.payload(), dataset)
    assert again.key == task.key
    trend = {"question": OBESITY, "state": "Ohio", "category": "Income"}
    assert TASKS["disparities"].from_payload(trend, dataset).payload() == trend


def test_the_fixture_is_in_the_real_schema():
    header = Path(ANALYTICS_CSV).read_text().splitlines()[0].split(",")
    assert len(header) == 34 and "High_Confidence_Limit " in header


def test_a_question_whose_rows_have_no_year_is_in_no_range(tmp_path):
    lines = ANALYTICS_CSV.read_text().splitlines()
    header, yearless = lines[0], [line for line in lines[1:] if line.split(",")[1] == ""]
    path = tmp_path / "yearless.csv"
    path.write_text("\n".join([header, *yearless]) + "\n")
    dataset = load_dataset(path)
    data = run(dataset, "compare_to_national", question=OBESITY)
    assert data["years"] is None
    assert data["states"]["Ohio"]["reason"] == "no rows in the years and stratification asked for"
    assert run(dataset, "state_mean", question=OBESITY, state="Ohio") == {"Ohio": 99.0}
