"""The pages as the server sends them: HTML with a same-host-only policy, files all vendored."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from app.pages import CONTENT_SECURITY_POLICY

PAGES = Path(__file__).resolve().parent.parent / "app" / "pages"
VENDOR = PAGES / "static" / "vendor"
#: A URL naming another host, as a page or script of ours might load it.
OTHER_HOST = re.compile(r"""(?:src|href|url)\s*[=(:]\s*["']?(?:https?:)?//""", re.IGNORECASE)


@pytest.mark.parametrize("path", ["/", "/states/Ohio", "/states/Guam", "/jobs", "/api/docs"])
def test_pages_are_html_restricted_to_this_host(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.content_type == "text/html; charset=utf-8"
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "default-src 'self'" in CONTENT_SECURITY_POLICY
    assert "http" not in CONTENT_SECURITY_POLICY
    for src in re.findall(r'(?:src|href)="([^"]+)"', response.get_data(as_text=True)):
        assert src.startswith(("/", "#", "data:")), src


def test_state_page_names_the_state_and_escapes_it(client: FlaskClient) -> None:
    assert 'data-state="Ohio"' in client.get("/states/Ohio").get_data(as_text=True)
    response = client.get("/states/<script>alert(1)")
    assert response.status_code == 404
    assert "<script>alert" not in response.get_data(as_text=True)
    assert "&lt;script&gt;" in response.get_data(as_text=True)


def test_unknown_state_page_is_a_404_page(client: FlaskClient) -> None:
    response = client.get("/states/Atlantis")
    assert response.status_code == 404
    assert response.content_type.startswith("text/html")
    assert "No such location" in response.get_data(as_text=True)


def test_static_files_are_served(client: FlaskClient) -> None:
    for path in (
        "js/lss.js",
        "css/pages.css",
        "vendor/vega/vega.min.js",
        "vendor/us-atlas/states-10m.json",
        "vendor/swagger-ui-dist/swagger-ui-bundle.js",
    ):
        response = client.get(f"/pages/static/{path}")
        assert response.status_code == 200, path
        response.close()
    assert client.get("/pages/static/nothing.js").status_code == 404


def test_our_files_load_nothing_from_another_host() -> None:
    ours = [
        path
        for path in PAGES.rglob("*")
        if path.is_file() and VENDOR not in path.parents and path.suffix in {".html", ".js", ".css"}
    ]
    assert len(ours) >= 10
    for path in ours:
        assert not OTHER_HOST.search(path.read_text()), path


def test_every_vendored_package_has_its_version_and_licence_noted() -> None:
    notice = (VENDOR / "README.md").read_text()
    packages = [folder for folder in VENDOR.iterdir() if folder.is_dir()]
    assert {folder.name for folder in packages} == {
        "vega",
        "vega-lite",
        "vega-embed",
        "us-atlas",
        "swagger-ui-dist",
        "axe-core",
    }
    for folder in packages:
        row = re.search(rf"^\| {re.escape(folder.name)} \| (\S+) \| (\S+) \|", notice, re.M)
        assert row, f"{folder.name} is not listed in vendor/README.md"
        assert re.fullmatch(r"\d+\.\d+\.\d+", row.group(1))
        assert (folder / "LICENSE").is_file()


@pytest.mark.parametrize("path", ["/", "/states/Ohio"])
def test_both_pages_offer_a_year_range_and_a_group(client: FlaskClient, path: str) -> None:
    page = client.get(path).get_data(as_text=True)
    for control in ("year-from", "year-to", "category", "stratum"):
        assert f'<label for="{control}"' in page, control
        assert f'<select id="{control}"' in page, control


def test_dashboard_can_colour_the_map_by_the_comparison_with_the_nation(
    client: FlaskClient,
) -> None:
    page = client.get("/").get_data(as_text=True)
    assert '<select id="colour"' in page
    assert '<option value="national">' in page
    assert 'id="ranking"' in page


def test_state_page_has_room_for_the_comparison_the_trends_and_the_groups(
    client: FlaskClient,
) -> None:
    page = client.get("/states/Ohio").get_data(as_text=True)
    for part in ('id="compare"', 'id="trends"', 'id="breakdown"'):
        assert part in page, part


@pytest.mark.parametrize("path", ["/", "/states/Ohio", "/jobs", "/api/docs", "/states/Atlantis"])
def test_every_page_names_the_data_it_shows(
    client: FlaskClient, bundled_client: FlaskClient, path: str
) -> None:
    """The banner (SPEC §19): which kind of data, its years and its sha256, from the dataset
    /api/health describes; and nothing else on the page names the other kind."""
    for each, kind, other in (
        (client, "CDC BRFSS", "ynthetic"),
        (bundled_client, "Synthetic sample", "BRFSS"),
    ):
        dataset = each.get("/api/health").get_json()["dataset"]
        page = each.get(path).get_data(as_text=True)
        banner = re.search(r'<p class="dataset[^"]*" id="dataset".*?</p>', page, re.S).group(0)
        words = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", banner))
        first, last = dataset["years"]
        assert kind in words and f"{first}\u2013{last}" in words and dataset["sha256"][:12] in words
        assert f'data-sha256="{dataset["sha256"]}"' in banner
        text = re.sub(r"<[^>]+>", " ", re.sub(r"<script.*?</script>", "", page, flags=re.S))
        assert other not in text, path
