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


def _draws(
    values: np.ndarray, ses: np.ndarray, rows: slice, out: np.ndarray | None = None
) -> np.ndarray:
    """Draws `rows` of x = v + se z (into `out` if given)."""
    drawn = np.multiply(standard_normals(len(values))[rows], ses, out=out)
    drawn += values
    return drawn


def _ranked(
    drawn: np.ndarray, lowest_best: bool, gaps: np.ndarray
) -> tuple[np.ndarray, np.ndarray | None]:
    """For each draw (row), the locations from the first place to the last as
    `place * count + location` of the best first ranking, ties by column; and which draws must
    be ranked again exactly (None: none). `gaps` is room for the differences of neighbours.

    One sort of integers instead of an argsort of floats (several times slower): each float's
    bits made into an int64 that sorts as the float does, its lowest bits replaced by the
    column (counted from the last where the highest is the best, the draws then being read
    from the end), so that the sorted keys carry the order and equal values sort by name. Rows
    where two keys are too close for those bits to tell their floats apart (within a few 1e-14
    of each other: all but impossible) are ranked again by a stable argsort of the floats.
    """
    count = drawn.shape[1]
    bits = max(1, (count - 1).bit_length())
    keys = drawn.view(np.int64)  # overwrites `drawn`
    if not drawn.min() > 0:  # negative floats (and -0.0) sort backwards as integers
        keys ^= (keys >> 63) & _ALL_BUT_SIGN
    keys &= ~np.int64((1 << bits) - 1)
    column = np.arange(count)
    keys |= column if lowest_best else column[::-1]
    keys.sort(axis=1)
    np.subtract(keys[:, 1:], keys[:, :-1], out=gaps)  # none with one location
    close = (gaps < (2 << bits)).any(axis=1) if gaps.size and gaps.min() < (2 << bits) else None
    keys &= (1 << bits) - 1
    keys += column * count  # each key now: its place in the sorted row * count + its column
    if not lowest_best:  # read from the end: the last place is the first, column count-1 is 0
        np.subtract(count * count - 1, keys, out=keys)
    return keys, close


def rank_counts(values: np.ndarray, ses: np.ndarray, lowest_best: bool) -> np.ndarray:
    """counts[i, r]: in how many of the DRAWS draws location i (of locations sorted by name) is
    ranked r + 1, each draw x = v + se z ranked best first, ties by name.

    The draws are ranked CHUNK at a time in two buffers made once, so that each step works in
    the processor's cache and none asks the system for fresh memory."""
    count = len(values)
    counts = np.zeros(count * count, dtype=np.int64)
    places = np.arange(count) * count
    drawn = np.empty((CHUNK, count))
    gaps = np.empty((CHUNK, count - 1), dtype=np.int64)
    for first in range(0, DRAWS, CHUNK):
        rows = slice(first, min(first + CHUNK, DRAWS))
        size = rows.stop - rows.start
        ranked, close = _ranked(_draws(values, ses, rows, drawn[:size]), lowest_best, gaps[:size])
        if close is not None:
            again = _draws(values, ses, rows)[close]
            exact = np.argsort(again if lowest_best else -again, axis=1, kind="stable")
            ranked[close] = places + exact
        counts += np.bincount(ranked.ravel(), minlength=count * count)
    return counts.reshape(count, count).T  # counts[place * count + location] -> [location, place]


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
