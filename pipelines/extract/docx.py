"""DOCX (and ODT/DOC/WPS after LibreOffice conversion): python-docx, body in document order.

Tables are read from the XML so merges are exact: `w:gridSpan` (horizontal) and `w:vMerge` (vertical
continuation) cells are repeated into every grid position they cover, marked merged; `w:gridBefore` skips
leading grid columns. Paragraphs and tables are emitted in document order, table rows tab-separated.
"""

from __future__ import annotations

import io
from typing import Any

from . import limits
from .base import Cell, Extracted, ExtractionError, Grid
from .grids import join_lines, nfkc

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _val(el: Any, tag: str) -> str | None:
    if el is None:
        return None
    child = el.find(W + tag)
    if child is None:
        return None
    v = child.get(W + "val")
    return v if v is not None else ""


def _para_text(p: Any) -> str:
    parts = []
    for node in p.iter():
        if node.tag == W + "t" and node.text:
            parts.append(node.text)
        elif node.tag in (W + "tab",):
            parts.append(" ")
        elif node.tag in (W + "br", W + "cr"):
            parts.append("\n")
        elif node.tag == W + "tbl":
            break
    return "".join(parts)


def _cell_text(tc: Any) -> str:
    paras = []
    for p in tc.iter(W + "p"):
        paras.append(_para_text(p).strip())
    return join_lines(nfkc("\n".join(paras)))


def table_grid(tbl: Any, index: int) -> Grid:
    src = {"table": index}
    rows: list[list[Cell]] = []
    width = 0
    for r, tr in enumerate(tbl.findall(W + "tr")):
        row: list[Cell] = []
        trpr = tr.find(W + "trPr")
        before = _val(trpr, "gridBefore")
        for _ in range(int(before) if before and before.isdigit() else 0):
            row.append(Cell("", {**src, "cell": [r, len(row)], "missing": True}))
        for tc in tr.findall(W + "tc"):
            tcpr = tc.find(W + "tcPr")
            span_v = _val(tcpr, "gridSpan")
            span = min(int(span_v) if span_v and span_v.isdigit() else 1, limits.MAX_SPAN)
            vmerge = _val(tcpr, "vMerge")
            c0 = len(row)
            if vmerge is not None and vmerge != "restart" and rows:
                # continuation: repeat the cell above (which carries the text of the merge's first cell)
                for dc in range(span):
                    c = c0 + dc
                    above = rows[-1][c] if c < len(rows[-1]) else None
                    text = above.text if above is not None else ""
                    origin = (
                        (above.source.get("origin") or above.source.get("cell"))
                        if above is not None
                        else None
                    )
                    row.append(Cell(text, {**src, "cell": [r, c], "merged": True, "origin": origin}))
                continue
            text = _cell_text(tc)
            for dc in range(span):
                source: dict[str, Any] = {**src, "cell": [r, c0 + dc]}
                if dc:
                    source["merged"] = True
                    source["origin"] = [r, c0]
                row.append(Cell(text, source))
        rows.append(row)
        width = max(width, len(row))
        if width * len(rows) > limits.MAX_TABLE_CELLS:
            raise limits.over("docx table cells", width * len(rows), limits.MAX_TABLE_CELLS)
    for r, row in enumerate(rows):
        while len(row) < width:
            row.append(Cell("", {**src, "cell": [r, len(row)], "missing": True}))
    return Grid(rows=rows, source=src)


def _walk(parent: Any, lines: list[str], grids: list[Grid]) -> None:
    for child in parent:
        if child.tag == W + "p":
            t = _para_text(child).strip()
            if t:
                lines.append(nfkc(t))
        elif child.tag == W + "tbl":
            g = table_grid(child, len(grids))
            grids.append(g)
            for row in g.rows:
                cells = [c.text for c in row if not c.source.get("merged") and not c.source.get("missing")]
                if any(cells):
                    lines.append("\t".join(cells))
        elif child.tag in (W + "sdt", W + "sdtContent", W + "customXml", W + "smartTag"):
            _walk(child, lines, grids)


def extract_docx(data: bytes) -> Extracted:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    limits.check_zip(data)
    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError) as exc:
        raise ExtractionError(f"unreadable docx: {exc}") from exc
    except Exception as exc:  # lxml XMLSyntaxError and friends on a damaged package
        raise ExtractionError(f"unreadable docx: {exc}") from exc
    lines: list[str] = []
    grids: list[Grid] = []
    _walk(document.element.body, lines, grids)
    title = (document.core_properties.title or "").strip() or None
    return Extracted(
        format="docx",
        extractor="docx/python-docx",
        text="\n".join(lines),
        grids=grids,
        title=nfkc(title) if title else None,
        meta={"tables": len(grids)},
    )
