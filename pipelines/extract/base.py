"""What every format extractor returns: text plus table grids, with provenance and quality signals."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Cell:
    """One grid cell. `text` is the cell's text as printed; `source` says where it was read."""

    text: str
    source: dict[str, Any] = field(default_factory=dict)


@dataclass
class Grid:
    """A table as a true rectangular-ish grid (rowspan/colspan already expanded by the extractor).

    Merged cells are repeated into every position they cover, with `source["merged"] = True` on the copies,
    so the parser can find labels anywhere in a row. `source` on the grid says where the table is
    (``{"page": 3, "table": 1}`` for PDF, ``{"table": 2}`` for HTML/DOCX, ``{"sheet": "Sheet1"}`` for XLSX).
    """

    rows: list[list[Cell]]
    source: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_strings(cls, rows: list[list[str]], source: dict[str, Any] | None = None) -> Grid:
        src = source or {}
        return cls(
            rows=[
                [Cell(t, {**src, "cell": [r, c]}) for c, t in enumerate(row)] for r, row in enumerate(rows)
            ],
            source=src,
        )

    def texts(self) -> list[list[str]]:
        return [[c.text for c in row] for row in self.rows]


@dataclass
class Extracted:
    """The result of turning one file's bytes into something the parser reads.

    `format` is what the bytes are (detected by content); `extractor` names the code path that read them
    (e.g. ``pdf/pdfplumber+pdfium``, ``pdf/pdfium-text``, ``html/lxml``, ``image/ocr-tesseract``). `quality` carries signals a
    journalist needs to judge the figures (``cid_garbage``, ``ocr``, ``ocr_confidence``, grid anomalies).
    `problems` are recorded, never raised through a crawl.
    """

    format: str
    extractor: str
    text: str = ""
    grids: list[Grid] = field(default_factory=list)
    title: str | None = None
    published_date: str | None = None  # ISO date when the page or document states it
    quality: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)


class ExtractionError(Exception):
    """A file could not be read at all (the message names why); the caller archives it with this reason."""
