"""Settings: defaults, environment overrides, refusals that name the variable, README coverage."""

from __future__ import annotations

import pytest

from app import config
from unittests.conftest import ROOT


def test_defaults_when_nothing_is_set():
    settings = config.load({})
    assert settings["HOST"] == "127.0.0.1"
    assert settings["PORT"] == 5000
    assert settings["THREADS"] >= 1
    assert settings["MAX_CONTENT_LENGTH"] == 65536
    assert settings["DATA_FILE"].endswith("nutrition_activity_obesity_usa_subset.csv")


def test_environment_overrides_defaults():
    settings = config.load(
        {"LSS_PORT": "8080", "TP_NUM_OF_THREADS": " 3 ", "LSS_RESULTS_DIR": "/srv/results"}
    )
    assert (settings["PORT"], settings["THREADS"], settings["RESULTS_DIR"]) == (
        8080,
        3,
        "/srv/results",
    )


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("TP_NUM_OF_THREADS", "0", "TP_NUM_OF_THREADS must be a positive integer"),
        ("TP_NUM_OF_THREADS", "-2", "TP_NUM_OF_THREADS must be a positive integer"),
        ("TP_NUM_OF_THREADS", "four", "got 'four'"),
        ("TP_NUM_OF_THREADS", "2.5", "got '2.5'"),
        ("LSS_PORT", "70000", "LSS_PORT must be a positive integer (between 1 and 65535)"),
        ("LSS_RESULT_WAIT_MS", "-1", "LSS_RESULT_WAIT_MS must be a whole number"),
        ("LSS_DATA_FILE", " ", "LSS_DATA_FILE is set but empty"),
    ],
)
def test_bad_values_are_refused_naming_the_variable(variable, value, message):
    with pytest.raises(config.ConfigError) as raised:
        config.load({variable: value})
    assert message in str(raised.value)


def _rows(page: str) -> dict[str, str]:
    text = (ROOT / page).read_text(encoding="utf-8")
    return {line.split("`")[1]: line for line in text.splitlines() if line.startswith("| `")}


def test_the_settings_page_documents_every_setting_with_its_default():
    rows = _rows("docs/settings.md")
    for variable, default, _ in config.SETTINGS.values():
        row = rows.get(variable, "")
        assert row, f"{variable} is not in docs/settings.md"
        if isinstance(default, int) and variable != "TP_NUM_OF_THREADS":
            assert f"`{default}`" in row, f"docs/settings.md gives another default for {variable}"


def test_the_readme_shows_a_setting_as_the_settings_page_does():
    """The README's short table: each default the same as the full table's, never out of date."""
    readme, full = _rows("README.md"), _rows("docs/settings.md")
    settings = {variable for variable, _, _ in config.SETTINGS.values()}
    shown = {variable: row for variable, row in readme.items() if variable in settings}
    assert len(shown) >= 8, "the README's settings table is not where the test looks"
    for variable, row in shown.items():
        default = row.split(" | ")[1]
        assert default == full[variable].split(" | ")[1], f"the README's {variable} differs"
