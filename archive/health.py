"""Crawl health: what a crawl did (requests, responses by status, new documents and versions, reports by
status, errors, duration, bytes) and the checks at its close, stored on its `crawls` row.

Computed from the archive and the crawl's Scrapy stats (the `stats` JSON already on the row), so the
single-process crawl and the queue writer record the same thing with one call: `record_health(db, crawl_id)`.
Checks: reports found against the portal's previous finished crawl, the error ratio, blocked, the page
budget exhausted. A check that cannot be evaluated (no previous crawl) is left out, never passed.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import sqlite_utils

REPORT_DROP = 0.2  # reports found fell by more than this share against the previous finished crawl
ERROR_RATIO = 0.1  # errors per request above this fails the crawl's error check


def _seconds(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    try:
        return (datetime.strptime(end, fmt) - datetime.strptime(start, fmt)).total_seconds()
    except ValueError:
        return None


def crawl_health(db: sqlite_utils.Database, crawl_id: int) -> dict[str, Any]:
    """The health columns of one crawl (see module docstring), from its row, stats and archived rows."""
    row = db.execute(
        "SELECT portal_id, started_at, finished_at, status, stats, reports_found FROM crawls WHERE id = ?",
        [crawl_id],
    ).fetchone()
    if row is None:
        raise ValueError(f"no crawl {crawl_id}")
    portal_id, started, finished, status, stats_json, reports_found = row
    stats: dict[str, Any] = json.loads(stats_json or "{}")
    prefix = "downloader/response_status_count/"
    by_status = {k[len(prefix) :]: v for k, v in stats.items() if k.startswith(prefix)}
    requests = int(stats.get("downloader/request_count", 0))
    # One source in both modes: the crawl's rows in crawl_errors (a failed fetch once, however many retries
    # and log lines it took). `list` and `gone` rows are evidence of a skipped gone pass, not errors.
    errors = db.execute(
        "SELECT count(*) FROM crawl_errors WHERE crawl_id = ? AND stage NOT IN ('list', 'gone')", [crawl_id]
    ).fetchone()[0]
    new_versions = db.execute("SELECT count(*) FROM versions WHERE crawl_id = ?", [crawl_id]).fetchone()[0]
    new_documents = db.execute(
        "SELECT count(*) FROM versions v WHERE v.crawl_id = ? AND v.id = (SELECT min(id) FROM versions"
        " WHERE document_id = v.document_id)",
        [crawl_id],
    ).fetchone()[0]
    reports = crawl_reports_by_status(db, crawl_id)
    checks: list[dict[str, Any]] = []
    previous = db.execute(
        "SELECT id, reports_found FROM crawls WHERE portal_id = ? AND id < ? AND status = 'finished'"
        " ORDER BY id DESC LIMIT 1",
        [portal_id, crawl_id],
    ).fetchone()
    if previous is not None and previous[1] and reports_found is not None:
        fell = reports_found < previous[1] * (1 - REPORT_DROP)
        checks.append(
            {
                "check": "reports_vs_previous",
                "ok": not fell,
                "detail": f"{reports_found} reports found, {previous[1]} in crawl {previous[0]}",
            }
        )
    if requests:
        ratio = errors / requests
        checks.append(
            {
                "check": "error_ratio",
                "ok": ratio <= ERROR_RATIO,
                "detail": f"{errors}/{requests} = {ratio:.2f}",
            }
        )
    checks.append({"check": "not_blocked", "ok": status != "blocked", "detail": status or ""})
    budget = bool(stats.get("nianbao/budget_exhausted"))
    checks.append(
        {"check": "budget_left", "ok": not budget, "detail": "page budget exhausted" if budget else ""}
    )
    return {
        "requests": requests,
        "responses_by_status": json.dumps(by_status, sort_keys=True),
        "new_documents": new_documents,
        "new_versions": new_versions,
        "reports_by_status": json.dumps(reports, sort_keys=True),
        "errors": errors,
        "duration_seconds": _seconds(started, finished),
        "health": json.dumps(checks, ensure_ascii=False),
        "health_ok": int(all(c["ok"] for c in checks)),
    }


def crawl_reports_by_status(db: sqlite_utils.Database, crawl_id: int) -> dict[str, int]:
    """How many reports of each status the versions a crawl stored have (reports may arrive after the close)."""
    return dict(
        db.execute(
            "SELECT r.status, count(*) FROM reports r JOIN versions v ON v.id = r.version_id"
            " WHERE v.crawl_id = ? GROUP BY r.status",
            [crawl_id],
        ).fetchall()
    )


def record_health(db: sqlite_utils.Database, crawl_id: int) -> dict[str, Any]:
    """Compute and store the crawl's health columns (call after the row is closed)."""
    health = crawl_health(db, crawl_id)
    db.table("crawls").update(crawl_id, health)
    return health
