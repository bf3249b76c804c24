"""The report page ``/<db>/-/report/<id>``: one parsed report laid out as the national format prints it,
with failed checks highlighted, each figure linked to the original it was read from, and the document's
version history (original bytes, WARC record, changes with diffs). Everything is escaped by Jinja's
autoescape; nothing from a report is rendered as HTML.
"""

from __future__ import annotations

import json
import os
import re
import urllib.parse
from typing import Any

from datasette import hookimpl
from datasette.utils.asgi import NotFound, Response
from markupsafe import Markup, escape

from archive.codes_table import code_rows
from archive.originals import originals_dir_for, read_stored, serve_headers
from archive.versions import char_diff
from pipelines import codes

APPLICANT_ORGS = (
    "commercial_enterprise",
    "research_institution",
    "social_welfare_org",
    "legal_service_org",
    "other_org",
)
RESULT_GROUP_START = "granted"


LONG_CELL = 160
LONG_COLUMNS = {("reports", "text"), ("sections", "text"), ("changes", "text_diff")}
JSON_COLUMNS = {
    ("reports", "quality"),
    ("reports", "meta"),
    ("reports", "problems"),
    ("crawls", "stats"),
    ("changes", "changed_figures"),
    ("report_changes", "changed_figures"),
}


def _report_url(datasette, database: str, report_id: Any) -> str:
    return datasette.urls.path(f"/{database}/-/report/{report_id}")


def original_url(datasette, database: str, version_id: Any) -> str:
    """The original of one version, served with its real content type and file name (archive/originals.py)."""
    return datasette.urls.path(f"/{database}/-/original/{version_id}")


def replay_url(datasette, url: str | None, fetched_at: str | None) -> str | None:
    """Link to the capture in a replay tool (pywb or ReplayWeb.page), when `nianbao.replay_prefix` is set:
    ``<prefix><14-digit timestamp>/<url>``, the Wayback URL form both understand."""
    config = datasette.plugin_config("nianbao") or {}
    prefix = config.get("replay_prefix")
    if not prefix or not url:
        return None
    stamp = re.sub(r"\D", "", fetched_at or "")[:14]
    return f"{prefix.rstrip('/')}/{stamp}/{url}"


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    """Link report ids and report titles to the report page."""
    if value is None:
        return None
    if column == "report_id" and isinstance(value, int):
        return Markup('<a href="{}">{}</a>').format(_report_url(datasette, database, value), value)
    if isinstance(value, str) and len(value) > LONG_CELL and (table, column) in LONG_COLUMNS | JSON_COLUMNS:
        # Table pages list many rows: a full report text per row made a 200,000 px page. Show the start and
        # where to read the rest (the report page; JSON and CSV keep the full value).
        link = None
        if table == "reports":
            link = _report_url(datasette, database, row["id"])
        elif table == "sections":
            link = _report_url(datasette, database, row["report_id"])
        # Three lines at most in a fixed-width box: a row of a table page stays one glance tall.
        head = value[: LONG_CELL // 2]
        more = f"…（共 {len(value)} 字）"
        if link:
            return Markup(
                '<div class="nb-long">{}</div><a href="{}" title="全文见报告页 / full text on the report page">{}</a>'
            ).format(head, link, more)
        return Markup('<div class="nb-long" title="{}">{}</div>{}').format(value[:2000], head, more)
    if table == "reports" and column == "title":
        try:
            rid = row["id"]
        except (KeyError, IndexError):
            return None
        return Markup('<a href="{}">{}</a>').format(_report_url(datasette, database, rid), value)
    return None


_CODE_LABELS = {
    (kind, code): label
    for kind, _t, code, label in ((r["kind"], r["table"], r["code"], r["label"]) for r in code_rows())
}


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class Cell:
    """One figure as displayed: value, where it was read, and whether a failed check involves it."""

    def __init__(self, figure: dict | None, href: str, failed: list[str]):
        self.exists = figure is not None and figure.get("value") is not None
        self.value = _fmt(figure.get("value")) if figure else ""
        source = figure.get("source") if figure else None
        src = json.loads(source) if source else None
        self.href = href + (f"#page={src['page']}" if isinstance(src, dict) and src.get("page") else "")
        raw = figure.get("raw") if figure else None
        self.title = " · ".join(
            x
            for x in (
                f"原文 raw: {raw}" if raw is not None else "",
                f"出处 source: {json.dumps(src, ensure_ascii=False)}" if src else "",
                *failed,
            )
            if x
        )
        self.failed = bool(failed)


def _failed_for(checks: list[dict], table: str, row: str, column: str) -> list[str]:
    out = []
    for c in checks:
        if c["ok"] or not c["rule"].startswith(table + "."):
            continue
        if c["rule"] == "applications.row_total" or c["rule"] == "review_litigation.total":
            hit = c["row"] == row
        elif c["rule"] == "applications.balance":
            hit = c["column"] == column and row in (
                "new_received",
                "carried_over",
                "total_handled",
                "carried_forward",
            )
        else:
            hit = c["column"] == column
        if hit:
            out.append(f"未通过 failed: {c['rule']} {c['detail'] or ''}")
    return out


def layout_tables(template: str, figures: list[dict], checks: list[dict], href: str) -> dict[str, Any]:
    """The three tables as the format prints them: rows and column headers with Chinese labels."""
    by_key = {(f["table"], f["row"], f["column"]): f for f in figures}

    def cell(table, row, column):
        return Cell(by_key.get((table, row, column)), href, _failed_for(checks, table, row, column))

    # Table 2: blocks of rows that share the same columns (第二十条 (一), (五), (六), (八) …).
    rows: tuple[Any, ...]
    cols: tuple[Any, ...]
    if template == "2019":
        rows, cols, layout = codes.ACTIVE_ROWS_2019, codes.ACTIVE_COLUMNS_2019, codes.ACTIVE_LAYOUT_2019
    else:
        rows, cols, layout = codes.ACTIVE_ROWS_2021, codes.ACTIVE_COLUMNS_2021, codes.ACTIVE_LAYOUT_2021
    col_label = {c.code: c.label for c in cols}
    blocks: list[dict] = []
    for r in rows:
        columns = layout.get(r.code, ())
        if not blocks or blocks[-1]["columns"] != columns:
            blocks.append({"columns": columns, "headers": [col_label[c] for c in columns], "rows": []})
        blocks[-1]["rows"].append(
            {"label": r.label, "code": r.code, "cells": [cell("active", r.code, c) for c in columns]}
        )

    app_rows: list[dict[str, Any]] = []
    for lab, templates in codes.APPLICATION_ROWS:
        if template in ("2019", "2021") and template not in templates:
            continue
        if lab.code == RESULT_GROUP_START:
            app_rows.append({"group": "三、本年度办理结果"})
        app_rows.append(
            {
                "label": lab.label,
                "code": lab.code,
                "cells": [cell("applications", lab.code, c.code) for c in codes.APPLICATION_COLUMNS],
            }
        )

    review = [
        cell("review_litigation", r.code, c.code) for r in codes.REVIEW_ROWS for c in codes.REVIEW_COLUMNS
    ]
    known = {("active", r.code, c) for r in rows for c in layout.get(r.code, ())}
    known |= {
        ("applications", r.code, c.code) for r, _ in codes.APPLICATION_ROWS for c in codes.APPLICATION_COLUMNS
    }
    known |= {("review_litigation", r.code, c.code) for r in codes.REVIEW_ROWS for c in codes.REVIEW_COLUMNS}
    extra = [f for k, f in sorted(by_key.items()) if k not in known]
    return {
        "active_blocks": blocks,
        "applications": app_rows,
        "applicant_orgs": [c.label for c in codes.APPLICANT_COLUMNS if c.code in APPLICANT_ORGS],
        "review_columns": [c.label for c in codes.REVIEW_COLUMNS],
        "review_cells": review,
        "extra_figures": extra,
    }


def diff_lines(diff: str | None) -> list[tuple[str, str]]:
    out = []
    for line in (diff or "").splitlines():
        kind = (
            "add"
            if line.startswith("+") and not line.startswith("+++")
            else "del"
            if line.startswith("-") and not line.startswith("---")
            else "hunk"
            if line.startswith("@@")
            else ""
        )
        out.append((kind, line))
    return out


async def report_page(request, datasette):
    return await render_report(
        request, datasette, request.url_vars["database"], int(request.url_vars["report_id"])
    )


async def stable_report_page(request, datasette):
    """``/<db>/-/report/<agency>/<year>`` and ``/<db>/-/document/<document_id>``: the latest report of an
    agency and year (reports_latest) or of a document. Row ids are internal; these stay valid across
    snapshots and reparses."""
    database = request.url_vars["database"]
    try:
        db = datasette.get_database(database)
    except KeyError:
        raise NotFound(f"no database {database}") from None
    if "document_id" in request.url_vars:
        rows = (
            await db.execute(
                "SELECT id FROM reports WHERE document_id = ? ORDER BY is_latest DESC, id DESC LIMIT 1",
                [int(request.url_vars["document_id"])],
            )
        ).rows
    else:
        agency = urllib.parse.unquote(request.url_vars["agency"])
        rows = (
            await db.execute(
                "SELECT report_id FROM reports_latest WHERE agency = ? AND year = ?",
                [agency, int(request.url_vars["year"])],
            )
        ).rows
    if not rows:
        raise NotFound("no such report in this archive")
    return await render_report(request, datasette, database, int(rows[0][0]))


async def _version_text(db, version_id: int | None) -> str | None:
    """The text of a version's report: reports.text, or its sections in order (the lean copy keeps one)."""
    if version_id is None:
        return None
    rows = (
        await db.execute(
            "SELECT r.text, (SELECT group_concat(text, char(10)) FROM (SELECT text FROM sections"
            " WHERE report_id = r.id ORDER BY position)) FROM reports r WHERE r.version_id = ?",
            [version_id],
        )
    ).rows
    if not rows:
        return None
    return rows[0][0] if rows[0][0] is not None else (rows[0][1] or "")


async def render_report(request, datasette, database: str, report_id: int):
    try:
        db = datasette.get_database(database)
    except KeyError:
        raise NotFound(f"no database {database}") from None
    res = await db.execute(
        "SELECT r.*, v.sha256, v.fetched_at, v.filename, v.content_type, v.size, v.warc_file, v.warc_offset,"
        " v.warc_record_id, d.url AS document_url, d.kind AS document_kind, d.first_seen, d.last_seen,"
        " d.gone_since FROM reports r JOIN versions v ON v.id = r.version_id"
        " JOIN documents d ON d.id = r.document_id WHERE r.id = ?",
        [report_id],
    )
    if not res.rows:
        raise NotFound(f"no report {report_id}")
    report = dict(res.rows[0])
    sections = [
        dict(r)
        for r in (
            await db.execute(
                "SELECT id, section, position, text FROM sections WHERE report_id = ? ORDER BY position",
                [report_id],
            )
        ).rows
    ]
    figures = [
        dict(r)
        for r in (
            await db.execute(
                'SELECT "table", "row", "column", value, raw, flags, source FROM figures WHERE report_id = ?',
                [report_id],
            )
        ).rows
    ]
    checks = [
        dict(r)
        for r in (
            await db.execute(
                'SELECT rule, "row", "column", ok, detail FROM checks WHERE report_id = ? ORDER BY ok, rule, "column"',
                [report_id],
            )
        ).rows
    ]
    versions = [
        dict(r)
        for r in (
            await db.execute(
                "SELECT v.id, v.sha256, v.fetched_at, v.first_seen, v.last_seen, v.size, v.content_type, v.format,"
                " v.published_date, v.warc_file, v.warc_offset, v.warc_record_id, r.id AS report_id, r.status,"
                " r.is_latest FROM versions v LEFT JOIN reports r ON r.version_id = v.id"
                " WHERE v.document_id = ? ORDER BY v.id",
                [report["document_id"]],
            )
        ).rows
    ]
    changes = [
        dict(r)
        for r in (
            await db.execute(
                "SELECT id, old_version_id, new_version_id, detected_at, summary, text_diff, changed_figures,"
                " changed_figure_count FROM changes WHERE document_id = ? ORDER BY id",
                [report["document_id"]],
            )
        ).rows
    ]
    for v in versions:
        v["blob_url"] = original_url(datasette, database, v["id"])
        v["replay_url"] = replay_url(datasette, report["document_url"], v["fetched_at"])
        v["report_url"] = _report_url(datasette, database, v["report_id"]) if v["report_id"] else None
    for c in changes:
        c["figures"] = json.loads(c["changed_figures"] or "[]")
        c["diff"] = diff_lines(c["text_diff"])
        old_text = await _version_text(db, c["old_version_id"])
        new_text = await _version_text(db, c["new_version_id"])
        c["chars"] = (
            char_diff(old_text, new_text)
            if old_text is not None and new_text is not None and old_text != new_text
            else []
        )
    labels = codes.all_labels()
    section_labels = {s.code: f"{'一二三四五六'[s.number - 1]}、{s.label}" for s in codes.SECTIONS}
    section_labels[codes.PREAMBLE] = "前言 / preamble"
    href = original_url(datasette, database, report["version_id"])
    if report.get("agency") and report.get("year"):
        stable = f"/{database}/-/report/{urllib.parse.quote(report['agency'])}/{report['year']}"
    else:
        stable = f"/{database}/-/document/{report['document_id']}"
    code_labels = {code: label for code, label in _CODE_LABELS.items()}
    context = {
        "database": database,
        "report": report,
        "problems": json.loads(report.get("problems") or "[]"),
        "sections": sections,
        "section_labels": section_labels,
        "tables": layout_tables(report.get("template") or "2021", figures, checks, href),
        "has_figures": bool(figures),
        "failed_checks": [c for c in checks if not c["ok"]],
        "checks": checks,
        "versions": versions,
        "changes": changes,
        "labels": {f"{k[1]}.{k[2]}": v for k, v in labels.items()},
        "blob_url": href,
        "table_titles": codes.TABLES,
        "stable_url": datasette.urls.path(stable),
        "status_label": code_labels.get(("status", report.get("status")), ""),
        "template_label": code_labels.get(("template", report.get("template")), ""),
    }
    if request.url_vars.get("format") == "json":
        return Response.json(
            {k: context[k] for k in ("report", "sections", "checks", "versions", "changes")}, default=str
        )
    return Response.html(await datasette.render_template("nianbao_report.html", context, request=request))


async def original_page(request, datasette):
    """``/<db>/-/original/<version_id>``: the archived bytes as the portal served them, opened safely.
    ``?download=1`` saves instead of opening; ``?as=text`` shows an HTML original as plain text."""
    database = request.url_vars["database"]
    try:
        db = datasette.get_database(database)
    except KeyError:
        raise NotFound(f"no database {database}") from None
    version_id = int(request.url_vars["version_id"])
    res = await db.execute(
        "SELECT v.sha256, v.filename, v.content_type, v.format, d.url FROM versions v"
        " JOIN documents d ON d.id = v.document_id WHERE v.id = ?",
        [version_id],
    )
    if not res.rows:
        raise NotFound(f"no version {version_id}")
    sha256, filename, ctype, fmt, url = res.rows[0]
    body: bytes | None = None
    blob_columns = [r[1] for r in (await db.execute("PRAGMA table_info(blobs)")).rows]
    if "content" in blob_columns:
        row = (await db.execute("SELECT content FROM blobs WHERE sha256 = ?", [sha256])).rows
        body = bytes(row[0][0]) if row and row[0][0] is not None else None
    if body is None:
        config = datasette.plugin_config("nianbao") or {}
        root = originals_dir_for(db.path, config.get("originals_dir"))
        body = read_stored(root, sha256) if root else None
    if body is None:
        raise NotFound(f"the original of version {version_id} ({sha256[:12]}) is not in this archive")
    served = serve_headers(ctype, fmt, filename, url, sha256, download=bool(request.args.get("download")))
    content_type = served.content_type
    if request.args.get("as") == "text":
        charset = re.search(r"charset=([\w-]+)", ctype or "")
        content_type = "text/plain" + (f"; charset={charset.group(1)}" if charset else "")
        served.headers.pop("content-security-policy", None)
    return Response(body, status=200, headers=served.headers, content_type=content_type)


SITE_CSS = """
/* nianbao: the data first. Column descriptions collapsed (table.html) in a short scroll box (hover a header
   for the same text); wide tables scroll inside their own box so the page never scrolls sideways on a phone. */
dl.column-descriptions { max-height: 7em; overflow-y: auto; font-size: 0.85em; border: 1px solid #eee;
  padding: 0.3em 0.6em; }
.table-wrapper, table.rows-and-columns { max-width: 100%; overflow-x: auto; }
.nb-long { width: 16em; max-width: 100%; max-height: 4.2em; overflow: hidden; overflow-wrap: anywhere; }
@media (max-width: 800px) {
  table.rows-and-columns { display: block; }
  pre, code { white-space: pre-wrap; overflow-wrap: anywhere; }
  .hd, .ft, section.content { max-width: 100vw; overflow-x: hidden; }
  form.sql textarea, input[type=search] { max-width: 100%; }
}
@media only screen and (max-width: 576px) {
  /* A phone shows each row as a card, a line per column: empty (null) fields are left out of the card (the
     row page still lists every field), so a card shows what the row says. */
  .rows-and-columns td.type-none { display: none; }
}
"""


async def site_css(request, datasette):
    return Response(SITE_CSS, content_type="text/css; charset=utf-8")


@hookimpl
def extra_css_urls(datasette):
    return [datasette.urls.path("/-/nianbao.css")]


ROBOTS = """User-agent: *
Disallow: /*?_facet
Disallow: /*&_facet
Disallow: /*?sql=
Disallow: /*&sql=
Disallow: /*.csv
Disallow: /*?_search
Disallow: /*&_search
Disallow: /*?_nianbao_search
Disallow: /*&_nianbao_search
Disallow: /*?_sort
Disallow: /*&_sort
Disallow: /*?_filter_
Disallow: /*&_filter_
Disallow: /-/search
"""


async def robots_txt(request, datasette):
    """Crawlers may read reports and tables, not every facet, SQL or search combination (public instances)."""
    return Response.text(ROBOTS)


@hookimpl
def register_routes():
    return [
        (r"^/(?P<database>[^/]+)/-/report/(?P<report_id>\d+)(\.(?P<format>json))?$", report_page),
        (r"^/(?P<database>[^/]+)/-/original/(?P<version_id>\d+)$", original_page),
        (
            r"^/(?P<database>[^/]+)/-/report/(?P<agency>[^/]*\D[^/]*)/(?P<year>\d{4})(\.(?P<format>json))?$",
            stable_report_page,
        ),
        (r"^/(?P<database>[^/]+)/-/document/(?P<document_id>\d+)(\.(?P<format>json))?$", stable_report_page),
        (r"^/robots\.txt$", robots_txt),
        (r"^/-/nianbao\.css$", site_css),
    ]


def public_url(datasette) -> str:
    """The instance's public address for absolute links (Atom): plugin setting `nianbao.public_url`, else
    $NIANBAO_PUBLIC_URL, else '' (links stay relative: no address is invented)."""
    config = datasette.plugin_config("nianbao") or {}
    return str(config.get("public_url") or os.environ.get("NIANBAO_PUBLIC_URL") or "").rstrip("/")


def changed_figures_text(changed: str | None) -> str:
    """changes.changed_figures (JSON) as a reader's sentence: 表 · 行 · 列：旧 → 新；…"""
    try:
        figs = json.loads(changed or "[]")
    except ValueError:
        return ""
    labels = codes.all_labels()
    parts = []
    for f in figs[:20]:
        t, r, c = f.get("table"), f.get("row"), f.get("column")
        name = " · ".join(
            (codes.TABLES.get(t, (t,))[0], labels.get(("row", t, r), r), labels.get(("column", t, c), c))
        )
        parts.append(f"{name}：{_fmt(f.get('old')) or '—'} → {_fmt(f.get('new')) or '—'}")
    more = f"；另有 {len(figs) - 20} 处" if len(figs) > 20 else ""
    return "；".join(parts) + more


@hookimpl
def prepare_connection(conn, database, datasette):
    base = public_url(datasette)
    conn.create_function("nianbao_url", 1, lambda path: base + (path or ""))
    conn.create_function("nianbao_changed_figures", 1, changed_figures_text, deterministic=True)


@hookimpl
def extra_template_vars(datasette):
    return {"nianbao_escape": escape}
