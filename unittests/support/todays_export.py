"""A small CSV in the shape of today's CDC export (SPEC §15.4), for the real-data command.

Today's export differs from the course's file in three ways the command must take: the sex
category is `Sex` (id `SEX`, per-stratum column `Sex`) where older exports say `Gender` (`GEN`),
it runs to 2023, and (as a CSV written by another tool may) it names the high limit without the
course file's trailing space. It has no index column. Values are made up.
"""

from __future__ import annotations

import csv
from pathlib import Path

from scripts import dataset_schema as schema

#: The export's columns: the CDC's, with `Sex` for `Gender` and the high limit's name stripped.
COLUMNS = tuple("Sex" if column == "Gender" else column.strip() for column in schema.CDC_COLUMNS)
LOCATIONS = ("Alabama", "Ohio", "Texas", "Guam", "National")
YEARS = (2010, 2011, 2016, 2022, 2023)
#: The years the command keeps: every year from 2011 on.
KEPT_YEARS = (2011, 2016, 2022, 2023)
GROUPS = (
    ("Total", "Total", "OVR", "OVERALL", "Total"),
    ("Sex", "Male", "SEX", "SEXM", "Sex"),
    ("Sex", "Female", "SEX", "SEXF", "Sex"),
)
OBESITY = schema.QUESTIONS[1].text
MUSCLE = schema.QUESTIONS[8].text


def _row(location: str, question: str, year: int, group: tuple, value: float) -> dict[str, str]:
    category, stratum, category_id, stratum_id, column = group
    row = dict.fromkeys(COLUMNS, "")
    size = 400 if location == "Guam" else 300_000 if location == "National" else 5_000
    half = 1.96 * (value * (100 - value) * 2 / size) ** 0.5
    row.update(
        {
            "YearStart": str(year),
            "YearEnd": str(year),
            "LocationAbbr": schema.LOCATION_ABBR[location],
            "LocationDesc": location,
            "Datasource": "BRFSS",
            "Question": question,
            "Data_Value_Type": "Value",
            "Data_Value": f"{value:.1f}",
            "Data_Value_Alt": f"{value:.1f}",
            "Low_Confidence_Limit": f"{value - half:.1f}",
            "High_Confidence_Limit": f"{value + half:.1f}",
            "Sample_Size": str(size),
            column: stratum,
            "StratificationCategory1": category,
            "Stratification1": stratum,
            "StratificationCategoryId1": category_id,
            "StratificationID1": stratum_id,
        }
    )
    return row


def write_todays_export(path: Path) -> Path:
    """Write the export: obesity and muscle strengthening, every location, year and group of
    above, each value a little different; and one row of a question the service does not ask."""
    rows = []
    for qi, question in enumerate((OBESITY, MUSCLE)):
        for li, location in enumerate(LOCATIONS):
            for yi, year in enumerate(YEARS):
                for gi, group in enumerate(GROUPS):
                    value = 25.0 + 10 * qi + 1.3 * li + 0.4 * yi + 2.1 * gi
                    rows.append(_row(location, question, year, group, value))
    rows.append(_row("Ohio", "Percent of students in grades 9-12 who have obesity", 2023,
                     GROUPS[0], 14.2))  # fmt: skip
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path
