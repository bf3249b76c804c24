"""Report × format: every fixture report, rendered into every format by tools/make_fixtures.py, must give the
same figures as its source, end to end through detection, extraction and parsing (pipelines.read.read_report).
OCR'd formats may instead be flagged: a misread must show as a failed check or a non-complete status."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.read import read_report

FIX = Path(__file__).parent / "fixtures" / "formats"
REPORTS = ("r2021_ok", "r2019_ok", "r2021_bad")
FAST = ("html", "docx", "pdf", "xlsx", "xls")
SLOW = ("doc", "wps", "scan.pdf", "table.jpg")
OCR = ("scan.pdf", "table.jpg")


def _cases():
    for rid in REPORTS:
        for fmt in (*FAST, *SLOW):
            path = FIX / f"{rid}.{fmt}"
            if not path.exists():
                continue
            marks = [pytest.mark.slow] if fmt in SLOW else []
            yield pytest.param(rid, fmt, id=f"{rid}-{fmt}", marks=marks)


def expected(rid: str) -> dict:
    return json.loads((FIX / f"{rid}.expected.json").read_text(encoding="utf-8"))


def wrong_figures(report, exp: dict, only_found: bool = False) -> list[tuple]:
    wrong = []
    for f in exp["figures"]:
        got = report.value(f["table"], f["row"], f["column"])
        if only_found and got is None:
            continue
        if got != f["value"]:
            wrong.append((f["table"], f["row"], f["column"], f["value"], got))
    return wrong


@pytest.mark.parametrize(("rid", "fmt"), list(_cases()))
def test_same_figures_in_every_format(rid: str, fmt: str) -> None:
    exp = expected(rid)
    path = FIX / f"{rid}.{fmt}"
    report = read_report(path.read_bytes(), filename=path.name)
    quality = report.meta.get("quality") or {}
    failed = [c for c in report.checks if not c.ok]
    if fmt in OCR:
        assert quality.get("ocr") == "tesseract"
        assert quality.get("ocr_confidence") is not None
        # a page image holds only part of the report: compare what was read
        wrong = wrong_figures(report, exp, only_found=(fmt == "table.jpg"))
        if wrong:
            assert failed or report.status != "complete", f"OCR misread not flagged: {wrong[:10]}"
        return
    assert wrong_figures(report, exp) == []
    if fmt != "xlsx" and fmt != "xls":
        assert report.template == exp["template"]
        assert report.year == exp["year"]
    # the fixtures with a broken balance must fail it in every format, the others must pass every check
    if exp["balanced"]:
        assert failed == [], [c.to_json() for c in failed]
    else:
        assert {c.rule for c in failed} == {"applications.balance"}
    for f in report.figures:
        assert f.source, f"figure without provenance: {f}"
    assert report.meta.get("format")
    assert report.meta.get("extractor")
