"""Chinese search for Datasette (archive/search.py explains the index).

- ``?_search=`` on ``sections`` and ``reports``: metadata points their ``fts_table`` at ``sections_seg`` /
  ``reports_seg``, and this plugin replaces Datasette's ``escape_fts`` SQL function (registered *after*
  Datasette's own, hence ``trylast``) with one that rewrites queries containing Han characters into
  single-character phrases. Queries without Han characters are escaped exactly as Datasette does.
- ``/-/search`` (``.json``): one box across all searchable tables, ranked by bm25, word hits first.
- SQL functions for canned queries: ``nianbao_fold(text)``, ``nianbao_match(query)``, ``nianbao_db()``.
"""

from __future__ import annotations

import time
from typing import Any

from datasette import hookimpl
from datasette.utils.asgi import Response

from archive.search import escape_fts_cjk, fold, match_expression, search_sections_sql, snippet_parts

DASHBOARD_TEMPLATE_DB = "nianbao"


@hookimpl(trylast=True)
def prepare_connection(conn, database):
    conn.create_function("escape_fts", 1, escape_fts_cjk)
    conn.create_function("nianbao_fold", 1, fold, deterministic=True)
    conn.create_function("nianbao_match", 1, match_expression, deterministic=True)
    conn.create_function("nianbao_db", 0, lambda: database)


@hookimpl
def startup(datasette):
    """datasette-dashboards names a database per chart; metadata.yml says `nianbao`, the served file's stem
    may differ (archive/datasette_config.py renames only `databases`). Point such charts at the archive."""
    config = datasette._metadata_local.get("plugins", {}).get("datasette-dashboards") or {}
    names = [n for n in datasette.databases if n != "_internal"]
    archives = [n for n in names if n != DASHBOARD_TEMPLATE_DB]
    if DASHBOARD_TEMPLATE_DB in names or not archives:
        return
    for dashboard in config.values():
        for chart in (dashboard.get("charts") or {}).values():
            if chart.get("db") == DASHBOARD_TEMPLATE_DB:
                chart["db"] = archives[0]
        for flt in (dashboard.get("filters") or {}).values():
            if flt.get("db") == DASHBOARD_TEMPLATE_DB:
                flt["db"] = archives[0]


async def _searchable_databases(datasette):
    out = []
    for name, db in datasette.databases.items():
        if name == "_internal":
            continue
        if await db.table_exists("sections_seg"):
            out.append(name)
    return out


async def search_all(datasette, q: str, limit: int = 20) -> dict:
    """Reports whose title/agency match and sections whose text matches, in every archive, best first."""
    results: dict[str, Any] = {"q": q, "match": match_expression(q) if q.strip() else "", "databases": []}
    if not q.strip():
        return results
    params = {"match": results["match"], "limit": limit, "offset": 0}
    for name in await _searchable_databases(datasette):
        db = datasette.get_database(name)
        started = time.perf_counter()
        reports = await db.execute(
            "SELECT r.id, r.agency, r.year, r.title, r.status, r.failed_checks FROM"
            " (SELECT rowid AS id, bm25(reports_seg, 2.0, 1.0) AS score FROM reports_seg"
            "  WHERE reports_seg MATCH :match LIMIT 2000) hits JOIN reports r ON r.id = hits.id"
            " ORDER BY r.is_latest DESC, hits.score LIMIT :limit",
            params,
        )
        hits = await db.execute(
            f"SELECT s.id, s.report_id, s.section, s.text, r.agency, r.year, r.title, r.is_latest"
            f" FROM ({search_sections_sql()}) h JOIN sections s ON s.id = h.section_id"
            f" JOIN reports r ON r.id = s.report_id ORDER BY r.is_latest DESC, h.score",
            params,
        )
        results["databases"].append(
            {
                "database": name,
                "reports": [dict(r) for r in reports.rows],
                "sections": [
                    {
                        "id": r["id"],
                        "report_id": r["report_id"],
                        "section": r["section"],
                        "agency": r["agency"],
                        "year": r["year"],
                        "title": r["title"],
                        "is_latest": r["is_latest"],
                        "snippet": "".join(parts),
                        "snippet_parts": parts,
                    }
                    for r, parts in ((r, snippet_parts(r["text"], q)) for r in hits.rows)
                ],
                "ms": round((time.perf_counter() - started) * 1000, 1),
            }
        )
    return results


async def search_page(request, datasette):
    q = request.args.get("q", "").strip()
    try:
        limit = max(1, min(100, int(request.args.get("_size", "20"))))
    except ValueError:
        limit = 20
    results = await search_all(datasette, q, limit)
    if request.url_vars.get("format") == "json":
        return Response.json(results)
    return Response.html(
        await datasette.render_template("nianbao_search.html", {"q": q, "results": results}, request=request)
    )


@hookimpl
def register_routes():
    return [(r"^/-/search(\.(?P<format>json))?$", search_page)]


@hookimpl
def menu_links(datasette, actor):
    return [{"href": datasette.urls.path("/-/search"), "label": "全库检索 / Search everything"}]
