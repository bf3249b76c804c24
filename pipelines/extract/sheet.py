"""Spreadsheets (XLSX, XLS, ODS; Kingsoft ET is XLS inside): python-calamine for values, merged ranges from
calamine where it reports them, else from openpyxl (XLSX). Each sheet is one grid; `text` is the sheets'
rows tab-separated, so a report published as a workbook of its tables still shows its captions."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from . import limits
from .base import Cell, Extracted, ExtractionError, Grid
from .grids import join_lines, nfkc


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return repr(round(v, 10)).rstrip("0").rstrip(".") if "e" not in repr(v) else str(v)
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time() else v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    return join_lines(nfkc(str(v)))


def _merged_openpyxl(data: bytes) -> dict[str, list[tuple[int, int, int, int]]]:
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=False, data_only=True)
    out = {}
    for ws in wb.worksheets:
        out[ws.title] = [
            (m.min_row - 1, m.min_col - 1, m.max_row - 1, m.max_col - 1) for m in ws.merged_cells.ranges
        ]
    wb.close()
    return out


def extract_sheet(data: bytes, fmt: str) -> Extracted:
    from python_calamine import CalamineWorkbook

    if fmt in ("xlsx", "ods"):
        limits.check_zip(data)
    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine raises its own error types per format
        raise ExtractionError(f"unreadable {fmt} workbook: {exc}") from exc
    merged_fallback: dict[str, list[tuple[int, int, int, int]]] | None = None
    grids: list[Grid] = []
    lines: list[str] = []
    total = 0
    for name in wb.sheet_names:
        try:
            sheet = wb.get_sheet_by_name(name)
            values = sheet.to_python(skip_empty_area=False)
        except Exception as exc:  # calamine's XmlError, ZipError … on a damaged or lying sheet
            raise ExtractionError(f"unreadable {fmt} sheet {name!r}: {exc}") from exc
        total += sum(len(r) for r in values)
        if total > limits.MAX_TABLE_CELLS:
            raise limits.over("spreadsheet cells", total, limits.MAX_TABLE_CELLS)
        ranges: list[tuple[int, int, int, int]] = []
        try:
            mr = sheet.merged_cell_ranges
        except Exception:  # not supported for this format by this calamine version
            mr = None
        if mr is not None:
            ranges = [(a[0], a[1], b[0], b[1]) for a, b in mr]
        elif fmt == "xlsx":
            if merged_fallback is None:
                merged_fallback = _merged_openpyxl(data)
            ranges = merged_fallback.get(name, [])
        src = {"sheet": name}
        texts = [[_fmt(v) for v in row] for row in values]
        width = max((len(r) for r in texts), default=0)
        for r0, _c0, r1, c1 in ranges:
            for r in range(r0, r1 + 1):
                while len(texts) <= r:
                    texts.append([""] * width)
                while len(texts[r]) <= c1:
                    texts[r].append("")
        width = max((len(r) for r in texts), default=0)
        rows = [
            [Cell(t, {**src, "cell": [r, c]}) for c, t in enumerate(row + [""] * (width - len(row)))]
            for r, row in enumerate(texts)
        ]
        for r0, c0, r1, c1 in ranges:
            if r0 >= len(rows) or c0 >= width:
                continue
            head = rows[r0][c0]
            for r in range(r0, min(r1, len(rows) - 1) + 1):
                for c in range(c0, min(c1, width - 1) + 1):
                    if (r, c) != (r0, c0):
                        rows[r][c] = Cell(
                            head.text, {**src, "cell": [r, c], "merged": True, "origin": [r0, c0]}
                        )
        # drop trailing empty rows
        while rows and not any(c.text for c in rows[-1]):
            rows.pop()
        if not rows:
            continue
        grids.append(Grid(rows=rows, source=src))
        lines.append(name)
        for row in rows:
            cells = [c.text for c in row if not c.source.get("merged")]
            if any(cells):
                lines.append("\t".join(cells).rstrip("\t"))
    return Extracted(
        format=fmt,
        extractor=f"{fmt}/calamine",
        text="\n".join(lines),
        grids=grids,
        meta={"sheets": list(wb.sheet_names)},
    )
