"""Shared description of the BRFSS nutrition/activity/obesity CSV used by the dataset scripts.

The service keeps its own constants; this module serves ``generate_sample.py``,
``fetch_real_data.py`` and their tests only.
"""

from __future__ import annotations

from typing import NamedTuple

DATA_FILE_NAME = "nutrition_activity_obesity_usa_subset.csv"

#: The first year the real-data command keeps (it keeps every later year the export has).
FIRST_YEAR = 2011
#: The last year of the synthetic sample.
LAST_YEAR = 2022

# The per-stratum columns, in export order.
STRATUM_COLUMNS: tuple[str, ...] = (
    "Total",
    "Age(years)",
    "Education",
    "Gender",
    "Income",
    "Race/Ethnicity",
)

# Other names a CDC export may give a column: the current export says `Sex` where older ones
# (and the course's file) say `Gender`. The real-data command keeps the export's name.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {"Gender": ("Sex",)}

# The CDC export's own columns, in export order (note the trailing space of one of them).
CDC_COLUMNS: tuple[str, ...] = (
    "YearStart",
    "YearEnd",
    "LocationAbbr",
    "LocationDesc",
    "Datasource",
    "Class",
    "Topic",
    "Question",
    "Data_Value_Unit",
    "Data_Value_Type",
    "Data_Value",
    "Data_Value_Alt",
    "Data_Value_Footnote_Symbol",
    "Data_Value_Footnote",
    "Low_Confidence_Limit",
    "High_Confidence_Limit ",
    "Sample_Size",
    *STRATUM_COLUMNS,
    "GeoLocation",
    "ClassID",
    "TopicID",
    "QuestionID",
    "DataValueTypeID",
    "LocationID",
    "StratificationCategory1",
    "Stratification1",
    "StratificationCategoryId1",
    "StratificationID1",
)

# The bundled file: an unnamed 0-based row index column, then the CDC columns.
COLUMNS: tuple[str, ...] = ("", *CDC_COLUMNS)

# Columns the service cannot work without (SPEC section 2).
REQUIRED_COLUMNS: tuple[str, ...] = (
    "YearStart",
    "YearEnd",
    "LocationAbbr",
    "LocationDesc",
    "Question",
    "Data_Value",
    "StratificationCategory1",
    "Stratification1",
)

# How the CDC export marks a value suppressed for too small a sample (blank Data_Value).
SUPPRESSED_FOOTNOTE_SYMBOL = "~"
SUPPRESSED_FOOTNOTE = "Data not available because sample size is insufficient."


class QuestionInfo(NamedTuple):
    """One of the nine survey questions with its CDC identifiers."""

    text: str
    best: str  # "lowest" or "highest"
    question_id: str
    class_name: str
    class_id: str
    topic: str
    topic_id: str


_OWS = ("Obesity / Weight Status", "OWS", "Obesity / Weight Status", "OWS1")
_PA = ("Physical Activity", "PA", "Physical Activity - Behavior", "PA1")
_FV = ("Fruits and Vegetables", "FV", "Fruits and Vegetables - Behavior", "FV1")

QUESTIONS: tuple[QuestionInfo, ...] = (
    QuestionInfo(
        "Percent of adults aged 18 years and older who have an overweight classification",
        "lowest",
        "Q037",
        *_OWS,
    ),
    QuestionInfo(
        "Percent of adults aged 18 years and older who have obesity",
        "lowest",
        "Q036",
        *_OWS,
    ),
    QuestionInfo(
        "Percent of adults who engage in no leisure-time physical activity",
        "lowest",
        "Q047",
        *_PA,
    ),
    QuestionInfo(
        "Percent of adults who report consuming fruit less than one time daily",
        "lowest",
        "Q018",
        *_FV,
    ),
    QuestionInfo(
        "Percent of adults who report consuming vegetables less than one time daily",
        "lowest",
        "Q019",
        *_FV,
    ),
    QuestionInfo(
        "Percent of adults who achieve at least 150 minutes a week of moderate-intensity aerobic "
        "physical activity or 75 minutes a week of vigorous-intensity aerobic activity "
        "(or an equivalent combination)",
        "highest",
        "Q043",
        *_PA,
    ),
    QuestionInfo(
        "Percent of adults who achieve at least 150 minutes a week of moderate-intensity aerobic "
        "physical activity or 75 minutes a week of vigorous-intensity aerobic physical activity "
        "and engage in muscle-strengthening activities on 2 or more days a week",
        "highest",
        "Q044",
        *_PA,
    ),
    QuestionInfo(
        "Percent of adults who achieve at least 300 minutes a week of moderate-intensity aerobic "
        "physical activity or 150 minutes a week of vigorous-intensity aerobic activity "
        "(or an equivalent combination)",
        "highest",
        "Q045",
        *_PA,
    ),
    QuestionInfo(
        "Percent of adults who engage in muscle-strengthening activities on 2 or more days a week",
        "highest",
        "Q046",
        *_PA,
    ),
)

QUESTION_TEXTS: tuple[str, ...] = tuple(q.text for q in QUESTIONS)
QUESTIONS_BEST_IS_MIN: tuple[str, ...] = tuple(q.text for q in QUESTIONS if q.best == "lowest")
QUESTIONS_BEST_IS_MAX: tuple[str, ...] = tuple(q.text for q in QUESTIONS if q.best == "highest")


class LocationInfo(NamedTuple):
    """A location of the extract: name, USPS abbreviation, FIPS-like id and centroid."""

    name: str
    abbr: str
    location_id: int
    lat: float | None
    lon: float | None


LOCATIONS: tuple[LocationInfo, ...] = (
    LocationInfo("Alabama", "AL", 1, 32.840571, -86.631862),
    LocationInfo("Alaska", "AK", 2, 64.845079, -147.722059),
    LocationInfo("Arizona", "AZ", 4, 34.865970, -111.763811),
    LocationInfo("Arkansas", "AR", 5, 34.748655, -92.274492),
    LocationInfo("California", "CA", 6, 37.638640, -120.999999),
    LocationInfo("Colorado", "CO", 8, 38.843840, -106.133611),
    LocationInfo("Connecticut", "CT", 9, 41.567670, -72.649841),
    LocationInfo("Delaware", "DE", 10, 39.008830, -75.577741),
    LocationInfo("District of Columbia", "DC", 11, 38.907192, -77.036871),
    LocationInfo("Florida", "FL", 12, 28.932040, -81.928961),
    LocationInfo("Georgia", "GA", 13, 32.839681, -83.627581),
    LocationInfo("Hawaii", "HI", 15, 21.304850, -157.857749),
    LocationInfo("Idaho", "ID", 16, 43.682630, -114.363730),
    LocationInfo("Illinois", "IL", 17, 40.485010, -88.997710),
    LocationInfo("Indiana", "IN", 18, 39.766910, -86.149961),
    LocationInfo("Iowa", "IA", 19, 42.469400, -93.816491),
    LocationInfo("Kansas", "KS", 20, 38.347740, -98.200781),
    LocationInfo("Kentucky", "KY", 21, 37.645970, -84.774971),
    LocationInfo("Louisiana", "LA", 22, 31.312660, -92.445681),
    LocationInfo("Maine", "ME", 23, 45.254230, -68.985031),
    LocationInfo("Maryland", "MD", 24, 39.290580, -76.609261),
    LocationInfo("Massachusetts", "MA", 25, 42.275250, -72.082691),
    LocationInfo("Michigan", "MI", 26, 44.661320, -84.714390),
    LocationInfo("Minnesota", "MN", 27, 46.355650, -94.794201),
    LocationInfo("Mississippi", "MS", 28, 32.745510, -89.538031),
    LocationInfo("Missouri", "MO", 29, 38.635790, -92.566301),
    LocationInfo("Montana", "MT", 30, 47.066530, -109.424421),
    LocationInfo("Nebraska", "NE", 31, 41.641040, -99.365721),
    LocationInfo("Nevada", "NV", 32, 39.493240, -117.071841),
    LocationInfo("New Hampshire", "NH", 33, 43.655950, -71.500361),
    LocationInfo("New Jersey", "NJ", 34, 40.130570, -74.273691),
    LocationInfo("New Mexico", "NM", 35, 34.520880, -106.240581),
    LocationInfo("New York", "NY", 36, 42.827001, -75.543970),
    LocationInfo("North Carolina", "NC", 37, 35.466220, -79.159250),
    LocationInfo("North Dakota", "ND", 38, 47.475319, -100.118421),
    LocationInfo("Ohio", "OH", 39, 40.060210, -82.404260),
    LocationInfo("Oklahoma", "OK", 40, 35.472030, -97.521070),
    LocationInfo("Oregon", "OR", 41, 44.567450, -120.155031),
    LocationInfo("Pennsylvania", "PA", 42, 40.793730, -77.860701),
    LocationInfo("Rhode Island", "RI", 44, 41.708280, -71.522470),
    LocationInfo("South Carolina", "SC", 45, 33.998821, -81.045371),
    LocationInfo("South Dakota", "SD", 46, 44.353130, -100.373531),
    LocationInfo("Tennessee", "TN", 47, 35.680940, -85.774491),
    LocationInfo("Texas", "TX", 48, 31.827240, -99.426770),
    LocationInfo("Utah", "UT", 49, 39.360700, -111.587131),
    LocationInfo("Vermont", "VT", 50, 43.625381, -72.517640),
    LocationInfo("Virginia", "VA", 51, 37.542680, -78.457890),
    LocationInfo("Washington", "WA", 53, 47.522279, -120.470011),
    LocationInfo("West Virginia", "WV", 54, 38.665510, -80.712640),
    LocationInfo("Wisconsin", "WI", 55, 44.393191, -89.816371),
    LocationInfo("Wyoming", "WY", 56, 43.235541, -108.109830),
    LocationInfo("Guam", "GU", 66, 13.444304, 144.793731),
    LocationInfo("Puerto Rico", "PR", 72, 18.220833, -66.590149),
    LocationInfo("Virgin Islands", "VI", 78, 18.335765, -64.896335),
    LocationInfo("National", "US", 59, None, None),
)

LOCATION_NAMES: tuple[str, ...] = tuple(loc.name for loc in LOCATIONS)
LOCATION_ABBR: dict[str, str] = {loc.name: loc.abbr for loc in LOCATIONS}


class Stratum(NamedTuple):
    """One stratum of a stratification category with its CDC codes."""

    category: str
    name: str
    category_id: str
    stratum_id: str
    column: str  # the per-stratum column of the export that repeats the stratum


# Category -> (category id, per-stratum column, ((stratum, stratum id), ...)), in SPEC order.
_CATEGORY_TABLE: tuple[tuple[str, str, str, tuple[tuple[str, str], ...]], ...] = (
    ("Total", "OVR", "Total", (("Total", "OVERALL"),)),
    (
        "Age (years)",
        "AGEYR",
        "Age(years)",
        (
            ("18 - 24", "AGEYR1824"),
            ("25 - 34", "AGEYR2534"),
            ("35 - 44", "AGEYR3544"),
            ("45 - 54", "AGEYR4554"),
            ("55 - 64", "AGEYR5564"),
            ("65 or older", "AGEYR65PLUS"),
        ),
    ),
    (
        "Education",
        "EDU",
        "Education",
        (
            ("Less than high school", "EDUHS"),
            ("High school graduate", "EDUHSGRAD"),
            ("Some college or technical school", "EDUCOTEC"),
            ("College graduate", "EDUCOGRAD"),
        ),
    ),
    ("Gender", "GEN", "Gender", (("Male", "MALE"), ("Female", "FEMALE"))),
    (
        "Income",
        "INC",
        "Income",
        (
            ("Less than $15,000", "INCLESS15"),
            ("$15,000 - $24,999", "INC1525"),
            ("$25,000 - $34,999", "INC2535"),
            ("$35,000 - $49,999", "INC3550"),
            ("$50,000 - $74,999", "INC5075"),
            ("$75,000 or greater", "INC75PLUS"),
            ("Data not reported", "INCNR"),
        ),
    ),
    (
        "Race/Ethnicity",
        "RACE",
        "Race/Ethnicity",
        (
            ("Non-Hispanic White", "RACEWHT"),
            ("Non-Hispanic Black", "RACEBLK"),
            ("Hispanic", "RACEHIS"),
            ("Asian", "RACEASN"),
            ("Hawaiian/Pacific Islander", "RACEHPI"),
            ("American Indian/Alaska Native", "RACENAA"),
            ("2 or more races", "RACE2PLUS"),
            ("Other", "RACEOTH"),
        ),
    ),
)

STRATA: tuple[Stratum, ...] = tuple(
    Stratum(category, name, category_id, stratum_id, column)
    for category, category_id, column, members in _CATEGORY_TABLE
    for name, stratum_id in members
)

CATEGORIES: dict[str, tuple[str, ...]] = {
    category: tuple(name for name, _ in members) for category, _, _, members in _CATEGORY_TABLE
}
