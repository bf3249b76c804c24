"""`nianbao serve` runs a real Datasette over HTTP with the project's metadata: facets and section search."""

from __future__ import annotations

import sys
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from archive.db import open_db
from archive.ingest import ingest_paths

from .helpers_archive import free_port, get_json, running_server

FIXTURES = Path(__file__).parent / "fixtures" / "archive"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("serve")
    db_path = tmp / "nb.db"
    db = open_db(db_path)
    ingest_paths(db, [FIXTURES / "report_v1.txt"])
    db.close()
    port = free_port()
    cmd = [sys.executable, "-m", "crawler", "serve", "--db", str(db_path), "--port", str(port)]
    with running_server(cmd, port) as base:
        yield f"{base}/nb"


def test_figures_are_faceted_by_table_row_and_column(served: str) -> None:
    data = get_json(f"{served}/figures.json?_shape=objects")
    facets = data["facet_results"]
    for name in ("table", "row", "column"):
        assert name in facets, facets.keys()
    tables = {item["value"]: item["count"] for item in facets["table"]["results"]}
    assert set(tables) == {"active", "applications", "review_litigation"}
    assert tables["review_litigation"] == 15


def test_sections_are_searchable_in_chinese(served: str) -> None:
    q = urllib.parse.quote("信息处理费")
    data = get_json(f"{served}/sections.json?_search={q}&_shape=objects")
    assert [r["section"] for r in data["rows"]] == ["other"]
    q = urllib.parse.quote("政策解读形式")
    data = get_json(f"{served}/sections.json?_search={q}&_shape=objects")
    assert [r["section"] for r in data["rows"]] == ["problems"]


def test_metadata_titles_are_bilingual(served: str) -> None:
    meta = get_json(f"{served.rsplit('/', 1)[0]}/-/metadata.json")
    tables = meta["databases"]["nb"]["tables"]
    assert tables["figures"]["title"].startswith("统计数字")
    assert "Figures" in tables["figures"]["title"]
