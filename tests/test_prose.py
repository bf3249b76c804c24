"""Figures restated in the prose against the cells they restate (pipelines/prose.py, S-NARR).

Precision first: seeds 001–004, whose prose and tables agree, raise no contradiction; seed 000's
行政处罚 63 条 in the text against 0 in table 2 does. Fixtures are fictional agencies in real shapes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.prose import prose_checks, restatements
from pipelines.read import read_report
from pipelines.report import Figure, Report


def report(
    overview: str, cells: dict[tuple[str, str, str], float], year: int = 2024, **sections: str
) -> Report:
    return Report(
        agency="示例县某某局",
        year=year,
        template="2021",
        status="complete",
        sections={"overview": overview, **sections},
        figures=[Figure(t, r, c, v) for (t, r, c), v in cells.items()],
    )


TABLE = {
    ("applications", "new_received", "total"): 26,
    ("applications", "carried_over", "total"): 2,
    ("applications", "granted", "total"): 9,
    ("applications", "partly_granted", "total"): 8,
    ("applications", "denied_enforcement_file", "total"): 6,
    ("applications", "total_handled", "total"): 27,
    ("applications", "carried_forward", "total"): 1,
    ("active", "licensing", "decisions"): 2731,
    ("active", "penalty", "decisions"): 290,
    ("active", "fees", "amount_10k_yuan"): 3.3,
    ("review_litigation", "review", "total"): 3,
    ("review_litigation", "litigation_direct", "total"): 0,
    ("review_litigation", "litigation_after_review", "total"): 1,
}


def failed(rep: Report) -> list[str]:
    return [c.rule for c in prose_checks(rep) if not c.ok]


def test_agreeing_prose_raises_nothing() -> None:
    text = (
        "2024年，本局共收到政府信息公开申请26件，上年结转2件，已全部办结27件，其中予以公开9件、部分公开8件，"
        "结转下年度继续办理1件。全年公开行政许可信息2731条、行政处罚信息290条。"
        "因政府信息公开工作被申请行政复议3件，被提起行政诉讼1件。行政事业性收费3.3万元。"
    )
    checks = prose_checks(report(text, TABLE))
    assert {c.rule for c in checks} == {
        "prose.new_received",
        "prose.carried_over",
        "prose.total_handled",
        "prose.granted",
        "prose.partly_granted",
        "prose.carried_forward",
        "prose.licensing",
        "prose.penalty",
        "prose.review",
        "prose.litigation",
        "prose.fees",
    }
    assert all(c.ok and c.severity == "soft" for c in checks), [c.detail for c in checks if not c.ok]


def test_a_contradiction_quotes_both_sides() -> None:
    [check] = [c for c in prose_checks(report("全年共受理政府信息公开申请30件。", TABLE))]
    assert not check.ok and check.rule == "prose.new_received"
    assert "「全年共受理政府信息公开申请30件。」" in check.detail
    assert "表三 applications.new_received.total = 26" in check.detail and "含上年结转也是 28" in check.detail
    # 受理 may count the carried-over applications too: 26 + 2 = 28 agrees.
    assert failed(report("全年共受理政府信息公开申请28件。", TABLE)) == []


@pytest.mark.parametrize(
    "text",
    [
        "2023年收到政府信息公开申请19件，今年有所增加。",  # another year
        "较上年收到申请增加5件。",  # a comparison
        "收到政府信息公开申请约30件。",  # not exact
        "答复率100%，收到申请同比增长20%。",  # percentages
        "依据《条例》第二十条行政处罚信息应当公开。",  # an article, no figure
        "微信公众号发布信息300余条，行政许可事项15项。",  # approximate; 事项 is not decisions
        "本局办理行政复议案件120件。",  # reviews the agency decides, not about information disclosure
        "区政府办代表区政府受理政府信息公开申请17件。",  # a part of the reporting body (real shape)
    ],
)
def test_figures_that_are_not_restatements_are_ignored(text: str) -> None:
    assert failed(report(text, TABLE)) == [], [c.detail for c in prose_checks(report(text, TABLE))]


def test_zero_phrases_and_full_width_digits() -> None:
    zero = {k: 0 for k in TABLE}
    assert failed(report("本年度未收到政府信息公开申请，上年度无结转。", zero)) == []
    [bad] = [c for c in prose_checks(report("本年度未收到政府信息公开申请。", TABLE))]
    assert not bad.ok and "收到申请 0 ≠" in bad.detail
    assert failed(report("收到政府信息公开申请２６件。", TABLE)) == []


def test_fees_in_yuan_are_converted_with_tolerance() -> None:
    assert failed(report("行政事业性收费33000元。", TABLE)) == []
    assert failed(report("行政事业性收费共计5万元。", TABLE)) == ["prose.fees"]


def test_sentences_beside_a_table_are_read_but_table_rows_are_not() -> None:
    tables = "一、本年新收政府信息公开申请数量\t25\t0\t0\t0\t0\t0\t25\n本年度共收到政府信息公开申请30件。"
    checks = prose_checks(report("", TABLE, applications=tables))
    assert [c.ok for c in checks] == [False]


def test_a_missing_cell_is_not_a_contradiction() -> None:
    cells = {k: v for k, v in TABLE.items() if k[1] != "penalty"}
    assert prose_checks(report("行政处罚信息63条。", cells)) == []


def test_seed_000_text_contradicts_table_2(seeds_dir: Path) -> None:
    path = next(seeds_dir.glob("000_*.txt"))
    rep = read_report(path.read_bytes(), path.name)
    bad = [c for c in rep.checks if c.rule.startswith("prose.") and not c.ok]
    assert [c.rule for c in bad] == ["prose.penalty"]
    assert "行政处罚 63 ≠ 表二 active.penalty.decisions = 0" in bad[0].detail
    agree = {c.rule for c in rep.checks if c.rule.startswith("prose.") and c.ok}
    assert {"prose.licensing", "prose.new_received", "prose.carried_over"} <= agree


@pytest.mark.parametrize("seed", ["001", "002", "003", "004"])
def test_seeds_without_contradictions_raise_none(seeds_dir: Path, seed: str) -> None:
    path = next(seeds_dir.glob(f"{seed}_*.txt"))
    rep = read_report(path.read_bytes(), path.name)
    assert [c.detail for c in rep.checks if c.rule.startswith("prose.") and not c.ok] == []
    assert all(r.what for r in restatements(rep))


@pytest.mark.parametrize(
    "name", ["huaian-hongzequ_2023.pdf", "huaian-hongzequ_2024.pdf", "huaian-shizhengfu_2024.pdf"]
)
def test_real_pdfs_raise_no_false_contradiction(name: str) -> None:
    from .helpers_shared import require_shared

    rep = read_report(require_shared("corpus", name).read_bytes(), name)
    prose = [c for c in rep.checks if c.rule.startswith("prose.")]
    assert [c.detail for c in prose if not c.ok] == []
    if name == "huaian-shizhengfu_2024.pdf":  # the city report restates five figures; all agree
        assert len(prose) == 5
