"""An independent implementation of SPEC §15.1's slope and §15.2's joinpoints, to judge the
service's (app.analytics.stats.wls_slope, app.analytics.joinpoint).

It shares no code with `app/`: every placement is enumerated by brute force (every combination
of observed years, kept when each segment has at least 3 of them), each model is fitted by
statsmodels' weighted least squares on the years centred on their mean, the slope's scale is
statsmodels' own estimate (SSR / (n - 2), with its t interval) or 1 whichever is larger, the
joinpoint model's max(1, SSE / (n - 2k - 2)) passed to statsmodels as a fixed scale, quantiles
come from `scipy.stats.t`, and linear combinations from the fit's `t_test`.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import statsmodels.api as sm
from scipy.stats import norm
from scipy.stats import t as student

#: The normal quantile the SPEC writes out (norm.ppf(0.975) = 1.95996398...).
Z = 1.959964


def _fit(y: np.ndarray, design: np.ndarray, weights: np.ndarray, scale: float) -> Any:
    """statsmodels' WLS with the covariance scaled by `scale`."""
    model = sm.WLS(y, design, weights=weights)
    return model.fit(cov_type="fixed scale", cov_kwds={"scale": scale})


def _quantile(dispersion: float, df: int) -> float:
    return float(student.ppf(0.975, df)) if dispersion > 1 else Z


def slope(years: list[int], values: list[float], ses: list[float]) -> dict[str, Any]:
    """§15.1: the weighted line's slope with the dispersion counted."""
    t = np.array(years, dtype=float)
    weights = 1 / np.array(ses) ** 2
    fit = sm.WLS(np.array(values), sm.add_constant(t), weights=weights).fit()
    dispersion, df = float(fit.scale), int(fit.df_resid)
    per_year = float(fit.params[1])
    if dispersion > 1:
        low, high = (float(x) for x in fit.conf_int(alpha=0.05)[1])  # Student's t, df_resid
    else:
        se = float(_fit(np.array(values), sm.add_constant(t), weights, 1.0).bse[1])
        low, high = per_year - Z * se, per_year + Z * se
    trend = "rising" if low > 0 else "falling" if high < 0 else "stable"
    return {
        "per_year": per_year,
        "low": low,
        "high": high,
        "trend": trend,
        "dispersion": dispersion,
        "df": df,
    }


def _placements(n: int, k: int) -> list[tuple[int, ...]]:
    """Every k-subset of the n observed years' indices that leaves each segment 3 years."""
    return [
        chosen
        for chosen in itertools.combinations(range(n), k)
        if all(b - a >= 2 for a, b in itertools.pairwise((0, *chosen, n - 1)))
    ]


def _limit(n: int) -> int:
    return 0 if n < 7 else 1 if n < 12 else 2


def _design(t: np.ndarray, chosen: tuple[int, ...]) -> np.ndarray:
    hinges = [np.clip(t - t[j], 0, None) for j in chosen]
    return np.column_stack([np.ones_like(t), t, *hinges])


def search(
    years: list[int], values: list[float], ses: list[float]
) -> tuple[tuple[int, ...], float]:
    """The chosen placement (indices of the joinpoint years) and its SSE, by brute force."""
    n = len(years)
    t = np.array(years, dtype=float) - np.mean(years)
    y = np.log(values)
    weights = (np.array(values) / np.array(ses)) ** 2
    total = float(np.sum(weights * (y - np.average(y, weights=weights)) ** 2))
    chosen: tuple[tuple[int, ...], float, float] | None = None
    for k in range(_limit(n) + 1):
        fits = []
        for placement in _placements(n, k):
            sse = float(sm.WLS(y, _design(t, placement), weights=weights).fit().ssr)
            fits.append((0.0 if sse < 1e-12 * total else sse, placement))
        smallest = min(sse for sse, _ in fits)
        sse, placement = next(f for f in fits if f[0] <= smallest * (1 + 1e-9))
        bic = (math.log(sse / n) if sse > 0 else -math.inf) + 2 * (k + 1) * math.log(n) / n
        if chosen is None or bic < chosen[2]:
            chosen = (placement, sse, bic)
    assert chosen is not None
    return chosen[0], chosen[1]


def _percent(b: float, se: float, q: float) -> tuple[float, float, float]:
    return tuple(100 * (math.exp(x) - 1) for x in (b, b - q * se, b + q * se))  # type: ignore[return-value]


def apc(years: list[int], values: list[float], ses: list[float]) -> dict[str, Any] | None:
    """§15.2's `apc` of a series of positive values (None with fewer than 3)."""
    n = len(years)
    if n < 3:
        return None
    placement, sse = search(years, values, ses)
    k = len(placement)
    df = n - 2 * k - 2
    dispersion = sse / df
    t = np.array(years, dtype=float) - np.mean(years)
    weights = (np.array(values) / np.array(ses)) ** 2
    # Joinpoint counts each joinpoint's year as a parameter: df = n - 2k - 2, not statsmodels'
    # n - k - 2, so the scale max(1, SSE / df) is passed to statsmodels rather than its own.
    fit = _fit(np.log(values), _design(t, placement), weights, max(1.0, dispersion))
    q = _quantile(dispersion, df)
    bounds = [years[0], *(years[j] for j in placement), years[-1]]
    segments = []
    for i, (start, end) in enumerate(itertools.pairwise(bounds)):
        row = np.zeros(k + 2)
        row[1] = 1
        row[2 : 2 + i] = 1
        test = fit.t_test(row)
        value, low, high = _percent(float(test.effect[0]), float(test.sd[0, 0]), q)
        segments.append({"from": start, "to": end, "apc": value, "low": low, "high": high})
    # The AAPC: the fitted mean's change from the first year to the last, per year.
    design = _design(t, placement)
    test = fit.t_test((design[-1] - design[0]) / (years[-1] - years[0]))
    value, low, high = _percent(float(test.effect[0]), float(test.sd[0, 0]), q)
    return {
        "segments": segments,
        "joinpoints": [years[j] for j in placement],
        "aapc": {"value": value, "low": low, "high": high},
        "selection": "bic",
        "dispersion": dispersion,
        "df": df,
    }


assert abs(norm.ppf(0.975) - Z) < 1e-6  # the SPEC's constant is the normal quantile
