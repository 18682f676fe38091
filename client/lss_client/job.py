"""What a client asks (`Question`) and what it gets back for it (`Answer`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass, field
from typing import Any

from lss_client.errors import LssError

#: The API's job endpoints, in the server's order: a copy of its app.task.TASKS (this package
#: cannot import the server), which unittests/test_client_endpoints.py holds to it.
ENDPOINTS: tuple[str, ...] = (
    "states_mean",
    "state_mean",
    "best5",
    "worst5",
    "global_mean",
    "diff_from_mean",
    "state_diff_from_mean",
    "mean_by_category",
    "state_mean_by_category",
    "state_trend",
    "compare_to_national",
    "disparities",
    "rankings",
)

#: The endpoints whose body also names a state.
STATE_ENDPOINTS: frozenset[str] = frozenset(
    {"state_mean", "state_diff_from_mean", "state_mean_by_category", "state_trend", "disparities"}
)

#: The endpoints whose body also names a stratification category (the server's needs_category).
CATEGORY_ENDPOINTS: frozenset[str] = frozenset({"disparities"})

_YEARS_SHAPE = "[from, to] (two whole numbers) or one year"
_STRATIFICATION_SHAPE = '{"category": ..., "stratum": ...} (two strings)'


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _years(value: Any) -> tuple[int, int] | None:
    """`years` as the (from, to) pair the body sends; one year y is (y, y)."""
    if value is None:
        return None
    if _whole(value):
        return value, value
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(map(_whole, value)):
        return value[0], value[1]
    raise ValueError(f"field 'years' must be {_YEARS_SHAPE}, not {value!r}")


def _stratification(value: Any) -> tuple[str, str] | None:
    """`stratification` as a (category, stratum) pair, from a pair or the body's mapping."""
    if value is None:
        return None
    if isinstance(value, Mapping) and set(value) == {"category", "stratum"}:
        value = (value["category"], value["stratum"])
    pair = isinstance(value, (list, tuple)) and len(value) == 2
    if pair and all(isinstance(part, str) for part in value):
        return value[0], value[1]
    raise ValueError(f"field 'stratification' must be {_STRATIFICATION_SHAPE}, not {value!r}")


@dataclass(frozen=True)
class Question:
    """One job to submit: an endpoint, the question's exact text, a state if it takes one, and
    the optional fields of SPEC §13 (None: not sent).

    `years` is (from, to), inclusive (one year: (y, y), or just y); `stratification` is
    (category, stratum); `category` is the stratification category `disparities` compares.
    ValueError names a field of the wrong shape; whether its value has data is the server's call.
    """

    endpoint: str
    question: str
    state: str | None = None
    _: KW_ONLY
    category: str | None = None
    years: tuple[int, int] | None = None
    stratification: tuple[str, str] | None = None

    def __post_init__(self) -> None:
        for name in ("endpoint", "question"):
            if not isinstance(getattr(self, name), str):
                raise ValueError(f"field {name!r} must be a string")
        for name in ("state", "category"):
            if getattr(self, name) is not None and not isinstance(getattr(self, name), str):
                raise ValueError(f"field {name!r} must be a string when present")
        # frozen: the normalised pairs go in as the dataclass itself would set them
        object.__setattr__(self, "years", _years(self.years))
        object.__setattr__(self, "stratification", _stratification(self.stratification))

    @classmethod
    def from_mapping(cls, fields: Mapping[str, Any]) -> Question:
        """Build from `{"endpoint", "question", "state"?, "category"?, "years"?,
        "stratification"?}` (as a bulk file line or a request body has them); ValueError
        names a bad field."""
        return cls(
            fields.get("endpoint"),  # type: ignore[arg-type]  # checked in __post_init__
            fields.get("question"),  # type: ignore[arg-type]
            fields.get("state"),
            category=fields.get("category"),
            years=fields.get("years"),
            stratification=fields.get("stratification"),
        )

    def body(self) -> dict[str, Any]:
        """The JSON body of the POST that submits it: the optional fields only when given."""
        body: dict[str, Any] = {"question": self.question}
        if self.state is not None:
            body["state"] = self.state
        if self.category is not None:
            body["category"] = self.category
        if self.years is not None:
            body["years"] = list(self.years)
        if self.stratification is not None:
            category, stratum = self.stratification
            body["stratification"] = {"category": category, "stratum": stratum}
        return body


@dataclass(frozen=True)
class QuestionInfo:
    """One question as `GET /api/questions` describes it: its better end (`lowest` or
    `highest`), and the years and stratification categories (each with its strata) that the
    server's data has for it, in the server's order (SPEC §2's)."""

    question: str
    best_is: str
    years: tuple[int, ...] = ()
    categories: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Answer:
    """The outcome of one Question in a bulk call: its `data`, or the `error` that stopped it."""

    question: Question
    job_id: str | None
    data: Any = None
    error: LssError | None = None

    @property
    def status(self) -> str:
        """`done` or `error`, as the API names a finished job's status."""
        return "done" if self.error is None else "error"

    @property
    def reason(self) -> str | None:
        """The error's one-line reason, or None when done."""
        return None if self.error is None else self.error.reason

    def result(self) -> Any:
        """The answer's data, or raise the error that stopped it."""
        if self.error is not None:
            raise self.error
        return self.data
