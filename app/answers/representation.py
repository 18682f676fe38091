"""What names a GET answer before it is computed: its strong ETag, and its CSV's file name.

An answer depends only on the question asked, the dataset and the code that computes it, so its
ETag is made from those alone, with no job: the service's version, the dataset's SHA-256, the
format and the normalised request (the body `Task.payload` gives, whatever way the URL spelled
it). A client or cache that holds it is answered `304` without a job, and the tag changes
whenever the dataset (or the service) does. The same request on the same dataset gives the same
bytes (`rankings`' draws included), as a strong validator needs.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

import orjson

from app.answers.tidy import years_text
from app.distribution.version import VERSION
from app.task import Task

#: Longest part of a file name made of the question's words.
_QUESTION_SLUG = 60


def etag(dataset_sha256: str, task: Task, fmt: str) -> str:
    """The quoted strong ETag of `task`'s answer as `fmt` (json or csv) on this dataset."""
    request = orjson.dumps(task.payload())
    named = f"{VERSION}\n{dataset_sha256}\n{fmt}\n{task.endpoint}\n".encode() + request
    return f'"{hashlib.blake2b(named, digest_size=16).hexdigest()}"'


def slug(text: str, limit: int | None = None) -> str:
    """`text` as lowercase ASCII words joined by `-`, cut at a word within `limit` characters."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if limit is not None and len(words) > limit:
        cut = words[: limit + 1]
        words = cut[: cut.rfind("-")] if "-" in cut else words[:limit]
    return words


def filename(task: Task) -> str:
    """`<endpoint>-<question slug>[-<state slug>][-<years>].csv`, in ASCII."""
    parts = [task.endpoint, slug(task.question, _QUESTION_SLUG)]
    if task.state is not None:
        parts.append(slug(task.state))
    years = years_text(task.selection.years)
    if years is not None:
        parts.append(years)
    return "-".join(part for part in parts if part) + ".csv"


def disposition(task: Task) -> tuple[str, str]:
    """The `Content-Disposition` header of `task`'s CSV: a download under `filename`."""
    return ("Content-Disposition", f'attachment; filename="{filename(task)}"')
