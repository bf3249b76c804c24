"""Image work for scanned tables (OpenCV + numpy): deskew, ruling lines, and each number cell cut out on
its own, ready for a digits-only reading.

Why each step: a 1° tilt moves a table's bottom line by a whole row at 150 dpi, so the page is turned
straight first (angle from the projection profile of its ink, sharpest where lines are level). Ruling lines
are what a morphological opening with a long thin kernel keeps; they locate the grid and are whitened
before any reading, since Tesseract reads a border as 1 or |. A number cell is cropped inside its borders,
specks dropped, enlarged so its digits stand ~40 px tall and binarised in more than one way: readings of
different images that agree confirm each other.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

Gray = NDArray[np.uint8]

DIGIT_HEIGHT = 40  # px: Tesseract reads digits best at 30–50 px cap height


def to_array(image: object) -> Gray:
    return np.asarray(image, dtype=np.uint8)


def skew_angle(gray: Gray, limit: float = 3.0) -> float:
    """The page's tilt in degrees (counter-clockwise positive, as PIL's rotate): the angle at which the
    rows of ink line up best, searched coarse then fine on a half-size binarised copy."""
    small = cv2.resize(gray, (gray.shape[1] // 2, gray.shape[0] // 2), interpolation=cv2.INTER_AREA)
    _, ink = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    h, w = ink.shape
    centre = (w / 2, h / 2)

    def sharpness(angle: float) -> float:
        m = cv2.getRotationMatrix2D(centre, -angle, 1.0)
        rot = cv2.warpAffine(ink, m, (w, h), flags=cv2.INTER_NEAREST, borderValue=0)
        prof = rot.sum(axis=1, dtype=np.float64)
        return float(np.square(np.diff(prof)).sum())

    best = max(np.arange(-limit, limit + 1e-9, 0.25), key=sharpness)
    fine = np.arange(best - 0.25, best + 0.25 + 1e-9, 0.05)
    return round(float(max(fine, key=sharpness)), 2)


def rotate(gray: Gray, angle: float) -> Gray:
    """Undo a tilt of `angle` degrees; the corners are filled with the paper's colour."""
    if abs(angle) < 0.05:
        return gray
    h, w = gray.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), -angle, 1.0)
    paper = int(np.percentile(gray, 90))
    out = cv2.warpAffine(gray, m, (w, h), flags=cv2.INTER_CUBIC, borderValue=(paper,))
    return np.asarray(out, dtype=np.uint8)


@dataclass
class Lines:
    """Ink mask of the page and the masks of its horizontal and vertical ruling lines (255 = ink)."""

    ink: Gray
    horizontal: Gray
    vertical: Gray

    def without_lines(self, gray: Gray) -> Gray:
        """The page with its ruling lines whitened (dilated a little: blur widens them)."""
        mask = cv2.dilate(self.horizontal | self.vertical, np.ones((3, 3), np.uint8))
        out = gray.copy()
        out[mask > 0] = 255
        return out


def find_lines(gray: Gray) -> Lines:
    """Ruling lines survive an opening with a kernel longer than any character stroke; short gaps left by
    blur or JPEG are closed along the line."""
    ink = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 31, 12)
    h, w = gray.shape
    hk = max(40, w // 30)
    vk = max(30, h // 50)
    horiz = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (hk, 1)))
    horiz = cv2.morphologyEx(horiz, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (9, 1)))
    vert = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, vk)))
    vert = cv2.morphologyEx(vert, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (1, 9)))
    return Lines(np.asarray(ink, np.uint8), np.asarray(horiz, np.uint8), np.asarray(vert, np.uint8))


def cell_ink(clean: Gray, bbox: tuple[float, float, float, float], inset: int = 3) -> Gray | None:
    """The ink of one cell (lines already whitened), cut tight around its characters; None for a blank
    cell. Specks (JPEG dust, scanner noise) are components too small to be part of a digit."""
    x0, top, x1, bottom = (round(v) for v in bbox)
    crop = clean[top + inset : bottom - inset, x0 + inset : x1 - inset]
    if crop.size == 0 or min(crop.shape) < 6:
        return None
    _, ink = cv2.threshold(crop, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    if int(crop.max()) - int(crop.min()) < 60:  # no contrast: paper only
        return None
    n, _labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    keep = [
        i
        for i in range(1, n)
        if stats[i, cv2.CC_STAT_HEIGHT] >= 6
        and stats[i, cv2.CC_STAT_AREA] >= 10
        # a remnant of a ruling line: long and thin along the crop's edge
        and not (stats[i, cv2.CC_STAT_WIDTH] > 0.8 * crop.shape[1] and stats[i, cv2.CC_STAT_HEIGHT] <= 4)
    ]
    if not keep:
        return None
    xs0 = min(stats[i, cv2.CC_STAT_LEFT] for i in keep)
    ys0 = min(stats[i, cv2.CC_STAT_TOP] for i in keep)
    xs1 = max(stats[i, cv2.CC_STAT_LEFT] + stats[i, cv2.CC_STAT_WIDTH] for i in keep)
    ys1 = max(stats[i, cv2.CC_STAT_TOP] + stats[i, cv2.CC_STAT_HEIGHT] for i in keep)
    tall = ys1 - ys0
    # a minus sign (or something else) left of the digits is kept in the crop: sign_mark judges it
    mark, start = _left_mark(faint_ink(crop), xs0, ys0, tall)
    if mark != "none":
        xs0 = start
    pad = 2
    out = crop[max(0, ys0 - pad) : ys1 + pad, max(0, xs0 - pad) : xs1 + pad]
    return np.asarray(out, np.uint8)


def faint_ink(gray: Gray) -> Gray:
    """Ink mask (255 = ink) that keeps faint strokes: darker than 60 % of the way from the ink
    (median of what Otsu calls ink) to the paper (median of the rest); empty where there is no contrast."""
    t, _ = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    dark, light = gray[gray <= t], gray[gray > t]
    if dark.size == 0 or light.size == 0:
        return np.zeros_like(gray)
    lo, hi = float(np.median(dark)), float(np.median(light))
    if hi - lo < 40:
        return np.zeros_like(gray)
    return np.asarray(np.where(gray < lo + 0.6 * (hi - lo), 255, 0), np.uint8)


def _left_mark(faint: Gray, x_digits: int, top: int, tall: int) -> tuple[str, int]:
    """What stands left of the digits (columns up to 1.5 digit heights away): "none", "dash" (a run of
    columns inked only at the digits' middle height, a quarter of their height long at least, thin, ending
    just before them — touching them too) or "unsure" (ink there that is not clearly a dash); and where it
    starts. Column profiles rather than components: under blur a dash touches the digit or a speck."""
    x_from = max(0, x_digits - int(1.5 * tall))
    if x_from >= x_digits or tall < 6:
        return "none", x_digits
    box: NDArray[np.bool_] = np.asarray(faint[top : top + tall, x_from:x_digits] > 0)
    b0, b1 = int(tall * 0.3), int(tall * 0.75) + 1
    in_band: list[bool] = np.asarray(box[b0:b1].any(axis=0)).tolist()
    if box[b0:b1].sum() < max(4, tall * 0.3):
        return "none", x_digits
    x = len(in_band) - 1
    while x >= 0 and not in_band[x] and len(in_band) - 1 - x < 4:  # the gap between sign and digit
        x -= 1
    end = x
    while x >= 0 and in_band[x]:
        x -= 1
    run = slice(x + 1, end + 1)
    width = end - x
    if width <= 0:
        return "unsure", x_from
    rows = np.flatnonzero(box[:, run].any(axis=1))
    outside = box[:b0, run].sum() + box[b1:, run].sum()
    thick = rows.size and rows.max() - rows.min() + 1
    dash = (
        width >= max(3, tall / 4, thick + 1)  # flat: a blot or a round speck is not a minus
        and thick <= max(3, tall / 3)
        and outside <= 0.2 * box[b0:b1, run].sum()
    )
    return ("dash" if dash else "unsure"), x_from + x + 1


def sign_mark(ink: Gray) -> str:
    """Is the cell's number negative: "dash" when a minus sign stands before its digits, "none" when
    nothing does, "unsure" when something does that is not clearly a minus. Tesseract drops a lone short
    dash before a digit ("-3" read as 3), so the sign is taken from the geometry, never from the reading."""
    if ink.size == 0:
        return "none"
    _, bw = cv2.threshold(ink, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    n, _labels, stats, _ = cv2.connectedComponentsWithStats(bw, connectivity=8)
    parts = [tuple(int(v) for v in stats[i, :4]) for i in range(1, n) if stats[i, 4] >= 4]
    biggest = max((p[3] for p in parts), default=0)
    tall = [p for p in parts if p[3] >= max(6, biggest / 2)]  # the digits
    if not tall:
        return "none"
    top = min(p[1] for p in tall)
    height = max(p[1] + p[3] for p in tall) - top
    first = min(p[0] for p in tall)
    mark = _left_mark(faint_ink(ink), first, top, height)[0]
    if mark == "none":
        # a dash blurred into the first digit: its leftmost columns are inked only at mid height. Not
        # taken for a minus (a 4's bar can look alike), only doubted.
        cols = bw[top : top + height, first : first + height] > 0
        b0, b1 = int(height * 0.3), int(height * 0.75) + 1
        run = 0
        for x in range(cols.shape[1]):
            rows = np.flatnonzero(cols[:, x])
            # a dash's column: one thin run of ink at mid height (a 4's diagonal meets its bar: thicker)
            if not rows.size or rows[0] < b0 or rows[-1] >= b1 or rows[-1] - rows[0] + 1 > max(3, height / 4):
                break
            run += 1
        if run >= max(3, height / 4):
            mark = "unsure"
    return mark


def leading_dash(ink: Gray) -> bool:
    return sign_mark(ink) == "dash"


def prepare(crop: Gray, variant: int) -> Gray:
    """One cell's ink enlarged and binarised; variants differ in scale, smoothing and threshold so that
    their readings fail independently. Variant 0: Otsu; 1: darker threshold (thick strokes, faint print);
    2: lighter threshold after a median filter (thin strokes, heavy noise); 3: Otsu at a smaller scale."""
    h = max(crop.shape[0], 1)
    scale = DIGIT_HEIGHT / h * (0.75 if variant == 3 else 1.0)
    scale = min(max(scale, 1.0), 6.0)
    big = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    if variant == 2:
        big = cv2.medianBlur(big, 3)
    otsu, bw = cv2.threshold(big, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    if variant == 1:
        _, bw = cv2.threshold(big, min(otsu + 25, 245), 255, cv2.THRESH_BINARY)
    elif variant == 2:
        _, bw = cv2.threshold(big, max(otsu - 25, 10), 255, cv2.THRESH_BINARY)
    if variant != 3:
        bw = spaced(np.asarray(bw, np.uint8))
    border = 16
    out = cv2.copyMakeBorder(bw, border, border, border, border, cv2.BORDER_CONSTANT, value=(255,))
    return np.asarray(out, np.uint8)


def spaced(bw: Gray) -> Gray:
    """Glyphs set apart: Tesseract reads serif "11" or "111" as one letter (I, M) and drops it under a
    digits whitelist; the same glyphs a third of their height apart read right. Glyphs are the ink's
    horizontal extents (components overlapping in x are one glyph: a broken 5 stays whole)."""
    cols = np.flatnonzero((bw < 128).any(axis=0))
    if cols.size == 0:
        return bw
    runs: list[list[int]] = []
    for x in cols.tolist():
        if runs and x <= runs[-1][1] + 1:
            runs[-1][1] = x
        else:
            runs.append([x, x])
    if len(runs) < 2:
        return bw
    gap = np.full((bw.shape[0], max(6, bw.shape[0] // 3)), 255, np.uint8)
    parts: list[Gray] = []
    for a, b in runs:
        parts += [bw[:, a : b + 1], gap]
    return np.asarray(np.hstack(parts[:-1]), np.uint8)


def stack(images: list[Gray], gap: int = 24) -> tuple[Gray, list[tuple[int, int]]]:
    """Cell images one under another on white (a line each), and each one's (top, bottom) in the strip."""
    width = max(im.shape[1] for im in images) + 2 * gap
    height = sum(im.shape[0] + gap for im in images) + gap
    strip = np.full((height, width), 255, np.uint8)
    spans = []
    y = gap
    for im in images:
        strip[y : y + im.shape[0], gap : gap + im.shape[1]] = im
        spans.append((y, y + im.shape[0]))
        y += im.shape[0] + gap
    return strip, spans


def line_up(images: list[Gray], gap: int = 60) -> tuple[Gray, list[tuple[int, int]]]:
    """Cell images side by side on white, centred on one line, far enough apart to stay separate words,
    and each one's (left, right) in the line: one single-line reading (psm 7) of many cells."""
    height = max(im.shape[0] for im in images) + 2 * 8
    width = sum(im.shape[1] + gap for im in images) + gap
    line = np.full((height, width), 255, np.uint8)
    spans = []
    x = gap
    for im in images:
        y = (height - im.shape[0]) // 2
        line[y : y + im.shape[0], x : x + im.shape[1]] = im
        spans.append((x, x + im.shape[1]))
        x += im.shape[1] + gap
    return line, spans
