"""What the discovery spider hands to the archive pipeline: one item per fetched document or event."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from archive.store import StoreResult


@dataclass
class DocumentItem:
    """A fetched document (list page, report page or attachment), or a 304/404/blocked event for a URL.

    `event`: 'fetched' (body holds the decompressed bytes), 'not_modified' (304 to a conditional request),
    'gone' (404/410 on a known URL), 'challenged' (this one page was an anti-bot challenge; `evidence` says
    what was seen), 'blocked' (the portal is blocked: its entry pages or a run of pages were challenges) or
    'error' (a failed fetch or a non-2xx answer: `stage`, `evidence` the reason, `attempts`).
    Kinds: 'page', 'list', 'report', 'attachment', 'landing' (a 详见附件 page whose attachment is the report)
    and 'foreign' (a report of another place posted on this portal: archived, never read as this portal's).
    """

    url: str
    kind: str  # list / page / report / attachment
    portal_id: str
    event: str = "fetched"
    body: bytes = b""
    http_status: int | None = None
    content_type: str | None = None
    fetched_at: str | None = None
    filename: str | None = None
    title: str | None = None
    link_text: str | None = None
    discovered_from: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    warc: dict[str, Any] = field(default_factory=dict)  # file, offset, record id: set once written
    warc_written: Any = None  # concurrent.futures.Future of `warc`: the archive stage awaits it (None after)
    year: int | None = None
    evidence: str | None = None
    stage: str | None = None  # 'error' events: fetch / http / offsite / robots
    attempts: int | None = None  # 'error' events: requests sent for this URL (retries included)
    attachments: list[str] = field(default_factory=list)  # attachment links of a report page
    published: str | None = (
        None  # the date the list showed beside the link (YYYY-MM-DD), or the landing page's
    )
    published_source: str | None = (
        None  # where `published` came from: list / landing_page_meta / landing_page_field
    )
    column: str | None = None  # the text of the column link the list was entered by
    foreign_place: str | None = None  # kind 'foreign': the place that published it (青岚县)
    stored: StoreResult | None = None  # set by the archive stage: the version these bytes became
