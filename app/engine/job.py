"""Job ids and statuses."""

from __future__ import annotations

import enum
import re

#: What every job id begins with.
JOB_ID_PREFIX = "job_id_"
#: A job id as issued: the prefix and a positive number without leading zeros.
JOB_ID_PATTERN = re.compile(JOB_ID_PREFIX + r"([1-9][0-9]{0,17})")


class JobStatus(str, enum.Enum):
    """A job's state; the values go straight into JSON."""

    RUNNING = "running"
    DONE = "done"
    ERROR = "error"


def format_job_id(number: int) -> str:
    """The public id of job `number`."""
    return f"{JOB_ID_PREFIX}{number}"


def parse_job_id(job_id: str) -> int | None:
    """The number of a well-formed job id, else None (never trust it in a path otherwise)."""
    match = JOB_ID_PATTERN.fullmatch(job_id)
    return int(match.group(1)) if match else None
