"""Agency names as users search them (issue 9, item 6): the full name when the report or its page states
it, the short form kept as an alias; the `agencies` table links one organ's reports across years.
Real SQLite files, the real write path (store.store → read_report → write_report)."""

from __future__ import annotations

import json
from pathlib import Path

import sqlite_utils

from archive import store
from archive.agencies import agency_id_of
from archive.db import migrations, open_db
from archive.store import FetchMeta
from pipelines.agency_names import canonical_key, expand, full_name
from pipelines.parse import parse_text
from pipelines.read import ReadHints, read_report

BODY = "\n五、存在的主要问题及改进情况\n公开形式较为单一。\n六、其他需要报告的事项\n无。\n"


def report_text(title: str, overview: str) -> str:
    return f"{title}\n一、总体情况\n{overview}{BODY}"


SHORT_TITLE_FULL_TEXT = report_text(
    "示例市北关区卫健委2023年政府信息公开工作年度报告",
    "2023年，示例市北关区卫生健康委员会认真贯彻落实《中华人民共和国政府信息公开条例》。",
)


def test_full_name_stated_in_the_text_wins_and_the_short_form_is_an_alias() -> None:
    r = parse_text(SHORT_TITLE_FULL_TEXT)
    assert (r.agency, r.meta["agency_source"]) == ("示例市北关区卫生健康委员会", "title")
    assert r.meta["agency_aliases"] == ["示例市北关区卫健委"]
    # a short form no statement expands stays as stated (nothing is invented)
    r = parse_text(report_text("示例县人社局2023年政府信息公开工作年度报告", "2023年，我局坚持公开为常态。"))
    assert (r.agency, r.meta.get("agency_aliases")) == ("示例县人社局", None)


def test_abbreviation_table() -> None:
    assert expand("示例县人社局") == "示例县人力资源和社会保障局"
    assert expand("北关区政府") == "北关区人民政府"
    assert expand("示例市发改委") == "示例市发展和改革委员会"
    assert expand("示例县林业局") == "示例县林业局"
    assert full_name("示例县住建局", "……示例县住房和城乡建设局……") == (
        "示例县住房和城乡建设局",
        ["示例县住建局"],
    )
    assert canonical_key("示例县 医保局") == canonical_key("示例县医疗保障局") == "示例县医疗保障局"


def put(db: sqlite_utils.Database, url: str, text: str, agency: str | None = None) -> store.StoreResult:
    body = text.encode("utf-8")
    hints = ReadHints(url=url, agency=agency)
    return store.store(db, body, FetchMeta(url=url), read=lambda: read_report(body, "r.txt", hints=hints))


def test_one_agency_links_its_reports_across_years(tmp_path: Path) -> None:
    db = open_db(tmp_path / "a.db")
    a = put(
        db,
        "https://x.example.gov.cn/2022.html",
        report_text("示例县人社局2022年政府信息公开工作年度报告", "2022年，我局坚持公开为常态。"),
    )
    b = put(
        db,
        "https://x.example.gov.cn/2023.html",
        report_text(
            "示例县人力资源和社会保障局2023年政府信息公开工作年度报告", "2023年，我局坚持公开为常态。"
        ),
    )
    c = put(
        db,
        "https://x.example.gov.cn/other.html",
        report_text("示例县林业局2023年政府信息公开工作年度报告", "2023年，我局坚持公开为常态。"),
    )
    assert a.report_id and b.report_id and c.report_id
    ida, idb, idc = (agency_id_of(db, r) for r in (a.report_id, b.report_id, c.report_id))
    assert ida == idb != idc and ida is not None
    name, aliases = db.execute("SELECT name, aliases FROM agencies WHERE id = ?", [ida]).fetchone()
    assert (name, json.loads(aliases)) == ("示例县人力资源和社会保障局", ["示例县人社局"])
    history = db.execute(
        "SELECT year, name_in_report FROM agency_history WHERE agency_id = ? ORDER BY year", [ida]
    ).fetchall()
    assert history == [(2022, "示例县人社局"), (2023, "示例县人力资源和社会保障局")]
    assert db.execute("SELECT count(*) FROM agencies").fetchone()[0] == 2


def test_migration_links_reports_written_before_the_table(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = sqlite_utils.Database(path)
    migrations.apply(db, stop_before="m007_agencies")
    assert "agencies" not in db.table_names()
    for url, year, agency in (("u1", 2021, "示例县卫健委"), ("u2", 2022, "示例县卫生健康委员会")):
        doc = (
            db.table("documents")
            .insert({"url": url, "kind": "report", "first_seen": "t", "last_seen": "t"})
            .last_pk
        )
        db.table("blobs").insert({"sha256": url, "size": 1, "content": b"x"})
        ver = (
            db.table("versions")
            .insert(
                {
                    "document_id": doc,
                    "sha256": url,
                    "fetched_at": "t",
                    "size": 1,
                    "first_seen": "t",
                    "last_seen": "t",
                }
            )
            .last_pk
        )
        db.table("reports").insert(
            {
                "version_id": ver,
                "document_id": doc,
                "agency": agency,
                "year": year,
                "parsed_at": "t",
                "is_latest": 1,
            }
        )
    db.close()
    db = open_db(path)
    linked = db.execute("SELECT DISTINCT agency_id FROM reports").fetchall()
    assert len(linked) == 1 and linked[0][0] is not None
    assert db.execute("SELECT name, aliases FROM agencies").fetchall() == [
        ("示例县卫生健康委员会", '["示例县卫健委"]')
    ]
