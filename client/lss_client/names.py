"""Names as people type them: a question by any unique part of it, a state by name or code.

The API wants the exact text; these turn `obesity` into the question that contains it and
`oh` into `Ohio`, and list the candidates when the input matches none or several.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence

from lss_client.errors import NoMatch

#: USPS codes of the 50 states, DC and the territories in the data; `US` is the code the CDC
#: extract gives its `National` rows (LocationAbbr), so it names the national figures.
POSTAL_CODES: dict[str, str] = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "FL": "Florida", "GA": "Georgia",
    "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois", "IN": "Indiana", "IA": "Iowa",
    "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana", "ME": "Maine", "MD": "Maryland",
    "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota", "MS": "Mississippi",
    "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada", "NH": "New Hampshire",
    "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York", "NC": "North Carolina",
    "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon", "PA": "Pennsylvania",
    "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota", "TN": "Tennessee",
    "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VA": "Virginia", "WA": "Washington",
    "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming",
    "DC": "District of Columbia", "GU": "Guam", "PR": "Puerto Rico", "VI": "Virgin Islands",
    "US": "National",
}  # fmt: skip

#: The code of each name, for listing states with their codes.
CODES: dict[str, str] = {name: code for code, name in POSTAL_CODES.items()}
#: How many near misses an unknown state lists.
_SUGGESTIONS = 5


def _fold(text: str) -> str:
    """Case- and spacing-insensitive form of `text`, for comparing."""
    return " ".join(text.casefold().split())


def _quoted(names: Iterable[str]) -> str:
    return "; ".join(repr(name) for name in names)


def match_question(text: str, questions: Iterable[str]) -> str:
    """The one question equal to `text` or containing it, ignoring case; NoMatch otherwise."""
    questions = list(questions)
    needle = _fold(text)
    if not needle:
        raise NoMatch(f"empty question; the questions: {_quoted(questions)}", questions)
    exact = [q for q in questions if _fold(q) == needle]
    if exact:
        return exact[0]
    hits = [q for q in questions if needle in _fold(q)]
    if len(hits) == 1:
        return hits[0]
    if hits:
        raise NoMatch(f"{text!r} is in {len(hits)} questions: {_quoted(hits)}", hits)
    raise NoMatch(f"no question contains {text!r}; the questions: {_quoted(questions)}", questions)


def match_state(text: str, states: Iterable[str]) -> str:
    """The state named `text` (any case) or coded `text` (`oh`, `US`); NoMatch otherwise."""
    states = list(states)
    by_fold = {_fold(state): state for state in states}
    needle = _fold(text)
    if needle in by_fold:
        return by_fold[needle]
    named = POSTAL_CODES.get(needle.upper())
    if named is not None and named in states:
        return named
    near = [state for fold, state in by_fold.items() if needle and needle in fold] or [
        by_fold[fold]
        for fold in difflib.get_close_matches(needle, by_fold, n=_SUGGESTIONS, cutoff=0.6)
    ]
    if near:
        raise NoMatch(f"unknown state {text!r}; did you mean: {_quoted(near)}", near)
    raise NoMatch(
        f"unknown state {text!r}: give a name or a postal code; the states: {_quoted(states)}",
        states,
    )


def match_category(text: str, categories: Iterable[str]) -> str:
    """The one category equal to `text` or containing it, ignoring case (`income`, `age`,
    `race`); NoMatch listing the candidates otherwise. The categories are the server's, as
    `GET /api/questions` lists them for a question (Client.catalog)."""
    categories = list(categories)
    needle = _fold(text)
    exact = [c for c in categories if _fold(c) == needle]
    if exact:
        return exact[0]
    hits = [c for c in categories if needle and needle in _fold(c)]
    if len(hits) == 1:
        return hits[0]
    if hits:
        raise NoMatch(f"{text!r} is in {len(hits)} categories: {_quoted(hits)}", hits)
    raise NoMatch(f"unknown category {text!r}; the categories: {_quoted(categories)}", categories)


def match_stratum(text: str, category: str, strata: Iterable[str]) -> str:
    """The stratum of `category` (one of `strata`) named `text`, exactly or in another case;
    NoMatch otherwise."""
    strata = list(strata)
    if text in strata:
        return text
    folded = [s for s in strata if _fold(s) == _fold(text)]
    if folded:
        return folded[0]
    raise NoMatch(f"no stratum {text!r} in {category!r}; its strata: {_quoted(strata)}", strata)


def match_group(text: str, categories: Mapping[str, Sequence[str]]) -> tuple[str, str]:
    """`CATEGORY=STRATUM` as typed (`income=$75,000 or greater`, `sex=female`) as the
    (category, stratum) the API names, among `categories` (category -> its strata, as
    `GET /api/questions` lists them); ValueError without `=`, NoMatch for an unknown name."""
    category, equals, stratum = text.partition("=")
    if not equals:
        raise ValueError(
            f"expected CATEGORY=STRATUM (such as income=Less than $15,000), not {text!r}"
        )
    category = match_category(category, categories)
    return category, match_stratum(stratum.strip(), category, categories[category])
