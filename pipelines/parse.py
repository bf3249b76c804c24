"""Text and grids → Report: sections, title/agency/year, the three tables, template, status and checks.

Parsing runs inside a crawl and over years of odd documents, so it never raises: whatever cannot be
read is said in `report.problems`, and `status` tells complete / partial / failed at a glance.
"""

from __future__ import annotations

from .checks import evaluate
from .codes import ACTIVE_LAYOUT_2019, ACTIVE_LAYOUT_2021, APPLICATION_ROWS, PREAMBLE, SECTIONS
from .derive import fill_blanks
from .extract.base import Extracted, Grid
from .meta import describe
from .normalize import compact
from .report import Report
from .reshape import reshape
from .runs import prose_numbers, resolve
from .sections import find_headings, section_texts, spans
from .tables import (
    REVIEW_ROW_CODES,
    Row,
    TableRead,
    classify,
    read_active,
    read_applications,
    read_review,
    rows_from_grid,
    rows_from_lines,
)

TABLES = ("active", "applications", "review_litigation")
_READERS = {"active": read_active, "applications": read_applications, "review_litigation": read_review}
_SECTION_ORDER = tuple(s.code for s in SECTIONS)


def parse_text(text: str) -> Report:
    """Parse a report from its text alone (tables from the text layouts)."""
    return _guarded(text, [], None)


def parse_extracted(ex: Extracted) -> Report:
    """Parse an extractor's output: sections and metadata from the text, tables from grids when given."""
    report = _guarded(ex.text or "", list(ex.grids or []), ex.title)
    report.meta.update(extractor=ex.extractor, format=ex.format, quality=dict(ex.quality or {}))
    if ex.published_date:
        report.meta["published_date"] = ex.published_date
    report.problems[:0] = [f"extraction: {p}" for p in ex.problems or []]
    return report


def _guarded(text: str, grids: list[Grid], title_hint: str | None) -> Report:
    text = text if isinstance(text, str) else ""
    try:
        return _parse(text, grids, title_hint)
    except Exception as exc:  # the contract: never raise through a crawl; say what broke instead
        return Report(
            text=text,
            title=title_hint,
            status="failed",
            problems=[f"parser error: {type(exc).__name__}: {exc}"],
        )


def _region(table: str, ranges: dict[str, tuple[int, int]], n: int) -> tuple[int, int]:
    """Lines holding a table: its section, else the section that swallowed it (heading lost), else all."""
    if table in ranges:
        return ranges[table]
    earlier = [c for c in _SECTION_ORDER[: _SECTION_ORDER.index(table)] if c in ranges]
    if earlier:
        return ranges[earlier[-1]]
    return ranges.get(PREAMBLE, (0, n))


def _read_tables(
    lines: list[str], ranges: dict[str, tuple[int, int]], grids: list[Grid], sources: dict[str, str]
) -> dict[str, TableRead]:
    grid_rows: dict[str, list[Row]] = {t: [] for t in TABLES}
    for grid in grids:
        rows = rows_from_grid(grid)
        table = classify(rows)
        if table:
            grid_rows[table].extend(rows)
    reads: dict[str, TableRead] = {}
    for table in TABLES:
        if grid_rows[table]:
            read = _READERS[table](grid_rows[table])
            if read.found:
                reads[table], sources[table] = read, "grid"
                continue
        reads[table] = _READERS[table](rows_from_lines(lines, *_region(table, ranges, len(lines))))
        sources[table] = "text"
    return reads


def _template(report: Report, reads: dict[str, TableRead]) -> None:
    detected = {t: r.template for t, r in reads.items() if r.found and r.template}
    report.meta["table_templates"] = detected
    if len(set(detected.values())) > 1:
        report.problems.append(
            "mixed templates: " + ", ".join(f"{t} table follows {v}" for t, v in detected.items())
        )
    if not any(r.found for r in reads.values()):
        report.template = "free"
    elif detected:
        # Any table in the 2021 form means the report was made on the 2021 format; a table left in the
        # 2019 form is a laggard (seen in real 2023-2024 reports), recorded per table in table_templates.
        report.template = "2021" if "2021" in detected.values() else "2019"
    elif report.year is not None and report.year <= 2020:
        report.template = "2019"
        report.problems.append("template not shown by the tables' labels; inferred 2019 from the report year")
    else:
        report.template = "2021"
        report.problems.append("template not shown by the tables' labels; assumed 2021")


def _expected_rows(table: str, template: str) -> tuple[str, ...]:
    if table == "active":
        return tuple(ACTIVE_LAYOUT_2019 if template == "2019" else ACTIVE_LAYOUT_2021)
    if table == "applications":
        return tuple(r.code for r, templates in APPLICATION_ROWS if template in templates)
    return REVIEW_ROW_CODES


def _completeness(report: Report, reads: dict[str, TableRead]) -> bool:
    """Problems for every missing table and row; True when nothing is missing."""
    complete = True
    for table, read in reads.items():
        if not read.found:
            report.problems.append(f"{table} table not found")
            complete = False
            continue
        template = report.meta["table_templates"].get(table) or report.template
        missing = [r for r in _expected_rows(table, template) if r not in read.rows]
        if missing:
            noun = "row" if len(missing) == 1 else "rows"
            report.problems.append(f"{table} table: {noun} {', '.join(missing)} not found")
            complete = False
    return complete


def _has_body(text: str, title: str | None) -> bool:
    """Text of a report beyond its title: a wrapper page (title + 详见附件) holds none."""
    if not title:
        return False
    body = compact(text).replace(compact(title), "")
    return len(body) >= 20 and not (len(body) < 60 and "附件" in body)


def _parse(text: str, grids: list[Grid], title_hint: str | None) -> Report:
    report = Report(text=text)
    if not text.strip() and not grids:
        report.problems.append("empty text")
        return report
    reshaped, notes = reshape(text)
    if notes:  # the line numbers of figures' sources refer to the text as re-broken
        text = report.text = reshaped
        report.meta["reshaped"] = notes
    lines = text.splitlines()
    headings = find_headings(lines)
    ranges = spans(lines, headings)
    report.sections = {k: v for k, v in section_texts(lines, ranges).items() if v}

    opening = lines[: headings[0].line] if headings else lines[:15]
    overview = lines[slice(*ranges["overview"])] if "overview" in ranges else []
    meta = describe(lines, opening, overview, title_hint)
    report.title, report.agency, report.year = meta.title, meta.agency, meta.year

    sources: dict[str, str] = {}
    reads = _read_tables(lines, ranges, grids, sources)
    report.meta["table_sources"] = {t: s for t, s in sources.items() if reads[t].found}
    for read in reads.values():
        if read.found:  # a table not found contributes nothing, not even stray matches in prose
            report.figures.extend(read.figures)
            report.problems.extend(read.problems)
    _template(report, reads)
    run_rows = [run for read in reads.values() if read.found for run in read.runs]
    if run_rows:
        template = report.meta["table_templates"].get("applications") or report.template
        figures, problems = resolve(run_rows, report.figures, prose_numbers(lines), template)
        report.figures.extend(figures)
        report.problems.extend(problems)

    if not headings and report.template == "free" and not _has_body(text, report.title):
        report.problems.append("no report structure found")
        return report
    if report.template == "free":
        # A free-form (pre-2019) report with text is a kept report, not a failure; a 2019+ report without
        # its tables lacks content the format requires (tables as images, a wrapper page): partial.
        report.status = "partial" if report.year and report.year >= 2019 else "complete"
        if not headings:
            report.problems.append("no section headings found: the text is kept as one body")
        report.problems.append(
            "no standard tables found: sections and text kept (pre-2019 or non-standard report)"
        )
    else:
        report.status = "complete" if _completeness(report, reads) else "partial"
    report.problems.extend(fill_blanks(report))
    unread = [f for f in report.figures if f.value is None and {"blank", "split_ambiguous"} & set(f.flags)]
    if unread and report.status == "complete":
        report.status = "partial"  # a cell printed but not read is not a complete table
    if report.agency is None:
        report.problems.append("agency not stated")
    if report.year is None:
        report.problems.append("year not stated")
    report.checks, notes = evaluate(report)
    report.problems.extend(notes)
    return report
