"""Tests of the dataset scripts: the synthetic sample generator and the real-data fetcher."""

from __future__ import annotations

import csv
import io
import math
import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from scripts import dataset_schema as schema
from scripts import generate_sample
from unittests.conftest import ROOT

BUNDLED = ROOT / schema.DATA_FILE_NAME
FETCH_SCRIPT = ROOT / "scripts" / "fetch_real_data.py"
GENERATE_SCRIPT = ROOT / "scripts" / "generate_sample.py"
ORIGINAL = b",YearStart\n0,2015\n"


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """Read a CSV with the csv module: the header and the rows as dicts."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = [dict(zip(header, record, strict=True)) for record in reader]
    return header, rows


def _is_number(text: str) -> bool:
    """Whether ``text`` parses as a finite number."""
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


# --- (a) determinism -----------------------------------------------------------------------


def test_generate_is_deterministic(tmp_path: Path) -> None:
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    generate_sample.generate(first, rows=2000, seed=5)
    generate_sample.generate(second, rows=2000, seed=5)
    assert first.read_bytes() == second.read_bytes()
    header, rows = _read(first)
    assert tuple(header) == schema.COLUMNS
    assert [row[""] for row in rows] == [str(i) for i in range(2000)]
    generate_sample.generate(second, rows=2000, seed=6)
    assert first.read_bytes() != second.read_bytes()


def test_cli_matches_generate(tmp_path: Path) -> None:
    via_cli, via_import = tmp_path / "cli.csv", tmp_path / "import.csv"
    out = str(via_cli)
    result = subprocess.run(
        [sys.executable, str(GENERATE_SCRIPT), "--rows", "500", "--seed", "7", "--output", out],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    generate_sample.generate(via_import, rows=500, seed=7)
    assert via_cli.read_bytes() == via_import.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cli.csv", "import.csv"]


def test_bundled_file_is_the_default_output(tmp_path: Path) -> None:
    fresh = tmp_path / schema.DATA_FILE_NAME
    summary = generate_sample.generate(fresh)
    assert summary.rows == generate_sample.DEFAULT_ROWS == 18_650
    assert fresh.read_bytes() == BUNDLED.read_bytes(), (
        "the bundled sample drifted from scripts/generate_sample.py; run `make sample`"
    )


# --- (b) the bundled file's schema ---------------------------------------------------------


@pytest.fixture(scope="module")
def bundled() -> tuple[list[str], list[dict[str, str]]]:
    return _read(BUNDLED)


def test_bundled_header(bundled: tuple[list[str], list[dict[str, str]]]) -> None:
    header, _ = bundled
    assert len(header) == 34
    assert header[0] == ""
    assert "High_Confidence_Limit " in header
    assert "High_Confidence_Limit" not in header
    assert tuple(header) == schema.COLUMNS


def test_bundled_rows(bundled: tuple[list[str], list[dict[str, str]]]) -> None:
    _, rows = bundled
    assert len(rows) == 18_650
    assert [row[""] for row in rows] == [str(i) for i in range(len(rows))]
    for row in rows:
        assert 2011 <= int(row["YearStart"]) <= int(row["YearEnd"]) <= 2022
        assert "Synthetic" in row["Datasource"]
        assert schema.LOCATION_ABBR[row["LocationDesc"]] == row["LocationAbbr"]
        assert row["Sample_Size"].isdigit()
        assert (row["GeoLocation"] == "") == (row["LocationDesc"] == "National")
    assert {row["LocationDesc"] for row in rows} == set(schema.LOCATION_NAMES)
    assert len(schema.LOCATION_NAMES) == 55
    assert {row["Question"] for row in rows} == set(schema.QUESTION_TEXTS)
    assert len(schema.QUESTION_TEXTS) == 9


def test_bundled_strata(bundled: tuple[list[str], list[dict[str, str]]]) -> None:
    _, rows = bundled
    expected = {(cat, s) for cat, strata in schema.CATEGORIES.items() for s in strata}
    assert len(expected) == 28
    seen = {(r["StratificationCategory1"], r["Stratification1"]) for r in rows}
    assert seen - {("", "")} == expected
    # Every location x question x stratum has at least one usable value.
    usable = {
        (r["LocationDesc"], r["Question"], r["StratificationCategory1"], r["Stratification1"])
        for r in rows
        if _is_number(r["Data_Value"])
    }
    for location in schema.LOCATION_NAMES:
        for question in schema.QUESTION_TEXTS:
            for category, stratum in expected:
                assert (location, question, category, stratum) in usable
    # The per-stratum column of the category repeats the stratum; the others stay empty.
    column_of = {s.category: s.column for s in schema.STRATA}
    for row in rows:
        category = row["StratificationCategory1"]
        for column in schema.STRATUM_COLUMNS:
            wanted = row["Stratification1"] if column_of.get(category) == column else ""
            assert row[column] == wanted


def test_bundled_blank_and_unstratified_shares(
    bundled: tuple[list[str], list[dict[str, str]]],
) -> None:
    _, rows = bundled
    blank = [r for r in rows if r["Data_Value"] == ""]
    assert 0.005 <= len(blank) / len(rows) <= 0.02
    for row in blank:
        assert row["Data_Value_Footnote_Symbol"] == "~"
        assert row["Data_Value_Footnote"] == schema.BLANK_FOOTNOTE
        assert row["Low_Confidence_Limit"] == row["High_Confidence_Limit "] == ""
    unstratified = [r for r in rows if r["StratificationCategory1"] == ""]
    assert 0.005 <= len(unstratified) / len(rows) <= 0.02
    for row in unstratified:
        assert row["Stratification1"] == ""
        assert _is_number(row["Data_Value"])
    for row in rows:
        if row["Data_Value"]:
            low, value = float(row["Low_Confidence_Limit"]), float(row["Data_Value"])
            assert low <= value <= float(row["High_Confidence_Limit "])
            assert 0 < value < 100
            assert row["Data_Value_Footnote_Symbol"] == ""


def test_bundled_quoting() -> None:
    text = BUNDLED.read_text(encoding="utf-8")
    assert ',"$75,000 or greater",' in text
    assert ',"(32.84' in text  # Alabama's GeoLocation is quoted


# --- (c)/(d) fetch_real_data against a local server ----------------------------------------

NINE = schema.QUESTION_TEXTS
OTHER_QUESTION = "Percent of students in grades 9-12 who have obesity"


def _cdc_row(year: int, question: str, stratum: schema.Stratum | None, value: str) -> list[str]:
    """One row of a CDC-style export (33 columns, no index column)."""
    row = dict.fromkeys(schema.CDC_COLUMNS, "")
    row.update(
        {
            "YearStart": str(year),
            "YearEnd": str(year),
            "LocationAbbr": "AL",
            "LocationDesc": "Alabama",
            "Datasource": "Behavioral Risk Factor Surveillance System",
            "Question": question,
            "Data_Value_Type": "Value",
            "Data_Value": value,
            "Data_Value_Alt": value,
            "GeoLocation": "(32.84057112200048, -86.63186076199969)",
            "LocationID": "01",
        }
    )
    if stratum is not None:
        row[stratum.column] = stratum.name
        row["StratificationCategory1"] = stratum.category
        row["Stratification1"] = stratum.name
        row["StratificationCategoryId1"] = stratum.category_id
        row["StratificationID1"] = stratum.stratum_id
    return [row[c] for c in schema.CDC_COLUMNS]


def _fixture() -> tuple[bytes, list[list[str]]]:
    """A CDC-style export and the data rows the fetcher must keep (without the index)."""
    rich = next(s for s in schema.STRATA if s.name == "$75,000 or greater")
    total = schema.STRATA[0]
    rows: list[list[str]] = []
    kept: list[list[str]] = []
    for i, question in enumerate(NINE):
        for year in (2010, 2011, 2016, 2022, 2023):
            row = _cdc_row(year, question, rich if i % 2 else total, f"{20 + i}.{year % 10}0")
            rows.append(row)
            if 2011 <= year <= 2022:
                kept.append(row)
        rows.append(_cdc_row(2015, OTHER_QUESTION, total, "14.2"))
    blank = _cdc_row(2013, NINE[1], None, "")
    rows.append(blank)
    kept.append(blank)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(schema.CDC_COLUMNS)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8"), kept


FIXTURE, FIXTURE_KEPT = _fixture()


def _without_question() -> bytes:
    """A CSV lacking the Question column."""
    text = FIXTURE.decode("utf-8")
    records = list(csv.reader(io.StringIO(text)))
    at = records[0].index("Question")
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([r[:at] + r[at + 1 :] for r in records])
    return out.getvalue().encode("utf-8")


PAGES = {"/rows.csv": FIXTURE, "/broken.csv": _without_question()}


class _Handler(BaseHTTPRequestHandler):
    """Serves PAGES, 404 for anything else."""

    def do_GET(self) -> None:
        body = PAGES.get(self.path.split("?")[0])
        if body is None:
            self.send_error(404, "Not Found")
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/csv")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def _fetch(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run fetch_real_data.py as a subprocess."""
    full_env = {k: v for k, v in os.environ.items() if k != "LSS_REAL_DATA_URL"}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, str(FETCH_SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=full_env,
    )


def test_fetch_keeps_nine_questions_and_years(server: str, tmp_path: Path) -> None:
    output = tmp_path / schema.DATA_FILE_NAME
    output.write_bytes(ORIGINAL)
    result = _fetch("--url", f"{server}/rows.csv?accessType=DOWNLOAD", "--output", str(output))
    assert result.returncode == 0, result.stderr
    assert f"wrote {len(FIXTURE_KEPT)} rows" in result.stdout
    header, rows = _read(output)
    assert tuple(header) == schema.COLUMNS
    assert header[16] == "High_Confidence_Limit "
    assert len(rows) == len(FIXTURE_KEPT)
    assert [row[""] for row in rows] == [str(i) for i in range(len(rows))]
    assert [[row[c] for c in schema.CDC_COLUMNS] for row in rows] == FIXTURE_KEPT
    assert {row["Question"] for row in rows} == set(NINE)
    assert Counter(row["YearStart"] for row in rows).keys() == {"2011", "2013", "2016", "2022"}
    assert any(row["Income"] == "$75,000 or greater" for row in rows)
    assert any(row["Data_Value"] == "21.60" for row in rows)  # verbatim, not re-formatted
    assert ',"$75,000 or greater",' in output.read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == [output.name]


def test_fetch_uses_url_from_environment(server: str, tmp_path: Path) -> None:
    output = tmp_path / "out.csv"
    result = _fetch("--output", str(output), env={"LSS_REAL_DATA_URL": f"{server}/rows.csv"})
    assert result.returncode == 0, result.stderr
    assert len(_read(output)[1]) == len(FIXTURE_KEPT)


def _assert_failed(result: subprocess.CompletedProcess[str], output: Path, *words: str) -> None:
    """The fetch failed with a one-line message and left the output file untouched."""
    assert result.returncode != 0
    message = result.stderr.strip()
    assert message and "\n" not in message, message
    assert "left unchanged" in message
    for word in words:
        assert word in message, message
    assert output.read_bytes() == ORIGINAL
    assert sorted(p.name for p in output.parent.iterdir()) == [output.name]


def test_fetch_unreachable_fails_fast(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    output = tmp_path / schema.DATA_FILE_NAME
    output.write_bytes(ORIGINAL)
    started = time.monotonic()
    result = _fetch("--url", f"http://127.0.0.1:{port}/x.csv", "--output", str(output))
    assert time.monotonic() - started < 15
    _assert_failed(result, output, "network", f"127.0.0.1:{port}")


def test_fetch_http_error_fails(server: str, tmp_path: Path) -> None:
    output = tmp_path / schema.DATA_FILE_NAME
    output.write_bytes(ORIGINAL)
    result = _fetch("--url", f"{server}/missing.csv", "--output", str(output))
    _assert_failed(result, output, "404")


def test_fetch_missing_columns_fails(server: str, tmp_path: Path) -> None:
    output = tmp_path / schema.DATA_FILE_NAME
    output.write_bytes(ORIGINAL)
    result = _fetch("--url", f"{server}/broken.csv", "--output", str(output))
    _assert_failed(result, output, "Question")
