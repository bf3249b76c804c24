"""The auditor across reports: cross-year checks, copied sections and a scorecard per report.

Within-report rules are pure and run in the reader (pipelines/rules.py, pipelines/prose.py). What needs
the agency's other years lives here: S-XYEAR (`cross_year.carried_over`), S-E2-LAW (`cross_year.in_force`)
and `copied.<section>`, all attached to the later report, with `compared_report_id` naming the earlier
one. `audit_report` runs inside write_report's transaction and re-evaluates the report's own year and the
year after it (and any report that was compared with it), so a change to either year's report is seen.

Reports of one agency are found by `agency_key` alone: the `agencies` key of the report's agency
(archive/agencies.py), so a short name one year and the full name the next link up.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from pipelines.agency_names import canonical_key
from pipelines.codes import SECTIONS
from pipelines.report import Check
from pipelines.rules import severity_of
from pipelines.similarity import MIN_CHARS, NEAR_IDENTICAL, copied

from .db import BEST_REPORT_ORDER
from .timeliness import is_government_report

AUDIT_RULE_PREFIXES = ("cross_year.", "copied.")
# Prose sections compared with last year's (table sections repeat the template by design).
COPY_SECTIONS = ("overview", "problems", "other")
SECTION_CODES = tuple(s.code for s in SECTIONS)
TABLES = ("active", "applications", "review_litigation")
_TOWNSHIP = ("乡", "镇", "街道")


# ------------------------------------------------------------------ one agency's reports


def agency_key(db: sqlite_utils.Database, report_id: int) -> str | None:
    """What links one agency's reports across years: the `agencies` key of the report's agency (its full
    name, so 北关区卫健委 one year and 北关区卫生健康委员会 the next are the same agency)."""
    row = db.execute("SELECT agency FROM reports WHERE id = ?", [report_id]).fetchone()
    if row is None or not row[0] or not row[0].strip():
        return None
    return canonical_key(row[0])


# SQL condition on `reports` matching the agency key given as the parameter :key (the Datasette pages use it).
AGENCY_MATCH = "replace(replace(agency, ' ', ''), '　', '') = :key"


def _reports_of(db: sqlite_utils.Database, key: str, year: int) -> list[int]:
    """The agency's reports on `year`, the best latest first (complete before partial before failed)."""
    rows = db.execute(
        "SELECT r.id FROM reports r WHERE r.agency_id IN (SELECT id FROM agencies WHERE key = :key)"
        f" AND r.year = :year ORDER BY r.is_latest DESC, {BEST_REPORT_ORDER}",
        {"key": key, "year": year},
    ).fetchall()
    return [int(r[0]) for r in rows]


def best_report(db: sqlite_utils.Database, key: str, year: int) -> int | None:
    """The report that stands for the agency's `year` (as reports_latest picks it), or None."""
    for rid in _reports_of(db, key, year):
        if db.execute("SELECT is_latest FROM reports WHERE id = ?", [rid]).fetchone()[0]:
            return rid
    return None


# ------------------------------------------------------------------ the checks


def _figures(db: sqlite_utils.Database, report_id: int) -> dict[tuple[str, str, str], Any]:
    rows = db.execute(
        'SELECT "table", "row", "column", value FROM figures WHERE report_id = ? AND value IS NOT NULL',
        [report_id],
    ).fetchall()
    return {(t, r, c): v for t, r, c, v in rows}


def _fmt(v: Any) -> str:
    return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)


def cross_year_checks(db: sqlite_utils.Database, later: int, earlier: int, later_year: int) -> list[Check]:
    """S-XYEAR per applicant column and S-E2-LAW per row of 第二十条第（一）项, on the later report."""
    now, before = _figures(db, later), _figures(db, earlier)
    prev = later_year - 1
    out: list[Check] = []
    columns = sorted(
        {c for (t, r, c) in now if t == "applications" and r == "carried_over"}
        & {c for (t, r, c) in before if t == "applications" and r == "carried_forward"},
        key=lambda c: (c != "total", c),
    )
    for col in columns:
        a, b = now[("applications", "carried_over", col)], before[("applications", "carried_forward", col)]
        ok = abs(a - b) < 1e-9
        out.append(
            Check(
                "cross_year.carried_over",
                col,
                ok,
                f"{later_year} 上年结转 {_fmt(a)} {'=' if ok else '≠'} {prev} 结转下年度 {_fmt(b)}"
                f"（报告 #{earlier}）",
                cells=[f"applications.carried_over.{col}", f"#{earlier}:applications.carried_forward.{col}"],
            )
        )
    for row in ("regulations", "normative_documents"):
        keys = [("active", row, c) for c in ("in_force", "issued", "repealed")]
        if any(k not in now for k in keys) or ("active", row, "in_force") not in before:
            continue
        in_force, issued, repealed = (now[k] for k in keys)
        last = before[("active", row, "in_force")]
        expected = last + issued - repealed
        ok = abs(in_force - expected) < 1e-9
        out.append(
            Check(
                "cross_year.in_force",
                "in_force",
                ok,
                f"{later_year} 现行有效 {_fmt(in_force)} {'=' if ok else '≠'} {prev} 现行有效 {_fmt(last)}"
                f" + 本年制发 {_fmt(issued)} − 本年废止 {_fmt(repealed)} = {_fmt(expected)}（报告 #{earlier}）",
                row=row,
                cells=[
                    f"active.{row}.in_force",
                    f"active.{row}.issued",
                    f"active.{row}.repealed",
                    f"#{earlier}:active.{row}.in_force",
                ],
            )
        )
    return out


def copied_checks(db: sqlite_utils.Database, later: int, earlier: int, later_year: int) -> list[Check]:
    """One check per prose section both reports have: its similarity with last year's."""

    def texts(rid: int) -> dict[str, str]:
        rows = db.execute("SELECT section, text FROM sections WHERE report_id = ?", [rid]).fetchall()
        out: dict[str, str] = {}
        for name, text in rows:
            out[name] = out.get(name, "") + (text or "")
        return out

    now, before = texts(later), texts(earlier)
    labels = {s.code: f"{'一二三四五六'[s.number - 1]}、{s.label}" for s in SECTIONS}
    out = []
    for name in COPY_SECTIONS:
        if not now.get(name, "").strip() or not before.get(name, "").strip():
            continue
        score, is_copy = copied(now[name], before[name])
        verdict = "雷同 near-identical" if is_copy else "不同 differs"
        out.append(
            Check(
                f"copied.{name}",
                "text",
                not is_copy,
                f"{labels.get(name, name)}：与 {later_year - 1} 年报告（#{earlier}）相似度 {score:.2f}"
                f"（≥ {NEAR_IDENTICAL} 且 ≥ {MIN_CHARS} 字为雷同）— {verdict}",
                cells=[f"sections.{name}", f"#{earlier}:sections.{name}"],
            )
        )
    return out


# ------------------------------------------------------------------ scorecard


@dataclass(frozen=True)
class Points:
    """Points of the scorecard (100 in all), in the spirit of the evaluators' indicators (FORMAT.md §5.6)."""

    on_time: int = 20  # unknown date: half
    sections: int = 15  # pro rata over the six sections
    tables: int = 15  # pro rata over the three tables
    hard_rules: int = 20  # minus 5 per failed hard check; 0 when nothing could be checked
    cross_year: int = 10
    prose: int = 10
    not_copied: int = 10


POINTS = Points()


def deadline_rule(year: int | None, agency: str | None, level: str | None) -> str:
    """Which deadline applies and why (条例 第四十九条; FORMAT.md §0.1)."""
    if not year:
        return "年度不明 / year unknown"
    if year < 2019:
        return "2019年以前：一律次年3月31日（旧条例）"
    if is_government_report(agency) or level == "政府":
        return "县级以上人民政府本级报告：次年3月31日（第四十九条）"
    if agency and any(t in agency[-8:] for t in _TOWNSHIP):
        return "乡镇、街道：次年1月31日（第四十九条未列明；非县级以上政府，按部门规则及多数地方通知）"
    return "部门：次年1月31日（第四十九条）"


def scorecard(db: sqlite_utils.Database, report_id: int) -> dict[str, Any]:
    r = db.execute(
        "SELECT agency, year, level, days_late, deadline, published_date FROM reports WHERE id = ?",
        [report_id],
    ).fetchone()
    agency, year, level, days_late, deadline, published = r
    sections = {
        s
        for (s,) in db.execute(
            "SELECT DISTINCT section FROM sections WHERE report_id = ? AND length(trim(text)) > 0",
            [report_id],
        )
    }
    tables = {
        t
        for (t,) in db.execute(
            'SELECT DISTINCT "table" FROM figures WHERE report_id = ? AND value IS NOT NULL', [report_id]
        )
    }
    checks = db.execute(
        "SELECT rule, ok, coalesce(severity, ?) FROM checks WHERE report_id = ?", ["hard", report_id]
    ).fetchall()
    hard = [ok for rule, ok, sev in checks if sev == "hard"]
    cross = [ok for rule, ok, _ in checks if rule.startswith("cross_year.")]
    prose = [ok for rule, ok, _ in checks if rule.startswith("prose.")]
    copies = [rule.split(".", 1)[1] for rule, ok, _ in checks if rule.startswith("copied.") and not ok]
    on_time = None if days_late is None else int(days_late <= 0)
    present = [s for s in SECTION_CODES if s in sections]
    hard_failed = sum(1 for ok in hard if not ok)
    p = POINTS
    score = (
        (p.on_time if on_time == 1 else p.on_time // 2 if on_time is None else 0)
        + round(p.sections * len(present) / len(SECTION_CODES))
        + round(p.tables * len(tables & set(TABLES)) / len(TABLES))
        + (max(0, p.hard_rules - 5 * hard_failed) if hard else 0)
        + (p.cross_year if all(cross) else 0)
        + (p.prose if all(prose) else 0)
        + (p.not_copied if not copies else 0)
    )
    return {
        "report_id": report_id,
        "agency_key": agency_key(db, report_id),
        "year": year,
        "deadline_rule": deadline_rule(year, agency, level),
        "deadline": deadline,
        "published_date": published,
        "days_late": days_late,
        "on_time": on_time,
        "sections_present": len(present),
        "sections_missing": ",".join(s for s in SECTION_CODES if s not in sections) or None,
        "tables_present": len(tables & set(TABLES)),
        "tables_missing": ",".join(t for t in TABLES if t not in tables) or None,
        "hard_checks": len(hard),
        "hard_failed": hard_failed,
        "soft_failed": sum(1 for rule, ok, sev in checks if sev == "soft" and not ok),
        "cross_year_checks": len(cross),
        "cross_year_failed": sum(1 for ok in cross if not ok),
        "prose_checks": len(prose),
        "prose_failed": sum(1 for ok in prose if not ok),
        "copied_sections": len(copies),
        "copied_which": ",".join(copies) or None,
        "score": score,
    }


# ------------------------------------------------------------------ write path


def _insert(db: sqlite_utils.Database, report_id: int, checks: list[Check], compared: int) -> None:
    db.conn.executemany(
        'INSERT INTO checks (report_id, rule, "row", "column", ok, detail, severity, cells, compared_report_id)'
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                report_id,
                c.rule,
                c.row,
                c.column,
                int(c.ok),
                c.detail,
                c.severity or severity_of(c.rule),
                json.dumps(c.cells, ensure_ascii=False),
                compared,
            )
            for c in checks
        ],
    )


def _refresh_year(db: sqlite_utils.Database, key: str, year: int) -> list[int]:
    """Recompute the cross-year and copied checks of the agency's `year`; the reports touched."""
    touched = _reports_of(db, key, year)
    for rid in touched:
        db.execute(
            "DELETE FROM checks WHERE report_id = ? AND (rule LIKE 'cross\\_year.%' ESCAPE '\\'"
            " OR rule LIKE 'copied.%')",
            [rid],
        )
    later, earlier = best_report(db, key, year), best_report(db, key, year - 1)
    if later is not None and earlier is not None:
        _insert(db, later, cross_year_checks(db, later, earlier, year), earlier)
        _insert(db, later, copied_checks(db, later, earlier, year), earlier)
    return touched


def _write_scorecard(db: sqlite_utils.Database, report_id: int) -> None:
    db.execute(
        "UPDATE reports SET failed_checks = (SELECT count(*) FROM checks WHERE report_id = ? AND ok = 0)"
        " WHERE id = ?",
        [report_id, report_id],
    )
    row = scorecard(db, report_id)
    # Plain SQL: sqlite-utils' upsert re-reads the schema on every call (~2 ms, a crawl writes one per report).
    columns = ", ".join(f"[{c}]" for c in row)
    updates = ", ".join(f"[{c}] = excluded.[{c}]" for c in row if c != "report_id")
    db.execute(
        f"INSERT INTO scorecards ({columns}) VALUES ({', '.join('?' for _ in row)})"
        f" ON CONFLICT(report_id) DO UPDATE SET {updates}",
        list(row.values()),
    )


def audit_report(db: sqlite_utils.Database, report_id: int) -> None:
    """Re-evaluate everything across years that `report_id` takes part in, and the scorecards touched."""
    targets: set[tuple[str, int]] = set()
    row = db.execute("SELECT year FROM reports WHERE id = ?", [report_id]).fetchone()
    key = agency_key(db, report_id)
    if key and row and row[0]:
        targets |= {(key, row[0]), (key, row[0] + 1)}
    # Reports that were compared with this one (its agency or year may have changed since).
    for (other,) in db.execute(
        "SELECT DISTINCT report_id FROM checks WHERE compared_report_id = ?", [report_id]
    ).fetchall():
        okey = agency_key(db, other)
        oyear = db.execute("SELECT year FROM reports WHERE id = ?", [other]).fetchone()[0]
        if okey and oyear:
            targets.add((okey, oyear))
        else:
            db.execute(
                "DELETE FROM checks WHERE report_id = ? AND compared_report_id = ?", [other, report_id]
            )
            _write_scorecard(db, other)
    touched = {report_id}
    for k, y in sorted(targets):
        if k:
            touched.update(_refresh_year(db, k, y))
    for rid in sorted(touched):
        _write_scorecard(db, rid)


def audit_document(db: sqlite_utils.Database, document_id: int) -> None:
    """After a document's latest version changed (a revert): re-audit its reports."""
    for (rid,) in db.execute("SELECT id FROM reports WHERE document_id = ?", [document_id]).fetchall():
        audit_report(db, rid)


def audit_all(db: sqlite_utils.Database) -> int:
    """Audit every report (a migration's backfill, or after bulk changes); returns how many."""
    ids = [int(r[0]) for r in db.execute("SELECT id FROM reports ORDER BY year, id").fetchall()]
    for rid in ids:
        audit_report(db, rid)
    return len(ids)
