"""The reading stage's one front door: bytes → Report (extract → parse → check), a pure function.

`nianbao parse`, `ingest`, `reparse`, the crawl's process pool and the benchmarks all call `read_report`.
It touches no database and no network, so it can run in any process (a pool worker, a queue worker on
another machine) and be re-run after a parser upgrade on the same bytes with the same result.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from .extract import ExtractionError, extract
from .extract.detect import detect_format
from .extract.dispatch import pdf_reader, stamp
from .meta import from_title, title_candidate
from .parse import parse_extracted
from .report import Report


@dataclass
class ReadHints:
    """What the crawler or the registry knows about a document besides its bytes.

    The parser's own reading wins where the report states something; hints fill what it leaves empty
    (e.g. the portal's agency for a report whose text never names it). `attachments` are the links of a
    report page: when the page itself holds no report (a wrapper around a PDF), the problems point there.
    """

    url: str | None = None
    agency: str | None = None
    region: str | None = None
    level: str | None = None
    link_text: str | None = None
    attachments: list[str] = field(default_factory=list)
    # What the list showed for the link: the full title (a title= attribute over truncated text, or the
    # report page's title for its attachment), the date beside it, the column it was listed under. Only
    # fallbacks: the document's own title and dates win.
    title: str | None = None
    published: str | None = None
    column: str | None = None
    # Where `published` came from: `list` (beside the link), `landing_page_meta` / `landing_page_field` (the
    # <meta> or 发布日期 field of the report page an attachment hangs from).
    published_source: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def read_report(
    body: bytes,
    filename: str | None = None,
    content_type: str | None = None,
    hints: ReadHints | None = None,
) -> Report:
    """Read one document. Never raises for bad input: a report that cannot be read says why."""
    hints = hints or ReadHints()
    name = filename or (hints.url.rsplit("/", 1)[-1] if hints.url else None)
    try:
        if body and detect_format(body, name) == "pdf":
            report = _read_pdf(body)
        else:
            report = parse_extracted(extract(body, filename=name, content_type=content_type))
    except ExtractionError as exc:
        report = Report(
            status="failed",
            problems=[f"{name or 'document'}: cannot extract text: {exc}"],
            meta={"format": "unknown", "extractor": None},
        )
    _apply_hints(report, hints)
    return report


def _read_pdf(body: bytes) -> Report:
    """pypdfium2 text alone first (≈ 4 ms a page); pdfplumber's table finder (≈ 50 ms a page) only when that
    text does not give a complete report whose every check passes, and then only on the table pages.
    `meta["extractor"]` says which path the figures came from."""
    reader = pdf_reader(body)
    cheap = reader.text_only()
    rejected = "a page needs OCR"
    if cheap is not None:
        report = parse_extracted(stamp(cheap, "pdf", body))
        rejected = _text_only_shortfall(report)
        if not rejected:
            return report
    report = parse_extracted(stamp(reader.with_tables(), "pdf", body))
    report.meta["text_only_rejected"] = rejected
    return report


def _text_only_shortfall(report: Report) -> str:
    """Why a text-only reading is not good enough ('' when it is): the tables' figures are trusted from
    plain text only when every table row was found and every arithmetic check holds."""
    if report.status != "complete":
        return f"status {report.status}"
    if not report.checks:
        return "no checks"
    failed = sum(1 for c in report.checks if not c.ok)
    return f"{failed} of {len(report.checks)} checks failed" if failed else ""


_WE = re.compile(r"(?:我|本)(局|委|办|厅|院|中心|署|政府|镇|乡|街道|单位|机关)")


def _apply_hints(report: Report, hints: ReadHints) -> None:
    """What the crawler knows fills what the document and its page leave empty, below them in precedence:
    the link text for the title (and the agency and year it names), then the portal's agency — as
    `text+portal` when the report speaks of itself as that kind of organ (我局 on a 局's portal), else as
    `registry`. Each value's source goes into report.meta (`title_source`, `agency_source`, `year_source`)."""
    if report.title is None and hints.link_text:
        title = title_candidate(hints.link_text)
        if title:
            report.title, report.meta["title_source"] = title, "link_text"
            agency, year = from_title(title)
            if report.agency is None and agency:
                report.agency, report.meta["agency_source"] = agency, "link_text"
            if report.year is None and year:
                report.year, report.meta["year_source"] = year, "link_text"
    if report.agency is None and hints.agency:
        we = _WE.search(report.text[:5000])
        speaks = we is not None and (we[1] in ("单位", "机关") or hints.agency.endswith(we[1]))
        report.agency, report.meta["agency_source"] = hints.agency, "text+portal" if speaks else "registry"
    _restate(report)
    if report.status == "failed" and hints.attachments:
        report.problems.append(
            "the page holds no report text itself; its content is in the attachment(s): "
            + ", ".join(hints.attachments[:5])
        )
    if hints.title and not report.title:
        report.title = hints.title
    if hints.title and not report.agency and report.status != "failed":
        # The list's title names the agency the page itself does not (a title only in a metadata row).
        agency, year = from_title(hints.title)
        if agency and (report.year is None or year in (None, report.year)):
            report.agency = agency
            report.meta["agency_source"] = "link title"
    _hinted_date(report, hints)
    for key in ("region", "level"):
        value = getattr(hints, key)
        if value and not report.meta.get(key):
            report.meta[key] = value


def _hinted_date(report: Report, hints: ReadHints) -> None:
    """The date the crawler saw for the document (its landing page's, or the list's) when the document states
    none of its own or only a guessed one (`page_guess`): below `page_meta`, `page_field` and `document`. A
    date inside the year reported on is another date (the statistics period's), never the publication."""
    if not hints.published:
        return
    source = report.meta.get("published_date_source")
    year = report.year
    if report.meta.get("published_date") and source != "page_guess":
        report.meta["published_date_hint"] = hints.published  # kept beside the document's own date
        return
    if year is not None and hints.published[:4] <= str(year):
        report.meta["published_date_hint"] = hints.published
        return
    report.meta["published_date"] = hints.published
    report.meta["published_date_source"] = hints.published_source or "list"


def _restate(report: Report) -> None:
    """The parser's 'not stated' problems, restated once the hints supplied the value."""
    for key, problem in (("agency", "agency not stated"), ("year", "year not stated")):
        source = report.meta.get(f"{key}_source")
        if getattr(report, key) is not None and problem in report.problems and source:
            at = report.problems.index(problem)
            report.problems[at] = f"{problem} in the report; taken from the {source.replace('_', ' ')}"
