"""PDF tables read from pypdfium2's ruling segments and characters (pipelines/extract/rulings.py) give
every cell pdfplumber's layout path gives: the equality gate, over the fixtures, the real corpus and the
ruled-table variants of tests/pdf_tables.py (stroked grids, thin filled rectangles under a scaled matrix,
prose in ruled boxes, decimal 万元 amounts)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pipelines.extract import rulings
from pipelines.extract.pdf import extract_pdf
from pipelines.parse import parse_extracted
from tests import pdf_tables
from tests.helpers_shared import require_shared

FIX = Path(__file__).parent / "fixtures" / "formats"
AGENCY = "示例县测试局"


def _corpus() -> list[Path]:
    """The real PDFs (skipped when ../shared is absent, failing under CI)."""
    return sorted(require_shared("corpus").glob("*.pdf"))


def _variant(name: str) -> bytes:
    fees = {"drawn": 62.336, "boxed": 0.35}.get(name, 62.336)
    d = pdf_tables.report(AGENCY, 2024, 7, fees)
    return pdf_tables.build(d, drawn_active=name == "drawn", boxed_prose=name == "boxed")


def _reading(data: bytes) -> dict[str, Any]:
    r = parse_extracted(extract_pdf(data, ocr=False))
    return {
        "status": r.status,
        "figures": [(f.table, f.row, f.column, f.value, f.raw, f.source) for f in r.figures],
        "checks": [(c.rule, c.column, c.ok, c.detail) for c in r.checks],
        "sections": r.sections,
        "problems": r.problems,
        "agency": r.agency,
        "year": r.year,
        "quality": r.meta.get("quality"),
    }


def _gate(data: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, Any], dict[str, Any]]:
    fast = _reading(data)
    with monkeypatch.context() as m:
        m.setattr(rulings, "find_tables", lambda *_a, **_k: None)  # every table page through pdfplumber
        slow = _reading(data)
    return fast, slow


GATE_FILES = [p.name for p in sorted(FIX.glob("*.pdf")) if ".scan." not in p.name]


@pytest.mark.parametrize("name", GATE_FILES)
def test_fixture_pdfs_read_the_same_as_pdfplumber(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, slow = _gate((FIX / name).read_bytes(), monkeypatch)
    assert slow["quality"]["plumber_pages"] == slow["quality"]["table_pages"]
    assert "plumber_pages" not in fast["quality"]  # pdfium found a grid on every table page
    slow["quality"].pop("plumber_pages")
    assert fast == slow
    assert len(fast["figures"]) > 150


def test_corpus_pdfs_read_the_same_as_pdfplumber(monkeypatch: pytest.MonkeyPatch) -> None:
    files = _corpus()
    assert files, "no PDF in ../shared/corpus"
    for path in files:
        fast, slow = _gate(path.read_bytes(), monkeypatch)
        assert "plumber_pages" not in fast["quality"], path.name
        slow["quality"].pop("plumber_pages")
        assert fast == slow, path.name
        assert fast["status"] == "complete" and len(fast["figures"]) > 150, path.name


@pytest.mark.parametrize("name", ["drawn", "boxed"])
def test_variants_read_the_same_as_pdfplumber(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, slow = _gate(_variant(name), monkeypatch)
    assert "plumber_pages" not in fast["quality"]
    slow["quality"].pop("plumber_pages")
    assert fast == slow


def _active(figures: list[tuple[Any, ...]]) -> dict[tuple[str, str], Any]:
    return {(f[1], f[2]): f[3] for f in figures if f[0] == "active"}


def test_active_table_ruled_with_filled_rectangles_every_cell() -> None:
    """Borders drawn as 0.6 pt filled rectangles in a 1/10-pt, y-flipped coordinate system: every cell of
    the 主动公开 table, the 万元 amount with three decimals."""
    d = pdf_tables.report(AGENCY, 2024, 7, 62.336)
    got = _active(_reading(pdf_tables.build(d, drawn_active=True))["figures"])
    a = d.active
    assert got == {
        ("regulations", "issued"): a["规章"][0],
        ("regulations", "repealed"): a["规章"][1],
        ("regulations", "in_force"): a["规章"][2],
        ("normative_documents", "issued"): a["行政规范性文件"][0],
        ("normative_documents", "repealed"): a["行政规范性文件"][1],
        ("normative_documents", "in_force"): a["行政规范性文件"][2],
        ("licensing", "decisions"): a["行政许可"][0],
        ("penalty", "decisions"): a["行政处罚"][0],
        ("coercion", "decisions"): a["行政强制"][0],
        ("fees", "amount_10k_yuan"): 62.336,
    }


def test_small_decimal_amount_and_prose_boxes_are_not_tables() -> None:
    """Paragraphs framed by ruling lines (a one-column box, a two-column heading | paragraph box) stay
    prose: their text is in the sections, no figure comes from them; 0.35 万元 read as 0.35."""
    d = pdf_tables.report(AGENCY, 2024, 7, 0.35)
    data = pdf_tables.build(d, boxed_prose=True)
    ex = extract_pdf(data, ocr=False)
    assert not any("总体情况" in c.text for g in ex.grids for row in g.rows for c in row)
    r = _reading(data)
    assert _active(r["figures"])[("fees", "amount_10k_yuan")] == 0.35
    assert "主动公开政府信息" in "".join(r["sections"].values())
    assert all(f[5].get("page") for f in r["figures"])
    text = "".join(r["sections"].values())
    assert "提升平台的便民服务水平" in text
