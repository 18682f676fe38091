"""The simulation behind the rank intervals of SPEC §15.3: every formula of it, once.

Each location's value is drawn independently from N(v, se²) DRAWS times, with the standard
normals of numpy's default generator seeded with SEED, and each draw is ranked as the estimates
are (best first, ties by name).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

#: Draws of the simulation, and the seed of numpy's default generator that makes them.
DRAWS = 10_000
SEED = 0
#: A rank interval holds the middle 95% of the draws: from the smallest rank that at least
#: RANK_LOW_DRAWS of them reach, to the smallest that at least RANK_HIGH_DRAWS reach.
RANK_LOW_DRAWS = 250
RANK_HIGH_DRAWS = 9_750
#: How many locations "the best five" and "the worst five" are.
END = 5
#: Draws ranked at a time (about 0.4 MB of them for the 54 locations of a question).
CHUNK = 1_000
#: The bits of an int64 but its sign.
_ALL_BUT_SIGN = np.int64(0x7FFF_FFFF_FFFF_FFFF)


@lru_cache(maxsize=2)
def standard_normals(count: int) -> np.ndarray:
    """`numpy.random.default_rng(SEED).standard_normal((DRAWS, count))`, made once per count (it
    depends on nothing else) and read-only, since every answer with `count` locations shares it."""
    z = np.random.default_rng(SEED).standard_normal((DRAWS, count))
    z.setflags(write=False)
    return z


def _draws(values: np.ndarray, ses: np.ndarray, lowest_best: bool, rows: slice) -> np.ndarray:
    """Draws `rows` of x = v + se z, negated where the highest value is the best (so that the
    best is always the lowest)."""
    drawn = np.multiply(standard_normals(len(values))[rows], ses)
    drawn += values
    return drawn if lowest_best else np.negative(drawn, out=drawn)


def _orders(drawn: np.ndarray, bits: int) -> tuple[np.ndarray, np.ndarray]:
    """order[d, r], the location ranked r + 1 in draw d (lowest first, ties by column), and
    which draws had to be ranked again exactly.

    One sort of integers instead of an argsort of floats (several times slower): each float's
    bits made into an int64 that sorts as the float does, its lowest `bits` bits replaced by the
    column, so that the sorted keys carry the order and equal values sort by column. Keys that
    cannot tell two draws apart once those bits are gone (values within a few 1e-14 of each
    other, all but impossible) send their rows to an exact stable argsort of the floats.
    """
    keys = drawn.view(np.int64)  # overwrites `drawn`: the rows needing it are drawn again
    keys ^= (keys >> 63) & _ALL_BUT_SIGN  # negative floats sort backwards as integers
    keys &= ~np.int64((1 << bits) - 1)
    keys |= np.arange(drawn.shape[1])
    keys.sort(axis=1)
    high = keys >> bits
    close = ((high[:, 1:] - high[:, :-1]) <= 1).any(axis=1)  # equal, or -0.0 beside 0.0
    keys &= (1 << bits) - 1
    return keys, close


def rank_counts(values: np.ndarray, ses: np.ndarray, lowest_best: bool) -> np.ndarray:
    """counts[i, r]: in how many of the DRAWS draws location i (of locations sorted by name) is
    ranked r + 1, each draw x = v + se z ranked best first, ties by name.

    The draws are ranked CHUNK at a time, so that each step works in the processor's cache."""
    count = len(values)
    bits = max(1, (count - 1).bit_length())
    counts = np.zeros(count * count, dtype=np.int64)
    place = np.arange(count)
    for first in range(0, DRAWS, CHUNK):
        rows = slice(first, first + CHUNK)
        order, close = _orders(_draws(values, ses, lowest_best, rows), bits)
        if close.any():
            again = _draws(values, ses, lowest_best, rows)[close]
            order[close] = np.argsort(again, axis=1, kind="stable")
        order *= count
        order += place  # order[d, r] * count + r: which location, at which rank
        counts += np.bincount(order.ravel(), minlength=count * count)
    return counts.reshape(count, count)


def rank_summary(counts: np.ndarray) -> dict[str, np.ndarray]:
    """From rank_counts (of at least one location): each location's rank interval (rank_low,
    rank_high) and its chances of being among the first and the last END (p_best5, p_worst5)."""
    count = len(counts)
    reached = counts.cumsum(axis=1)  # reached[i, r]: draws ranking i at r + 1 or better
    end = min(END, count)
    return {
        "rank_low": np.argmax(reached >= RANK_LOW_DRAWS, axis=1) + 1,
        "rank_high": np.argmax(reached >= RANK_HIGH_DRAWS, axis=1) + 1,
        "p_best5": reached[:, end - 1] / DRAWS,
        "p_worst5": counts[:, count - end :].sum(axis=1) / DRAWS,
    }
