"""Scans made the way real ones look: fixture report PDFs rendered at 150 dpi, then tilted, blurred, noised,
faded and JPEG-compressed. Shared by tests/test_scan.py and bench/bench_scan.py."""

from __future__ import annotations

import io
import random
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageFilter


@dataclass(frozen=True)
class Degradation:
    """How one scan is spoiled: tilt in degrees (sign drawn from the seed), Gaussian blur radius, noise
    strength (0–1 blend of Gaussian noise), contrast kept (1 = none lost), JPEG quality."""

    tilt: float = 0.0
    blur: float = 0.0
    noise: float = 0.0
    contrast: float = 1.0
    quality: int = 75


PROFILES: dict[str, Degradation] = {
    "clean-q75": Degradation(quality=75),
    "tilt1.5-q60": Degradation(tilt=1.5, blur=0.4, noise=0.06, quality=60),
    "blur-q40": Degradation(tilt=0.5, blur=0.9, noise=0.08, quality=40),
    "worst": Degradation(tilt=1.5, blur=0.8, noise=0.12, contrast=0.7, quality=40),
}


def render_pages(pdf: Path, dpi: int = 150) -> list[Image.Image]:
    """The PDF's pages as grey images, as a scanner at `dpi` would see the paper."""
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            ["pdftoppm", "-r", str(dpi), "-gray", "-png", str(pdf), f"{tmp}/p"], check=True, timeout=120
        )
        return [Image.open(f).convert("L") for f in sorted(Path(tmp).glob("p*.png"))]


def degrade(img: Image.Image, d: Degradation, seed: int) -> Image.Image:
    """One page spoiled by `d`; the result has been through a JPEG round trip."""
    rng = random.Random(seed)
    im = img.convert("L")
    if d.contrast != 1.0:  # faded toner / grey paper: black becomes dark grey, white light grey
        lo, hi = int(255 * (1 - d.contrast) * 0.6), 255 - int(255 * (1 - d.contrast) * 0.25)
        im = im.point(lambda v: lo + v * (hi - lo) // 255)
    if d.tilt:
        angle = d.tilt * rng.choice((-1, 1)) * rng.uniform(0.8, 1.0)
        im = im.rotate(angle, fillcolor=im.getpixel((2, 2)), resample=Image.Resampling.BICUBIC, expand=False)
    if d.blur:
        im = im.filter(ImageFilter.GaussianBlur(d.blur))
    if d.noise:
        # Gaussian noise around grey 128 drawn from the seed (PIL's effect_noise ignores any seed: every run
        # of the benchmark spoiled its pages differently)
        sigma = 40 + rng.randrange(20)
        field = np.random.default_rng(seed).normal(128, sigma, (im.size[1], im.size[0]))
        noise = Image.fromarray(np.clip(field, 0, 255).astype(np.uint8), "L")
        im = Image.blend(im, noise, d.noise)
        px = im.load()
        assert px is not None
        for _ in range(im.size[0] * im.size[1] // 4000):  # dust specks
            px[rng.randrange(im.size[0]), rng.randrange(im.size[1])] = rng.choice((0, 80))
    b = io.BytesIO()
    im.save(b, "JPEG", quality=d.quality)
    return Image.open(io.BytesIO(b.getvalue())).convert("L")


def to_pdf(pages: list[Image.Image], dpi: int = 150) -> bytes:
    """Image-only PDF (one JPEG per page), as a scanner's PDF export writes it."""
    b = io.BytesIO()
    pages[0].save(b, "PDF", save_all=True, append_images=pages[1:], resolution=dpi, quality=90)
    return b.getvalue()


def to_jpeg(page: Image.Image) -> bytes:
    b = io.BytesIO()
    page.save(b, "JPEG", quality=90)
    return b.getvalue()


def score(report: Any, expected: dict[str, Any]) -> dict[str, Any]:
    """Every expected figure sorted into right / flagged (read but marked uncertain) / missing (not
    presented) / silently wrong (a wrong value presented as read). Flagged cells that happen to be right
    count as flagged."""
    got = {(f.table, f.row, f.column): f for f in report.figures}
    out: dict[str, Any] = {"expected": 0, "right": 0, "flagged": 0, "missing": 0, "wrong": []}
    for e in expected["figures"]:
        out["expected"] += 1
        f = got.get((e["table"], e["row"], e["column"]))
        if f is None or f.value is None:
            out["missing"] += 1
        elif "ocr_uncertain" in f.flags:
            out["flagged"] += 1
        elif f.value == e["value"]:
            out["right"] += 1
        else:
            out["wrong"].append((e["table"], e["row"], e["column"], e["value"], f.value, f.raw))
    return out
