"""The `e0_facts` table: figures of pre-2019 (free-form) reports as loosely typed facts (FORMAT.md §6),
written with their report by `store.write_report` (one transaction)."""

from __future__ import annotations

import json

import sqlite_utils

from pipelines.report import Report


def write_facts(db: sqlite_utils.Database, report_id: int, report: Report) -> None:
    """Replace the e0 facts of `report_id` with the report's."""
    db.execute("DELETE FROM e0_facts WHERE report_id = ?", [report_id])
    db.conn.executemany(
        "INSERT INTO e0_facts (report_id, code, label, value, unit, period, sentence, source)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                report_id,
                f.code,
                f.label,
                f.value,
                f.unit,
                f.period,
                f.sentence,
                json.dumps(f.source, ensure_ascii=False) if f.source else None,
            )
            for f in report.facts
        ],
    )
