"""One page per agency ``/<db>/-/agency/<name>`` and the comparison ``/<db>/-/compare``.

The agency page lays every year's report side by side (key figures as a table and as charts), with every
failed check, timeliness per year, missing years and changes after publication. The comparison charts one
figure across the agencies of a region and year (the `compare_agencies` canned query). Charts are inline
SVG drawn here, so they render without scripts or network; every value is escaped by Jinja's autoescape.
"""

from __future__ import annotations

from typing import Any

from datasette import hookimpl
from datasette.utils import tilde_decode, tilde_encode
from datasette.utils.asgi import NotFound, Response

from archive.audit import AGENCY_MATCH

OUTCOMES = (
    ("granted", "予以公开", "#4c9a2a"),
    ("partly_granted", "部分公开", "#a4c639"),
    ("denied", "不予公开", "#d9534f"),
    ("unable", "无法提供", "#f0ad4e"),
    ("rejected", "不予处理", "#8e6c8a"),
    ("other", "其他处理", "#999999"),
)
FIGURES = {
    "applications_received": "收到申请 / applications received",
    "applications_granted": "予以公开 / granted",
    "applications_handled": "办理结果总计 / handled",
    "reviews_total": "行政复议 / reviews",
    "litigation_total": "行政诉讼 / suits",
    "failed_checks": "未通过校验 / failed checks",
}


def agency_url(datasette, database: str, agency: str) -> str:
    """Datasette 0.65 paths are tilde-encoded (a %-encoded path is redirected to its ~ form)."""
    return datasette.urls.path(f"/{database}/-/agency/{tilde_encode(''.join(agency.split()))}")


def bars(items: list[tuple[str, list[tuple[str, float, str]]]], height: int = 160) -> dict[str, Any]:
    """Stacked vertical bars: [(label, [(series, value, colour)…])…] → shapes for the SVG template."""
    width, gap, top, bottom = 56, 14, 16, 36
    peak = max((sum(v for _, v, _ in segs) for _, segs in items), default=0) or 1
    shapes: list[dict[str, Any]] = []
    for i, (label, segs) in enumerate(items):
        x = 40 + i * (width + gap)
        y: float = top + height
        total = 0.0
        for series, value, colour in segs:
            h = height * value / peak
            y -= h
            total += value
            if h > 0:
                shapes.append(
                    {
                        "kind": "rect",
                        "x": x,
                        "y": round(y, 1),
                        "w": width,
                        "h": round(h, 1),
                        "fill": colour,
                        "title": f"{label} {series}: {value:g}",
                    }
                )
        shapes.append({"kind": "text", "x": x + width / 2, "y": top + height + 16, "text": label})
        shapes.append({"kind": "text", "x": x + width / 2, "y": round(y - 4, 1), "text": f"{total:g}"})
    return {
        "width": 40 + len(items) * (width + gap) + 10,
        "height": top + height + bottom,
        "shapes": shapes,
        "axis_y": top + height,
    }


async def _rows(db, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    return [dict(r) for r in (await db.execute(sql, params)).rows]


async def agency_page(request, datasette):
    database = request.url_vars["database"]
    try:
        db = datasette.get_database(database)
    except KeyError:
        raise NotFound(f"no database {database}") from None
    key = "".join(tilde_decode(request.url_vars["agency"]).split())
    reports = await _rows(
        db,
        f"SELECT id, year, title, template, status, is_latest, published_date, published_date_source,"
        f" deadline, days_late, failed_checks, source_url, region, level, agency FROM reports"
        f" WHERE {AGENCY_MATCH} ORDER BY year, is_latest DESC, id",
        {"key": key},
    )
    if not reports:
        raise NotFound(f"no reports of {key}")
    agency = reports[0]["agency"]
    latest = await _rows(
        db,
        f"SELECT l.*, s.score, s.deadline_rule, s.on_time, s.hard_failed, s.cross_year_failed, s.prose_failed,"
        f" s.copied_sections, s.sections_present, s.tables_present FROM reports_latest l"
        f" LEFT JOIN scorecards s ON s.report_id = l.report_id"
        f" WHERE l.report_id IN (SELECT id FROM reports WHERE {AGENCY_MATCH}) ORDER BY l.year",
        {"key": key},
    )
    ids = [r["report_id"] for r in latest]
    marks = ",".join("?" * len(ids)) or "NULL"
    outcome_rows = [
        dict(r)
        for r in (
            await db.execute(
                f'SELECT report_id, "row", value FROM figures WHERE report_id IN ({marks})'
                " AND \"table\" = 'applications' AND \"column\" = 'total'",
                ids,
            )
        ).rows
    ]
    mix: dict[int, dict[str, float]] = {}
    for r in outcome_rows:
        group = next(
            (code for code, _, _ in OUTCOMES if r["row"] == code or r["row"].startswith(code + "_")), None
        )
        if r["row"] == "other" or (r["row"].startswith("other_") and r["row"] != "other_total"):
            group = "other"
        if group and r["value"] is not None and not r["row"].endswith("_total"):
            mix.setdefault(r["report_id"], {}).setdefault(group, 0.0)
            mix[r["report_id"]][group] += float(r["value"])
    for row in latest:
        row["mix"] = mix.get(row["report_id"], {})
        row["report_url"] = datasette.urls.path(f"/{database}/-/report/{row['report_id']}")
    charts = {
        "received": bars(
            [
                (str(r["year"]), [("收到申请", float(r["applications_received"] or 0), "#3b6ea5")])
                for r in latest
            ]
        ),
        "outcomes": bars(
            [
                (str(r["year"]), [(lab, r["mix"].get(code, 0.0), colour) for code, lab, colour in OUTCOMES])
                for r in latest
            ]
        ),
        "disputes": bars(
            [
                (
                    str(r["year"]),
                    [
                        ("行政复议", float(r["reviews_total"] or 0), "#5b8def"),
                        ("行政诉讼", float(r["litigation_total"] or 0), "#e8743b"),
                    ],
                )
                for r in latest
            ]
        ),
    }
    failed = await _rows(
        db,
        f'SELECT c.report_id, r.year, c.rule, c."row", c."column", c.detail, c.severity, c.compared_report_id'
        f" FROM checks c JOIN reports r ON r.id = c.report_id WHERE c.ok = 0 AND r.is_latest = 1"
        f' AND {AGENCY_MATCH.replace("agency", "r.agency")} ORDER BY r.year, c.severity, c.rule, c."column"',
        {"key": key},
    )
    missing = await _rows(
        db, f"SELECT year FROM coverage WHERE missing = 1 AND {AGENCY_MATCH} ORDER BY year", {"key": key}
    )
    changes = await _rows(
        db,
        f"SELECT change_id, report_id, year, url, detected_at, summary, changed_figure_count FROM report_changes"
        f" WHERE {AGENCY_MATCH} ORDER BY detected_at",
        {"key": key},
    )
    context = {
        "database": database,
        "agency": agency,
        "key": key,
        "reports": reports,
        "latest": latest,
        "charts": charts,
        "outcomes": OUTCOMES,
        "failed": failed,
        "missing": [m["year"] for m in missing],
        "changes": changes,
        "report_base": datasette.urls.path(f"/{database}/-/report/"),
        "json_url": agency_url(datasette, database, key) + ".json",
    }
    if request.url_vars.get("format") == "json":
        return Response.json(
            {k: context[k] for k in ("agency", "latest", "failed", "missing", "changes")}, default=str
        )
    return Response.html(await datasette.render_template("nianbao_agency.html", context, request=request))


async def compare_page(request, datasette):
    database = request.url_vars["database"]
    try:
        db = datasette.get_database(database)
    except KeyError:
        raise NotFound(f"no database {database}") from None
    region = request.args.get("region", "")
    year = request.args.get("year", "")
    figure = request.args.get("figure", "") or "applications_received"
    if figure not in FIGURES:
        figure = "applications_received"
    query = datasette.metadata("queries", database=database).get("compare_agencies")
    if query is None:
        raise NotFound("no compare_agencies query")
    sql = query["sql"] if isinstance(query, dict) else query
    rows = await _rows(db, sql, {"region": region, "year": year, "figure": figure})
    for r in rows:
        r["agency_url"] = agency_url(datasette, database, r["agency"])
    chart = bars(
        [(r["agency"][-6:], [(FIGURES[figure], float(r["value"] or 0), "#3b6ea5")]) for r in rows[:40]]
    )
    years = [
        r[0]
        for r in (
            await db.execute(
                "SELECT DISTINCT year FROM reports_latest WHERE year IS NOT NULL ORDER BY year DESC"
            )
        ).rows
    ]
    regions = [
        r[0]
        for r in (
            await db.execute(
                "SELECT DISTINCT region FROM reports_latest WHERE region IS NOT NULL ORDER BY region"
            )
        ).rows
    ]
    context = {
        "database": database,
        "rows": rows,
        "chart": chart,
        "region": region,
        "year": year,
        "figure": figure,
        "figures": FIGURES,
        "years": years,
        "regions": regions,
        "query_url": datasette.urls.path(f"/{database}/compare_agencies"),
    }
    return Response.html(await datasette.render_template("nianbao_compare.html", context, request=request))


@hookimpl
def register_routes():
    return [
        (r"^/(?P<database>[^/]+)/-/agency/(?P<agency>[^/]+?)(\.(?P<format>json))?$", agency_page),
        (r"^/(?P<database>[^/]+)/-/compare$", compare_page),
    ]


@hookimpl
def extra_template_vars(datasette, database):
    def agency_link(agency: str | None) -> str | None:
        return agency_url(datasette, database, agency) if agency and database else None

    return {"nianbao_agency_url": agency_link}
