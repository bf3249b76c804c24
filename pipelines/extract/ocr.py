"""OCR for scanned pages and images: Tesseract (`chi_sim` and `eng`, Debian packages: no model download at run time).

A page is deskewed and its ruling lines found with OpenCV (scan.py); the cells come from pdfplumber's own
table-finder functions fed with those lines. The page, its lines whitened, is OCR'd once in Chinese (TSV
output: word boxes): each word goes to the cell holding its centre (labels, headers), words outside tables
become text lines. Number cells are then read one by one as digits and believed only when readings agree or
the table's sums confirm them (numbers.py); the rest are flagged `ocr_uncertain` and named in `problems`.
"""

from __future__ import annotations

import collections
import re
from dataclasses import dataclass, field
from typing import Any

from PIL import Image, ImageOps

from . import limits, numbers, scan
from .base import Cell, Extracted, ExtractionError, Grid
from .grids import Span, is_data_table, join_lines, nfkc, spans

OCR_LANG = "chi_sim"
OCR_CONFIG = (
    "--psm 11"  # sparse text: table cells are islands; psm 3/6 merge columns (bench/bench_extract.py)
)
_DIGITISH = re.compile(r"^[\dOoIl|〇.,，\s]+$")
_DIGIT_FIX = str.maketrans({"O": "0", "o": "0", "〇": "0", "I": "1", "l": "1", "|": "1", "，": ","})


@dataclass
class OcrResult:
    text: str
    grids: list[Grid] = field(default_factory=list)
    confidence: float | None = None
    words: int = 0
    problems: list[str] = field(default_factory=list)  # number cells left unconfirmed, named by grid cell


def _runs(img: Image.Image, min_len: int) -> list[tuple[int, int, int]]:
    """(line index, start, end) of dark runs of at least min_len pixels in each pixel row of a 0/255 image."""
    w, h = img.size
    data = img.tobytes()
    pat = re.compile(rb"\x00{%d,}" % min_len)
    out = []
    for y in range(h):
        row = data[y * w : (y + 1) * w]
        for m in pat.finditer(row):
            out.append((y, m.start(), m.end()))
    return out


def find_ruled_tables(
    binary: Image.Image,
) -> tuple[list[Any], list[tuple[int, int, int]], list[tuple[int, int, int]]]:
    """pdfplumber Table objects (page=None) for the ruled tables on a binarised page image, plus the
    horizontal and vertical line runs (to paint out before OCR)."""
    from pdfplumber.table import (
        Table,
        cells_to_tables,
        edges_to_intersections,
        intersections_to_cells,
        merge_edges,
    )

    w, h = binary.size
    min_h = max(40, w // 30)
    min_v = max(25, h // 80)
    hr = _runs(binary, min_h)
    vr = _runs(binary.transpose(Image.Transpose.TRANSPOSE), min_v)
    edges: list[dict[str, Any]] = []
    for y, x0, x1 in hr:
        edges.append(
            {
                "x0": x0,
                "x1": x1,
                "top": y,
                "bottom": y,
                "width": x1 - x0,
                "height": 0,
                "orientation": "h",
                "object_type": "line",
            }
        )
    for x, y0, y1 in vr:
        edges.append(
            {
                "x0": x,
                "x1": x,
                "top": y0,
                "bottom": y1,
                "width": 0,
                "height": y1 - y0,
                "orientation": "v",
                "object_type": "line",
            }
        )
    if not edges:
        return [], hr, vr
    edges = merge_edges(edges, snap_x_tolerance=4, snap_y_tolerance=4, join_x_tolerance=6, join_y_tolerance=6)
    inter = edges_to_intersections(edges, x_tolerance=4, y_tolerance=4)
    cells = intersections_to_cells(inter)
    tables = [Table(None, group) for group in cells_to_tables(cells)]  # type: ignore[arg-type]
    tables = [t for t in tables if len(t.cells) >= 4]
    return sorted(tables, key=lambda t: t.bbox[1]), hr, vr


def _tesseract_words(img: Image.Image) -> list[dict[str, Any]]:
    import pytesseract

    try:
        d = pytesseract.image_to_data(
            img,
            lang=OCR_LANG,
            config=OCR_CONFIG,
            output_type=pytesseract.Output.DICT,
            timeout=limits.OCR_PAGE_TIMEOUT,
        )
    except pytesseract.TesseractError as exc:
        raise ExtractionError(f"tesseract failed: {exc}") from exc
    except RuntimeError as exc:  # pytesseract raises RuntimeError on timeout
        raise limits.over("OCR time for one page", "timeout", f"{limits.OCR_PAGE_TIMEOUT:.0f} s") from exc
    except pytesseract.TesseractNotFoundError as exc:
        raise ExtractionError("OCR needed but tesseract is not installed") from exc
    words = []
    for i, text in enumerate(d["text"]):
        t = (text or "").strip()
        conf = float(d["conf"][i])
        if not t or conf < 0:
            continue
        words.append(
            {
                "text": t,
                "conf": conf,
                "x0": d["left"][i],
                "top": d["top"][i],
                "x1": d["left"][i] + d["width"][i],
                "bottom": d["top"][i] + d["height"][i],
                "line": (d["block_num"][i], d["par_num"][i], d["line_num"][i]),
            }
        )
    return words


def _join_words(words: list[dict[str, Any]]) -> str:
    """Words of one cell or line in reading order: lines by vertical position, then left to right; Chinese
    characters join without spaces."""
    if not words:
        return ""
    words = sorted(words, key=lambda w: (w["top"] + w["bottom"]) / 2)
    lines: list[list[dict[str, Any]]] = []
    for w in words:
        mid = (w["top"] + w["bottom"]) / 2
        if lines:
            last = lines[-1]
            ref = sum((x["top"] + x["bottom"]) / 2 for x in last) / len(last)
            height = max(x["bottom"] - x["top"] for x in last)
            if abs(mid - ref) < max(8, height * 0.6):
                last.append(w)
                continue
        lines.append([w])
    out = []
    for ln in lines:
        ln.sort(key=lambda w: w["x0"])
        s = ""
        prev_x1 = None
        for w in ln:
            gap = w["x0"] - prev_x1 if prev_x1 is not None else 0
            if s and re.search(r"[A-Za-z0-9]$", s) and re.match(r"[A-Za-z0-9]", w["text"]):
                # Chinese OCR often splits a number into boxes; a gap narrower than half a character keeps it whole
                s += w["text"] if gap < 0.5 * (w["bottom"] - w["top"]) else " " + w["text"]
            else:
                s += w["text"]
            prev_x1 = w["x1"]
        out.append(s)
    return join_lines("\n".join(out))


_CJK = re.compile(r"[\u4e00-\u9fff]")


def _needs_digit_pass(text: str) -> bool:
    """A small cell that the Chinese model read as nothing, as digits, or as junk with at most one Chinese
    character (a digit misread as 于/区/系…): the digits-only pass reads it again. Header words such as
    其他/总计 have two or more characters and are kept."""
    if not text:
        return True
    return len(_CJK.findall(text)) <= 1 and len(text) <= 4


_BRACKET = re.compile(r"[《〈<](?=[一二三四五六七八九十]+\))")


def _fix_brackets(text: str) -> str:
    """Chinese OCR reads the full-width "（" of a section number as 《 or 〈: "《四)无法提供" is "(四)无法提供",
    and the parser finds sections by that number."""
    return _BRACKET.sub("(", text)


def _fix_digits(text: str) -> str:
    if text and _DIGITISH.match(text) and re.search(r"\d", text):
        return re.sub(r"\s+", "", text.translate(_DIGIT_FIX))
    return text


def _lines_image(lines: scan.Lines) -> Image.Image:
    """The ruling lines alone as a 0/255 image (0 = line), for the pdfplumber cell finder."""
    return Image.fromarray(255 - (lines.horizontal | lines.vertical))


def _number_cells(
    grid: list[list[Cell | None]], origins: list[Span], clean: scan.Gray, w: int, h: int
) -> tuple[list[numbers.NumberCell], list[str], list[int]]:
    """The table's number cells (small cells the Chinese pass read as nothing, digits or junk), each with
    its ink; the header text of every column (its label cells joined); the columns that hold numbers."""
    cells = []
    for r, c, _rs, _cs, bbox in origins:
        found = grid[r][c]
        if (
            found is not None
            and _needs_digit_pass(found.text)
            and bbox[2] - bbox[0] < 0.5 * w  # a value merged over two columns (本年增/减 of 收费) is wide
            and bbox[3] - bbox[1] < 0.25 * h  # a row grows with its wrapped label
        ):
            cells.append(numbers.NumberCell((r, c), scan.cell_ink(clean, bbox)))
    # Data rows: at least two of their cells, and half of them, are number cells. A cell of a data row in
    # a number column is a number cell whatever the Chinese model made of it ("27" read as 尼克): it is read
    # as digits, never kept as text. A number column has two number cells, or one in a data row (a table
    # with a single data row: table 4).
    size = collections.Counter(r for r, _c, _rs, _cs, _b in origins)
    per_row = collections.Counter(c.key[0] for c in cells if c.ink is not None)
    data_rows = {r for r, n in per_row.items() if n >= 2 and n * 2 >= size[r]}
    inked = collections.Counter(c.key[1] for c in cells if c.ink is not None)
    number_cols = {c for c, n in inked.items() if n >= 2} | {
        c.key[1] for c in cells if c.ink is not None and c.key[0] in data_rows
    }
    # a row's labels stand left of its numbers, never between them
    span = {
        r: (min(c.key[1] for c in cells if c.key[0] == r), max(c.key[1] for c in cells if c.key[0] == r))
        for r in data_rows
    }
    keys = {c.key for c in cells}
    for r, c, _rs, _cs, bbox in origins:
        if (
            (r, c) not in keys
            and (c in number_cols or (r in span and span[r][0] < c < span[r][1]))
            and r in data_rows
            and bbox[2] - bbox[0] < 0.3 * w
            and bbox[3] - bbox[1] < 0.25 * h
        ):
            cells.append(numbers.NumberCell((r, c), scan.cell_ink(clean, bbox)))
    keys = {c.key for c in cells}
    ncols = len(grid[0]) if grid else 0
    header = [
        "".join(cell.text for row in grid if (cell := row[c]) is not None and not _is_num(cell, keys))
        for c in range(ncols)
    ]
    numeric = sorted(number_cols | {c.key[1] for c in cells if c.key[0] in data_rows})
    return cells, header, numeric


def _is_num(cell: Cell, keys: set[tuple[int, int]]) -> bool:
    origin = cell.source.get("origin") or cell.source["cell"]
    return (origin[0], origin[1]) in keys


def ocr_image(image: Image.Image, page: int | None = None, table_index: int = 0) -> OcrResult:
    """OCR one page image: ruled tables as grids (merged cells expanded), the rest as text lines.

    The page is deskewed and its ruling lines found first (scan.py); labels and prose come from one
    Chinese pass over the page with its lines whitened; number cells are then read one by one as digits
    and judged by agreement and by the table's sums (numbers.py). A number cell left unconfirmed keeps its
    likeliest reading with `ocr_uncertain` in its source, and `problems` names it."""
    limits.check_pixels(*image.size)
    gray = ImageOps.grayscale(image) if image.mode != "L" else image
    arr = scan.to_array(gray)
    angle = scan.skew_angle(arr)
    arr = scan.rotate(arr, angle)
    ruling = scan.find_lines(arr)
    tables, _hr, _vr = find_ruled_tables(_lines_image(ruling))
    clean_arr = ruling.without_lines(arr)
    clean = Image.fromarray(clean_arr)
    w, h = gray.size
    words = _tesseract_words(clean)
    confs = [wd["conf"] for wd in words]
    base_src: dict[str, Any] = {"page": page} if page is not None else {}
    placed: set[int] = set()
    grids_at: list[tuple[float, float, Grid]] = []
    problems: list[str] = []
    index = table_index
    for t in tables:
        rows, cols = t.rows, t.columns
        grid: list[list[Cell | None]] = [[None] * len(cols) for _ in rows]
        src = {**base_src, "table": index}
        origins = spans(t)
        for r, c, rs, cs, bbox in origins:
            left, top, right, bottom = bbox
            inside = [
                i
                for i, wd in enumerate(words)
                if left <= (wd["x0"] + wd["x1"]) / 2 <= right
                and top <= (wd["top"] + wd["bottom"]) / 2 <= bottom
            ]
            placed.update(inside)
            text = _fix_brackets(_fix_digits(nfkc(_join_words([words[i] for i in inside]))))
            cell_conf = [words[i]["conf"] for i in inside]
            for dr in range(rs):
                for dc in range(cs):
                    rr, cc = r + dr, c + dc
                    if rr >= len(rows) or cc >= len(cols) or grid[rr][cc] is not None:
                        continue
                    source: dict[str, Any] = {**src, "cell": [rr, cc], "ocr": True}
                    if cell_conf:
                        source["ocr_confidence"] = round(min(cell_conf), 1)
                    if dr or dc:
                        source["merged"] = True
                        source["origin"] = [r, c]
                    grid[rr][cc] = Cell(text, source)
        ncells, header, numeric = _number_cells(grid, origins, clean_arr, w, h)
        numbers.read_cells(ncells, header, numeric)
        by_origin = {nc.key: nc for nc in ncells}
        unsure = []
        for grid_row in grid:
            for cell in grid_row:
                if cell is None:
                    continue
                o = cell.source.get("origin") or cell.source["cell"]
                nc = by_origin.get((o[0], o[1]))
                if nc is None:
                    continue
                cell.text = nc.text
                cell.source["ocr_pass"] = "digits"
                cell.source.pop("ocr_confidence", None)
                if nc.readings:
                    cell.source["ocr_readings"] = sorted({t for t, _ in nc.readings})
                if nc.how:
                    cell.source["ocr_check"] = nc.how
                if nc.sign_unsure:  # a column that may be negative (增/减) cannot trust this cell's sign
                    cell.source["ocr_sign_unsure"] = True
                if not nc.confirmed:
                    cell.source["ocr_uncertain"] = True
                    if not cell.source.get("merged"):
                        unsure.append(
                            f"[{o[0]}, {o[1]}] '{nc.text}' (read {'/'.join(cell.source.get('ocr_readings', []))})"
                        )
        if unsure:
            where = f"page {page} " if page is not None else ""
            problems.append(
                f"OCR {where}table {index}: {len(unsure)} cells not confirmed (flagged ocr_uncertain): "
                + "; ".join(unsure)
            )
        g = Grid(
            rows=[
                [cell or Cell("", {**src, "cell": [r, c], "missing": True}) for c, cell in enumerate(row)]
                for r, row in enumerate(grid)
            ],
            source=dict(src),
        )
        if angle:
            g.source["ocr_deskew"] = angle
        if is_data_table(g):
            g.source["top"], g.source["bottom"] = t.bbox[1] / h, t.bbox[3] / h
            grids_at.append((t.bbox[1], t.bbox[3], g))
            index += 1
    # text lines outside tables, tables inserted where they stand
    by_line: dict[tuple[int, int, int], list[dict[str, Any]]] = {}
    for i, wd in enumerate(words):
        if i not in placed:
            by_line.setdefault(wd["line"], []).append(wd)
    blocks: list[tuple[float, str]] = []
    for ws in by_line.values():
        top = min(wd["top"] for wd in ws)
        blocks.append((top, nfkc(_join_words(ws))))
    for top, _bottom, g in grids_at:
        lines = []
        for row in g.rows:
            cells = [c.text for c in row if not c.source.get("merged") and not c.source.get("missing")]
            if any(cells):
                lines.append("\t".join(cells))
        blocks.append((top, "\n".join(lines)))
    blocks.sort(key=lambda b: b[0])
    text = "\n".join(b for _, b in blocks if b)
    conf = round(sum(confs) / len(confs), 1) if confs else None
    return OcrResult(
        text=text,
        grids=[g for _, _, g in grids_at],
        confidence=conf,
        words=len(words),
        problems=problems if grids_at else [],
    )


def extract_image(data: bytes, fmt: str) -> Extracted:
    """A report published as an image (JPG/PNG/…; multi-frame TIFF/GIF: every frame is a page)."""
    import io

    Image.MAX_IMAGE_PIXELS = limits.MAX_IMAGE_PIXELS
    try:
        img = Image.open(io.BytesIO(data))
        limits.check_pixels(*img.size)
        n = getattr(img, "n_frames", 1)
        if n > limits.MAX_PAGES:
            raise limits.over("image frames", n, limits.MAX_PAGES)
        texts: list[str] = []
        grids: list[Grid] = []
        confs: list[float] = []
        problems: list[str] = []
        for i in range(n):
            img.seek(i)
            frame = img.convert("L")
            res = ocr_image(frame, page=i + 1 if n > 1 else None, table_index=len(grids))
            for g in res.grids:
                g.source.pop("top", None)
                g.source.pop("bottom", None)
            texts.append(res.text)
            grids.extend(res.grids)
            problems.extend(res.problems)
            if res.confidence is not None:
                confs.append(res.confidence)
    except Image.DecompressionBombError as exc:
        raise limits.over("image pixels", "decompression bomb", limits.MAX_IMAGE_PIXELS) from exc
    except (OSError, SyntaxError) as exc:
        raise ExtractionError(f"unreadable {fmt} image: {exc}") from exc
    quality: dict[str, Any] = {"ocr": "tesseract"}
    if confs:
        quality["ocr_confidence"] = round(sum(confs) / len(confs), 1)
    return Extracted(
        format=fmt,
        extractor="image/ocr-tesseract",
        text="\n".join(texts),
        grids=grids,
        quality=quality,
        problems=problems,
        meta={"frames": n},
    )
