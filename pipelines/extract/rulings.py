"""Ruled tables of a PDF page from pypdfium2's path objects, without pdfminer laying out the page.

pdfplumber's table finder (lines strategy) costs ≈ 3 ms a page; the ≈ 50 ms around it go to pdfminer
interpreting the whole content stream. The reports' tables are fully ruled, so the ruling segments are all
the finder needs: pdfium already parsed the page, and its path objects give them. Every straight, axis-aligned
segment of every path (stroked lines, rectangle outlines, thin filled rectangles that print as lines, inside
form XObjects too, through each object's transformation matrix) becomes an edge in pdfplumber's own form, in
pdfplumber's coordinates (top-left origin, relative to the MediaBox), and pdfplumber's module-level functions
(`merge_edges` → `edges_to_intersections` → `intersections_to_cells` → `cells_to_tables`) build the cell
grid exactly as `Page.find_tables` would. Cell text: pdfium's characters (its text page, loose boxes) handed
to pdfplumber's own `Table.extract`, so the centre-in-cell rule and word spacing are pdfplumber's.

Differences from pdfminer's edges, on purpose: Bézier segments and diagonal lines give no edge (pdfminer
turns a diagonal "ml" line into a vertical edge, which cuts a table with a 斜线表头 in two). A rotated page
(/Rotate) returns None: the caller falls back to pdfplumber there.
"""

from __future__ import annotations

import ctypes
import math
from typing import Any

from pdfplumber.table import (
    Table,
    TableSettings,
    cells_to_tables,
    edges_to_intersections,
    intersections_to_cells,
    merge_edges,
)
from pdfplumber.utils import filter_edges

Matrix = tuple[float, float, float, float, float, float]
Edge = dict[str, Any]
_IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
_MAX_DEPTH = 8  # form XObjects nested deeper than this are not followed (a malformed or hostile file)
_MAX_SEGMENTS = 200_000  # a page drawn as a vector illustration: stop collecting, let pdfplumber decide


class TooComplex(Exception):
    """The page holds more path segments than a table page plausibly does."""


def _mul(m: Matrix, n: Matrix) -> Matrix:
    """m then n (PDF row-vector convention: p' = p·m·n)."""
    a, b, c, d, e, f = m
    a2, b2, c2, d2, e2, f2 = n
    return (
        a * a2 + b * c2,
        a * b2 + b * d2,
        c * a2 + d * c2,
        c * b2 + d * d2,
        e * a2 + f * c2 + e2,
        e * b2 + f * d2 + f2,
    )


def _matrix(obj: Any) -> Matrix:
    import pypdfium2.raw as pdfium_c

    m = pdfium_c.FS_MATRIX()
    if not pdfium_c.FPDFPageObj_GetMatrix(obj, ctypes.byref(m)):
        return _IDENTITY
    return (m.a, m.b, m.c, m.d, m.e, m.f)


class _Collector:
    """Walks a page's objects and turns path segments into pdfplumber edges."""

    def __init__(self, x_origin: float, y_top: float) -> None:
        self.x_origin = x_origin
        self.y_top = y_top
        self.edges: list[Edge] = []
        self.segments = 0
        self._x = ctypes.c_float()
        self._y = ctypes.c_float()

    def walk_page(self, page: Any) -> None:
        import pypdfium2.raw as pdfium_c

        for i in range(pdfium_c.FPDFPage_CountObjects(page)):
            self._object(pdfium_c.FPDFPage_GetObject(page, i), _IDENTITY, 0)

    def _object(self, obj: Any, outer: Matrix, depth: int) -> None:
        import pypdfium2.raw as pdfium_c

        kind = pdfium_c.FPDFPageObj_GetType(obj)
        if kind == pdfium_c.FPDF_PAGEOBJ_PATH:
            self._path(obj, _mul(_matrix(obj), outer))
        elif kind == pdfium_c.FPDF_PAGEOBJ_FORM and depth < _MAX_DEPTH:
            inner = _mul(_matrix(obj), outer)
            for i in range(pdfium_c.FPDFFormObj_CountObjects(obj)):
                self._object(pdfium_c.FPDFFormObj_GetObject(obj, i), inner, depth + 1)

    def _path(self, obj: Any, m: Matrix) -> None:
        import pypdfium2.raw as pdfium_c

        n = pdfium_c.FPDFPath_CountSegments(obj)
        self.segments += n
        if self.segments > _MAX_SEGMENTS:
            raise TooComplex(f"more than {_MAX_SEGMENTS} path segments")
        a, b, c, d, e, f = m
        xp, yp = ctypes.byref(self._x), ctypes.byref(self._y)
        start: tuple[float, float] | None = None
        prev: tuple[float, float] | None = None
        for i in range(n):
            seg = pdfium_c.FPDFPath_GetPathSegment(obj, i)
            pdfium_c.FPDFPathSegment_GetPoint(seg, xp, yp)
            x, y = self._x.value, self._y.value
            pt = (a * x + c * y + e, b * x + d * y + f)
            kind = pdfium_c.FPDFPathSegment_GetType(seg)
            if kind == pdfium_c.FPDF_SEGMENT_MOVETO:
                start = pt
            elif kind == pdfium_c.FPDF_SEGMENT_LINETO and prev is not None:
                self._edge(prev, pt)
            if pdfium_c.FPDFPathSegment_GetClose(seg) and start is not None and start != pt:
                self._edge(pt, start)
                pt = start
            prev = pt

    def _edge(self, p0: tuple[float, float], p1: tuple[float, float]) -> None:
        """A segment as pdfplumber's edge dict (top-left origin), when it is horizontal or vertical."""
        x0, x1 = sorted((p0[0] - self.x_origin, p1[0] - self.x_origin))
        top, bottom = sorted((self.y_top - p0[1], self.y_top - p1[1]))
        if x0 == x1:
            orientation = "v"
        elif top == bottom:
            orientation = "h"
        else:
            return
        self.edges.append(
            {
                "object_type": "path_edge",
                "x0": x0,
                "x1": x1,
                "top": top,
                "bottom": bottom,
                "doctop": top,
                "width": x1 - x0,
                "height": bottom - top,
                "orientation": orientation,
            }
        )


def page_edges(page: Any) -> list[Edge] | None:
    """The axis-aligned path segments of a pypdfium2 page as pdfplumber edges; None for a rotated page."""
    if page.get_rotation() % 360:
        return None
    x0, _y0, _x1, y1 = page.get_mediabox()
    col = _Collector(x0, y1)
    col.walk_page(page.raw)
    return col.edges


def find_tables(page: Any, settings: dict[str, Any]) -> list[Table] | None:
    """pdfplumber's lines-strategy tables on the edges pdfium found (the same steps as
    `pdfplumber.table.TableFinder`, which needs a pdfminer-laid-out page); None when the page is rotated.
    The tables' `page` is None until `with_chars` gives them the page's characters."""
    edges = page_edges(page)
    if edges is None:
        return None
    s = TableSettings.resolve(settings)
    v = filter_edges(edges, "v", min_length=s.edge_min_length_prefilter)
    h = filter_edges(edges, "h", min_length=s.edge_min_length_prefilter)
    merged = merge_edges(
        v + h,
        snap_x_tolerance=s.snap_x_tolerance,
        snap_y_tolerance=s.snap_y_tolerance,
        join_x_tolerance=s.join_x_tolerance,
        join_y_tolerance=s.join_y_tolerance,
    )
    merged = filter_edges(merged, min_length=s.edge_min_length)
    if not merged:
        return []
    points = edges_to_intersections(merged, s.intersection_x_tolerance, s.intersection_y_tolerance)
    cells = intersections_to_cells(points)
    return [Table(None, group) for group in cells_to_tables(cells)]  # type: ignore[arg-type]


class _CharPage:
    """What `pdfplumber.table.Table.extract` reads from its page: the characters."""

    def __init__(self, chars: list[dict[str, Any]]) -> None:
        self.chars = chars


def page_chars(page: Any, textpage: Any) -> list[dict[str, Any]]:
    """Every character pdfium read on the page as a pdfplumber char dict, boxed as pdfminer boxes a glyph
    (advance width by one em above the descent), without the spaces and line breaks pdfium generates."""
    import pypdfium2.raw as pdfium_c

    x_origin, _y0, _x1, y_top = page.get_mediabox()
    tp = textpage.raw
    box, m = pdfium_c.FS_RECTF(), pdfium_c.FS_MATRIX()
    box_ref, m_ref = ctypes.byref(box), ctypes.byref(m)
    ox, oy = ctypes.c_double(), ctypes.c_double()
    ox_ref, oy_ref = ctypes.byref(ox), ctypes.byref(oy)
    out: list[dict[str, Any]] = []
    for i in range(pdfium_c.FPDFText_CountChars(tp)):
        if pdfium_c.FPDFText_IsGenerated(tp, i) == 1:
            continue
        code = pdfium_c.FPDFText_GetUnicode(tp, i)
        if not code or not pdfium_c.FPDFText_GetLooseCharBox(tp, i, box_ref):
            continue
        pdfium_c.FPDFText_GetMatrix(tp, i, m_ref)
        upright = m.a * m.d > 0 and m.b * m.c <= 0  # pdfminer's test
        size = pdfium_c.FPDFText_GetFontSize(tp, i) * math.hypot(m.c, m.d)
        left, right, low, high = box.left, box.right, box.bottom, box.top
        if upright and (right - left > 2 * size + 1 or high - low > 2 * size + 1):
            # vertical writing (WMode 1): pdfium's loose box is unscaled; pdfminer boxes the glyph as one em
            # square above and right of its origin
            pdfium_c.FPDFText_GetCharOrigin(tp, i, ox_ref, oy_ref)
            left, low = ox.value, oy.value
            right = left + size
            high = low + size
        elif upright:  # pdfminer's box is one em tall from the descent, pdfium's reaches the font's ascent
            high = low + size
        top, bottom = y_top - high, y_top - low
        x0, x1 = left - x_origin, right - x_origin
        out.append(
            {
                "text": chr(code),
                "x0": x0,
                "x1": x1,
                "top": top,
                "bottom": bottom,
                "doctop": top,
                "width": x1 - x0,
                "height": bottom - top,
                "upright": upright,
            }
        )
    return out


def with_chars(table: Table, chars: list[dict[str, Any]]) -> Table:
    """The same table, its `extract()` reading the given characters (pdfplumber's own cell-text rules:
    a character belongs to the cell holding its centre; words split at gaps over 3 pt)."""
    x0, top, x1, bottom = table.bbox
    inside = [
        c
        for c in chars
        if x0 <= (c["x0"] + c["x1"]) / 2 < x1 and top <= (c["top"] + c["bottom"]) / 2 < bottom
    ]  # the same centre rule as `Table.extract`, once per table instead of once per row
    return Table(_CharPage(inside), table.cells)  # type: ignore[arg-type]
