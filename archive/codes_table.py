"""The `codes` table: every machine code of the archive (table, row, column, section, rule, status, template)
with its Chinese and English label and print order, so views, pages and a plain SQL user read 中文 labels.

The labels live in pipelines/codes.py (the parser's source of truth); this module only turns them into rows.
`fill_codes` is idempotent and runs in migration m005 and on every exported or published copy, so a bundle
always carries the labels of the code that wrote it.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

from pipelines import codes

# Codes of the archive's own columns (not from the report format) that people meet on pages and facets.
STATUS = (
    ("complete", "三表齐全", "complete: all three tables read"),
    ("partial", "部分缺失", "partial: see problems"),
    ("failed", "无法读取", "failed: nothing could be read (text kept)"),
)
TEMPLATES = (
    ("2021", "2021 年格式（国办公开办函〔2021〕30号）", "2021 template"),
    ("2019", "2019 年格式（国办公开办函〔2019〕60号）", "2019 template"),
    ("free", "非标准格式", "free (pre-2019 or non-standard)"),
)
TIMELINESS = (
    ("on_time", "按时", "on time"),
    ("late", "逾期", "late"),
    ("unknown", "未知", "unknown (no publication date)"),
)


def active_cells() -> list[tuple[str, str]]:
    """(row, column) of table 2 in print order, both templates (2021 first), each pair once."""
    out: list[tuple[str, str]] = []
    for rows, layout in (
        (codes.ACTIVE_ROWS_2021, codes.ACTIVE_LAYOUT_2021),
        (codes.ACTIVE_ROWS_2019, codes.ACTIVE_LAYOUT_2019),
    ):
        for r in rows:
            for c in layout.get(r.code, ()):
                if (r.code, c) not in out:
                    out.append((r.code, c))
    return out


def all_cells() -> list[tuple[str, str, str]]:
    """Every (table, row, column) the format has, in print order: the columns of `report_cells_wide`."""
    cells = [("active", r, c) for r, c in active_cells()]
    cells += [
        ("applications", r.code, c.code) for r, _ in codes.APPLICATION_ROWS for c in codes.APPLICATION_COLUMNS
    ]
    cells += [("review_litigation", r.code, c.code) for r in codes.REVIEW_ROWS for c in codes.REVIEW_COLUMNS]
    return cells


def code_rows() -> list[dict[str, Any]]:
    """Rows for the `codes` table: kind, table ('' when not per table), code, label, label_en, position."""
    rows: list[dict[str, Any]] = []

    def add(kind: str, table: str, code: str, label: str, label_en: str) -> None:
        if any(r["kind"] == kind and r["table"] == table and r["code"] == code for r in rows):
            return
        position = sum(1 for r in rows if r["kind"] == kind and r["table"] == table) + 1
        rows.append(
            {
                "kind": kind,
                "table": table,
                "code": code,
                "label": label,
                "label_en": label_en,
                "position": position,
            }
        )

    for code, (label, label_en) in codes.TABLES.items():
        add("table", "", code, label, label_en)
    add("section", "", codes.PREAMBLE, "前言", "Preamble")
    for s in codes.SECTIONS:
        add("section", "", s.code, f"{'一二三四五六'[s.number - 1]}、{s.label}", s.label_en)
    for lab in (*codes.ACTIVE_ROWS_2021, *codes.ACTIVE_ROWS_2019):
        add("row", "active", lab.code, lab.label, lab.label_en)
    for lab in (*codes.ACTIVE_COLUMNS_2021, *codes.ACTIVE_COLUMNS_2019):
        add("column", "active", lab.code, lab.label, lab.label_en)
    for lab, _ in codes.APPLICATION_ROWS:
        add("row", "applications", lab.code, lab.label, lab.label_en)
    for lab in codes.APPLICATION_COLUMNS:
        add("column", "applications", lab.code, lab.label, lab.label_en)
    for lab in codes.REVIEW_ROWS:
        add("row", "review_litigation", lab.code, lab.label, lab.label_en)
    for lab in codes.REVIEW_COLUMNS:
        add("column", "review_litigation", lab.code, lab.label, lab.label_en)
    for rule, (en, zh) in codes.RULES.items():
        add("rule", rule.split(".")[0], rule, zh, en)
    for kind, values in (("status", STATUS), ("template", TEMPLATES), ("timeliness", TIMELINESS)):
        for code, label, label_en in values:
            add(kind, "", code, label, label_en)
    return rows


def fill_codes(db: sqlite_utils.Database) -> int:
    """Replace the `codes` table's rows with the current labels (the caller commits); returns the row count."""
    rows = code_rows()
    db.execute("DELETE FROM codes")
    db.table("codes").insert_all(rows)
    return len(rows)
