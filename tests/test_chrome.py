"""Datasette's chrome in Chinese: the overridden templates are Datasette's own with translations applied
(in step with the installed version), and the pages served over HTTP read in Chinese."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers_archive import fetch

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def base(sample_site: str) -> str:
    return sample_site


def page(url: str, status: int = 200) -> str:
    got, body, _ = fetch(url)
    assert got == status, (url, got, body[:300])
    return body.decode()


def test_overrides_are_in_step_with_the_installed_datasette() -> None:
    run = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_datasette_templates.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr


def test_every_page_is_chinese_first(base: str) -> None:
    for path, status in (("/", 200), ("/nb", 200), ("/nb/reports", 200), ("/nb?sql=select+1", 200)):
        html = page(base + path, status)
        assert '<html lang="zh-CN">' in html, path
        assert "Powered by" not in html and "驱动" in html, path
    assert '<html lang="zh-CN">' in page(base + "/nb/no_such_table", 404)
    assert '<a href="/">首页</a>' in page(base + "/nb/reports")  # the breadcrumb


def test_table_page_chrome(base: str) -> None:
    html = page(base + "/nb/figures?_size=10")
    assert re.search(r"共 [\d,]+ 行", html)
    for text in ("应用", "下载本数据", "下一页", "高级导出", "导出 CSV"):
        assert text in html, text
    for english in ("This data as", '">Next page</a>', "Advanced export", 'value="Apply"', "- column -"):
        assert english not in html, english
    # Filter operators in Chinese, keys unchanged (the form still submits Datasette's lookups).
    assert '<option value="contains">包含</option>' in html
    # Column descriptions: collapsed, and each header carries its description as a tooltip.
    assert '<details class="nb-column-descriptions"><summary>列说明' in html
    assert re.search(r'<th data-column-description="[^"]+" title="[^"]+"', html)


def test_filter_form_still_filters(base: str) -> None:
    html = page(base + "/nb/figures?_filter_column=table&_filter_op=exact&_filter_value=active")
    count = int(re.search(r"共 ([\d,]+) 行", html).group(1).replace(",", ""))  # type: ignore[union-attr]
    assert count > 0 and "review_litigation" not in re.sub(
        r"<option[^>]*>[^<]*</option>", "", html.split("<tbody>")[1]
    )


def test_database_row_and_query_pages(base: str) -> None:
    html = page(base + "/nb")
    for text in ("自定义 SQL 查询", "运行 SQL", "数据表 Tables", "视图 Views"):
        assert text in html, text
    html = page(base + "/nb/reports/1")
    assert "下载本数据" in html and "其他表中引用此行的记录" in html
    html = page(base + "/nb?sql=select+1+as+one")
    assert "自定义 SQL 查询，返回 1 行" in html and "运行 SQL" in html
    html = page(base + "/nb?sql=select+1+where+0")
    assert "没有结果" in html
