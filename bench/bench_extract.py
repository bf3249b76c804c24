"""Extraction benchmark: reports/second and cell accuracy per format, PDF engines, OCR engines.

    python bench/bench_extract.py [--repeat N] [--skip-ocr] [--speed-only]

Prints five tables (figures, never assertions); after table 0, the PDF table engines: CPU ms/page and
reports/s of read_report with tables from pypdfium2's rulings vs pdfplumber's layout (forced), per PDF;
0. reading speed, one process (= per core): reports/s of `pipelines.read.read_report` per format over the
   fixtures and ../shared/corpus, each beside its anchor measured in the same run on the same files —
   trafilatura.extract alone for HTML, pypdfium2 text alone for PDFs — with the ratio (ours / anchor), the
   PDF ms/page and the pages the table finder ran on;
1. per format, over the fixture reports of tests/fixtures/formats: reports/s of the whole path
   (detect → extract → parse, `pipelines.read.read_report`) and cell accuracy = expected figures read with
   the right value / all expected figures (a report image holds one page: scored on all figures anyway);
2. PDF text engines on the fixture PDFs and ../shared/corpus: pdfplumber (words + tables) vs pypdfium2
   (text only, parsed by the text rules) — accuracy of the figures and seconds per page;
3. OCR engines on the same scanned page (r2021_ok.table.jpg): Tesseract chi_sim (psm 11, as used) vs
   rapidocr-onnxruntime 1.4.4 (if installed; its wheel ships the models) — seconds and the share of the
   table's expected numbers found among the recognised tokens.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipelines.read import read_report  # noqa: E402

FIX = ROOT / "tests" / "fixtures" / "formats"
CORPUS = ROOT.parent / "shared" / "corpus"
FORMATS = ("html", "docx", "pdf", "doc", "wps", "xlsx", "xls", "scan.pdf", "table.jpg")


SPEED_FORMATS = ("html", "pdf", "docx", "xlsx", "xls")
TARGETS = {"html": 20.0, "pdf": 10.0}  # reports/s per core (the targets)


def _forget_cells() -> None:
    """Empty the readers' caches of cell forms: a timed pass must not reuse what the same files left behind
    (within a pass, one report still profits from the labels another one had, as in a crawl)."""
    from pipelines.normalize import compact, parse_value

    compact.cache_clear()
    parse_value.cache_clear()


def _timed(fn, items: list, repeat: int) -> float:
    """Median seconds of one pass of fn over items (warm-up pass first: imports, font caches)."""
    for x in items:
        fn(x)
    runs = []
    for _ in range(repeat):
        _forget_cells()
        t = time.perf_counter()
        for x in items:
            fn(x)
        runs.append(time.perf_counter() - t)
    return sorted(runs)[len(runs) // 2]


def _speed_files(fmt: str) -> list[Path]:
    files = sorted(FIX.glob(f"*.{fmt}"))
    if fmt == "pdf":
        files = [f for f in files if ".scan." not in f.name]
        files += sorted(CORPUS.glob("*.pdf")) if CORPUS.exists() else []
    return files


def _pdf_pages(data: bytes) -> int:
    import pypdfium2 as pdfium

    return len(pdfium.PdfDocument(data))


def _pdfium_text(data: bytes) -> str:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(data)
    return "\n".join(doc[i].get_textpage().get_text_bounded() for i in range(len(doc)))


def _trafilatura(data: bytes) -> str | None:
    import trafilatura

    return trafilatura.extract(data, include_tables=True)


def bench_speed(repeat: int) -> None:
    from pipelines.read import read_report

    print("\n## reading speed, one process (read_report vs anchor on the same files)\n")
    print(
        "| format | files | pages | read_report reports/s | ms/page | anchor | anchor reports/s | ratio | target | path |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    anchors = {"html": ("trafilatura.extract", _trafilatura), "pdf": ("pypdfium2 text", _pdfium_text)}
    for fmt in SPEED_FORMATS:
        files = _speed_files(fmt)
        if not files:
            continue
        blobs = [(f.name, f.read_bytes()) for f in files]
        reports = {name: read_report(data, name) for name, data in blobs}
        dt = _timed(lambda b: read_report(b[1], b[0]), blobs, repeat)
        rate = len(blobs) / dt
        pages = sum(_pdf_pages(d) for _, d in blobs) if fmt == "pdf" else len(blobs)
        anchor, a_rate, ratio = "–", "–", "–"
        if fmt in anchors:
            anchor, fn = anchors[fmt]
            a_dt = _timed(lambda b, fn=fn: fn(b[1]), blobs, repeat)
            a_rate, ratio = f"{len(blobs) / a_dt:.1f}", f"{a_dt / dt:.2f}"
        target = f"≥ {TARGETS[fmt]:.0f}" if fmt in TARGETS else ""
        paths = collections.Counter(str(r.meta.get("extractor")) for r in reports.values())
        path = ", ".join(f"{k} ×{v}" for k, v in sorted(paths.items()))
        print(
            f"| {fmt} | {len(blobs)} | {pages} | {rate:.1f} | {1000 * dt / pages:.1f} | {anchor} | {a_rate} "
            f"| {ratio} | {target} | {path} |"
        )
    _pdf_detail(repeat)


def _pdf_detail(repeat: int) -> None:
    """Per PDF: which pages the table finder ran on, and read_report against pypdfium2 text alone."""
    from pipelines.read import read_report

    print(
        "\n| pdf | pages | table pages | read_report ms/page | pypdfium2 text ms/page | ratio | text-only rejected |"
    )
    print("|---|---|---|---|---|---|---|")
    for f in _speed_files("pdf"):
        data = f.read_bytes()
        n = _pdf_pages(data)
        r = read_report(data, f.name)
        ours = _timed(lambda d, name=f.name: read_report(d, name), [data], repeat)
        base = _timed(_pdfium_text, [data], repeat)
        print(
            f"| {f.name} | {n} | {r.meta['quality'].get('table_pages')} | {1000 * ours / n:.1f} "
            f"| {1000 * base / n:.1f} | {ours / base:.1f}× | {r.meta.get('text_only_rejected') or ''} |"
        )


def bench_table_engines(repeat: int) -> None:
    """CPU time (process_time: steadier than wall time on a shared machine) of read_report per PDF with the
    tables read from pypdfium2's rulings (the default) and with every table page through pdfplumber's
    pdfminer layout (the fallback, forced), beside the pypdfium2-text anchor."""
    from pipelines.extract import rulings

    def cpu(fn, data: bytes) -> float:
        fn(data)
        runs = []
        for _ in range(repeat):
            _forget_cells()
            t = time.process_time()
            fn(data)
            runs.append(time.process_time() - t)
        return sorted(runs)[len(runs) // 2]

    print(
        "\n## PDF table engines, CPU time per core (read_report; pdfplumber path forced for the first column)\n"
    )
    print(
        "| pdf | pages | pdfplumber ms/page | pdfium rulings ms/page | pdfplumber reports/s | pdfium reports/s | anchor reports/s |"
    )
    print("|---|---|---|---|---|---|---|")
    tot = [0, 0.0, 0.0, 0.0]
    files = _speed_files("pdf")
    for f in files:
        data = f.read_bytes()
        n = _pdf_pages(data)
        new = cpu(lambda d, name=f.name: read_report(d, name), data)
        orig = rulings.find_tables
        rulings.find_tables = lambda *_a, **_k: None  # type: ignore[assignment]
        try:
            old = cpu(lambda d, name=f.name: read_report(d, name), data)
        finally:
            rulings.find_tables = orig
        anchor = cpu(_pdfium_text, data)
        tot = [tot[0] + n, tot[1] + old, tot[2] + new, tot[3] + anchor]
        print(
            f"| {f.name} | {n} | {1000 * old / n:.1f} | {1000 * new / n:.1f} | {1 / old:.1f} | {1 / new:.1f} | {1 / anchor:.0f} |"
        )
    k = len(files)
    if k:
        print(
            f"| all {k} | {tot[0]} | {1000 * tot[1] / tot[0]:.1f} | {1000 * tot[2] / tot[0]:.1f} | {k / tot[1]:.1f} "
            f"| {k / tot[2]:.1f} | {k / tot[3]:.0f} |"
        )


def accuracy(report, exp: dict) -> tuple[int, int]:
    ok = sum(1 for f in exp["figures"] if report.value(f["table"], f["row"], f["column"]) == f["value"])
    return ok, len(exp["figures"])


def bench_formats(repeat: int, skip_ocr: bool) -> None:
    print("\n## per format (detect → extract → parse)\n")
    print("| format | files | reports/s | cell accuracy | status (complete/partial/failed) | extractor |")
    print("|---|---|---|---|---|---|")
    for fmt in FORMATS:
        if skip_ocr and fmt in ("scan.pdf", "table.jpg"):
            continue
        files = sorted(FIX.glob(f"*.{fmt}"))
        if fmt == "pdf":
            files = [f for f in files if not f.name.endswith(".scan.pdf")]
        if not files:
            continue
        ok = total = 0
        statuses = collections.Counter()
        extractor = set()
        t0 = time.perf_counter()
        n = 0
        for _ in range(repeat if fmt not in ("scan.pdf", "table.jpg") else 1):
            _forget_cells()
            for f in files:
                exp = json.loads((FIX / (f.name.split(".")[0] + ".expected.json")).read_text())
                r = read_report(f.read_bytes(), f.name)
                a, b = accuracy(r, exp)
                ok, total, n = ok + a, total + b, n + 1
                statuses[r.status] += 1
                extractor.add(str(r.meta.get("extractor")))
        dt = time.perf_counter() - t0
        st = "/".join(str(statuses[s]) for s in ("complete", "partial", "failed"))
        print(
            f"| {fmt} | {len(files)} | {n / dt:.1f} | {ok / total:.1%} ({ok}/{total}) | {st} | {', '.join(sorted(extractor))} |"
        )


def bench_pdf_engines() -> None:
    import pypdfium2 as pdfium

    from pipelines.extract.pdf import extract_pdf
    from pipelines.parse import parse_extracted, parse_text

    print("\n## PDF engines (text-layer PDFs)\n")
    print(
        "| file | pages | pdfplumber+pdfium ms/page | figures ok | pypdfium2 text only ms/page | figures ok |"
    )
    print("|---|---|---|---|---|---|")
    files = [f for f in sorted(FIX.glob("*.pdf")) if ".scan." not in f.name]
    files += sorted(CORPUS.glob("*.pdf")) if CORPUS.exists() else []
    for f in files:
        data = f.read_bytes()
        t = time.perf_counter()
        ex = extract_pdf(data, ocr=False)
        r1 = parse_extracted(ex)
        t1 = time.perf_counter() - t
        t = time.perf_counter()
        doc = pdfium.PdfDocument(data)
        text = "\n".join(
            doc[i].get_textpage().get_text_bounded().replace("\r\n", "\n") for i in range(len(doc))
        )
        r2 = parse_text(text)
        t2 = time.perf_counter() - t
        pages = len(doc)
        expf = FIX / (f.name.split(".")[0] + ".expected.json")
        if expf.exists():
            exp = json.loads(expf.read_text())
            a1, n = accuracy(r1, exp)
            a2, _ = accuracy(r2, exp)
            s1, s2 = f"{a1}/{n}", f"{a2}/{n}"
        else:  # real report: figures agreeing between the engines / figures the coordinate path read
            got = {(x.table, x.row, x.column): x.value for x in r1.figures if x.value is not None}
            agree = sum(1 for k, v in got.items() if r2.value(*k) == v)
            s1, s2 = (
                f"{len(got)} read, checks ok {sum(c.ok for c in r1.checks)}/{len(r1.checks)}",
                f"{agree}/{len(got)} agree",
            )
        print(f"| {f.name} | {pages} | {1000 * t1 / pages:.0f} | {s1} | {1000 * t2 / pages:.0f} | {s2} |")


def _numbers_expected() -> collections.Counter:
    exp = json.loads((FIX / "r2021_ok.expected.json").read_text())
    return collections.Counter(str(f["value"]) for f in exp["figures"] if f["table"] != "review_litigation")


def _score(tokens: list[str], expected: collections.Counter) -> float:
    found = collections.Counter(t for tok in tokens for t in re.findall(r"\d+(?:\.\d+)?", tok))
    hit = sum(min(found[k], v) for k, v in expected.items())
    return hit / sum(expected.values())


def bench_ocr() -> None:
    import pytesseract
    from PIL import Image

    from pipelines.extract.ocr import ocr_image

    print("\n## OCR engines on one scanned page (r2021_ok.table.jpg, 150 dpi, noise)\n")
    print("| engine | seconds | numbers found (of the page's expected figures, as multiset) | note |")
    print("|---|---|---|---|")
    img = Image.open(FIX / "r2021_ok.table.jpg").convert("L")
    expected = _numbers_expected()
    # the page holds tables 2 and the first part of table 3: score against numbers present on it
    for psm in ("3", "6", "11"):
        t = time.perf_counter()
        d = pytesseract.image_to_data(
            img, lang="chi_sim", config=f"--psm {psm}", output_type=pytesseract.Output.DICT
        )
        dt = time.perf_counter() - t
        print(f"| tesseract chi_sim psm {psm} (raw page) | {dt:.1f} | {_score(d['text'], expected):.1%} | |")
    t = time.perf_counter()
    res = ocr_image(img)
    dt = time.perf_counter() - t
    cells = [c.text for g in res.grids for row in g.rows for c in row if not c.source.get("merged")]
    print(
        f"| tesseract (nianbao: lines removed, psm 11 + digit pass) | {dt:.1f} | {_score(cells + res.text.split(), expected):.1%} | mean conf {res.confidence} |"
    )
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError:
        print(
            "| rapidocr-onnxruntime 1.4.4 | – | – | not installed (pip install rapidocr-onnxruntime==1.4.4) |"
        )
        return
    engine = RapidOCR()
    engine(img.convert("RGB"))  # warm-up: model load
    t = time.perf_counter()
    out, _ = engine(img.convert("RGB"))
    dt = time.perf_counter() - t
    tokens = [o[1] for o in (out or [])]
    print(
        f"| rapidocr-onnxruntime 1.4.4 (PP-OCRv4, raw page) | {dt:.1f} | {_score(tokens, expected):.1%} | models in the wheel |"
    )


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-ocr", action="store_true")
    ap.add_argument("--speed-only", action="store_true", help="only the reading-speed table")
    args = ap.parse_args()
    bench_speed(args.repeat)
    bench_table_engines(max(args.repeat, 5))
    if args.speed_only:
        return 0
    bench_formats(args.repeat, args.skip_ocr)
    bench_pdf_engines()
    if not args.skip_ocr:
        bench_ocr()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
