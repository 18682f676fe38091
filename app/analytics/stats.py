"""Every formula of SPEC §13 and §15.1, once: row standard errors, inverse-variance pooling,
reliability, the weighted least-squares slope with its dispersion and t quantile, the z test with
its two-sided p, Holm's adjustment, and the difference and ratio of two estimates.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.special import stdtrit

#: The standard normal quantile of a two-sided 95% interval.
Z95 = 1.959964
#: Reliability thresholds: pooled sample size, interval half-width (percentage points), se / v.
MIN_SAMPLE_SIZE = 50
MAX_HALF_WIDTH = 10.0
MAX_RELATIVE_SE = 0.30
#: A difference counts (`versus` higher or lower) below this Holm-adjusted p.
ALPHA = 0.05
#: A slope needs at least this many years with a pooled value.
MIN_TREND_YEARS = 3


def se_from_ci(low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Each row's standard error, (high - low) / (2 * Z95); NaN where no positive, finite one
    (and so no finite weight 1 / se²) comes out: a limit missing, a zero-width or inverted
    interval."""
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        se = (high - low) / (2 * Z95)
        usable = np.isfinite(se) & (se > 0) & np.isfinite(1.0 / (se * se))
    return np.where(usable, se, np.nan)


@dataclass(frozen=True)
class Estimate:
    """A value with its standard error (and the sample size behind it, when known)."""

    value: float
    se: float
    sample_size: int | None = None

    @property
    def low(self) -> float:
        return self.value - Z95 * self.se

    @property
    def high(self) -> float:
        return self.value + Z95 * self.se


def pool(
    values: np.ndarray, ses: np.ndarray, sizes: np.ndarray, groups: np.ndarray, count: int
) -> list[Estimate | None]:
    """The inverse-variance mean of each group's rows (each row with a usable se), for groups
    0..count-1: v = Σ w x / Σ w, w = 1 / se², se = 1 / √Σ w; the sample size is the sum of the
    rows' known sizes (None when no row has one). None for a group without rows."""
    weights = 1.0 / (ses * ses)
    total = np.bincount(groups, weights=weights, minlength=count)
    weighted = np.bincount(groups, weights=weights * values, minlength=count)
    known = ~np.isnan(sizes)
    size = np.bincount(groups[known], weights=sizes[known], minlength=count)
    sized = np.bincount(groups[known], minlength=count)
    return [
        Estimate(
            value=float(weighted[group] / total[group]),
            se=1.0 / math.sqrt(total[group]),
            sample_size=int(size[group]) if sized[group] else None,
        )
        if total[group] > 0
        else None
        for group in range(count)
    ]


def unreliable(estimate: Estimate) -> list[str]:
    """Why `estimate` is not reliable (an empty list when it is)."""
    reasons = []
    if estimate.sample_size is None:
        reasons.append("sample_size unknown")
    elif estimate.sample_size < MIN_SAMPLE_SIZE:
        reasons.append(f"sample_size < {MIN_SAMPLE_SIZE}")
    if Z95 * estimate.se > MAX_HALF_WIDTH:
        reasons.append(f"half_width > {MAX_HALF_WIDTH:g}")
    if not (estimate.value > 0 and estimate.se / estimate.value <= MAX_RELATIVE_SE):
        reasons.append(f"relative_se > {MAX_RELATIVE_SE:.2f}")
    return reasons


@lru_cache(maxsize=256)
def t_quantile(df: int) -> float:
    """Student's t quantile t(0.975, df) for df >= 1: scipy's inverse of the t distribution
    (accurate to about 1e-12). Imported with this module, which the main process loads with the
    dataset before it starts the server processes: they inherit it instead of each importing it."""
    return float(stdtrit(df, 0.975))


def interval_quantile(dispersion: float, df: int) -> float:
    """The quantile of a 95% interval of a fit with this dispersion and df: t(0.975, df) when
    the scatter is larger than the variances explain (dispersion > 1), else Z95."""
    return t_quantile(df) if dispersion > 1 else Z95


@dataclass(frozen=True)
class Slope:
    """A weighted least-squares slope per year, with its standard error, the dispersion of the
    points about the line and the quantile of its interval (SPEC §15.1)."""

    per_year: float
    se: float
    dispersion: float
    df: int
    quantile: float

    @property
    def low(self) -> float:
        return self.per_year - self.quantile * self.se

    @property
    def high(self) -> float:
        return self.per_year + self.quantile * self.se

    @property
    def trend(self) -> str:
        """rising when the whole interval is above 0, falling when below, else stable."""
        if self.low > 0:
            return "rising"
        if self.high < 0:
            return "falling"
        return "stable"


def wls_slope(years: np.ndarray, values: np.ndarray, ses: np.ndarray) -> Slope | None:
    """The line a + b t through (year, value) weighted by w = 1 / se², with the scatter about
    it counted: X² = Σ w (v - a - b t)², dispersion φ = X² / (n - 2), se(b) =
    √(max(1, φ) / Σ w (t - t̄_w)²), interval b ± q se(b) with q = t(0.975, n - 2) when φ > 1,
    else Z95. None with fewer than MIN_TREND_YEARS points; OverflowError when a number of the
    fit is not finite (weights near the limits of a double)."""
    if len(years) < MIN_TREND_YEARS:
        return None
    with np.errstate(all="ignore"):  # an overflow shows as a number that is not finite
        weights = 1.0 / (ses * ses)
        total = weights.sum()
        t = years.astype(float)
        t_centred = t - (weights * t).sum() / total
        y_centred = values - (weights * values).sum() / total
        sxx = float((weights * t_centred * t_centred).sum())
        per_year = float((weights * t_centred * y_centred).sum() / sxx)
        residuals = y_centred - per_year * t_centred
        df = len(years) - 2
        dispersion = float((weights * residuals * residuals).sum()) / df
        se = math.sqrt(max(1.0, dispersion) / sxx) if sxx > 0 else math.inf
    slope = Slope(per_year, se, dispersion, df, interval_quantile(dispersion, df))
    if not all(math.isfinite(x) for x in (per_year, se, dispersion, slope.low, slope.high)):
        raise OverflowError("the values and their se are beyond what double precision can fit")
    return slope


def z_score(estimate: Estimate, reference: Estimate) -> float:
    """(v - v_ref) / √(se² + se_ref²): the two taken as independent."""
    return (estimate.value - reference.value) / math.hypot(estimate.se, reference.se)


def two_sided_p(z: float) -> float:
    """P(|Z| >= |z|) for a standard normal Z."""
    return math.erfc(abs(z) / math.sqrt(2.0))


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment: the k-th smallest p times (m - k + 1), kept monotone in the
    order of the p values, capped at 1; returned in the order given."""
    m = len(p_values)
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(sorted(range(m), key=p_values.__getitem__)):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def versus(z: float, p_adjusted: float) -> str:
    """higher or lower (by the sign of z) when p_adjusted < ALPHA, else similar."""
    if p_adjusted < ALPHA:
        return "higher" if z > 0 else "lower"
    return "similar"


def difference(estimate: Estimate, reference: Estimate) -> Estimate:
    """v - v_ref with the se of a difference of independent estimates, √(se² + se_ref²)."""
    return Estimate(estimate.value - reference.value, math.hypot(estimate.se, reference.se))


def ratio(estimate: Estimate, reference: Estimate) -> float | None:
    """v / v_ref; None when the reference value is 0."""
    return estimate.value / reference.value if reference.value else None
