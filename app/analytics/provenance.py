"""What every new answer says of the rows behind it: the dataset, the rows used and left out."""

from __future__ import annotations

from dataclasses import dataclass

from app.analytics.rows import MISSING, NO_CI, SUPPRESSED, USED
from app.distribution.version import VERSION

#: The service's version, as every answer's provenance names it (app.distribution.version).
SERVICE_VERSION = VERSION


@dataclass(frozen=True)
class RowCounts:
    """How many rows an answer looked at, by what each could give it."""

    used: int = 0
    suppressed: int = 0
    missing: int = 0
    without_ci: int = 0

    @classmethod
    def of(cls, by_status: list[int]) -> RowCounts:
        """The counts from how many rows have each status (app.analytics.rows)."""
        return cls(by_status[USED], by_status[SUPPRESSED], by_status[MISSING], by_status[NO_CI])

    def __add__(self, other: RowCounts) -> RowCounts:
        return RowCounts(
            self.used + other.used,
            self.suppressed + other.suppressed,
            self.missing + other.missing,
            self.without_ci + other.without_ci,
        )

    def why_no_value(self) -> str:
        """The reason an estimate over these rows has no value (no row was usable)."""
        if not (self.suppressed or self.missing or self.without_ci):
            return "no rows in the years and stratification asked for"
        return (
            "no row with both a value and a confidence interval "
            f"({self.suppressed} suppressed, {self.missing} missing, "
            f"{self.without_ci} without a confidence interval)"
        )


def provenance(sha256: str, counts: RowCounts) -> dict[str, object]:
    """The `provenance` object of an answer."""
    return {
        "dataset_sha256": sha256,
        "rows_used": counts.used,
        "rows_suppressed": counts.suppressed,
        "rows_missing": counts.missing,
        "rows_without_ci": counts.without_ci,
        "service_version": SERVICE_VERSION,
    }
