"""The archive's SQLite schema, created and evolved only through sqlite-utils migrations.

Table and column names are the contract for researchers' queries (docs/data-dictionary.md): change them
only with a new migration and a CHANGELOG entry. Every table exists from the first migration, even those
that only the crawler fills.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import sqlite_utils
from sqlite_utils.migrations import Migrations

migrations = Migrations("nianbao")


@migrations()
def m001_core_tables(db: sqlite_utils.Database) -> None:
    db.executescript(
        """
        CREATE TABLE portals (
            id TEXT PRIMARY KEY,              -- registry name, e.g. 'bj-xicheng'
            name TEXT NOT NULL,
            agency TEXT,
            region TEXT,
            level TEXT,                       -- 省级 / 市级 / 县级 / 乡级 / 部门
            cms TEXT,
            start_urls TEXT,                  -- JSON array
            allowed_domains TEXT,             -- JSON array
            hints TEXT,                       -- JSON object
            registered_at TEXT
        );
        CREATE TABLE crawls (
            id INTEGER PRIMARY KEY,
            portal_id TEXT REFERENCES portals(id),
            started_at TEXT NOT NULL,
            finished_at TEXT,
            status TEXT,                      -- running / finished / blocked / failed
            pages INTEGER,
            reports_found INTEGER,
            bytes_received INTEGER,
            warc_files TEXT,                  -- JSON array
            wacz_path TEXT,
            blocked_evidence TEXT,
            stats TEXT                        -- JSON: Scrapy stats
        );
        CREATE TABLE documents (
            id INTEGER PRIMARY KEY,
            url TEXT NOT NULL UNIQUE,
            portal_id TEXT REFERENCES portals(id),
            kind TEXT NOT NULL CHECK (kind IN ('list', 'report', 'attachment', 'local', 'page')),
            title TEXT,
            link_text TEXT,
            discovered_from TEXT,
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            gone_since TEXT,                  -- set when the portal stops serving it
            etag TEXT,
            last_modified TEXT,
            last_status INTEGER,
            current_version_id INTEGER        -- the version the portal serves now (a revert points back)
        );
        CREATE TABLE blobs (
            sha256 TEXT PRIMARY KEY,          -- content address of the original bytes
            size INTEGER NOT NULL,
            content BLOB NOT NULL
        );
        CREATE TABLE versions (
            id INTEGER PRIMARY KEY,
            document_id INTEGER NOT NULL REFERENCES documents(id),
            sha256 TEXT NOT NULL REFERENCES blobs(sha256),
            fetched_at TEXT NOT NULL,
            http_status INTEGER,
            content_type TEXT,
            size INTEGER NOT NULL,
            format TEXT,                      -- detected from content: text/html/pdf/docx/doc/wps/xls/xlsx/image
            extractor TEXT,
            filename TEXT,
            warc_file TEXT,
            warc_offset INTEGER,
            warc_record_id TEXT,
            crawl_id INTEGER REFERENCES crawls(id),
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            published_date TEXT,
            UNIQUE (document_id, sha256)
        );
        CREATE INDEX idx_versions_document ON versions(document_id);
        CREATE TABLE reports (
            id INTEGER PRIMARY KEY,
            version_id INTEGER NOT NULL UNIQUE REFERENCES versions(id),
            document_id INTEGER NOT NULL REFERENCES documents(id),
            portal_id TEXT REFERENCES portals(id),
            agency TEXT,
            region TEXT,
            level TEXT,
            year INTEGER,
            title TEXT,
            template TEXT CHECK (template IN ('2021', '2019', 'free')),
            status TEXT CHECK (status IN ('complete', 'partial', 'failed')),
            published_date TEXT,
            deadline TEXT,
            days_late INTEGER,
            source_url TEXT,
            format TEXT,
            extractor TEXT,
            quality TEXT,                     -- JSON: extractor signals (cid garbage, OCR confidence, ...)
            meta TEXT,                        -- JSON: table templates and other parse metadata
            problems TEXT,                    -- JSON array of sentences
            problem_count INTEGER NOT NULL DEFAULT 0,
            failed_checks INTEGER NOT NULL DEFAULT 0,
            is_latest INTEGER NOT NULL DEFAULT 0,
            parsed_at TEXT NOT NULL,
            parser_version TEXT,
            text TEXT
        );
        CREATE INDEX idx_reports_agency_year ON reports(agency, year);
        CREATE INDEX idx_reports_document ON reports(document_id);
        CREATE TABLE sections (
            id INTEGER PRIMARY KEY,
            report_id INTEGER NOT NULL REFERENCES reports(id),
            section TEXT NOT NULL,            -- preamble/overview/active/applications/review_litigation/problems/other
            position INTEGER NOT NULL,
            text TEXT NOT NULL
        );
        CREATE INDEX idx_sections_report ON sections(report_id);
        CREATE TABLE figures (
            id INTEGER PRIMARY KEY,
            report_id INTEGER NOT NULL REFERENCES reports(id),
            "table" TEXT NOT NULL,
            "row" TEXT NOT NULL,
            "column" TEXT NOT NULL,
            value NUMERIC,                    -- NULL = the cell does not exist in the report; never 0
            raw TEXT,
            flags TEXT,                       -- JSON array
            source TEXT,                      -- JSON: where it was read (page/table/cell or line)
            UNIQUE (report_id, "table", "row", "column")
        );
        CREATE INDEX idx_figures_lookup ON figures("table", "row", "column");
        CREATE TABLE checks (
            id INTEGER PRIMARY KEY,
            report_id INTEGER NOT NULL REFERENCES reports(id),
            rule TEXT NOT NULL,
            "row" TEXT,
            "column" TEXT NOT NULL,
            ok INTEGER NOT NULL,
            detail TEXT
        );
        CREATE INDEX idx_checks_report ON checks(report_id);
        CREATE TABLE changes (
            id INTEGER PRIMARY KEY,
            document_id INTEGER NOT NULL REFERENCES documents(id),
            old_version_id INTEGER REFERENCES versions(id),
            new_version_id INTEGER NOT NULL REFERENCES versions(id),
            detected_at TEXT NOT NULL,
            summary TEXT,
            text_diff TEXT,
            changed_figures TEXT,             -- JSON array of {table,row,column,old,new}
            changed_figure_count INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX idx_changes_document ON changes(document_id);
        """
    )


@migrations()
def m002_sections_fts(db: sqlite_utils.Database) -> None:
    # Trigram FTS: finds any substring of 3+ characters in Chinese text. Shorter queries are handled by
    # archive/search.py (see docs/architecture.md), because trigram cannot match them.
    db.table("sections").enable_fts(["text"], tokenize="trigram", create_triggers=True)


@migrations()
def m003_views(db: sqlite_utils.Database) -> None:
    db.executescript(
        """
        CREATE VIEW failed_checks AS
            SELECT c.report_id, r.agency, r.year, r.title, c.rule, c."row", c."column", c.detail,
                   r.source_url
            FROM checks c JOIN reports r ON r.id = c.report_id
            WHERE c.ok = 0 AND r.is_latest = 1;

        CREATE VIEW applications_wide AS
            SELECT f.report_id, r.agency, r.year, f."row",
                max(CASE WHEN f."column" = 'natural_person' THEN f.value END) AS natural_person,
                max(CASE WHEN f."column" = 'commercial_enterprise' THEN f.value END) AS commercial_enterprise,
                max(CASE WHEN f."column" = 'research_institution' THEN f.value END) AS research_institution,
                max(CASE WHEN f."column" = 'social_welfare_org' THEN f.value END) AS social_welfare_org,
                max(CASE WHEN f."column" = 'legal_service_org' THEN f.value END) AS legal_service_org,
                max(CASE WHEN f."column" = 'other_org' THEN f.value END) AS other_org,
                max(CASE WHEN f."column" = 'total' THEN f.value END) AS total
            FROM figures f JOIN reports r ON r.id = f.report_id
            WHERE f."table" = 'applications'
            GROUP BY f.report_id, f."row";

        CREATE VIEW active_wide AS
            SELECT f.report_id, r.agency, r.year, f."row",
                max(CASE WHEN f."column" = 'issued' THEN f.value END) AS issued,
                max(CASE WHEN f."column" = 'repealed' THEN f.value END) AS repealed,
                max(CASE WHEN f."column" = 'in_force' THEN f.value END) AS in_force,
                max(CASE WHEN f."column" = 'decisions' THEN f.value END) AS decisions,
                max(CASE WHEN f."column" = 'amount_10k_yuan' THEN f.value END) AS amount_10k_yuan,
                max(CASE WHEN f."column" = 'new_made' THEN f.value END) AS new_made,
                max(CASE WHEN f."column" = 'new_published' THEN f.value END) AS new_published,
                max(CASE WHEN f."column" = 'total_published' THEN f.value END) AS total_published,
                max(CASE WHEN f."column" = 'items_last_year' THEN f.value END) AS items_last_year,
                max(CASE WHEN f."column" = 'items_change' THEN f.value END) AS items_change,
                max(CASE WHEN f."column" = 'projects' THEN f.value END) AS projects,
                max(CASE WHEN f."column" = 'amount' THEN f.value END) AS amount
            FROM figures f JOIN reports r ON r.id = f.report_id
            WHERE f."table" = 'active'
            GROUP BY f.report_id, f."row";

        CREATE VIEW review_litigation_wide AS
            SELECT f.report_id, r.agency, r.year, f."row",
                max(CASE WHEN f."column" = 'upheld' THEN f.value END) AS upheld,
                max(CASE WHEN f."column" = 'corrected' THEN f.value END) AS corrected,
                max(CASE WHEN f."column" = 'other_result' THEN f.value END) AS other_result,
                max(CASE WHEN f."column" = 'pending' THEN f.value END) AS pending,
                max(CASE WHEN f."column" = 'total' THEN f.value END) AS total
            FROM figures f JOIN reports r ON r.id = f.report_id
            WHERE f."table" = 'review_litigation'
            GROUP BY f.report_id, f."row";

        -- One row per agency and year: the best latest report (complete before partial before failed).
        CREATE VIEW reports_latest AS
            WITH ranked AS (
                SELECT r.*, row_number() OVER (
                    PARTITION BY coalesce(r.agency, 'doc:' || r.document_id), coalesce(r.year, -1)
                    ORDER BY CASE r.status WHEN 'complete' THEN 0 WHEN 'partial' THEN 1 ELSE 2 END, r.id DESC
                ) AS rank_in_group
                FROM reports r WHERE r.is_latest = 1
            )
            SELECT ranked.id AS report_id, ranked.agency, ranked.region, ranked.level, ranked.year,
                   ranked.title, ranked.template, ranked.status, ranked.published_date, ranked.deadline,
                   ranked.days_late, ranked.failed_checks, ranked.problem_count, ranked.source_url,
                (SELECT value FROM figures WHERE report_id = ranked.id AND "table" = 'applications'
                    AND "row" = 'new_received' AND "column" = 'total') AS applications_received,
                (SELECT value FROM figures WHERE report_id = ranked.id AND "table" = 'applications'
                    AND "row" = 'carried_over' AND "column" = 'total') AS applications_carried_over,
                (SELECT value FROM figures WHERE report_id = ranked.id AND "table" = 'applications'
                    AND "row" = 'granted' AND "column" = 'total') AS applications_granted,
                (SELECT value FROM figures WHERE report_id = ranked.id AND "table" = 'applications'
                    AND "row" = 'total_handled' AND "column" = 'total') AS applications_handled,
                (SELECT value FROM figures WHERE report_id = ranked.id AND "table" = 'applications'
                    AND "row" = 'carried_forward' AND "column" = 'total') AS applications_carried_forward,
                (SELECT value FROM figures WHERE report_id = ranked.id AND "table" = 'review_litigation'
                    AND "row" = 'review' AND "column" = 'total') AS reviews_total,
                (SELECT sum(value) FROM figures WHERE report_id = ranked.id AND "table" = 'review_litigation'
                    AND "row" LIKE 'litigation%' AND "column" = 'total') AS litigation_total
            FROM ranked WHERE rank_in_group = 1;
        """
    )


@migrations()
def m004_search_index(db: sqlite_utils.Database) -> None:
    """Chinese search index (archive/search.py), publication-date provenance, and views for people:
    timeliness, coverage (missing years) and report_changes."""
    db.executescript(
        """
        -- jieba words and single-character tokens of folded text; rowid = sections.id / reports.id.
        -- sections_seg is contentless (the streams are derived from sections.text; storing them would
        -- triple the index): rows are removed with FTS5's 'delete' command from the text queued in
        -- search_pending by the triggers below (archive/search.py).
        CREATE VIRTUAL TABLE sections_seg USING fts5(words, chars, content = '', tokenize = 'unicode61');
        CREATE VIRTUAL TABLE reports_seg USING fts5(words, chars, tokenize = 'unicode61');
        CREATE TABLE search_pending (
            section_id INTEGER NOT NULL,
            text TEXT NOT NULL                -- the text that was indexed, to un-index it
        );
        CREATE TRIGGER sections_seg_ad AFTER DELETE ON sections BEGIN
            INSERT INTO search_pending (section_id, text) VALUES (old.id, old.text);
        END;
        CREATE TRIGGER sections_seg_au AFTER UPDATE OF text ON sections BEGIN
            INSERT INTO search_pending (section_id, text) VALUES (old.id, old.text);
        END;
        CREATE TRIGGER reports_seg_ad AFTER DELETE ON reports BEGIN
            DELETE FROM reports_seg WHERE rowid = old.id;
        END;
        ALTER TABLE reports ADD COLUMN published_date_source TEXT;  -- page / document / url

        CREATE VIEW timeliness AS
            SELECT r.id AS report_id, r.agency, r.region, r.level, r.year, r.title, r.template,
                   r.published_date, r.published_date_source, r.deadline, r.days_late,
                   CASE WHEN r.days_late IS NULL THEN 'unknown'
                        WHEN r.days_late <= 0 THEN 'on_time' ELSE 'late' END AS timeliness,
                   r.portal_id, r.source_url
            FROM reports r WHERE r.is_latest = 1;

        -- Expected years per agency: from its first report year to the latest year whose every deadline
        -- (31 March) has passed; missing = 1 when no latest report exists for that year.
        CREATE VIEW coverage AS
            WITH RECURSIVE
            latest(y) AS (
                SELECT CAST(strftime('%Y', 'now') AS INTEGER)
                       - CASE WHEN strftime('%m-%d', 'now') > '03-31' THEN 1 ELSE 2 END
            ),
            span AS (
                SELECT agency, max(portal_id) AS portal_id, max(region) AS region, max(level) AS level,
                       min(year) AS first_year
                FROM reports WHERE is_latest = 1 AND agency IS NOT NULL AND year IS NOT NULL
                GROUP BY agency
            ),
            years(agency, portal_id, region, level, year) AS (
                SELECT agency, portal_id, region, level, first_year FROM span
                UNION ALL
                SELECT y.agency, y.portal_id, y.region, y.level, y.year + 1 FROM years y, latest
                WHERE y.year + 1 <= latest.y
            )
            SELECT years.portal_id, years.agency, years.region, years.level, years.year,
                   (SELECT count(*) FROM reports r WHERE r.agency = years.agency AND r.year = years.year
                        AND r.is_latest = 1) AS reports,
                   CASE WHEN EXISTS (SELECT 1 FROM reports r WHERE r.agency = years.agency
                        AND r.year = years.year AND r.is_latest = 1) THEN 0 ELSE 1 END AS missing
            FROM years;

        CREATE VIEW report_changes AS
            SELECT c.id AS change_id, c.document_id, d.url, r.id AS report_id, r.agency, r.year, r.title,
                   c.old_version_id, ov.fetched_at AS old_fetched_at, ov.sha256 AS old_sha256,
                   c.new_version_id, nv.fetched_at AS new_fetched_at, nv.sha256 AS new_sha256,
                   c.detected_at, c.summary, c.changed_figure_count, c.changed_figures
            FROM changes c
            JOIN documents d ON d.id = c.document_id
            LEFT JOIN reports r ON r.version_id = c.new_version_id
            LEFT JOIN versions ov ON ov.id = c.old_version_id
            LEFT JOIN versions nv ON nv.id = c.new_version_id;
        """
    )
    from .search import index_report

    for (report_id,) in db.execute("SELECT id FROM reports ORDER BY id").fetchall():
        index_report(db, report_id)


@migrations()
def m005_documents_foreign_place(db: sqlite_utils.Database) -> None:
    """`documents.foreign_place`: a report of another place (青岚县…) posted on this portal names that place
    here; it is archived but never read as the portal's own report. NULL for the portal's own documents."""
    db.execute("ALTER TABLE documents ADD COLUMN foreign_place TEXT")


@migrations()
def m006_crawl_errors(db: sqlite_utils.Database) -> None:
    """Every failed fetch or read of a crawl on record (issue 11): which URLs failed last night, and why."""
    db.executescript(
        """
        CREATE TABLE crawl_errors (
            id INTEGER PRIMARY KEY,
            crawl_id INTEGER REFERENCES crawls(id),
            url TEXT NOT NULL,
            kind TEXT,                        -- page / list / report / attachment / api
            stage TEXT NOT NULL,              -- fetch / http / offsite / robots / read / store
            reason TEXT NOT NULL,
            http_status INTEGER,
            attempts INTEGER,
            at TEXT NOT NULL
        );
        CREATE INDEX crawl_errors_crawl ON crawl_errors(crawl_id);
        CREATE INDEX crawl_errors_url ON crawl_errors(url);
        ALTER TABLE crawls ADD COLUMN reason TEXT;     -- why a crawl ended failed / partial / interrupted
        ALTER TABLE crawls ADD COLUMN pid INTEGER;     -- the crawling process, to close rows of dead ones
        """
    )


@migrations()
def m007_agencies(db: sqlite_utils.Database) -> None:
    """Canonical agency names with aliases (archive/agencies.py), reports linked by `agency_id`, and the
    agency history view (one row per agency and year)."""
    db.executescript(
        """
        CREATE TABLE agencies (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,               -- canonical: the full name (卫生健康委员会, not 卫健委)
            key TEXT NOT NULL UNIQUE,         -- pipelines.agency_names.canonical_key(name)
            aliases TEXT NOT NULL DEFAULT '[]',  -- JSON array: short forms and other names reports used
            region TEXT,
            level TEXT
        );
        CREATE INDEX idx_agencies_name ON agencies(name);
        ALTER TABLE reports ADD COLUMN agency_id INTEGER REFERENCES agencies(id);
        CREATE INDEX idx_reports_agency_id ON reports(agency_id);

        CREATE VIEW agency_history AS
            SELECT a.id AS agency_id, a.name AS agency, a.aliases, r.year, r.id AS report_id,
                   r.agency AS name_in_report, r.title, r.template, r.status, r.published_date,
                   r.days_late, r.failed_checks, r.source_url
            FROM agencies a JOIN reports r ON r.agency_id = a.id
            WHERE r.is_latest = 1;
        """
    )
    from .agencies import relink_all

    relink_all(db)


@migrations()
def m008_e0_facts(db: sqlite_utils.Database) -> None:
    """Figures of pre-2019 reports (FORMAT.md §6): loosely typed e0_* facts with unit, period and source
    sentence (pipelines/facts.py, archive/facts.py), and the view of the latest reports' facts."""
    db.executescript(
        """
        CREATE TABLE e0_facts (
            id INTEGER PRIMARY KEY,
            report_id INTEGER NOT NULL REFERENCES reports(id),
            code TEXT NOT NULL,               -- e0_active_total, e0_req_received … ; e0_other = a 统计表 row no rule names
            label TEXT,                       -- the indicator as printed (指标名称, or the words before the figure)
            value NUMERIC,
            unit TEXT,                        -- 条 / 件 / 次 / 人次 / 万元 / 元 / % …
            period TEXT,                      -- year (本年度) / cumulative (历年累计)
            sentence TEXT,                    -- the sentence or table row it was read from
            source TEXT                       -- JSON: {"kind": "table"|"prose", "line": N}
        );
        CREATE INDEX idx_e0_facts_report ON e0_facts(report_id);
        CREATE INDEX idx_e0_facts_code ON e0_facts(code);

        CREATE VIEW e0_facts_latest AS
            SELECT f.report_id, r.agency, r.agency_id, r.region, r.level, r.year, f.code, f.label, f.value,
                   f.unit, f.period, f.sentence, r.source_url
            FROM e0_facts f JOIN reports r ON r.id = f.report_id
            WHERE r.is_latest = 1;
        """
    )


@migrations()
def m009_audit(db: sqlite_utils.Database) -> None:
    """The auditor (archive/audit.py): each check's severity, the cells it read and the report it was
    compared with (cross-year and copied checks); a scorecard per report; views for the journalists."""
    db.executescript(
        """
        ALTER TABLE checks ADD COLUMN severity TEXT;          -- hard / soft (pipelines/rules.py)
        ALTER TABLE checks ADD COLUMN cells TEXT;             -- JSON: cells read, '#id:' = another report's
        ALTER TABLE checks ADD COLUMN compared_report_id INTEGER REFERENCES reports(id);
        CREATE INDEX idx_checks_compared ON checks(compared_report_id);
        CREATE INDEX idx_checks_rule ON checks(rule, ok);
        UPDATE checks SET severity = 'hard';                  -- the four original rules are all hard

        CREATE TABLE scorecards (
            report_id INTEGER PRIMARY KEY REFERENCES reports(id),
            agency_key TEXT,                  -- what links an agency's years (archive/audit.py agency_key)
            year INTEGER,
            deadline_rule TEXT,               -- which statutory deadline applies and why
            deadline TEXT,
            published_date TEXT,
            days_late INTEGER,
            on_time INTEGER,                  -- 1 / 0 / NULL (publication date unknown)
            sections_present INTEGER,         -- of the six
            sections_missing TEXT,
            tables_present INTEGER,           -- of the three
            tables_missing TEXT,
            hard_checks INTEGER,
            hard_failed INTEGER,
            soft_failed INTEGER,
            cross_year_checks INTEGER,
            cross_year_failed INTEGER,
            prose_checks INTEGER,
            prose_failed INTEGER,
            copied_sections INTEGER,
            copied_which TEXT,
            score INTEGER                     -- 0-100 (archive/audit.py Points)
        );
        CREATE INDEX idx_scorecards_agency ON scorecards(agency_key, year);
        -- Derived rows go with the report they describe or were compared with (reparse deletes reports).
        CREATE TRIGGER reports_audit_bd BEFORE DELETE ON reports BEGIN
            DELETE FROM scorecards WHERE report_id = old.id;
            DELETE FROM checks WHERE compared_report_id = old.id;
        END;

        DROP VIEW failed_checks;
        CREATE VIEW failed_checks AS
            SELECT c.report_id, r.agency, r.year, r.title, c.rule, c."row", c."column", c.detail,
                   r.source_url, c.severity, c.compared_report_id
            FROM checks c JOIN reports r ON r.id = c.report_id
            WHERE c.ok = 0 AND r.is_latest = 1;

        CREATE VIEW scorecards_latest AS
            SELECT s.*, r.agency, r.region, r.level, r.title, r.template, r.status,
                   CASE WHEN s.on_time IS NULL THEN 'unknown' WHEN s.on_time = 1 THEN 'on_time'
                        ELSE 'late' END AS timeliness
            FROM scorecards s JOIN reports r ON r.id = s.report_id
            WHERE r.id IN (SELECT report_id FROM reports_latest);
        """
    )
    from .audit import audit_all

    audit_all(db)


def _wide_view_sql(name: str, table: str, columns: list[str]) -> str:
    """A wide view of one statistical table over the latest report per agency and year only (reports_latest),
    so sums never count a superseded version; rows carry their Chinese label and print order (codes)."""
    cells = ",\n".join(f"    max(CASE WHEN f.\"column\" = '{c}' THEN f.value END) AS [{c}]" for c in columns)
    return f"""
        CREATE VIEW {name} AS
        SELECT f.report_id, l.agency, l.region, l.level, l.year, 1 AS is_latest,
            f."row", c.label AS row_label, c.position AS row_order,
        {cells}
        FROM figures f JOIN reports_latest l ON l.report_id = f.report_id
        LEFT JOIN codes c ON c.kind = \'row\' AND c."table" = \'{table}\' AND c.code = f."row"
        WHERE f."table" = \'{table}\'
        GROUP BY f.report_id, f."row"
    """


@migrations()
def m011_codes_and_latest_views(db: sqlite_utils.Database) -> None:
    """The `codes` table (labels of every code), wide views of the latest reports only with labels and row
    order, `report_cells_wide` (one row per latest report, every cell a column) and `figures_labeled`."""
    from pipelines import codes

    from .codes_table import all_cells, fill_codes

    db.execute(
        """
        CREATE TABLE codes (
            kind TEXT NOT NULL,               -- table / row / column / section / rule / status / template / timeliness
            "table" TEXT NOT NULL DEFAULT '',  -- the statistical table for row, column and rule codes, else ''
            code TEXT NOT NULL,
            label TEXT NOT NULL,              -- 中文
            label_en TEXT NOT NULL,
            position INTEGER NOT NULL,        -- print order within kind and table
            PRIMARY KEY (kind, "table", code)
        )
        """
    )
    fill_codes(db)
    for view in ("applications_wide", "active_wide", "review_litigation_wide"):
        db.execute(f"DROP VIEW IF EXISTS {view}")
    active_cols: list[str] = []
    for c in (*codes.ACTIVE_COLUMNS_2021, *codes.ACTIVE_COLUMNS_2019):
        if c.code not in active_cols:
            active_cols.append(c.code)
    db.execute(
        _wide_view_sql("applications_wide", "applications", [c.code for c in codes.APPLICATION_COLUMNS])
    )
    db.execute(_wide_view_sql("active_wide", "active", active_cols))
    db.execute(
        _wide_view_sql("review_litigation_wide", "review_litigation", [c.code for c in codes.REVIEW_COLUMNS])
    )
    cells = ",\n".join(
        f"max(CASE WHEN f.\"table\" = '{t}' AND f.\"row\" = '{r}' AND f.\"column\" = '{c}' THEN f.value END)"
        f" AS [{t}__{r}__{c}]"
        for t, r, c in all_cells()
    )
    db.execute(
        f"""
        CREATE VIEW report_cells_wide AS
        SELECT l.report_id, l.agency, l.region, l.level, l.year, l.template, l.status, 1 AS is_latest,
        {cells}
        FROM reports_latest l LEFT JOIN figures f ON f.report_id = l.report_id
        GROUP BY l.report_id
        """
    )
    db.execute(
        """
        CREATE VIEW figures_labeled AS
        SELECT f.id, f.report_id, r.agency, r.year, r.is_latest, f."table", t.label AS table_label,
               f."row", rc.label AS row_label, rc.position AS row_order,
               f."column", cc.label AS column_label, cc.position AS column_order, f.value, f.raw
        FROM figures f JOIN reports r ON r.id = f.report_id
        LEFT JOIN codes t ON t.kind = 'table' AND t."table" = '' AND t.code = f."table"
        LEFT JOIN codes rc ON rc.kind = 'row' AND rc."table" = f."table" AND rc.code = f."row"
        LEFT JOIN codes cc ON cc.kind = 'column' AND cc."table" = f."table" AND cc.code = f."column"
        """
    )


@migrations()
def m012_crawl_health_and_queue(db: sqlite_utils.Database) -> None:
    """Crawl health (issue 12): per-crawl counts and checks at close; queue mode's run keys, capture log
    and queue snapshots."""
    db.executescript(
        """
        ALTER TABLE crawls ADD COLUMN run_key TEXT;            -- queue mode: one crawl-job execution
        ALTER TABLE crawls ADD COLUMN job_id TEXT;             -- queue mode: the job (same over redeliveries)
        ALTER TABLE crawls ADD COLUMN requests INTEGER;
        ALTER TABLE crawls ADD COLUMN responses_by_status TEXT;  -- JSON {"200": n, "404": n}
        ALTER TABLE crawls ADD COLUMN new_documents INTEGER;
        ALTER TABLE crawls ADD COLUMN new_versions INTEGER;
        ALTER TABLE crawls ADD COLUMN reports_by_status TEXT;    -- JSON {"complete": n, ...}
        ALTER TABLE crawls ADD COLUMN errors INTEGER;
        ALTER TABLE crawls ADD COLUMN duration_seconds REAL;
        ALTER TABLE crawls ADD COLUMN health TEXT;               -- JSON [{"check", "ok", "detail"}]
        ALTER TABLE crawls ADD COLUMN health_ok INTEGER;
        CREATE UNIQUE INDEX crawls_run_key ON crawls(run_key) WHERE run_key IS NOT NULL;
        CREATE TABLE queue_captures (
            run_key TEXT NOT NULL,
            seq INTEGER NOT NULL,
            crawl_id INTEGER REFERENCES crawls(id),
            PRIMARY KEY (run_key, seq)
        );
        CREATE TABLE queue_stats (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            queue TEXT NOT NULL,
            depth INTEGER NOT NULL,       -- messages waiting or in progress
            delayed INTEGER NOT NULL,     -- retries waiting their backoff
            dead INTEGER NOT NULL,        -- dead letters
            oldest_seconds REAL           -- age of the oldest message waiting
        );
        CREATE VIEW crawl_health AS
            SELECT c.id AS crawl_id, c.portal_id, c.started_at, c.finished_at, c.status, c.requests,
                   c.responses_by_status, c.pages, c.new_documents, c.new_versions, c.reports_found,
                   (SELECT json_group_object(status, n) FROM (SELECT r.status, count(*) AS n FROM reports r
                      JOIN versions v ON v.id = r.version_id WHERE v.crawl_id = c.id GROUP BY r.status))
                     AS reports_by_status,
                   c.errors, c.duration_seconds, c.bytes_received, c.health_ok, c.health
            FROM crawls c;
        CREATE VIEW portal_last_crawl AS
            SELECT c.* FROM crawl_health c
            WHERE c.crawl_id = (SELECT max(id) FROM crawls c2 WHERE c2.portal_id = c.portal_id
                                AND c2.status != 'running');
        """
    )


@migrations()
def m013_search_filters(db: sqlite_utils.Database) -> None:
    """A covering index for the search page's filters (archive/search_reports.py): a region, level, status or
    year filter, and the list of each filter's values, read this index instead of every (wide) report row."""
    db.execute("CREATE INDEX idx_reports_search_filters ON reports(is_latest, region, level, status, year)")


# Which of an agency's reports for a year stands for it, from what the reports say, never from the order in
# which reads happened to finish: complete before partial before failed, fewer problems, then the URL.
BEST_REPORT_ORDER = (
    "CASE r.status WHEN 'complete' THEN 0 WHEN 'partial' THEN 1 ELSE 2 END, r.problem_count,"
    " r.source_url, r.id DESC"
)


@migrations()
def m014_stable_best_report(db: sqlite_utils.Database) -> None:
    """`reports_latest` picked between two complete reports of one agency and year (a page and its
    attachment) by row id, i.e. by which read finished last: two crawls of the same portal could publish
    different figures. The view now ranks them by `BEST_REPORT_ORDER`."""
    row = db.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'view' AND name = 'reports_latest'"
    ).fetchone()
    old_order = "ORDER BY CASE r.status WHEN 'complete' THEN 0 WHEN 'partial' THEN 1 ELSE 2 END, r.id DESC"
    if row is None or old_order not in row[0]:
        raise RuntimeError("reports_latest is not the view m003 created; refusing to rewrite it")
    db.execute("DROP VIEW reports_latest")
    db.execute(row[0].replace(old_order, f"ORDER BY {BEST_REPORT_ORDER}"))


@migrations()
def m015_folded_trigram(db: sqlite_utils.Database) -> None:
    """`sections_tri`: a trigram index of the folded text's Han characters (archive/search.py), so terms of 3+
    characters are found from short trigram doclists instead of intersecting single characters' doclists in
    sections_seg (a rare phrase of common characters took 200-800 ms at a million sections). Contentless
    and ``detail=none`` (about a third of a positional index): a term of 4+ characters is confirmed on the
    text. Kept in step with sections_seg by the same `search_pending` queue."""
    from pipelines.segment import fold

    from .search import flush_pending, trigram_text

    flush_pending(
        db
    )  # un-index what is queued while sections_tri does not exist yet (it indexes today's text)
    db.execute(
        "CREATE VIRTUAL TABLE sections_tri USING fts5(text, content = '', tokenize = 'trigram', detail = none)"
    )
    last = 0
    while True:
        rows = db.execute(
            "SELECT id, text FROM sections WHERE id > ? ORDER BY id LIMIT 5000", [last]
        ).fetchall()
        if not rows:
            break
        db.conn.executemany(
            "INSERT INTO sections_tri (rowid, text) VALUES (?, ?)",
            [(sid, trigram_text(fold(text))) for sid, text in rows],
        )
        last = rows[-1][0]


@migrations()
def m016_versions_by_crawl(db: sqlite_utils.Database) -> None:
    """Versions by the crawl that stored them: a crawl's health (its reports by status, new versions and
    documents) and the `crawl_health` view read them per crawl, and queue mode's writer refreshes a crawl's
    counts after every report it writes; without the index each of those scanned every version."""
    db.execute("CREATE INDEX IF NOT EXISTS idx_versions_crawl ON versions(crawl_id)")


def open_db(path: str | Path) -> sqlite_utils.Database:
    """Open (creating if needed) an archive and bring its schema up to date."""
    db = sqlite_utils.Database(path)
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA journal_mode = WAL")
    # In WAL mode NORMAL never corrupts the file; a power cut may lose the last commits, a killed process
    # loses nothing committed. FULL would fsync on every commit, i.e. on every page a crawl archives.
    db.execute("PRAGMA synchronous = NORMAL")
    migrations.apply(db)
    return db


def memory_db() -> sqlite_utils.Database:
    """An in-memory archive, for tests."""
    db = sqlite_utils.Database(memory=True)
    db.execute("PRAGMA foreign_keys = ON")
    migrations.apply(db)
    return db


_PLAIN = (str, int, float, bytes, type(None))


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def insert_row(db: sqlite_utils.Database, table: str, row: dict[str, Any]) -> int:
    """Insert one row and return its integer primary key.

    A row of plain values (text, numbers, bytes, NULL) into an existing table is one INSERT statement:
    sqlite-utils' `insert` machinery cost ~15× the statement itself (~0.6 ms a row, holding the GIL), paid
    twice per page a crawl archives. Anything else (values to serialise, a table to create) goes through it.
    """
    if row and all(isinstance(v, _PLAIN) for v in row.values()):
        sql = (
            f"INSERT INTO {_quoted(table)} ({', '.join(_quoted(c) for c in row)})"
            f" VALUES ({', '.join('?' * len(row))})"
        )
        try:
            if db.conn.in_transaction:
                cur = db.conn.execute(sql, list(row.values()))
            else:
                with db.conn:  # committed like sqlite-utils' own insert
                    cur = db.conn.execute(sql, list(row.values()))
        except sqlite3.OperationalError as exc:
            if "no such table" not in str(exc):
                raise
        else:
            if cur.lastrowid is None:
                raise RuntimeError(f"insert into {table} returned no row id")
            return int(cur.lastrowid)
    pk = db.table(table).insert(row).last_pk
    if pk is None:
        raise RuntimeError(f"insert into {table} returned no row id")
    return int(pk)
