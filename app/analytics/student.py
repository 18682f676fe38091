"""Student's t distribution for the integer degrees of freedom of a fit (SPEC §15.1, §15.2): the
probability of |T| <= t as the exact finite series of Abramowitz & Stegun 26.7.3-4, and its
quantile to the last bits of a double by bisection (tested against scipy.stats.t).

Written out rather than taken from scipy: scipy.special adds a quarter of a second to a second to
every process's start (server, workers), for one number per fit."""

from __future__ import annotations

import math


def central_probability(t: float, df: int) -> float:
    """P(|T| <= t) for T ~ t(df), t >= 0, df >= 1: with θ = atan(t / √df), 2θ/π + (2/π) sin θ
    (cos θ + 2/3 cos³θ + ... ) for odd df, sin θ (1 + 1/2 cos²θ + 1·3/(2·4) cos⁴θ + ...) for
    even df, each sum running to the power df - 2."""
    theta = math.atan(t / math.sqrt(df))
    return _central(theta, df)


def _central(theta: float, df: int) -> float:
    sine, cosine2 = math.sin(theta), math.cos(theta) ** 2
    if df % 2 == 0:
        term, total = 1.0, 1.0
        for j in range(1, df // 2):  # the term of cos^(2j): ((2j - 1) / 2j) times the last
            term *= cosine2 * (2 * j - 1) / (2 * j)
            total += term
        return sine * total
    if df == 1:
        return 2 * theta / math.pi
    term = math.cos(theta)
    total = term
    for j in range(1, (df - 1) // 2):  # the term of cos^(2j+1): (2j / (2j + 1)) times the last
        term *= cosine2 * (2 * j) / (2 * j + 1)
        total += term
    return 2 / math.pi * (theta + sine * total)


def quantile(probability: float, df: int) -> float:
    """The t with P(T <= t) = probability, for 0.5 < probability < 1 and df >= 1: the angle θ
    with central probability 2p - 1 found by halving [0, π/2] until it cannot shrink, then
    t = √df tan θ."""
    if not (0.5 < probability < 1 and df >= 1):
        raise ValueError(f"no t quantile for p = {probability}, df = {df}")
    target = 2 * probability - 1
    low, high = 0.0, math.pi / 2
    while True:
        middle = (low + high) / 2
        if middle in (low, high):
            break
        if _central(middle, df) < target:
            low = middle
        else:
            high = middle
    return math.sqrt(df) * math.tan((low + high) / 2)
