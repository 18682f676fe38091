"""Loading the extract: counts, skipped rows, indexes, the row arrays of the new statistics and
start-up failures (the small fixture)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from app.analytics.rows import MISSING, NO_CI, SUPPRESSED, USED
from app.data_ingestor import DatasetError, load_dataset
from unittests.conftest import BUNDLED_CSV, MUSCLE, OBESITY


def test_counts_rows_used_and_skipped(small_dataset):
    # 21 rows: 18 usable, one blank and one "~" value skipped, one question of no interest.
    assert (small_dataset.rows_read, small_dataset.rows_used, small_dataset.rows_skipped) == (
        21,
        18,
        2,
    )
    assert small_dataset.synthetic is False
    assert sorted(small_dataset.questions) == sorted([OBESITY, MUSCLE])


def test_location_means_are_ascending_with_ties_by_name(small_dataset):
    means = small_dataset.questions[OBESITY].state_means
    assert list(means.items()) == [
        ("Ohio", 23.0),  # 20, 22 and the unstratified 27; the blank value is skipped
        ("Texas", 23.0),
        ("National", 27.0),
        ("Alabama", 29.6),  # (30 + 32 + 34 + 28 + 24) / 5
        ("Wyoming", 35.0),
        ("Guam", 40.0),  # the "~" value is skipped
    ]


def test_global_mean_is_over_rows_not_over_location_means(small_dataset):
    assert small_dataset.questions[OBESITY].global_mean == pytest.approx(369 / 13, rel=1e-12)
    assert small_dataset.questions[MUSCLE].global_mean == pytest.approx(132 / 5, rel=1e-12)


def test_category_index_skips_unstratified_rows_and_sorts_tuples(small_dataset):
    index = small_dataset.questions[OBESITY]
    assert index.category_means == (
        ("('Alabama', 'Gender', 'Female')", 28.0),
        ("('Alabama', 'Gender', 'Male')", 33.0),
        ("('Alabama', 'Income', '$75,000 or greater')", 24.0),
        ("('Alabama', 'Total', 'Total')", 30.0),
        ("('Guam', 'Total', 'Total')", 40.0),
        ("('National', 'Income', '$75,000 or greater')", 29.0),
        ("('National', 'Total', 'Total')", 25.0),
        ("('Ohio', 'Gender', 'Male')", 22.0),
        ("('Ohio', 'Total', 'Total')", 20.0),
        ("('Texas', 'Total', 'Total')", 23.0),
        ("('Wyoming', 'Total', 'Total')", 35.0),
    )
    assert index.state_category_means["Ohio"] == (
        ("('Gender', 'Male')", 22.0),
        ("('Total', 'Total')", 20.0),
    )


def test_bundled_dataset_is_the_synthetic_sample_with_every_location():
    dataset = load_dataset(BUNDLED_CSV)
    assert dataset.synthetic is True
    assert dataset.rows_read == 21000
    assert dataset.rows_used + dataset.rows_skipped == dataset.rows_read
    assert len(dataset.questions) == 9
    assert len(dataset.locations) == 55


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "file not found"),
        ("", "empty"),
        (",LocationDesc,Question,StratificationCategory1,Stratification1\n", "Data_Value"),
        ("LocationDesc,Question\nOhio,x\n", "Data_Value, StratificationCategory1"),
        (b"\xff\xfe\x00bad\x00", "not a readable CSV"),
        (
            "YearStart,LocationDesc,Question,Data_Value,StratificationCategory1,Stratification1\n",
            "no usable rows",
        ),
        (
            "YearStart,LocationDesc,Question,Data_Value,StratificationCategory1,Stratification1\n"
            f"2011,Ohio,{OBESITY},n/a,Total,Total\n2011,Ohio,Some other question,12,Total,Total\n",
            "no usable rows (2 read",
        ),
    ],
    ids=[
        "missing-file",
        "empty-file",
        "no-value-column",
        "several-missing",
        "binary",
        "header-only",
        "no-numeric-value",
    ],
)
def test_unusable_file_names_the_file_and_the_problem(tmp_path, content, problem):
    path = tmp_path / "data.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        _write(path, content)
    with pytest.raises(DatasetError) as raised:
        load_dataset(path)
    assert str(path) in str(raised.value)
    assert problem in str(raised.value)


def test_non_numeric_and_infinite_values_are_skipped(tmp_path):
    header = "YearStart,LocationDesc,Question,Data_Value,StratificationCategory1,Stratification1\n"
    rows = "".join(
        f"2011,Ohio,{OBESITY},{value},Total,Total\n"
        for value in ("10", "abc", "inf", "-inf", "", "30")
    )
    dataset = load_dataset(_write(tmp_path / "data.csv", header + rows))
    assert (dataset.rows_used, dataset.rows_skipped) == (2, 4)
    assert dataset.questions[OBESITY].state_means == {"Ohio": 20.0}


# -- the columns of the statistics of SPEC §13 ---------------------------------------------------


def test_the_dataset_names_its_bytes_by_sha256():
    dataset = load_dataset(BUNDLED_CSV)
    assert dataset.sha256 == hashlib.sha256(BUNDLED_CSV.read_bytes()).hexdigest()
    assert dataset.describe()["sha256"] == dataset.sha256
    assert dataset.missing_columns == ()


def test_year_start_is_required(tmp_path):
    header = "LocationDesc,Question,Data_Value,StratificationCategory1,Stratification1\n"
    path = _write(tmp_path / "data.csv", header + f"Ohio,{OBESITY},10,Total,Total\n")
    with pytest.raises(DatasetError, match=r"data.csv: missing required column\(s\): YearStart$"):
        load_dataset(path)


def test_without_the_optional_columns_every_row_lacks_an_interval(tmp_path):
    header = "YearStart,LocationDesc,Question,Data_Value,StratificationCategory1,Stratification1\n"
    path = _write(tmp_path / "data.csv", header + f"2011,Ohio,{OBESITY},10,Total,Total\n")
    dataset = load_dataset(path)
    assert dataset.missing_columns == (
        "Low_Confidence_Limit",
        "High_Confidence_Limit ",
        "Sample_Size",
        "Data_Value_Footnote",
        "Datasource",
    )
    assert dataset.questions[OBESITY].state_means == {"Ohio": 10.0}
    assert dataset.rows.status.tolist() == [NO_CI]


def test_the_confidence_limit_header_is_found_without_its_trailing_space(tmp_path):
    header = (
        "YearStart,LocationDesc,Question,Data_Value,StratificationCategory1,Stratification1,"
        "Low_Confidence_Limit,High_Confidence_Limit,Sample_Size,Data_Value_Footnote\n"
    )
    rows = (
        f"2011,Ohio,{OBESITY},10,Total,Total,8,12,100,\n"
        f"2012,Ohio,{OBESITY},,Total,Total,,,,Data suppressed\n"
        f"2013,Ohio,{OBESITY},,Total,Total,,,,\n"
        f"x,Ohio,{OBESITY},11,Total,Total,9,13,100,\n"
    )
    dataset = load_dataset(_write(tmp_path / "data.csv", header + rows))
    assert dataset.missing_columns == ("Datasource",)
    table = dataset.rows
    assert table.cells == [(OBESITY, "Ohio", "Total", "Total")]
    # sorted by year, the row without one (x) first; its value still counts for the nine
    assert table.year.tolist() == [0, 2011, 2012, 2013]
    assert table.status.tolist() == [USED, USED, SUPPRESSED, MISSING]
    assert table.se[1] == pytest.approx(4 / (2 * 1.959964))
    assert dataset.questions[OBESITY].state_means == {"Ohio": 10.5}
    # What the pages' banner shows: the years' span and the footnote of the withheld value.
    assert dataset.suppression_footnotes == ("Data suppressed",)
    assert (dataset.years, dataset.describe()["years"]) == ([2011, 2013], [2011, 2013])
