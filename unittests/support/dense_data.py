"""A generated extract in the real schema with every year of every cell filled, for the
differential tests: the bundled sample may have too few years per cell for a slope.

Values follow a trend per cell (rising, falling or flat) with noise; some rows are suppressed,
blank, without limits, with a zero-width interval, or a second row of the same year.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

from unittests.support.reference import QUESTIONS

Z = 1.959964
LOCATIONS = ("National", "Ohio", "Texas", "Guam", "Puerto Rico", "Wyoming")
STRATA = (
    ("Total", "Total"),
    ("Gender", "Male"),
    ("Gender", "Female"),
    ("Income", "Less than $15,000"),
    ("Income", "$75,000 or greater"),
    ("Income", "Data not reported"),
    ("Age (years)", "18 - 24"),
    ("Age (years)", "65 or older"),
)
YEARS = range(2011, 2023)
SUPPRESSED = "Data not available because sample size is insufficient."


def write_dense(path: Path, header: list[str], seed: int = 13) -> Path:
    """Write the extract to `path` with the 34 columns of `header`; returns `path`."""
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=header)
        writer.writeheader()
        number = 0
        for question in QUESTIONS:
            for location in LOCATIONS:
                for category, stratum in STRATA:
                    base, slope = rng.uniform(15, 45), rng.choice((-0.6, 0.0, 0.7))
                    for year in YEARS:
                        for _ in range(2 if rng.random() < 0.05 else 1):
                            value = base + slope * (year - 2011) + rng.gauss(0, 0.8)
                            se = rng.uniform(0.2, 4.0)
                            row = {
                                "": number,
                                "YearStart": year,
                                "YearEnd": year,
                                "LocationDesc": location,
                                "Datasource": "Generated test data",
                                "Question": question,
                                "Data_Value": f"{value:.1f}",
                                "Low_Confidence_Limit": f"{value - Z * se:.2f}",
                                "High_Confidence_Limit ": f"{value + Z * se:.2f}",
                                "Sample_Size": rng.choice((25, 40, 120, 600, 1500, 3000)),
                                "StratificationCategory1": category,
                                "Stratification1": stratum,
                            }
                            luck = rng.random()
                            if luck < 0.04:
                                row |= {
                                    "Data_Value": "",
                                    "Data_Value_Footnote": SUPPRESSED,
                                    "Low_Confidence_Limit": "",
                                    "High_Confidence_Limit ": "",
                                }
                            elif luck < 0.06:
                                row |= {"Data_Value": ""}
                            elif luck < 0.08:
                                row |= {"Low_Confidence_Limit": ""}
                            elif luck < 0.09:
                                row |= {
                                    "Low_Confidence_Limit": row["Data_Value"],
                                    "High_Confidence_Limit ": row["Data_Value"],
                                }
                            elif luck < 0.10:
                                row |= {"Sample_Size": ""}
                            writer.writerow(row)
                            number += 1
    return path
