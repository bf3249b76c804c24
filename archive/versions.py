"""What changed between two versions of a document: a readable text diff and the figures that moved."""

from __future__ import annotations

import difflib
import json
from typing import Any

import sqlite_utils

from .db import insert_row

MAX_DIFF_LINES = 400


def _report_of(db: sqlite_utils.Database, version_id: int) -> tuple[int, str] | None:
    row = db.execute(
        "SELECT id, coalesce(text, '') FROM reports WHERE version_id = ?", [version_id]
    ).fetchone()
    return (row[0], row[1]) if row else None


def _figures(db: sqlite_utils.Database, report_id: int) -> dict[tuple[str, str, str], Any]:
    return {
        (t, r, c): v
        for t, r, c, v in db.execute(
            'SELECT "table", "row", "column", value FROM figures WHERE report_id = ?', [report_id]
        ).fetchall()
    }


def text_diff(old: str, new: str) -> str:
    """A unified diff of the two texts, line by line, capped so one rewrite cannot bloat the archive."""
    lines = list(difflib.unified_diff(old.splitlines(), new.splitlines(), "old", "new", lineterm="", n=1))
    if len(lines) > MAX_DIFF_LINES:
        lines = [*lines[:MAX_DIFF_LINES], f"… ({len(lines) - MAX_DIFF_LINES} more diff lines)"]
    return "\n".join(lines)


def char_diff(old: str, new: str, context: int = 40, timeout: float = 1.0) -> list[tuple[str, str]]:
    """A character-level diff for Chinese (diff-match-patch, semantic cleanup): [(op, text)] with op in
    'eq', 'del', 'add'. One changed number marks that number, not its paragraph; unchanged runs longer than
    2 × `context` are cut to their ends around '…'. `timeout` bounds the work on long rewrites."""
    from diff_match_patch import diff_match_patch

    dmp = diff_match_patch()
    dmp.Diff_Timeout = timeout
    diffs = dmp.diff_main(old, new)
    dmp.diff_cleanupSemantic(diffs)
    out: list[tuple[str, str]] = []
    ops = {0: "eq", -1: "del", 1: "add"}
    for i, (op, text) in enumerate(diffs):
        if op == 0 and len(text) > 2 * context:
            head = text[:context] if i > 0 else ""
            tail = text[-context:] if i < len(diffs) - 1 else ""
            text = head + "…" + tail
        out.append((ops[op], text))
    return out


def changed_figures(
    old: dict[tuple[str, str, str], Any], new: dict[tuple[str, str, str], Any]
) -> list[dict[str, Any]]:
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if a != b:
            out.append({"table": key[0], "row": key[1], "column": key[2], "old": a, "new": b})
    return out


def record_change(
    db: sqlite_utils.Database, document_id: int, old_version_id: int, new_version_id: int, when: str
) -> int:
    """Insert the `changes` row for a new version of a document that already had one."""
    old, new = _report_of(db, old_version_id), _report_of(db, new_version_id)
    diff, figs = "", []
    if old and new:
        diff = text_diff(old[1], new[1])
        figs = changed_figures(_figures(db, old[0]), _figures(db, new[0]))
    parts = [f"{len(figs)} figures changed"] if figs else []
    added = sum(1 for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++"))
    removed = sum(1 for line in diff.splitlines() if line.startswith("-") and not line.startswith("---"))
    if added or removed:
        parts.append(f"text: +{added} −{removed} lines")
    if not parts:
        parts.append("bytes changed; extracted text and figures identical")
    return insert_row(
        db,
        "changes",
        {
            "document_id": document_id,
            "old_version_id": old_version_id,
            "new_version_id": new_version_id,
            "detected_at": when,
            "summary": "; ".join(parts),
            "text_diff": diff,
            "changed_figures": json.dumps(figs, ensure_ascii=False),
            "changed_figure_count": len(figs),
        },
    )
