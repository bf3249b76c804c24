"""The Report: what one parsed annual report says, as typed data (the JSON contract of `nianbao parse`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

Template = Literal["2021", "2019", "free"]
Status = Literal["complete", "partial", "failed"]
Number = int | float


@dataclass
class Figure:
    """One cell of a statistical table.

    `value` is None when the cell does not exist in the report (a column the table lacks, a cell cut off by
    the export) — never 0. `raw` keeps the cell text as printed; `flags` says how it was read
    (e.g. ``dash_as_zero``, ``truncated_row``, ``unit_stripped``); `source` says where it was read
    (``{"line": 57}`` for text, ``{"page": 3, "table": 1, "cell": [4, 2]}`` for PDF/DOCX/XLSX/HTML grids).
    """

    table: str
    row: str
    column: str
    value: Number | None
    raw: str | None = None
    flags: list[str] = field(default_factory=list)
    source: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "table": self.table,
            "row": self.row,
            "column": self.column,
            "value": self.value,
        }
        if self.raw is not None:
            out["raw"] = self.raw
        if self.flags:
            out["flags"] = list(self.flags)
        if self.source:
            out["source"] = self.source
        return out


@dataclass
class Fact:
    """One figure of a free-form report: `code` (e0_*), the indicator as printed, value, unit, period
    (`year` = 本年度, `cumulative` = 历年累计) and where it was read (`kind` table / prose, line, sentence)."""

    code: str
    label: str
    value: int | float
    unit: str | None
    sentence: str
    period: str = "year"
    source: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "label": self.label,
            "value": self.value,
            "unit": self.unit,
            "period": self.period,
            "sentence": self.sentence,
            "source": dict(self.source),
        }


@dataclass
class Check:
    """One rule of the format (勾稽关系, FORMAT.md §4) evaluated on one column (or one row, for row sums).

    `severity` is ``hard`` (must hold in a correctly filled report) or ``soft`` (a warning: prose, carry-over,
    units); `cells` names the cells the rule read (``table.row.column``), so a reader can see its inputs.
    """

    rule: str
    column: str
    ok: bool
    detail: str
    row: str | None = None
    severity: str | None = None
    cells: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rule": self.rule, "column": self.column, "ok": self.ok, "detail": self.detail}
        if self.row is not None:
            out["row"] = self.row
        if self.severity is not None:
            out["severity"] = self.severity
        if self.cells:
            out["cells"] = list(self.cells)
        return out


@dataclass
class Report:
    """A parsed report. Failed checks are data, not errors; problems say what could not be read."""

    agency: str | None = None
    year: int | None = None
    title: str | None = None
    template: Template = "free"
    status: Status = "failed"
    sections: dict[str, str] = field(default_factory=dict)
    figures: list[Figure] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # Figures of a free-form (pre-2019) report as loosely typed e0_* facts (pipelines/facts.py).
    facts: list[Fact] = field(default_factory=list)
    # Provenance and quality signals: extractor, format, table templates per table, OCR use, (cid:) garbage...
    meta: dict[str, Any] = field(default_factory=dict)
    # The full text the parser read (kept so a report that cannot be parsed is still searchable).
    text: str = ""
    # Search-index streams (pipelines/segment.py report_streams), filled by a reader worker so the archive's
    # single writer does not segment on its hot path. Not part of the JSON contract.
    search_streams: dict[str, tuple[str, str, str]] = field(default_factory=dict, repr=False, compare=False)

    def figure(self, table: str, row: str, column: str) -> Figure | None:
        """The figure at (table, row, column), or None when the report has no such cell."""
        for f in self.figures:
            if f.table == table and f.row == row and f.column == column:
                return f
        return None

    def value(self, table: str, row: str, column: str) -> Number | None:
        f = self.figure(table, row, column)
        return None if f is None else f.value

    def to_json(self) -> dict[str, Any]:
        return {
            "agency": self.agency,
            "year": self.year,
            "title": self.title,
            "template": self.template,
            "status": self.status,
            "sections": dict(self.sections),
            "figures": [f.to_json() for f in self.figures],
            "checks": [c.to_json() for c in self.checks],
            "problems": list(self.problems),
            "facts": [f.to_json() for f in self.facts],
            "meta": dict(self.meta),
        }

    def dumps(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_json(), ensure_ascii=False, indent=indent)
