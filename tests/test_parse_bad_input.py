"""Inputs that are not (whole) reports: never an exception, always a status and a readable problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.extract.base import Extracted
from pipelines.parse import parse_extracted, parse_text

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "text"
NEWS = """本报讯（记者 张三）昨日，示例市举办了一场春季运动会，来自全市各单位的1200名运动员参加了比赛。
比赛项目包括田径、游泳、篮球等，共设奖牌300枚。
示例市体育中心负责人表示，今年将继续举办各类群众性体育活动。"""


def tabs() -> str:
    return (FIXTURES / "2021_tabs.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("text", ["", "   \n\t\n　"])
def test_empty(text: str) -> None:
    r = parse_text(text)
    assert (r.status, r.template, r.figures) == ("failed", "free", [])
    assert r.problems == ["empty text"]


def test_binary_junk() -> None:
    junk = bytes(range(256)).decode("latin-1") * 4
    r = parse_text(junk)
    assert r.status == "failed" and r.text == junk
    assert "no report structure found" in r.problems


def test_non_report_text() -> None:
    r = parse_text(NEWS)
    assert (r.status, r.template, r.agency, r.figures) == ("failed", "free", None, [])
    assert "no report structure found" in r.problems
    assert r.text == NEWS


def test_truncated_mid_table_3() -> None:
    text = tabs()
    cut = text[: text.index("3. 要求提供公开出版物")]
    r = parse_text(cut)
    assert (r.status, r.template) == ("partial", "2021")
    assert "review_litigation table not found" in r.problems
    assert (
        "applications table: rows rejected_publication, rejected_mass_repeated, rejected_confirm_or_reissue, "
        "other_no_correction, other_unpaid_fee, other_other, total_handled, carried_forward not found"
    ) in r.problems
    assert r.value("applications", "rejected_duplicate", "natural_person") == 1
    assert not any(c.rule == "applications.balance" for c in r.checks)
    assert r.sections.keys() >= {"overview", "active", "applications"}


def test_cut_inside_a_row_loses_one_cell_not_a_zero() -> None:
    text = tabs()
    cut = text[: text.index("(七) 总计")] + "(七) 总计\t11\t2\t0\t0\t1\t0\n"
    r = parse_text(cut)
    f = r.figure("applications", "total_handled", "total")
    assert f is not None and f.value is None and f.flags == ["truncated_row"]
    assert r.status == "partial"


def test_row_missing() -> None:
    text = "\n".join(ln for ln in tabs().split("\n") if not ln.startswith("四、结转下年度继续办理"))
    r = parse_text(text)
    assert r.status == "partial"
    assert "applications table: row carried_forward not found" in r.problems
    assert any(
        p.startswith("applications.balance not checked for columns natural_person") for p in r.problems
    )


def test_numbers_that_do_not_add_up() -> None:
    text = tabs().replace("(七) 总计\t11\t2\t0\t0\t1\t0\t14", "(七) 总计\t11\t2\t0\t0\t1\t0\t15")
    text = text.replace("1\t1\t0\t0\t2\t", "1\t1\t0\t0\t3\t")
    r = parse_text(text)
    assert r.status == "complete" and r.problems == []
    failed = {(c.rule, c.row, c.column, c.detail) for c in r.checks if not c.ok}
    assert failed == {
        ("applications.balance", None, "total", "13+1 ≠ 15+0"),
        ("applications.total_handled", None, "total", "15 ≠ 6+2+1+3+1+1 = 14"),
        ("applications.row_total", "total_handled", "total", "15 ≠ 11+2+0+0+1+0"),
        ("review_litigation.total", "review", "total", "3 ≠ 1+1+0+0"),
    }


def test_row_with_too_many_values_is_not_read() -> None:
    text = tabs().replace(
        "二、上年结转政府信息公开申请数量\t\t1\t0\t0\t0\t0\t0\t1",
        "二、上年结转政府信息公开申请数量\t\t1\t0\t0\t0\t0\t0\t1\t9\t9",
    )
    r = parse_text(text)
    assert r.status == "partial"
    assert "applications table: row carried_over has 9 values for 7 columns; not read" in r.problems
    assert r.figure("applications", "carried_over", "total") is None


def test_extracted_with_nothing() -> None:
    r = parse_extracted(
        Extracted(
            format="pdf", extractor="pdf/test", text="", quality={"scanned": True}, problems=["no text layer"]
        )
    )
    assert r.status == "failed"
    assert r.problems == ["extraction: no text layer", "empty text"]
    assert r.meta["quality"] == {"scanned": True}


def test_garbage_types_do_not_raise() -> None:
    r = parse_text(None)  # type: ignore[arg-type]
    assert r.status == "failed" and r.problems
