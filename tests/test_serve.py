"""`nianbao serve` runs a real Datasette over HTTP with the project's metadata: facets and section search."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from archive.db import open_db
from archive.ingest import ingest_paths

FIXTURES = Path(__file__).parent / "fixtures" / "archive"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as resp:
        return json.loads(resp.read().decode("utf-8"))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("serve")
    db_path = tmp / "nb.db"
    db = open_db(db_path)
    ingest_paths(db, [FIXTURES / "report_v1.txt"])
    db.close()
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "archive", "serve", "--db", str(db_path), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                get_json(f"{base}/-/versions.json")
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    out = proc.stdout.read().decode() if proc.stdout else ""
                    raise RuntimeError(f"datasette did not start: {out}") from None
                time.sleep(0.3)
        yield f"{base}/nb"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


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
