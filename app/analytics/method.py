"""The `method` text of each new answer: the formulas of app.analytics.stats, in words."""

from __future__ import annotations

from app.analytics.joinpoint import (
    MAX_SEARCH_YEARS,
    MIN_SEGMENT_YEARS,
    TIE_RELATIVE,
    ZERO_RELATIVE,
)
from app.analytics.rank_draws import DRAWS, END, RANK_HIGH_DRAWS, RANK_LOW_DRAWS, SEED
from app.analytics.rows import SUPPRESSION_MARKERS
from app.analytics.stats import (
    ALPHA,
    MAX_HALF_WIDTH,
    MAX_RELATIVE_SE,
    MIN_SAMPLE_SIZE,
    MIN_TREND_YEARS,
    Z95,
    t_quantile,
)

_ROWS = (
    f"Each row's standard error is se = (High_Confidence_Limit - Low_Confidence_Limit) / "
    f"(2 * {Z95}). Rows without both limits, or whose interval has zero width (se = 0, an "
    "infinite weight), are left out and counted as rows_without_ci; rows without a value are "
    f"counted as rows_suppressed when their Data_Value_Footnote says so (it mentions "
    f"{' or '.join(repr(m) for m in SUPPRESSION_MARKERS)}), else as rows_missing."
)
_POOL = (
    "Rows are pooled by inverse-variance weighting: v = sum(w_i x_i) / sum(w_i) with "
    f"w_i = 1 / se_i^2, se = 1 / sqrt(sum(w_i)), 95% interval v +/- {Z95} * se; sample_size is "
    "the sum of the rows' Sample_Size."
)
_RELIABLE = (
    f"An estimate is reliable when sample_size >= {MIN_SAMPLE_SIZE}, the interval's half-width "
    f"is <= {MAX_HALF_WIDTH:g} percentage points and se / v <= {MAX_RELATIVE_SE:.2f}; "
    "unreliable lists the rules it breaks, and the value is shown all the same."
)


def _slope_method() -> str:
    """How the slope of state_trend is fitted and its interval drawn (SPEC §15.1)."""
    return (
        "The slope is the weighted least-squares line v = a + b t through the series, weights "
        "w = 1 / se^2 of each year's pooled value: b = sum(w (t - t_w)(v - v_w)) / "
        "sum(w (t - t_w)^2) with t_w and v_w the weighted means of year and value. The scatter "
        "about the line is counted: X^2 = sum(w (v - a - b t)^2), dispersion = X^2 / df with "
        "df = n - 2 (n years), se(b) = sqrt(max(1, dispersion) / sum(w (t - t_w)^2)); the "
        "interval is b +/- q * se(b) with q = Student's t(0.975, df) when the dispersion "
        f"exceeds 1 (the years scatter more than their intervals explain), else q = {Z95}: a "
        f"3-year series with dispersion over 1 gets t(0.975, 1) = {t_quantile(1):.1f}. trend "
        "is rising when the interval is above 0, falling when below, else stable. With fewer "
        f"than {MIN_TREND_YEARS} years, or values and se beyond what double precision can fit, "
        "the slope is null and slope_reason says why."
    )


def _apc_method() -> str:
    """How the annual percent changes and joinpoints of state_trend are found (SPEC §15.2)."""
    return (
        "apc follows NCI's Joinpoint on the log scale: y = ln v, se_y = se / v, w = 1 / se_y^2 "
        "(years with v <= 0 are left out, listed in years_left_out). The mean is continuous "
        "and piecewise linear, mu(t) = a + b0 t + sum_j d_j (t - tau_j)+, with 0 to 2 "
        "joinpoints tau at observed years, every segment spanning at least "
        f"{MIN_SEGMENT_YEARS} observed years counting both ends; at most 0 joinpoints under 7 "
        "years, 1 up to 11, 2 from 12. For each number k of joinpoints the placement with the "
        "smallest weighted SSE over every allowed placement is kept (the search runs on at "
        f"most {MAX_SEARCH_YEARS} years; SSEs within "
        f"{TIE_RELATIVE:g} of each other, relatively, tie and the earliest years win; an SSE "
        f"below {ZERO_RELATIVE:g} * sum(w (y - y_w)^2) counts as 0); k is the one with the "
        "smallest BIC(k) = ln(SSE_k / n) + 2 (k + 1) ln(n) / n (selection: bic; ties, a "
        "perfect fit's -infinity included, go to the smaller k). With the chosen model, "
        "df = n - 2k - 2, dispersion = SSE_k / df, the parameters' covariance is "
        "max(1, dispersion) (X' W X)^-1 and q is chosen as for the slope. Each segment's slope "
        "b_i (b0, b0 + d1, ...) gives APC = 100 (e^b_i - 1), interval 100 (e^(b_i +/- q se_i) "
        "- 1); AAPC = 100 (e^(sum(l_i b_i) / L) - 1) over the whole series (l_i a segment's "
        "years, L the last usable year minus the first), its interval likewise from the same "
        "covariance. A bound beyond the range of a double is null. With fewer than "
        f"{MIN_TREND_YEARS} years with a positive value, or values and se beyond what double "
        "precision holds on the log scale, apc is null and apc_reason says why."
    )


STATE_TREND = " ".join(
    (
        _ROWS,
        "The series pools the state's rows of each year (one entry per year with a usable row).",
        _POOL,
        _RELIABLE,
        _slope_method(),
        _apc_method(),
        "missing_years are the question's years (in the range asked for) in which the state "
        "has no usable row.",
    )
)

COMPARE_TO_NATIONAL = " ".join(
    (
        _ROWS,
        "Each location's rows, and the nation's (the extract's own National rows, never a mean "
        "of state means), over the same years and stratification are pooled.",
        _POOL,
        _RELIABLE,
        "z = (v_state - v_national) / sqrt(se_state^2 + se_national^2), the two taken as "
        "independent (the nation includes the state, so the test leans conservative); p is "
        "two-sided from the standard normal, p = erfc(|z| / sqrt(2)); p_adjusted is Holm's "
        "step-down adjustment over every location compared (those with a value): the k-th "
        "smallest of m p values times (m - k + 1), made non-decreasing, capped at 1. versus is "
        f"higher or lower (by the sign of z) when p_adjusted < {ALPHA:g}, else similar. "
        "Locations are in ascending order of value, ties by name, those without a value last.",
    )
)

RANKINGS = " ".join(
    (
        _ROWS,
        "Each location's rows (every location but National) over the years and stratification "
        "asked for are pooled, as compare_to_national pools them.",
        _POOL,
        _RELIABLE,
        "Locations with a value are ranked 1 = best by the question's direction (lowest or "
        "highest value), ties by name; those without one follow, by name, with rank null and a "
        f"reason. The uncertainty of the ranks comes from {DRAWS} draws: for the m ranked "
        "locations sorted by name, z = numpy.random.default_rng("
        f"{SEED}).standard_normal(({DRAWS}, m)) and x = v + se * z, each location's value drawn "
        "independently from N(v, se^2); each draw is ranked as the estimates are. rank_low is "
        f"the smallest rank r such that at least {RANK_LOW_DRAWS} of the {DRAWS} draws rank the "
        f"location r or better, rank_high the smallest r such that at least {RANK_HIGH_DRAWS} "
        f"do (a 95% interval of its rank); p_best5 and p_worst5 are the shares of draws that "
        f"rank it among the first or the last {END}. The same request always gives the same "
        "answer. The draws take the locations as independent and their values as normal with "
        "the pooled se: the ranks of locations whose intervals overlap are uncertain by nature, "
        "and a rank interval says how uncertain, not which of them is better.",
    )
)

DISPARITIES = " ".join(
    (
        _ROWS,
        "Each stratum of the category in the state is pooled over the years asked for.",
        _POOL,
        _RELIABLE,
        "The reference is the stratum with the best value by the question's direction (lowest "
        "or highest), never 'Data not reported'. gap = v - v_reference with the 95% interval "
        f"gap +/- {Z95} * sqrt(se^2 + se_reference^2) of a difference of independent "
        "estimates; ratio = v / v_reference. The reference itself has gap 0 (interval 0 to 0) "
        "and ratio 1. Strata are in the order the BRFSS lists them.",
    )
)
