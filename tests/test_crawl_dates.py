"""A report published only as an attachment takes its publication date from the page it hangs from (that
page's <meta> or 发布日期 field), else from the list; the document's own date line still wins. A real crawl of
a small fictional portal on loopback, written to a real archive."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import docx
import pytest

from crawler.demo.server import SiteServer

from .helpers_crawl import query, run_crawl

FORMATS = Path(__file__).parent / "fixtures" / "formats"

_PAGE = '<!DOCTYPE html><html><head><meta charset="utf-8">{head}<title>{title}</title></head><body>{body}</body></html>'


def _page(title: str, body: str, head: str = "") -> str:
    return _PAGE.format(title=title, body=body, head=head)


def _with_date_line(src: Path, line: str) -> bytes:
    """The report with a date line under its signature, as a signed report ends."""
    document = docx.Document(str(src))
    document.add_paragraph("示例市某某局")
    document.add_paragraph(line)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _site(root: Path) -> None:
    site = root / "_default"
    files = {
        "index.html": _page("示例市某某局", '<a href="/xxgk/index.html">政府信息公开</a>'),
        "xxgk/index.html": _page(
            "政府信息公开", '<ul><li><a href="/xxgk/ndbg/list.html">政府信息公开工作年度报告</a></li></ul>'
        ),
        "xxgk/ndbg/list.html": _page(
            "年度报告",
            "<ul>"
            '<li><a href="2025/art-1.html">示例市某某局2024年政府信息公开工作年度报告</a><span>2025-01-20</span></li>'
            '<li><a href="2021/art-2.html">示例县某某委员会2020年政府信息公开工作年度报告</a>'
            "<span>2021-01-31</span></li>"
            '<li><a href="/files/2023nb.docx">示例区某某办公室2023年政府信息公开工作年度报告</a>'
            "<span>2024-01-26</span></li>"
            '<li><a href="2025/art-4.html">示例市某某局2024年政府信息公开工作年度报告（签署本）</a>'
            "<span>2025-01-28</span></li>"
            "</ul>",
        ),
        # a TRS-style article: the date only in its <meta name="PubDate">, the report in the PDF
        "xxgk/ndbg/2025/art-1.html": _page(
            "示例市某某局2024年政府信息公开工作年度报告",
            '<div class="article"><p>详见附件。</p><p>附件：<a href="/files/2024nb.pdf">2024年度报告.pdf</a></p></div>',
            head='<meta name="PubDate" content="2025-01-18 09:30">',
        ),
        # the date only in the page's labelled strip (发布日期 … 来源 …)
        "xxgk/ndbg/2021/art-2.html": _page(
            "信息公开",
            '<div class="info">发布日期：2021-01-27　来源：示例县某某委员会　字号：大 中 小</div>'
            '<div class="article"><p>详见附件。</p><a href="/files/2020nb.docx">附件下载</a></div>',
        ),
        # the document signs its own date: it wins over the page's
        "xxgk/ndbg/2025/art-4.html": _page(
            "示例市某某局2024年政府信息公开工作年度报告",
            '<div class="article"><p>详见附件。</p><a href="/files/2024signed.docx">附件</a></div>',
            head='<meta name="PubDate" content="2025-01-25">',
        ),
    }
    for path, text in files.items():
        (site / path).parent.mkdir(parents=True, exist_ok=True)
        (site / path).write_text(text, encoding="utf-8")
    (site / "files").mkdir(exist_ok=True)
    (site / "files/2024nb.pdf").write_bytes((FORMATS / "r2021_ok.pdf").read_bytes())
    (site / "files/2020nb.docx").write_bytes((FORMATS / "r2019_ok.docx").read_bytes())
    (site / "files/2023nb.docx").write_bytes((FORMATS / "r2021_bad.docx").read_bytes())
    (site / "files/2024signed.docx").write_bytes(_with_date_line(FORMATS / "r2021_ok.docx", "2025年1月15日"))


@pytest.fixture(scope="module")
def dates(tmp_path_factory: pytest.TempPathFactory, site_server: Callable[[Path], SiteServer]) -> dict:
    tmp = tmp_path_factory.mktemp("dates-crawl")
    _site(tmp / "site")
    server = site_server(tmp / "site")
    db = tmp / "a.db"
    done = run_crawl(
        "--url", f"http://127.0.0.1:{server.port}/", "--db", str(db), "--warc-dir", str(tmp / "w")
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rows = query(db, "SELECT source_url, published_date, published_date_source, status FROM reports")
    return {url.rsplit("/", 1)[-1]: (date, source, status) for url, date, source, status in rows}


def test_attachment_takes_the_landing_pages_meta_date(dates: dict) -> None:
    # the list said 2025-01-20; the article's own <meta> says 2025-01-18
    assert dates["2024nb.pdf"][:2] == ("2025-01-18", "landing_page_meta")


def test_attachment_takes_the_landing_pages_labelled_date(dates: dict) -> None:
    assert dates["2020nb.docx"][:2] == ("2021-01-27", "landing_page_field")


def test_file_linked_from_the_list_takes_the_lists_date(dates: dict) -> None:
    assert dates["2023nb.docx"][:2] == ("2024-01-26", "list")


def test_the_documents_own_date_wins(dates: dict) -> None:
    assert dates["2024signed.docx"][:2] == ("2025-01-15", "document")


def test_landing_pages_are_not_reports_themselves(dates: dict) -> None:
    assert not any(name.startswith("art-") for name in dates)
    assert all(status != "failed" for _d, _s, status in dates.values())
