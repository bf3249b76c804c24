"""An archive people can read, cite and download (issue 14): labels, latest-only wide views, originals that
open, the lean published file, stable URLs across snapshots, the bundle, feeds and robots — over HTTP."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from archive import store
from archive.db import open_db
from archive.export import export
from archive.publish import lean_copy, take_snapshot
from pipelines.report import Report
from tests.helpers_archive import _figures, build_sample_archive, datasette_server, get_json
from tests.helpers_archive import fetch as _fetch

HTML_ORIGINAL = (
    '<html><head><meta charset="utf-8"><script>document.title="pwned"</script></head><body>'
    "<h1>某某县交通运输局2024年政府信息公开工作年度报告</h1><img src=http://evil.example/x.png></body></html>"
).encode()
PDF_ORIGINAL = b"%PDF-1.4\n% fictional test bytes\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def add_originals(db_path: Path) -> dict[str, int]:
    """An HTML report page (served as text/html) and a PDF served as application/binary with no file name:
    the two shapes of real portals' originals. Returns name → version id."""
    db = open_db(db_path)
    out = {}
    for name, body, meta in (
        (
            "html",
            HTML_ORIGINAL,
            store.FetchMeta(
                url="http://xxgk.example.gov.cn/jtj/2025/art_1.html",
                kind="report",
                content_type="text/html; charset=utf-8",
                fetched_at="2025-02-01T00:00:00Z",
            ),
        ),
        (
            "pdf",
            PDF_ORIGINAL,
            store.FetchMeta(
                url="http://xxgk.example.gov.cn/jtj/2025/%E5%B9%B4%E6%8A%A5.pdf",
                kind="attachment",
                content_type="application/binary",
                fetched_at="2025-02-01T00:00:00Z",
            ),
        ),
    ):
        result = store.write_version(db, body, meta)
        out[name] = result.version_id
    report = Report(
        agency="某某县交通运输局",
        year=2024,
        title="某某县交通运输局2024年政府信息公开工作年度报告",
        template="2021",
        status="complete",
        sections={"overview": "本机关依法公开交通运输信息。"},
        figures=_figures(7, 4),
        checks=[],
        text="本机关依法公开交通运输信息。",
    )
    result = store.StoreResult(_document_of(db, out["html"]), out["html"], True)
    store.attach_report(db, result, report)
    db.close()
    return out


def _document_of(db, version_id: int) -> int:
    return int(db.execute("SELECT document_id FROM versions WHERE id = ?", [version_id]).fetchone()[0])


def fetch(url: str) -> tuple[int, bytes, dict[str, str]]:
    """helpers_archive.fetch with header names in lower case (HTTP names are case-insensitive)."""
    status, body, headers = _fetch(url)
    return status, body, {k.lower(): v for k, v in headers.items()}


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[int]], dict[str, int]]:
    db_path = tmp_path_factory.mktemp("pub") / "archive.db"
    ids = build_sample_archive(db_path)
    return db_path, ids, add_originals(db_path)


@pytest.fixture(scope="module")
def site(archive) -> Iterator[str]:
    with datasette_server(archive[0]) as base:
        yield base


# ---------------------------------------------------------------- codes and views


def test_codes_table_labels_every_code(archive) -> None:
    conn = sqlite3.connect(archive[0])
    label = dict(
        ((k, t, c), lab) for k, t, c, lab in conn.execute('SELECT kind, "table", code, label FROM codes')
    )
    assert label[("row", "applications", "new_received")] == "一、本年新收政府信息公开申请数量"
    assert label[("column", "review_litigation", "upheld")] == "结果维持"
    assert label[("section", "", "overview")] == "一、总体情况"
    assert label[("rule", "applications", "applications.balance")].startswith("第一项加第二项")
    assert label[("status", "", "partial")] == "部分缺失"
    # Every figure code in the archive has a label.
    missing = conn.execute(
        'SELECT DISTINCT f."table", f."row" FROM figures f LEFT JOIN codes c ON c.kind = \'row\''
        ' AND c."table" = f."table" AND c.code = f."row" WHERE c.code IS NULL'
    ).fetchall()
    assert missing == []


def test_wide_views_count_each_agency_year_once(archive) -> None:
    """xicheng has two versions (26 then 30 received): the wide views hold only the latest, so a sum is right."""
    conn = sqlite3.connect(archive[0])
    all_versions = conn.execute(
        "SELECT sum(value) FROM figures WHERE \"table\" = 'applications' AND \"row\" = 'new_received'"
        " AND \"column\" = 'total'"
    ).fetchone()[0]
    latest = conn.execute(
        "SELECT sum(total), min(is_latest), count(*) FROM applications_wide WHERE \"row\" = 'new_received'"
    ).fetchone()
    expected = conn.execute("SELECT sum(applications_received), count(*) FROM reports_latest").fetchone()
    assert latest[0] == expected[0] and latest[0] < all_versions  # the superseded 26 is not counted
    assert latest[1] == 1 and latest[2] == expected[1]
    rows = conn.execute(
        "SELECT row_label, row_order FROM applications_wide WHERE report_id = ? ORDER BY row_order",
        [archive[1]["xicheng"][1]],
    ).fetchall()
    assert rows[0] == ("一、本年新收政府信息公开申请数量", 1) and [r[1] for r in rows] == sorted(
        r[1] for r in rows
    )
    wide = conn.execute(
        "SELECT applications__new_received__total, review_litigation__review__upheld FROM report_cells_wide"
        " WHERE report_id = ?",
        [archive[1]["xicheng"][1]],
    ).fetchone()
    assert wide == (30, 1)
    assert conn.execute("SELECT count(*) FROM report_cells_wide").fetchone()[0] == expected[1]


# ---------------------------------------------------------------- originals


def test_originals_open_with_their_type_and_name(site, archive) -> None:
    _, ids, versions = archive
    status, body, headers = fetch(f"{site}/archive/-/original/{versions['pdf']}")
    assert status == 200 and body == PDF_ORIGINAL
    assert headers["content-type"] == "application/pdf"  # application/binary is vague: typed by name
    assert "filename*=UTF-8''%E5%B9%B4%E6%8A%A5.pdf" in headers["content-disposition"]
    assert headers["content-disposition"].startswith("inline")
    assert "content-security-policy" not in headers  # Chromium's PDF viewer does not open in a sandbox
    status, _, headers = fetch(f"{site}/archive/-/original/{versions['pdf']}?download=1")
    assert headers["content-disposition"].startswith("attachment")
    # A JSON original of the sample archive keeps its server type and file name.
    conn = sqlite3.connect(archive[0])
    vid = conn.execute("SELECT version_id FROM reports WHERE id = ?", [ids["xicheng"][0]]).fetchone()[0]
    status, body, headers = fetch(f"{site}/archive/-/original/{vid}")
    assert status == 200 and b"\xe5\x8c\x97\xe4\xba\xac" in body  # 北京
    assert 'filename="report.json"' in headers["content-disposition"]
    assert headers["content-security-policy"].startswith("sandbox")  # every type but PDF: XML runs script too
    assert fetch(f"{site}/archive/-/original/999999")[0] == 404


def test_html_originals_never_run_as_live_markup(site, archive) -> None:
    versions = archive[2]
    status, body, headers = fetch(f"{site}/archive/-/original/{versions['html']}")
    assert status == 200 and body == HTML_ORIGINAL
    csp = headers["content-security-policy"]
    assert csp.startswith("sandbox") and "default-src 'none'" in csp  # no script, no outside request
    assert headers["x-content-type-options"] == "nosniff"
    status, body, headers = fetch(f"{site}/archive/-/original/{versions['html']}?as=text")
    assert headers["content-type"] == "text/plain; charset=utf-8" and body == HTML_ORIGINAL


def test_report_page_links_original_and_stable_url(site, archive) -> None:
    ids = archive[1]
    status, body, _ = fetch(f"{site}/archive/-/report/{ids['xicheng'][1]}")
    html = body.decode()
    assert status == 200 and "/archive/-/original/" in html
    stable = "/archive/-/report/" + urllib.parse.quote("北京市西城区人民政府") + "/2023"
    assert f'id="report-stable-url" href="{stable}"' in html
    status, body, _ = fetch(site + stable)
    assert status == 200 and ">30<" in body.decode()  # the latest version
    data = get_json(site + stable + ".json")
    assert data["report"]["id"] == ids["xicheng"][1]
    doc = data["report"]["document_id"]
    assert get_json(f"{site}/archive/-/document/{doc}.json")["report"]["id"] == ids["xicheng"][1]
    assert fetch(site + "/archive/-/report/" + urllib.parse.quote("不存在的机关") + "/2023")[0] == 404


def test_robots_keep_crawlers_off_facets_and_sql(site) -> None:
    status, body, headers = fetch(f"{site}/robots.txt")
    text = body.decode()
    assert status == 200 and headers["content-type"].startswith("text/plain")
    assert "Disallow: /*?_facet" in text and "Disallow: /*?sql=" in text
    # Read as a crawler reads it (Protego, Scrapy's robots.txt parser): facet, SQL, sort, filter and search
    # combinations are off limits, tables, rows, report pages and pagination are not.
    from protego import Protego

    robots = Protego.parse(text)
    for path in (
        "/nb/reports?_facet=year",
        "/nb/reports?year=2023&_facet=status",
        "/nb?sql=select+1",
        "/nb?_hide_sql=1&sql=select+1",
        "/nb/reports.csv",
        "/nb/sections?_search=x",
        "/nb/reports?_sort=year",
        "/nb/reports?_filter_column=year",
        "/-/search?q=x",
    ):
        assert not robots.can_fetch(site + path, "*"), path
    for path in ("/nb/reports", "/nb/reports/1", "/nb/-/report/1", "/nb/reports?_next=20", "/"):
        assert robots.can_fetch(site + path, "*"), path


def test_sections_table_page_has_no_default_facet(site) -> None:
    data = get_json(f"{site}/archive/sections.json?_search=%E8%AE%B8%E5%8F%AF")
    assert data["rows"] and not data.get("facet_results", {}).get("results")


# ---------------------------------------------------------------- the lean file and snapshots


def test_lean_copy_keeps_data_not_bytes(archive, tmp_path: Path) -> None:
    db_path = archive[0]
    lean = lean_copy(db_path, tmp_path / "nianbao.db", tmp_path / "originals")
    conn = sqlite3.connect(lean.path)
    assert "content" not in [r[1] for r in conn.execute("PRAGMA table_info(blobs)")]
    assert (
        conn.execute("SELECT count(*) FROM sqlite_master WHERE name LIKE 'sections_fts%'").fetchone()[0] == 0
    )
    assert (
        conn.execute(
            "SELECT count(*) FROM reports r WHERE text IS NOT NULL"
            " AND EXISTS (SELECT 1 FROM sections s WHERE s.report_id = r.id)"
        ).fetchone()[0]
        == 0
    )
    src = sqlite3.connect(db_path)
    assert (
        conn.execute("SELECT count(*) FROM figures").fetchone()
        == src.execute("SELECT count(*) FROM figures").fetchone()
    )
    # Every original is beside it at its content address, byte for byte.
    for sha, content in src.execute("SELECT sha256, content FROM blobs"):
        stored = (tmp_path / "originals" / sha[:2] / sha).read_bytes()
        assert stored == content and hashlib.sha256(stored).hexdigest() == sha
    assert lean.originals_written == src.execute("SELECT count(*) FROM blobs").fetchone()[0]
    assert lean.size < db_path.stat().st_size
    # Figures stored once, on their natural key; every view still reads them; compact JSON, same values.
    assert (
        "WITHOUT ROWID" in conn.execute("SELECT sql FROM sqlite_master WHERE name = 'figures'").fetchone()[0]
    )
    assert not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'idx_figures_lookup'").fetchall()
    cols = '"table", "row", "column", value, raw, flags, json(source)'
    key = 'ORDER BY report_id, "table", "row", "column"'
    assert (
        conn.execute(f"SELECT report_id, {cols} FROM figures {key}").fetchall()
        == src.execute(f"SELECT report_id, {cols} FROM figures {key}").fetchall()
    )
    assert conn.execute("SELECT count(*) FROM figures WHERE source LIKE '%, %'").fetchone()[0] == 0
    for view in ("reports_latest", "report_cells_wide", "applications_wide", "figures_labeled"):
        assert (
            conn.execute(f"SELECT * FROM {view} ORDER BY 1, 2").fetchall()
            == src.execute(f"SELECT * FROM {view} ORDER BY 1, 2").fetchall()
        ), view
    # The 1- and 2-character search still works in the lean file, in plain SQL (README recipe).
    hits = conn.execute(
        "SELECT count(*) FROM sections_seg WHERE sections_seg MATCH 'chars : \"许 可\"'"
    ).fetchone()[0]
    assert hits >= 1


def test_lean_copy_keeps_cells_of_failed_checks_only(archive, tmp_path: Path) -> None:
    """The auditor writes the cells every check read; the published copy keeps them where a reader needs them
    (failed checks, checks against another report), compact, and every check row."""
    import shutil

    db_path = tmp_path / "audited.db"
    shutil.copy(archive[0], db_path)
    src = sqlite3.connect(db_path)
    cells = '["applications.new_received.total", "applications.carried_over.total"]'
    src.execute("UPDATE checks SET cells = ?", [cells])
    src.commit()
    passed, failed = (
        src.execute("SELECT count(*) FROM checks WHERE ok = ?", [ok]).fetchone()[0] for ok in (1, 0)
    )
    assert passed and failed
    conn = sqlite3.connect(lean_copy(db_path, tmp_path / "nianbao.db", tmp_path / "originals").path)
    rows = conn.execute("SELECT ok, cells FROM checks").fetchall()
    assert len(rows) == passed + failed
    assert {c for ok, c in rows if not ok} == {cells.replace(", ", ",")}
    assert {c for ok, c in rows if ok} == {None}
    assert conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'idx_checks_failed'").fetchone()


def test_snapshots_keep_one_name_and_their_urls(archive, tmp_path: Path) -> None:
    """Two snapshots of a growing archive serve under the same database name; a cited report URL and an
    original's URL answer the same in both, and originals come from the store beside the snapshot."""
    db_path = tmp_path / "growing.db"
    build_sample_archive(db_path)
    first = take_snapshot(db_path, tmp_path / "snaps", day="2026-01-02")
    versions = add_originals(db_path)
    second = take_snapshot(db_path, tmp_path / "snaps", day="2026-02-02")
    assert first.path.name == second.path.name == "nianbao.db" and first.path != second.path
    cited = "/nianbao/-/report/" + urllib.parse.quote("北京市西城区人民政府") + "/2023.json"
    answers = []
    for snap in (first, second):
        with datasette_server(snap.path, immutable=True) as base:
            answers.append(get_json(base + cited)["report"]["title"])
            status, body, headers = fetch(f"{base}/nianbao/-/original/1")
            assert status == 200 and body.startswith(b"{")
            if snap is second:
                status, body, headers = fetch(f"{base}/nianbao/-/original/{versions['pdf']}")
                assert status == 200 and body == PDF_ORIGINAL and headers["content-type"] == "application/pdf"
                new = "/nianbao/-/report/" + urllib.parse.quote("某某县交通运输局") + "/2024"
                assert fetch(base + new)[0] == 200
    assert answers[0] == answers[1] == "北京市西城区人民政府2023年政府信息公开工作年度报告"


# ---------------------------------------------------------------- the bundle


def test_bundle_is_valid_and_self_describing(archive, tmp_path: Path) -> None:
    import frictionless

    out = tmp_path / "bundle"
    export(archive[0], out)
    readme = (out / "README.md").read_text(encoding="utf-8")
    for part in ("## Coverage", "## How to cite", "## Caveats", "sections_seg MATCH", "reports_latest"):
        assert part in readme, part
    assert "CC0" in (out / "LICENSE").read_text(encoding="utf-8")
    assert (out / "csv" / "codes.csv").exists() and (out / "csv" / "report_cells_wide.csv").exists()
    import json

    package = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    schemas = {r["name"]: r["schema"] for r in package["resources"]}
    assert schemas["reports"]["primaryKey"] == ["id"]
    assert {"fields": ["report_id"], "reference": {"resource": "reports", "fields": ["id"]}} in schemas[
        "figures"
    ]["foreignKeys"]
    assert schemas["codes"]["primaryKey"] == ["kind", "table", "code"]
    report = frictionless.validate(out / "datapackage.json")
    assert report.valid, report.flatten(["resource", "rowNumber", "fieldName", "type", "note"])[:10]


# ---------------------------------------------------------------- feeds


def test_atom_feeds_have_absolute_links_and_readable_summaries(archive, monkeypatch) -> None:
    monkeypatch.setenv("NIANBAO_PUBLIC_URL", "https://nianbao.example.org")
    assert os.environ["NIANBAO_PUBLIC_URL"]
    with datasette_server(archive[0]) as base:
        status, body, _ = fetch(f"{base}/archive/feed_changed_reports.atom")
        xml = body.decode()
        assert status == 200
        assert (
            f'href="https://nianbao.example.org/archive/-/report/{archive[1]["xicheng"][1]}#change-1"' in xml
        )
        assert "北京市西城区人民政府 2023年度报告被修改" in xml
        assert "一、本年新收政府信息公开申请数量 · 总计：26 → 30" in xml
        assert "[{" not in xml  # no raw JSON
        status, body, _ = fetch(f"{base}/archive/feed_new_reports.atom")
        assert 'href="https://nianbao.example.org/archive/-/report/' in body.decode()
        assert "解析状态：三表齐全" in body.decode()
