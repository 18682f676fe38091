"""Replace the bundled sample with the real CDC BRFSS extract (nine questions, 2011 on).

Downloads the CDC "Nutrition, Physical Activity, and Obesity - Behavioral Risk Factor
Surveillance System" CSV export, keeps the nine questions of SPEC section 2 and every year from
2011 on that the export has, and writes it in the bundled file's schema, with the columns and
categories named as the export names them (its current `Sex` where older exports say `Gender`).
On any failure the existing file is left byte-for-byte unchanged. Usage::

    python scripts/fetch_real_data.py [--url URL] [--output PATH] [--timeout SECONDS]
"""

from __future__ import annotations

import argparse
import csv
import http.client
import os
import sys
import tempfile
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

if __package__:
    from . import dataset_schema as schema
else:  # run as ``python scripts/fetch_real_data.py``
    import dataset_schema as schema

DEFAULT_URL = "https://data.cdc.gov/api/views/hn4x-zwk7/rows.csv?accessType=DOWNLOAD"
URL_ENV_VAR = "LSS_REAL_DATA_URL"
DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / schema.DATA_FILE_NAME
DEFAULT_TIMEOUT = 10.0
CHUNK = 1 << 16


class FetchError(Exception):
    """A failure worth one line on stderr."""


_NETWORK_ERRORS = (urllib.error.URLError, OSError, http.client.HTTPException, ValueError)


def _download_error(url: str, exc: BaseException) -> FetchError:
    """Describe a failed download in one line."""
    prefix = f"cannot download the CDC extract from {url}"
    if isinstance(exc, urllib.error.HTTPError):
        return FetchError(f"{prefix}: the server answered HTTP {exc.code} {exc.reason}")
    if isinstance(exc, ValueError):  # malformed URL or unknown scheme
        return FetchError(f"{prefix}: {exc}")
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if str(reason).startswith("unknown url type"):
        return FetchError(f"{prefix}: {reason}")
    return FetchError(f"{prefix}: {reason or type(exc).__name__} (is the network reachable?)")


def download(url: str, dest: Path, timeout: float) -> int:
    """Stream ``url`` into ``dest`` and return the number of bytes written."""
    request = urllib.request.Request(url, headers={"User-Agent": "le-stats-sportif/1.0"})
    total = 0
    with dest.open("wb") as out:
        try:
            response = urllib.request.urlopen(request, timeout=timeout)
        except _NETWORK_ERRORS as exc:
            raise _download_error(url, exc) from exc
        with response:
            while True:
                try:
                    chunk = response.read(CHUNK)
                except _NETWORK_ERRORS as exc:  # timeouts, resets, short reads
                    raise _download_error(url, exc) from exc
                if not chunk:
                    break
                out.write(chunk)
                total += len(chunk)
    if total == 0:
        raise FetchError(f"cannot download the CDC extract from {url}: the answer was empty")
    return total


def _column_map(header: list[str]) -> tuple[dict[str, int], dict[str, str]]:
    """Each schema column's position in ``header`` (names matched without surrounding spaces,
    or by one of the column's aliases), and the name the export gives an aliased column."""
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        positions.setdefault(name.strip(), index)
    mapping: dict[str, int] = {}
    renamed: dict[str, str] = {}
    for column in schema.CDC_COLUMNS:
        for name in (column.strip(), *schema.COLUMN_ALIASES.get(column, ())):
            if name in positions:
                mapping[column] = positions[name]
                if name != column.strip():
                    renamed[column] = name
                break
    return mapping, renamed


def filter_extract(source: Path, dest: Path) -> tuple[int, Counter[str], Counter[int], list[str]]:
    """Copy the wanted rows of ``source`` into ``dest``; return counts and missing columns."""
    wanted = frozenset(schema.QUESTION_TEXTS)
    kept = 0
    questions: Counter[str] = Counter()
    years: Counter[int] = Counter()
    with (
        source.open("r", encoding="utf-8-sig", newline="") as src,
        dest.open("w", encoding="utf-8", newline="") as out,
    ):
        reader = csv.reader(src)
        header = next(reader, None)
        if not header:
            raise FetchError("the downloaded file is empty or not a CSV")
        mapping, renamed = _column_map(header)
        lacking = [c for c in schema.REQUIRED_COLUMNS if c not in mapping]
        if lacking:
            raise FetchError(
                "the downloaded CSV lacks the required column(s) "
                + ", ".join(repr(c) for c in lacking)
            )
        missing = [c for c in schema.CDC_COLUMNS if c not in mapping]
        picks = [mapping.get(c) for c in schema.CDC_COLUMNS]
        width = len(header)
        q_at = mapping["Question"]
        y_at = mapping["YearStart"]
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([renamed.get(column, column) for column in schema.COLUMNS])
        for record in reader:
            if len(record) < width:
                record = record + [""] * (width - len(record))
            question = record[q_at]
            if question not in wanted:
                continue
            try:
                year = int(record[y_at].strip())
            except ValueError:
                continue
            if year < schema.FIRST_YEAR:
                continue
            writer.writerow([kept, *("" if p is None else record[p] for p in picks)])
            kept += 1
            questions[question] += 1
            years[year] += 1
    return kept, questions, years, missing


def _remove(path: Path | None) -> None:
    """Delete a temporary file if it exists."""
    if path is not None:
        path.unlink(missing_ok=True)


def _temp_path(directory: Path, name: str, suffix: str) -> Path:
    """Create an empty private temporary file next to the output and return its path."""
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=suffix, dir=directory)
    os.close(fd)
    return Path(tmp)


def fetch(url: str, output: Path, timeout: float = DEFAULT_TIMEOUT) -> str:
    """Download, filter and install the real extract at ``output``; return a summary line."""
    directory = output.parent if str(output.parent) else Path(".")
    if not directory.is_dir():
        raise FetchError(f"the output directory {directory} does not exist")
    raw: Path | None = None
    filtered: Path | None = None
    try:
        raw = _temp_path(directory, output.name, ".download")
        filtered = _temp_path(directory, output.name, ".tmp")
        size = download(url, raw, timeout)
        try:
            kept, questions, years, missing = filter_extract(raw, filtered)
        except (UnicodeDecodeError, csv.Error) as exc:
            raise FetchError(f"the downloaded file is not a readable CSV: {exc}") from exc
        if kept == 0:
            raise FetchError(
                f"the downloaded CSV has no rows for the nine questions from {schema.FIRST_YEAR} on"
            )
        if missing:
            print(
                "warning: the downloaded CSV lacks "
                + ", ".join(repr(c) for c in missing)
                + "; written as empty columns",
                file=sys.stderr,
            )
        os.chmod(filtered, 0o644)
        os.replace(filtered, output)
        filtered = None
    finally:
        _remove(raw)
        _remove(filtered)
    year_range = f"{min(years)}-{max(years)}"
    return (
        f"wrote {kept} rows to {output} from {url} ({size} bytes downloaded): "
        f"{len(questions)} of {len(schema.QUESTION_TEXTS)} questions, "
        f"{len(years)} years ({year_range})"
    )


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--url",
        default=os.environ.get(URL_ENV_VAR) or DEFAULT_URL,
        help=f"CSV export to download (default: ${URL_ENV_VAR} or the CDC export)",
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="CSV file to write")
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help="seconds to wait for the connection and for each read (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    output: Path = args.output
    try:
        summary = fetch(args.url, output, args.timeout)
    except FetchError as exc:
        print(f"error: {exc}; {output.name} left unchanged", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: {exc}; {output.name} left unchanged", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"error: interrupted; {output.name} left unchanged", file=sys.stderr)
        return 130
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
