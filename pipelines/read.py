"""The reading stage's one front door: bytes → Report (extract → parse → check), a pure function.

`nianbao parse`, `ingest`, `reparse`, the crawl's process pool and the benchmarks all call `read_report`.
It touches no database and no network, so it can run in any process (a pool worker, a queue worker on
another machine) and be re-run after a parser upgrade on the same bytes with the same result.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .extract import ExtractionError, extract
from .extract.detect import detect_format
from .extract.dispatch import pdf_reader, stamp
from .meta import from_title
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


def _apply_hints(report: Report, hints: ReadHints) -> None:
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
    if hints.published and not report.meta.get("published_date"):
        report.meta["published_date_hint"] = hints.published
    for key in ("region", "level"):
        value = getattr(hints, key)
        if value and not report.meta.get(key):
            report.meta[key] = value
