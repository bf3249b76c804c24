"""A search archive for the search page's tests (tests/test_search_page.py, tests/test_browser.py).

Written through the real write path: 45 fictional reports (enough for three pages of 20), one document with
two versions, a hostile report, and texts chosen so each case knows which reports must come back: one and
two characters, phrases against the same words apart, terms far apart in one section.
"""

from __future__ import annotations

from pathlib import Path

from archive import store
from archive.db import open_db
from pipelines.report import Report

REGIONS = ("示例省", "样本市")
LEVELS = ("省级", "市级", "县级")
FILLER = "本机关坚持以公开为常态、不公开为例外，" * 6  # pushes the second term out of the first window


def _report(i: int, sections: dict[str, str], year: int | None = None, **kw) -> Report:
    agency = kw.pop("agency", f"示例市第{i}局")
    year = year or 2019 + i % 5
    return Report(
        agency=agency,
        year=year,
        title=kw.pop("title", f"{agency}{year}年政府信息公开工作年度报告"),
        template="2021",
        status=kw.pop("status", "complete" if i % 3 else "partial"),
        sections=sections,
        meta={"region": REGIONS[i % 2], "level": LEVELS[i % 3], "format": "json"},
        text="\n".join(sections.values()),
    )


def _reports() -> dict[str, list[Report]]:
    out: dict[str, list[Report]] = {}
    for i in range(45):
        text = f"第{i}号年度报告：全年收到政府信息公开申请{i}件。"
        if i % 2 == 0:
            text += "行政复议案件依法办理。"
        out[f"r{i}"] = [_report(i, {"overview": text})]
    out["phrase"] = [_report(100, {"overview": "本单位依申请公开的信息均按时答复。"}, agency="示例市短语局")]
    out["apart"] = [_report(101, {"overview": "申请人要求公开其个人信息。"}, agency="示例市分开局")]
    out["one_two"] = [
        _report(102, {"active": "個人所得稅的征收情况，行政罚款三起。"}, agency="示例市税务局", year=2023)
    ]
    out["far"] = [
        _report(103, {"other": "办理行政许可事项，" + FILLER + "涉及行政复议一件。"}, agency="示例市远距局")
    ]
    old = _report(104, {"overview": "旧稿独有词语，版本测试。"}, agency="示例市修订局", year=2022)
    new = _report(104, {"overview": "新稿独有词语，版本测试。"}, agency="示例市修订局", year=2022)
    out["versions"] = [old, new]
    out["hostile"] = [
        _report(
            105,
            {"problems": '<script>alert("x")</script>恶意脚本测试<b>粗体</b>'},
            agency="示例市<i>斜体</i>局",
            title="<img src=x onerror=alert(1)>恶意标题年度报告",
        )
    ]
    return out


def build_search_archive(path: Path) -> dict[str, list[int]]:
    from tests.helpers_archive import _body, _from_json

    db = open_db(path)
    ids: dict[str, list[int]] = {}
    for name, versions in _reports().items():
        for n, report in enumerate(versions):
            body = _body(report)
            meta = store.FetchMeta(
                url=f"https://example.gov.cn/xxgk/{name}.html",
                kind="report",
                filename="report.json",
                fetched_at=f"2024-0{1 + n}-01T00:00:00Z",
            )
            result = store.store(db, body, meta, read=lambda body=body: _from_json(body))
            ids.setdefault(name, []).append(result.report_id)
    db.close()
    return ids


def add_version(db, url: str, n: int) -> int:
    """A bare version (a one-byte blob) of `url`, for tests that write reports with `store.write_report`."""
    doc = db.execute("SELECT id FROM documents WHERE url = ?", [url]).fetchone()
    if doc is None:
        doc_id = (
            db["documents"]
            .insert({"url": url, "kind": "report", "first_seen": "x", "last_seen": "x"})
            .last_pk
        )
    else:
        doc_id = doc[0]
    sha = f"{n:064d}"
    db.execute("INSERT OR IGNORE INTO blobs VALUES (?, 1, x'00')", [sha])
    return (
        db["versions"]
        .insert(
            {
                "document_id": doc_id,
                "sha256": sha,
                "fetched_at": "x",
                "size": 1,
                "first_seen": "x",
                "last_seen": "x",
            }
        )
        .last_pk
    )
