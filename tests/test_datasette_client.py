"""The published archive through an in-process Datasette (ASGI, no socket), as Datasette's own tests run:
the project's plugins, templates and metadata are loaded, and the report and search routes answer."""

from __future__ import annotations

import urllib.parse
from pathlib import Path

from .conftest import DatasetteClient

Archive = tuple[Path, dict[str, list[int]]]


def test_project_plugins_are_loaded(datasette_client: DatasetteClient) -> None:
    """The plugins directory is what gives the archive its report page and search: both must load."""
    names = {p["name"] for p in datasette_client.get_json("/-/plugins.json")}
    assert {"nianbao_report.py", "nianbao_search.py"} <= names, names


def test_metadata_is_keyed_by_the_database_name(datasette_client: DatasetteClient) -> None:
    """metadata.yml's template key is renamed to the file stem; otherwise no table gets its title."""
    meta = datasette_client.get_json("/-/metadata.json")
    assert set(meta["databases"]) == {"nb"}
    title = meta["databases"]["nb"]["tables"]["figures"]["title"]
    assert title.startswith("统计数字") and "Figures" in title


def test_report_json_lists_both_versions(datasette_client: DatasetteClient, sample_archive: Archive) -> None:
    """The report route (a plugin) reads the version history of a changed document."""
    ids = sample_archive[1]
    data = datasette_client.get_json(f"/nb/-/report/{ids['xicheng'][1]}.json")
    assert [v["id"] for v in data["versions"]] == [1, 2]


def test_report_page_uses_the_project_template_and_escapes(
    datasette_client: DatasetteClient, sample_archive: Archive
) -> None:
    """The template directory renders the report; a hostile title stays text."""
    ids = sample_archive[1]
    response = datasette_client.get(f"/nb/-/report/{ids['hostile'][0]}")
    assert response.status_code == 200
    assert '<h1 id="report-title">' in response.text
    assert "<script>alert" not in response.text and "&lt;script&gt;alert(" in response.text


def test_unknown_report_is_404(datasette_client: DatasetteClient) -> None:
    """A missing id must not render an empty report page."""
    assert datasette_client.get("/nb/-/report/999999").status_code == 404


def test_cross_table_search_in_chinese(datasette_client: DatasetteClient, sample_archive: Archive) -> None:
    """`/-/search` (a plugin route) finds a two-character word inside longer words: latest versions by
    default, every version on request."""
    ids = sample_archive[1]
    data = datasette_client.get_json(f"/-/search.json?q={urllib.parse.quote('复议')}")
    assert {r["id"] for r in data["reports"]} == {ids["xicheng"][1], *ids["hostile"]}
    data = datasette_client.get_json(f"/-/search.json?versions=all&q={urllib.parse.quote('复议')}")
    assert {r["id"] for r in data["reports"]} == {*ids["xicheng"], *ids["hostile"]}


def test_canned_query_from_metadata(datasette_client: DatasetteClient, sample_archive: Archive) -> None:
    """Canned queries come from metadata.yml: the corrected report is the only one changed after
    publication."""
    ids = sample_archive[1]
    rows = datasette_client.get_json("/nb/changed_after_publication.json?_shape=objects")["rows"]
    assert [r["report_id"] for r in rows] == [ids["xicheng"][1]]


def test_mutable_archive_offers_no_download(datasette_client: DatasetteClient) -> None:
    """Only immutable snapshots are downloadable; a live archive file is not."""
    assert datasette_client.get("/nb.db").status_code in (403, 404)
