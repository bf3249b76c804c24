"""Chinese search for Datasette (archive/search.py explains the index).

- ``?_search=`` on ``reports``: metadata points its ``fts_table`` at ``reports_seg``, and this plugin replaces
  Datasette's ``escape_fts`` SQL function (registered *after* Datasette's own, hence ``trylast``) with one
  that rewrites queries containing Han characters into single-character phrases. Queries without Han
  characters are escaped exactly as Datasette does.
- ``?_search=`` on ``sections``: answered by this plugin (`asgi_wrapper` renames it `SEARCH_ARG`,
  `filters_from_request` adds the routed hits, only the page's in table order; archive/search.py ``plan``).
- ``/-/search`` (``.json``): reports whose sections contain the query, one row per report, latest versions
  by default, with filters, highlighted snippets, paging and a capped count (archive/search_reports.py),
  within Datasette's ``sql_time_limit_ms``.
- ``sections`` table searches skip Datasette's exact count and facet suggestions (``asgi_wrapper``), which
  scan every hit; a capped count is shown instead (``filters_from_request``). ``_count=1`` asks for the
  exact count.
- SQL functions for canned queries: ``nianbao_fold(text)``, ``nianbao_match(query)``, ``nianbao_has(text,
  needles)`` (folded substring check, newline-separated needles), ``nianbao_db()``.
"""

from __future__ import annotations

import re
import sqlite3
import time
import urllib.parse
from typing import Any

from datasette import hookimpl
from datasette.filters import FilterArguments
from datasette.utils import sqlite_timelimit
from datasette.utils.asgi import Response

from archive.codes_table import STATUS
from archive.search import (
    escape_fts_cjk,
    fold,
    has_trigram,
    hits_query,
    match_expression,
    plan,
    register_functions,
)
from archive.search_reports import (
    COUNT_CAP,
    FILTERS,
    SearchError,
    SearchQuery,
    SearchResult,
    filter_values,
    search_reports,
)
from pipelines import codes

DASHBOARD_TEMPLATE_DB = "nianbao"


@hookimpl(trylast=True)
def prepare_connection(conn, database):
    conn.create_function("escape_fts", 1, escape_fts_cjk)
    conn.create_function("nianbao_fold", 1, fold, deterministic=True)
    conn.create_function("nianbao_match", 1, match_expression, deterministic=True)
    register_functions(conn)  # nianbao_has
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


async def _searchable_databases(datasette) -> list[str]:
    out = []
    for name, db in datasette.databases.items():
        if name == "_internal":
            continue
        if await db.table_exists("sections_seg"):
            out.append(name)
    return out


_FILTER_VALUES: dict[tuple[str, Any], dict] = {}


async def _filter_values(db) -> dict:
    """Filter values across the archive, cached until a report is added (keyed by the highest report id)."""
    key = (
        db.name,
        (await db.execute("SELECT max(id) FROM reports")).first()[:],
    )
    if key not in _FILTER_VALUES:
        _FILTER_VALUES.clear()
        _FILTER_VALUES[key] = await db.execute_fn(filter_values)
    return _FILTER_VALUES[key]


def _link(base: str, args: dict[str, str], **changes: str | None) -> str:
    merged = {**args, **changes}
    return base + "?" + urllib.parse.urlencode({k: v for k, v in merged.items() if v})


def _as_json(result: SearchResult, database: str) -> dict[str, Any]:
    return {
        "database": database,
        "q": result.query.q,
        "match": result.match,
        "filters": result.query.filters,
        "versions": "all" if result.query.all_versions else "latest",
        "page": result.query.page,
        "per_page": result.query.per_page,
        "total": result.total,
        "total_exact": result.exact,
        "total_label": result.total_label,
        "has_next": result.has_next,
        "reports": [
            {
                **{k: v for k, v in r.items() if k != "snippets"},
                "snippets": [
                    {
                        "section": s["section"],
                        "section_id": s["section_id"],
                        "text": "".join(t for t, _ in s["parts"]),
                        "marks": [t for t, m in s["parts"] if m],
                        "parts": s["parts"],
                    }
                    for s in r["snippets"]
                ],
            }
            for r in result.reports
        ],
        "facets": {k: [[v, n] for v, n in vals] for k, vals in result.facets.items()},
        "title_hits": result.title_hits,
    }


def _bounded_search(conn: sqlite3.Connection, query: SearchQuery, limit_ms: int) -> SearchResult:
    """`search_reports` under Datasette's sql_time_limit_ms (execute_fn, unlike execute, sets no limit)."""
    try:
        with sqlite_timelimit(conn, limit_ms):
            return search_reports(conn, query)
    except sqlite3.OperationalError as exc:
        if exc.args != ("interrupted",):
            raise
        raise SearchError(
            f"检索超时（上限 {limit_ms} 毫秒），请换用更具体的词语或加筛选条件"
            f" / the search took longer than {limit_ms} ms: try a more specific query or a filter"
        ) from None


async def search_page(request, datasette):
    """``/-/search``: reports whose sections contain the query, one row per report (see module docstring)."""
    names = await _searchable_databases(datasette)
    database = request.args.get("db") or (names[0] if names else "")
    fmt = request.url_vars.get("format")
    error = None
    result = None
    ms: float | None = None
    try:
        if database not in names:
            raise SearchError(f"没有可检索的数据库 / no searchable database named {database!r}")
        query = SearchQuery.from_args(request.args)
        db = datasette.get_database(database)
        limit_ms = datasette.setting("sql_time_limit_ms")
        started = time.perf_counter()
        result = await db.execute_fn(lambda conn: _bounded_search(conn, query, limit_ms))
        ms = round((time.perf_counter() - started) * 1000, 1)
    except SearchError as exc:
        error = str(exc)
    if fmt == "json":
        if error or result is None:
            return Response.json({"ok": False, "error": error}, status=400)
        return Response.json({"ok": True, **_as_json(result, database), "ms": ms})
    args = {k: request.args.get(k) or "" for k in ("q", "db", *FILTERS, "versions")}
    base = datasette.urls.path("/-/search")
    facets = {}
    if result is not None and result.query.q:
        facets = result.facets or await _filter_values(datasette.get_database(database))
    context = {
        "q": args["q"],
        "args": args,
        "error": error,
        "result": result,
        "database": database,
        "databases": names,
        "facets": facets,
        "filter_labels": FILTER_LABELS,
        "value_labels": {"status": STATUS_LABELS},
        "section_labels": SECTION_LABELS,
        "link": lambda **changes: _link(base, args, **changes),
        "ms": ms,
    }
    return Response.html(
        await datasette.render_template("nianbao_search.html", context, request=request),
        status=400 if error else 200,
    )


FILTER_LABELS = {"agency": "机关", "year": "年度", "region": "地区", "level": "层级", "status": "解析状态"}
STATUS_LABELS = {code: label for code, label, _ in STATUS}
SECTION_LABELS = {s.code: s.label for s in codes.SECTIONS} | {codes.PREAMBLE: "前言"}


@hookimpl
def register_routes():
    return [(r"^/-/search(\.(?P<format>json))?$", search_page)]


@hookimpl
def menu_links(datasette, actor):
    return [{"href": datasette.urls.path("/-/search"), "label": "全库检索 / Search everything"}]


# ---------------------------------------------------------------- the sections table's own search box

COUNTED_TABLES = {"sections": "sections_seg"}
SEARCH_ARG = (
    "_nianbao_search"  # `_search` on `sections`, renamed so that Datasette does not add its own clause
)
_TABLE_PATH = re.compile(r"^/[^/]+/(?P<table>[^/.]+)(\.json)?$")
_FAST_BLOCKERS = ("_sort", "_sort_desc", "_facet", "_where", "_count")


@hookimpl
def asgi_wrapper(datasette):
    """A `sections` search is answered by this plugin's `filters_from_request`, not by Datasette's own
    clause ``rowid IN (select rowid from fts where fts match …)``, which reads every hit before ``LIMIT``
    (300 ms to 1.5 s for a frequent character on a million sections): `_search` is renamed `SEARCH_ARG`.
    Datasette's exact count and facet suggestions, which also read every hit, are skipped (``_nocount``,
    ``_nosuggest``); `_count=1` keeps the exact count. ``_searchmode=raw`` and ``_search_<column>`` are
    left to Datasette."""

    def wrap(app):
        async def search_sections(scope, receive, send):
            if scope.get("type") == "http":
                match = _TABLE_PATH.match(scope.get("path", ""))
                if match and urllib.parse.unquote(match["table"]) in COUNTED_TABLES:
                    qs = scope.get("query_string", b"").decode("latin-1")
                    pairs = urllib.parse.parse_qsl(qs, keep_blank_values=True)
                    keys = {k for k, _ in pairs}
                    if "_search" in keys and SEARCH_ARG in keys:  # a new query typed into the box
                        pairs = [(k, v) for k, v in pairs if k != SEARCH_ARG]
                        keys.discard(SEARCH_ARG)
                    if "_search" in keys and not any(v for k, v in pairs if k == "_search"):
                        # The box cleared: the form copied what this wrapper added into hidden inputs.
                        added = {SEARCH_ARG, "_nocount", "_nosuggest"}
                        pairs = [(k, v) for k, v in pairs if k not in added]
                        keys -= added
                    raw = dict(pairs).get("_searchmode") == "raw"
                    if "_search" in keys and not raw:
                        pairs = [(SEARCH_ARG if k == "_search" else k, v) for k, v in pairs]
                        keys.add(SEARCH_ARG)
                    searched = any(v for k, v in pairs if k in ("_search", SEARCH_ARG))
                    if searched and "_count" not in keys:
                        pairs += [(k, "1") for k in ("_nocount", "_nosuggest") if k not in keys]
                    new = urllib.parse.urlencode(pairs).encode("latin-1")
                    if new != qs.encode("latin-1"):
                        scope = {**scope, "query_string": new}
            await app(scope, receive, send)

        return search_sections

    return wrap


def _named(sql: str, params: list[Any], prefix: str) -> tuple[str, dict[str, Any]]:
    """`?` placeholders as named ones (Datasette's where clauses share one dict of parameters)."""
    parts = sql.split("?")
    out = parts[0]
    named: dict[str, Any] = {}
    for i, part in enumerate(parts[1:]):
        out += f":{prefix}{i}{part}"
        named[f"{prefix}{i}"] = params[i]
    return out, named


def _page_size(request, datasette, database: str, table: str) -> int | None:
    size = request.args.get("_size") or datasette.table_metadata(database, table).get("size")
    if size == "max":
        return int(datasette.max_returned_rows)
    try:
        n = int(size) if size else int(datasette.page_size)
    except ValueError:
        return None  # Datasette reports the bad _size itself
    return n if 0 < n <= datasette.max_returned_rows else None


@hookimpl
def filters_from_request(request, database, table, datasette):
    """The search of a `sections` table page (`SEARCH_ARG`): the sections whose text holds every term,
    routed like the search page (archive/search.py `plan`: 3+ Han characters through sections_tri). In
    table order without other filters, sorts or facets, only the page's hits are read: FTS5 returns them
    in rowid order and stops at ``LIMIT`` (after `_next`). Also a capped count as words under the title."""
    q = request.args.get(SEARCH_ARG)
    if table not in COUNTED_TABLES or not q:
        return None

    async def inner():
        db = datasette.get_database(database)
        p = plan(q, trigram=await db.execute_fn(has_trigram))
        if p.empty:
            return FilterArguments(
                ["0 = 1"], human_descriptions=[f'search matches "{q}"'], extra_context={"search": q}
            )
        filtered = any(not k.startswith("_") for k in request.args)
        size = _page_size(request, datasette, database, table)
        meta = datasette.table_metadata(database, table)
        after = request.args.get("_next") or "0"
        fast = (
            not filtered
            and size is not None
            and after.isdigit()
            and not (meta.get("sort") or meta.get("sort_desc"))  # a default order other than the table's
            and not any(k.startswith(b) for k in request.args for b in _FAST_BLOCKERS)
        )
        if fast:
            sql, params = hits_query(p, "rowid > ?", [int(after)], f"ORDER BY rowid LIMIT {size + 1}")
        else:
            sql, params = hits_query(p)
        clause, named = _named(f"id IN ({sql})", params, "nbs")
        descriptions = [f'search matches "{q}"']
        if not filtered and not request.args.get("_count"):
            count_sql, count_params = hits_query(p, tail=f"LIMIT {COUNT_CAP + 1}")
            n = (await db.execute(f"SELECT count(*) FROM ({count_sql})", count_params)).first()[0]
            label = f"{n:,}" if n <= COUNT_CAP else f"{COUNT_CAP:,}+"
            descriptions.append(
                f"{label} 条匹配 / {label} matching rows (计数上限 {COUNT_CAP:,}；_count=1 精确计数)"
            )
        return FilterArguments([clause], named, human_descriptions=descriptions, extra_context={"search": q})

    return inner
