"""The `agencies` table: one row per organ, its canonical (full) name and the other names it was filed under,
so one agency's reports link across years (`reports.agency_id`).

Names are linked by `pipelines.agency_names.canonical_key`: the full form by the table of standard
abbreviations (卫健委 → 卫生健康委员会 …), spaces and brackets dropped. Short forms and the names reports
used are kept in `aliases`. Places are never guessed: 北关区卫生健康委员会 and 示例市北关区卫生健康委员会 are two
rows until a report states both (the same district name exists in several cities).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import sqlite_utils

from pipelines.agency_names import canonical_key, expand

from .db import insert_row


def link_agency(
    db: sqlite_utils.Database,
    agency: str | None,
    aliases: Iterable[str] = (),
    region: str | None = None,
    level: str | None = None,
) -> int | None:
    """The id of `agency`'s row (created on first sight), its aliases widened by the names given."""
    if not agency:
        return None
    key = canonical_key(agency)
    names = {agency, *aliases}
    row = db.execute("SELECT id, name, aliases FROM agencies WHERE key = ?", [key]).fetchone()
    if row is None:
        name = expand(agency)
        return insert_row(
            db,
            "agencies",
            {
                "name": name,
                "key": key,
                "aliases": json.dumps(sorted(names - {name}), ensure_ascii=False),
                "region": region,
                "level": level,
            },
        )
    agency_id, name, known = int(row[0]), row[1], set(json.loads(row[2] or "[]"))
    wider = known | (names - {name})
    if wider != known or region or level:
        db.execute(
            "UPDATE agencies SET aliases = ?, region = coalesce(region, ?), level = coalesce(level, ?)"
            " WHERE id = ?",
            [json.dumps(sorted(wider), ensure_ascii=False), region, level, agency_id],
        )
    return agency_id


def link_report_row(db: sqlite_utils.Database, row: dict[str, Any], meta: dict[str, Any]) -> int | None:
    """The agency id for a report row about to be written (write_report's one-line hook)."""
    return link_agency(
        db, row.get("agency"), meta.get("agency_aliases") or (), row.get("region"), row.get("level")
    )


def agency_id_of(db: sqlite_utils.Database, report_id: int) -> int | None:
    """The agency a report is filed under (`reports.agency_id`), or None when the report names none."""
    found = db.execute("SELECT agency_id FROM reports WHERE id = ?", [report_id]).fetchone()
    return int(found[0]) if found and found[0] is not None else None


def relink_all(db: sqlite_utils.Database) -> None:
    """Link every report to its agency (the migration's backfill of archives written before the table)."""
    rows = db.execute(
        "SELECT id, agency, region, level, meta FROM reports WHERE agency IS NOT NULL"
    ).fetchall()
    for report_id, agency, region, level, meta in rows:
        aliases = (json.loads(meta or "{}") or {}).get("agency_aliases") or ()
        agency_id = link_agency(db, agency, aliases, region, level)
        db.execute("UPDATE reports SET agency_id = ? WHERE id = ?", [agency_id, report_id])
