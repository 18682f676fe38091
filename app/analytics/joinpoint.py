"""Annual percent change and joinpoints (SPEC §15.2), as NCI's Joinpoint program reports trends:
a continuous piecewise-linear fit of the log of a yearly series, its bends at observed years
chosen by BIC over every allowed placement, each segment's APC and the series' AAPC."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations, pairwise

import numpy as np

from app.analytics.stats import MIN_TREND_YEARS, interval_quantile

#: A segment spans at least this many observed years, counting both its ends.
MIN_SEGMENT_YEARS = 3
#: The search over every placement is run on at most this many years (BRFSS has about 13; a
#: file with hundreds in one series would need gigabytes: ~n²/2 placements of n x 4 each).
MAX_SEARCH_YEARS = 100
#: Placements whose SSEs are within this of the smallest, relatively, tie (the earliest wins).
TIE_RELATIVE = 1e-9
#: An SSE below this share of the series' weighted total sum of squares counts as 0.
ZERO_RELATIVE = 1e-12
#: exp(x) overflows a double beyond this (100 e^x a little earlier): such a bound is None.
_MAX_EXPONENT = math.log(np.finfo(float).max)
_OVERFLOW = "the values and their se span more than double precision holds on the log scale"


def max_joinpoints(years: int) -> int:
    """The most joinpoints a series of `years` usable years may have: 0 under 7, 1 up to 11."""
    if years < 7:
        return 0
    return 1 if years <= 11 else 2


@lru_cache(maxsize=64)
def placements(years: int, joinpoints: int) -> np.ndarray:
    """Every allowed placement of `joinpoints` joinpoints among `years` observed years, as
    indices into them (shape placements x joinpoints), in lexicographic order: earliest first."""
    step = MIN_SEGMENT_YEARS - 1
    inner = range(step, years - step)
    found = [
        chosen
        for chosen in combinations(inner, joinpoints)
        if all(b - a >= step for a, b in pairwise(chosen))
    ]
    return np.array(found, dtype=int).reshape(len(found), joinpoints)


def percent(log_change: float) -> float | None:
    """100 (e^x - 1), the percent change of a change x on the log scale; None past a double."""
    if log_change >= _MAX_EXPONENT:
        return None
    change = 100.0 * math.expm1(log_change)
    return change if math.isfinite(change) else None


@dataclass(frozen=True)
class PercentChange:
    """An annual percent change with its 95% interval (a bound None when it overflows)."""

    value: float
    low: float | None
    high: float | None

    @classmethod
    def of(cls, slope: float, se: float, quantile: float) -> PercentChange:
        """From a slope on the log scale and its se: 100 (e^(b ± q se) - 1); OverflowError
        when the change itself is beyond a double, or the slope or se is not finite."""
        value = percent(slope)
        if value is None or not (math.isfinite(slope) and math.isfinite(se)):
            raise OverflowError(_OVERFLOW)
        return cls(value, percent(slope - quantile * se), percent(slope + quantile * se))


@dataclass(frozen=True)
class Segment:
    """The years from `start` to `end` (both observed) and their APC."""

    start: int
    end: int
    apc: PercentChange


@dataclass(frozen=True)
class JoinpointFit:
    """The chosen model: its segments, joinpoint years, AAPC, dispersion and df."""

    segments: list[Segment]
    joinpoints: list[int]
    aapc: PercentChange
    dispersion: float
    df: int


def _design(t: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """The design matrices [1, t, (t - τ_1)+, ...] of every placement (rows of `chosen`)."""
    count, joinpoints = chosen.shape
    design = np.empty((count, len(t), 2 + joinpoints))
    design[:, :, 0] = 1.0
    design[:, :, 1] = t
    if joinpoints:
        design[:, :, 2:] = np.maximum(t[None, :, None] - t[chosen][:, None, :], 0.0)
    return design


def _fit(design: np.ndarray, y: np.ndarray, root_w: np.ndarray) -> tuple[np.ndarray, ...]:
    """Weighted least squares of y on each design (by QR of the whitened matrices): the
    parameters, the weighted SSE and the triangular factor R (X' W X = R' R) of each."""
    whitened = design * root_w[None, :, None]
    target = y * root_w
    q, r = np.linalg.qr(whitened)
    params = np.linalg.solve(r, np.einsum("pni,n->pi", q, target)[..., None])[..., 0]
    residuals = target[None, :] - np.einsum("pni,pi->pn", whitened, params)
    return params, np.einsum("pn,pn->p", residuals, residuals), r


@dataclass(frozen=True)
class Placement:
    """The best placement of some number of joinpoints: their indices among the observed years,
    its weighted SSE (0 when below the zero threshold), parameters and factor R."""

    indices: np.ndarray
    sse: float
    params: np.ndarray
    r: np.ndarray


def best_placement(
    t: np.ndarray, y: np.ndarray, root_w: np.ndarray, joinpoints: int, zero: float
) -> Placement:
    """Of every allowed placement of `joinpoints` joinpoints, the one with the smallest weighted
    SSE (an SSE below `zero` counts as 0); SSEs within TIE_RELATIVE of the smallest tie, and the
    earliest placement wins."""
    chosen = placements(len(t), joinpoints)
    params, sse, r = _fit(_design(t, chosen), y, root_w)
    sse = np.where(sse < zero, 0.0, sse)
    i = int(np.flatnonzero(sse <= sse.min() * (1.0 + TIE_RELATIVE))[0])
    return Placement(chosen[i], float(sse[i]), params[i], r[i])


def _combinations(t: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """The rows c with c · (a, b0, d_1, ...) = each segment's slope b0 + d_1 + ... + d_i, then
    the AAPC's Σ l_i b_i / L = b0 + Σ_j d_j (L - τ_j) / L (t counted from the first year)."""
    k = len(indices)
    combos = np.zeros((k + 2, k + 2))
    combos[:, 1] = 1.0
    for j in range(k):
        combos[j + 1 : k + 1, 2 + j] = 1.0
    combos[k + 1, 2:] = (t[-1] - t[indices]) / t[-1]
    return combos


def bic(sse: float, years: int, joinpoints: int) -> float:
    """Joinpoint's BIC: ln(SSE / n) + 2 (k + 1) ln(n) / n (-inf for a perfect fit)."""
    fit = math.log(sse / years) if sse > 0 else -math.inf
    return fit + 2 * (joinpoints + 1) * math.log(years) / years


def fit_joinpoints(years: np.ndarray, values: np.ndarray, ses: np.ndarray) -> JoinpointFit | None:
    """The log-linear joinpoint model of a yearly series of positive values (SPEC §15.2):
    y = ln v with weights w = (v / se)², 0 to max_joinpoints(n) joinpoints, each count's best
    placement by weighted SSE, the count by BIC; None with fewer than MIN_TREND_YEARS years,
    OverflowError over MAX_SEARCH_YEARS years or when the fit's numbers are beyond double
    precision (values near its limits)."""
    n = len(years)
    if n < MIN_TREND_YEARS:
        return None
    if n > MAX_SEARCH_YEARS:
        raise OverflowError(f"more than {MAX_SEARCH_YEARS} years: the search is not run")
    with np.errstate(all="ignore"):  # an overflow shows as a number that is not finite
        return _fit_series(years, values, ses)


def _fit_series(years: np.ndarray, values: np.ndarray, ses: np.ndarray) -> JoinpointFit:
    """fit_joinpoints of a series of at least MIN_TREND_YEARS years."""
    n = len(years)
    t = (years - years[0]).astype(float)
    # ln(v) - ln(v_first): the intercept absorbs the shift, and a flat series is exactly 0.
    logs = np.log(values)
    y = logs - logs[0]
    root_w = values / ses
    weights = root_w * root_w
    centred = y - (weights * y).sum() / weights.sum()
    zero = ZERO_RELATIVE * float((weights * centred * centred).sum())
    if not (np.isfinite(weights).all() and (weights > 0).all() and math.isfinite(zero)):
        raise OverflowError(_OVERFLOW)
    k, best = 0, best_placement(t, y, root_w, 0, zero)
    for more in range(1, max_joinpoints(n) + 1):
        found = best_placement(t, y, root_w, more, zero)
        if bic(found.sse, n, more) < bic(best.sse, n, k):  # a tie keeps the fewer joinpoints
            k, best = more, found
    df = n - 2 * k - 2
    dispersion = best.sse / df
    if not math.isfinite(dispersion):
        raise OverflowError(_OVERFLOW)
    r_inv = np.linalg.inv(best.r)
    covariance = max(1.0, dispersion) * (r_inv @ r_inv.T)
    quantile = interval_quantile(dispersion, df)
    combos = _combinations(t, best.indices)
    slopes = combos @ best.params
    ses_out = np.sqrt(np.einsum("ci,ij,cj->c", combos, covariance, combos))
    changes = [
        PercentChange.of(float(b), float(se), quantile)
        for b, se in zip(slopes, ses_out, strict=True)
    ]
    ends = [int(years[0]), *(int(years[j]) for j in best.indices), int(years[-1])]
    return JoinpointFit(
        segments=[Segment(a, b, c) for (a, b), c in zip(pairwise(ends), changes[:-1], strict=True)],
        joinpoints=ends[1:-1],
        aapc=changes[-1],
        dispersion=dispersion,
        df=df,
    )
