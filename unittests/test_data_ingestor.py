"""Loading the extract: counts, skipped rows, indexes and start-up failures (the small fixture)."""

from __future__ import annotations

from pathlib import Path

import pytest

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
    assert dataset.rows_read == 18650
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
